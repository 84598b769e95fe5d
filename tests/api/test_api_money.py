"""Money under real conditions: abandoned requests, concurrent spending, crashes (both databases).

Servers run on real sockets (uvicorn in a thread, or a subprocess that is killed with SIGKILL);
clients are real HTTP clients that time out, race each other or lose their server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from voxclone.service.accounts import AccountService
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.db import Database, open_database

SR = 24000
CHUNK_MS = 100  # the fake engine speaks 0.1 s per word, one chunk per word


def _ledger_speech(db: Database, account_id: str) -> list[Any]:
    with db.sessions() as session:
        return [e for e in repo.ledger_entries(session, account_id=account_id) if e.kind == "speech"]


def _ledger_sum(db: Database, account_id: str) -> int:
    with db.sessions() as session:
        return sum(e.amount_micro for e in repo.ledger_entries(session, account_id=account_id))


def _wait_for(condition: Callable[[], bool], *, what: str, limit_s: float = 20) -> None:
    """Poll ``condition`` until it holds (a bound on a hang, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


def _account(url: str, headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(f"{url}/api/v1/account", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json()["data"])


def _settled_account(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """The account once no request holds credits (a server settles just after its last byte)."""
    _wait_for(lambda: Decimal(_account(url, headers)["held"]) == 0, what="the holds to be settled")
    return _account(url, headers)


# ------------------------------------------------------------------------ 1. abandoned requests


def _abandon(
    url: str, path: str, body: dict[str, Any], headers: dict[str, str], *, when: Callable[[], bool]
) -> None:
    """Send a request on a raw socket and close the connection once ``when()`` holds."""
    host, port = url.removeprefix("http://").split(":")
    data = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    head += [f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall("\r\n".join(head).encode() + data)
        _wait_for(when, what="the server to start working")


WHOLE_FILES = {  # 40 s of audio, 8 s of work each
    "tts_non_stream": ("/api/v1/tts_non_stream", {"text": "word " * 400, "voice_id": "fa_low"}),
    "tts_with_timestamps": ("/api/v1/tts_with_timestamps", {"text": "word " * 400, "voice_id": "fa_low"}),
    "openai_wav": (
        "/v1/audio/speech",
        {"model": "tts-1", "input": "word " * 400, "voice": "fa_low", "response_format": "wav"},
    ),
}


@pytest.mark.parametrize("route", sorted(WHOLE_FILES))
def test_abandoned_whole_file_stops_frees_its_worker_and_bills_nothing(make_live: Any, route: str) -> None:
    live = make_live(delay_s=0.02, synthesis_workers=1, queue_size=0)
    url, services, engine = live.urls[0], live.services[0], live.engines[0]
    account_id, headers = live.new_account("1")
    path, body = WHOLE_FILES[route]
    _abandon(url, path, body, headers, when=lambda: engine.chunks_made >= 3)
    _wait_for(lambda: engine.closed_early == 1, what="synthesis to stop after the client left")
    _wait_for(lambda: services.pool.in_flight == 0, what="the worker slot to be released")
    assert engine.chunks_made < 400
    # the only worker is free again: the next request is served, not refused with 503
    r = httpx.post(
        f"{url}/api/v1/tts_non_stream", json={"text": "one two", "voice_id": "fa_low"}, headers=headers
    )
    assert r.status_code == 200, r.text
    data = _settled_account(url, headers)
    speech = _ledger_speech(services.db, account_id)
    assert [e.audio_ms for e in speech] == [200]  # the abandoned file cost nothing
    assert Decimal(data["balance"]) == Decimal("1") - Decimal("0.0002")
    assert data["available"] == data["balance"]


STREAMS = {
    "tts_stream": (
        "/api/v1/tts_stream",
        {"text": "word " * 50, "voice_id": "fa_low", "response_format": "pcm"},
    ),
    "openai": ("/v1/audio/speech", {"model": "tts-1", "input": "word " * 50, "voice": "fa_low"}),
    "openai_sse": (
        "/v1/audio/speech",
        {"model": "tts-1", "input": "word " * 50, "voice": "fa_low", "stream_format": "sse"},
    ),
}


@pytest.mark.parametrize("route", sorted(STREAMS))
def test_stream_abandoned_before_its_headers_frees_the_worker(make_live: Any, route: str) -> None:
    live = make_live(delay_s=1.0, synthesis_workers=1, queue_size=0)
    url, services, engine = live.urls[0], live.services[0], live.engines[0]
    account_id, headers = live.new_account("1")
    path, body = STREAMS[route]
    _abandon(url, path, body, headers, when=lambda: engine.started == 1)  # first chunk under way
    _wait_for(lambda: services.pool.in_flight == 0, what="the worker slot to be released")
    _wait_for(lambda: engine.closed_early == 1, what="synthesis to stop")
    assert engine.chunks_made <= 2
    _settled_account(url, headers)
    assert _ledger_speech(services.db, account_id) == []  # no byte reached the client


# ------------------------------------------------------------------------ 2. concurrent spending


def test_concurrent_requests_cannot_overdraw(make_live: Any) -> None:
    """20 whole files at once over two server replicas, on an account that can pay for 5."""
    live = make_live(replicas=2, delay_s=0.02, synthesis_workers=2, queue_size=40)
    account_id, headers = live.new_account("0.005")
    body = {"text": " ".join(["a"] * 10), "voice_id": "fa_low", "response_format": "pcm"}  # 1 s each
    start = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        url = live.urls[i % 2]
        with httpx.Client(timeout=60) as client:
            start.wait()
            r = client.post(f"{url}/api/v1/tts_non_stream", json=body, headers=headers)
        with lock:
            statuses.append(r.status_code)
        if r.status_code == 200:
            assert len(r.content) == 2 * SR  # one second of 16-bit audio
        else:
            assert r.json()["code"] == "insufficient_credits", r.text

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = _settled_account(live.urls[1], headers)
    assert len(statuses) == 20 and set(statuses) <= {200, 402}
    served = statuses.count(200)
    assert 1 <= served <= 5
    db = live.services[0].db
    balance = _ledger_sum(db, account_id)
    assert balance >= 0
    assert balance == 5_000 - 1_000 * served
    assert [e.audio_ms for e in _ledger_speech(db, account_id)] == [1_000] * served
    assert Decimal(data["balance"]) * 10**6 == balance


def test_a_stream_ends_where_credits_end_and_a_whole_file_costs_nothing(make_harness: Any) -> None:
    harness = make_harness()
    # 300 one-letter words: 30 s of audio; the minimal estimate (599 characters / 20) is 29.95 s
    text = " ".join(["a"] * 300)
    headers = harness.new_account("0.029950")
    account_id = harness.account_id(headers)
    r = harness.client.post(
        "/api/v1/tts_non_stream", json={"text": text, "voice_id": "fa_low"}, headers=headers
    )
    assert (r.status_code, r.json()["code"]) == (402, "insufficient_credits")
    assert _ledger_speech(harness.services.db, account_id) == []
    r = harness.client.post(
        "/api/v1/tts_stream",
        json={"text": text, "voice_id": "fa_low", "response_format": "pcm"},
        headers=headers,
    )
    assert r.status_code == 200
    delivered_ms = len(r.content) // 2 * 1000 // SR
    assert 29_000 <= delivered_ms < 30_000  # cut at the chunk the account could not pay for
    assert [e.audio_ms for e in _ledger_speech(harness.services.db, account_id)] == [delivered_ms]
    balance = _ledger_sum(harness.services.db, account_id)
    assert balance == 29_950 - delivered_ms and balance >= 0
    data = harness.client.get("/api/v1/account", headers=headers).json()["data"]
    assert Decimal(data["balance"]) * 10**6 == balance and Decimal(data["held"]) == 0


def test_account_shows_what_a_running_stream_holds(make_live: Any) -> None:
    live = make_live(delay_s=0.05)
    url = live.urls[0]
    _, headers = live.new_account("1")
    body = {"text": "word " * 100, "voice_id": "fa_low", "response_format": "pcm"}
    with httpx.stream("POST", f"{url}/api/v1/tts_stream", json=body, headers=headers, timeout=30) as r:
        assert r.status_code == 200
        parts = r.iter_raw()
        next(parts)
        during = _account(url, headers)
        for _ in parts:
            pass
    held = Decimal(during["held"])
    assert Decimal(during["balance"]) == 1 and held > 0
    assert Decimal(during["available"]) == Decimal(during["balance"]) - held
    after = _settled_account(url, headers)
    assert after["available"] == after["balance"]
    assert Decimal(after["balance"]) == Decimal("1") - Decimal("0.01")


def test_clone_creation_respects_credits_held_by_speech(harness: Any) -> None:
    headers = harness.new_account("0.030")
    account_id = harness.account_id(headers)
    hold = harness.services.holds.reserve(
        account_id=account_id, min_micro=10_000, want_micro=10_000, reference="fa_low"
    )
    r = harness.client.post(
        "/api/v1/voice-clones",
        files={"audio": ("me.wav", b"RIFF" + b"\0" * 100, "audio/wav")},
        data={"name": "Me"},
        headers=headers,
    )
    assert (r.status_code, r.json()["code"]) == (402, "insufficient_credits")
    harness.services.holds.settle(hold, delivered_ms=0)
    assert Decimal(harness.client.get("/api/v1/account", headers=headers).json()["data"]["held"]) == 0


# ------------------------------------------------------------------------------------- 3. crashes

FAKE_SERVER = Path(__file__).with_name("fake_server.py")


@contextmanager
def _server_process(settings: Settings, workdir: Path, *, delay_s: float) -> Iterator[tuple[Any, str]]:
    """A server subprocess on the test's database; yields ``(process, base_url)``."""
    port_file = workdir / f"port-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXCLONE_")}
    env.update({"VOXCLONE_DATA_DIR": str(settings.data_dir), "VOXCLONE_SYNTHESIS_WORKERS": "1"})
    if settings.database_url:
        env["VOXCLONE_DATABASE_URL"] = settings.database_url
    src = Path(__file__).parents[2] / "src"
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen([sys.executable, str(FAKE_SERVER), str(port_file), str(delay_s)], env=env)
    try:
        _wait_for(lambda: port_file.exists() or proc.poll() is not None, what="the server", limit_s=60)
        assert proc.poll() is None, "the server process exited"
        yield proc, f"http://127.0.0.1:{port_file.read_text()}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_stream_delivered_before_a_crash_is_charged_after_restart(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    db = open_database(settings)
    try:
        account, key = AccountService(db=db, settings=settings).create_key(credits="1")
        headers = {"Authorization": f"Bearer {key}"}
        body = {"text": "word " * 400, "voice_id": "fa_low", "response_format": "pcm"}
        received = 0
        with (
            _server_process(settings, tmp_path, delay_s=0.05) as (proc, url),
            httpx.stream("POST", f"{url}/api/v1/tts_stream", json=body, headers=headers, timeout=30) as r,
        ):
            assert r.status_code == 200
            for part in r.iter_raw():
                received += len(part)
                if received >= 2 * 2 * SR:  # two seconds of audio
                    proc.kill()  # SIGKILL: no clean-up of any kind
                    proc.wait()
                    break
        assert _ledger_speech(db, account.id) == []  # the dead server charged nothing yet
        received_ms = received // 2 * 1000 // SR
        with _server_process(settings, tmp_path, delay_s=0.05) as (_, url):
            speech = _ledger_speech(db, account.id)  # settled while the new server started
            data = _account(url, headers)
        assert len(speech) == 1
        assert abs(speech[0].audio_ms - received_ms) <= CHUNK_MS
        assert speech[0].amount_micro == -speech[0].audio_ms
        assert Decimal(data["held"]) == 0
        assert Decimal(data["balance"]) * 10**6 == _ledger_sum(db, account.id) == 10**6 - speech[0].audio_ms
    finally:
        db.close()
