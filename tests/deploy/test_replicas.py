"""Two voxclone replicas on one PostgreSQL database behind nginx, run with ``deploy/nginx.conf``.

The processes the compose file in ``deploy/`` runs, started directly (no containers here): two
server subprocesses (the toy engine, via ``tests/api/fake_server.py``; each with its own, empty
data folder, so everything they share goes through PostgreSQL), and Debian's nginx with the very
configuration file users deploy (``least_conn``, no buffering). A mixed workload through nginx:
clones made on one replica used and deleted through the other, concurrent uploads with one
Idempotency-Key, streams, and credit races. Checks: every stream complete, a deleted clone gone
on every replica at once, one clone per key, balance equal to the ledger's sum, no 5xx.

Needs nginx (``.ci/nginx.sh`` installs it): skipped without it, except in CI (``CI`` set).
``VOXCLONE_TEST_REPLICA_ENGINE=kokoro`` runs the replicas as ``voxclone serve`` on the real
Kokoro engine instead (minutes on 2 busy cores); every check is the same, expected audio lengths
come from whole-file renders of the same text.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from voxclone.engines.base import text_words
from voxclone.service.accounts import AccountService
from voxclone.settings import Settings
from voxclone.store.db import Database, open_database
from voxclone.store.models import LedgerEntry

pytestmark = [pytest.mark.replicas, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
FAKE_SERVER = ROOT / "tests" / "api" / "fake_server.py"
TOY_WORD_BYTES = 2400 * 2  # the toy engine: one 0.1 s tone per word, 24 kHz 16-bit PCM
SHORT = "One two three, four five."
LONG = "The lighthouse keeper wrote a short note in his logbook every night. " * 3
TEMPLATE_VARS = ("VOXCLONE_LISTEN", "VOXCLONE_REPLICA_1", "VOXCLONE_REPLICA_2")
DELAY_S = 0.01  # the toy engine's render time per word: streams overlap
START_LIMIT_S = 90.0


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is required in CI: run .ci/nginx.sh (scripts/test.sh does)")
        pytest.skip("nginx is not installed (.ci/nginx.sh installs Debian's package)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(check: Callable[[], bool], *, what: str, limit_s: float = START_LIMIT_S) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come up within {limit_s:.0f} s")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _replica_engine() -> str:
    return os.environ.get("VOXCLONE_TEST_REPLICA_ENGINE", "toy")


@contextmanager
def _replica(database_url: str, workdir: Path, *, model_cache: Path) -> Iterator[str]:
    """One server process on ``database_url`` with its own data folder; yields its base URL."""
    workdir.mkdir(parents=True)
    port_file = workdir / "port"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXCLONE_")}
    env.update(
        {
            "VOXCLONE_DATABASE_URL": database_url,
            "VOXCLONE_DATA_DIR": str(workdir / "data"),
            "VOXCLONE_SYNTHESIS_WORKERS": "2",
            "VOXCLONE_SIMILARITY_POLL_S": "0.5",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "src"), str(ROOT / "tests" / "support"), env.get("PYTHONPATH", "")]
            ),
        }
    )
    if _replica_engine() == "kokoro":
        (workdir / "data").mkdir()
        (workdir / "data" / "cache").symlink_to(model_cache / "cache")  # the assembled model
        port = _free_port()
        env.update({"VOXCLONE_ONNX_THREADS": "1", "VOXCLONE_PORT": str(port)})
        proc = subprocess.Popen([sys.executable, "-m", "voxclone.cli", "serve"], env=env)
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert proc.poll() is None, "a replica exited at start"
            try:
                return httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

    else:
        proc = subprocess.Popen([sys.executable, str(FAKE_SERVER), str(port_file), str(DELAY_S)], env=env)

        def ready() -> bool:
            assert proc.poll() is None, "a replica exited at start"
            return port_file.exists()

    try:
        _wait_for(
            ready, what="a replica", limit_s=START_LIMIT_S * (3 if _replica_engine() == "kokoro" else 1)
        )
        yield url if _replica_engine() == "kokoro" else f"http://127.0.0.1:{port_file.read_text()}"
    finally:
        _stop(proc)


def render_nginx_conf(template: str, values: dict[str, str]) -> str:
    """``deploy/nginx.conf`` with its three ``${VOXCLONE_…}`` placeholders filled in, as envsubst
    restricted to those names does (nginx's own ``$host`` and the like stay)."""
    out = template
    for name in TEMPLATE_VARS:
        out = out.replace("${" + name + "}", values[name])
    left = re.findall(r"\$\{[A-Z0-9_]+\}", out)
    assert not left, f"deploy/nginx.conf has placeholders the test does not fill: {left}"
    return out


@contextmanager
def _nginx_in_front(replicas: list[str], workdir: Path) -> Iterator[str]:
    nginx = _nginx()
    prefix = workdir / "nginx"
    (prefix / "tmp").mkdir(parents=True)
    port = _free_port()
    values = {
        "VOXCLONE_LISTEN": f"127.0.0.1:{port}",
        "VOXCLONE_REPLICA_1": replicas[0].removeprefix("http://"),
        "VOXCLONE_REPLICA_2": replicas[1].removeprefix("http://"),
    }
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_conf(NGINX_CONF.read_text(), values))
    proc = subprocess.Popen([nginx, "-p", f"{prefix}/", "-c", str(conf), "-e", "stderr"])
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, "nginx exited at start"
        try:
            return httpx.get(f"{url}/nginx-health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait_for(up, what="nginx")
        yield url
    finally:
        _stop(proc, signal.SIGQUIT)  # graceful: open streams finish


class Calls:
    """Every HTTP status the workload saw (no 5xx allowed)."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, int]] = []

    def note(self, what: str, r: httpx.Response) -> httpx.Response:
        self.statuses.append((what, r.status_code))
        return r

    def server_errors(self) -> list[tuple[str, int]]:
        return [(w, s) for w, s in self.statuses if s >= 500]


def _upload(client: httpx.Client, url: str, headers: dict[str, str], wav: bytes, name: str) -> httpx.Response:
    return client.post(
        f"{url}/api/v1/voice-clones",
        files={"audio": ("ref.wav", wav, "audio/wav")},
        data={"name": name},
        headers=headers,
    )


def _stream_bytes(
    client: httpx.Client, url: str, headers: dict[str, str], body: dict[str, Any]
) -> tuple[int, int]:
    """``(status, bytes)`` of one streamed request read to its end (a cut stream raises)."""
    with client.stream("POST", f"{url}/api/v1/tts_stream", json=body, headers=headers) as r:
        size = sum(len(part) for part in r.iter_bytes()) if r.status_code == 200 else len(r.read())
        return r.status_code, size


def _ledger_sum(db: Database, account_id: str) -> int:
    with db.sessions() as session:
        stmt = select(func.coalesce(func.sum(LedgerEntry.amount_micro), 0)).where(
            LedgerEntry.account_id == account_id
        )
        return int(session.scalar(stmt) or 0)


def test_two_replicas_behind_nginx(postgres_url: str, reference_wav: bytes, tmp_path: Path) -> None:
    _nginx()  # skip (or fail in CI) before starting anything
    model_cache = Path(
        os.environ.get("VOXCLONE_TEST_CACHE", Path(tempfile.gettempdir()) / "voxclone-test-cache")
    )
    calls = Calls()
    with ExitStack() as stack, httpx.Client(timeout=300) as client:
        with ThreadPoolExecutor(2) as ex:  # both at once: they migrate the database together
            starting = [
                ex.submit(
                    stack.enter_context,
                    _replica(postgres_url, tmp_path / f"r{i}", model_cache=model_cache),
                )
                for i in (1, 2)
            ]
            replicas = [f.result() for f in starting]
        lb = stack.enter_context(_nginx_in_front(replicas, tmp_path))
        settings = Settings(data_dir=tmp_path / "admin", database_url=postgres_url)
        db = open_database(settings)
        stack.callback(db.close)
        accounts = AccountService(db=db, settings=settings)
        main_ref, main_key = accounts.create_key(credits="5")
        main = {"Authorization": f"Bearer {main_key}"}
        voices = client.get(f"{lb}/api/v1/voices", headers=main).json()["data"]["voices"]
        builtin = [v["voice_id"] for v in voices if v["type"] == "builtin"][:2]

        def whole(url: str, body: dict[str, Any]) -> int:
            """Bytes of the whole-file render of ``body`` (streams must deliver the same)."""
            r = calls.note("speech", client.post(f"{url}/api/v1/tts_non_stream", json=body, headers=main))
            assert r.status_code == 200, r.text
            if _replica_engine() == "toy":
                assert len(r.content) == len(text_words(body["text"])) * TOY_WORD_BYTES
            return len(r.content)

        # 1. a clone made on one replica is used and deleted through the other; gone everywhere at once
        for maker, other in ((0, 1), (1, 0)):
            r = calls.note("create", _upload(client, replicas[maker], main, reference_wav, f"on {maker}"))
            assert r.status_code == 201, r.text
            vid = r.json()["data"]["voice_id"]
            body = {"text": SHORT, "voice_id": vid, "response_format": "pcm"}
            size = whole(replicas[other], body)
            assert _stream_bytes(client, lb, main, body) == (200, size)
            r = calls.note(
                "delete", client.delete(f"{replicas[other]}/api/v1/voice-clones/{vid}", headers=main)
            )
            assert r.status_code == 200
            for url in (*replicas, lb):  # right away, on every replica (the maker cached the profile)
                r = calls.note("gone", client.get(f"{url}/api/v1/voice-clones/{vid}", headers=main))
                assert (r.status_code, r.json()["code"]) == (404, "voice_not_found")
                r = calls.note("gone", client.post(f"{url}/api/v1/tts_non_stream", json=body, headers=main))
                assert (r.status_code, r.json()["code"]) == (404, "voice_not_found")

        # 2. concurrent uploads with one Idempotency-Key, spread over both replicas: one clone
        key_headers = {**main, "Idempotency-Key": "replicas-upload-1"}
        with ThreadPoolExecutor(6) as ex:
            uploads = list(
                ex.map(lambda i: _upload(client, lb, key_headers, reference_wav, "same"), range(6))
            )
        for r in uploads:
            calls.note("idempotent create", r)
        assert {r.status_code for r in uploads} == {201}, [r.text for r in uploads]
        assert len({r.json()["data"]["voice_id"] for r in uploads}) == 1
        shared_clone = uploads[0].json()["data"]["voice_id"]
        listing = calls.note("list", client.get(f"{lb}/api/v1/voice-clones", headers=main)).json()["data"]
        assert [c["voice_id"] for c in listing["voice_clones"]] == [shared_clone]

        # 3. streams through nginx, overlapping on both replicas, each complete to the last byte
        stream_body = {"text": LONG, "voice_id": shared_clone, "response_format": "pcm"}
        builtin_body = {**stream_body, "voice_id": builtin[1]}
        sizes = [whole(replicas[1], builtin_body), whole(replicas[0], stream_body)]
        with ThreadPoolExecutor(6) as ex:
            streams = list(
                ex.map(
                    lambda i: _stream_bytes(client, lb, main, stream_body if i % 2 else builtin_body),
                    range(6),
                )
            )
        assert streams == [(200, sizes[i % 2]) for i in range(6)]

        # 4. credit races: more speech and clones than the credits pay for, on both replicas at once
        poor_ref, poor_key = accounts.create_key(credits="0.0535")  # two clones and 3.5 s of speech
        poor = {"Authorization": f"Bearer {poor_key}"}
        speech_body = {"text": SHORT, "voice_id": builtin[0], "response_format": "pcm"}
        size = whole(lb, speech_body)
        with ThreadPoolExecutor(8) as ex:
            clone_jobs = [ex.submit(_upload, client, lb, poor, reference_wav, f"p{i}") for i in range(4)]
            speech_jobs = [
                ex.submit(client.post, f"{lb}/api/v1/tts_non_stream", json=speech_body, headers=poor)
                for _ in range(6)
            ]
            clone_results = [calls.note("poor create", f.result()) for f in clone_jobs]
            speech_results = [calls.note("poor speech", f.result()) for f in speech_jobs]
        assert {r.status_code for r in clone_results} <= {201, 402}
        assert {r.status_code for r in speech_results} <= {200, 402}
        assert all(len(r.content) == size for r in speech_results if r.status_code == 200)
        made = sum(r.status_code == 201 for r in clone_results)
        spoken = sum(r.status_code == 200 for r in speech_results)
        assert made <= 2 and made + spoken >= 1

        # 5. background self-checks of the clones finish, on whichever replica claimed them
        def checked() -> bool:
            page = client.get(f"{lb}/api/v1/voice-clones", headers=main).json()["data"]["voice_clones"]
            return all(c["similarity_status"] != "pending" for c in page)

        _wait_for(checked, what="the self-checks", limit_s=60 if _replica_engine() == "toy" else 600)

        # money: what each account can see equals its ledger's sum; nothing held, nothing overdrawn
        for ref, headers in ((main_ref, main), (poor_ref, poor)):
            data = calls.note("account", client.get(f"{lb}/api/v1/account", headers=headers)).json()["data"]
            assert Decimal(data["held"]) == 0
            assert Decimal(data["balance"]) * 10**6 == _ledger_sum(db, ref.id) >= 0
        assert calls.server_errors() == []
