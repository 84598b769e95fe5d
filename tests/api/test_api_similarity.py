"""The clone self-check runs after the clone is stored, in the background (SQLite and PostgreSQL):
the response says ``pending``, GET fills the score in, the request never runs the check, engines
without a calibrated check say ``unavailable``, and checks left pending by a stopped server (or
claimed by one that died) are finished by the next."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import update
from toy_engine import ToyEngine

from voxclone.api import create_app
from voxclone.engines.base import Capabilities
from voxclone.service.container import Services
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.models import VoiceClone, utcnow
from voxclone.voices.profile import VoiceProfile

CLONES = "/api/v1/voice-clones"
WAIT_S = 60.0  # a bound for a background step, not a timing assert


class GatedEngine(ToyEngine):
    """The toy engine whose self-check waits for ``gate`` and records the threads that ran it."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.check_threads: list[str] = []

    def self_check(
        self, profile: VoiceProfile, reference: np.ndarray, sample_rate: int, *, held_out: Any = None
    ) -> float | None:
        self.check_threads.append(threading.current_thread().name)
        self.gate.wait(WAIT_S)
        return super().self_check(profile, reference, sample_rate)


class NoCheckEngine(ToyEngine):
    """An engine without a calibrated self-check."""

    capabilities = Capabilities(cloning=True, self_check=False, timestamps=True, streaming="phrase")

    def self_check(
        self, profile: VoiceProfile, reference: np.ndarray, sample_rate: int, *, held_out: Any = None
    ) -> float | None:
        raise AssertionError("self_check called on an engine without one")


@contextmanager
def serve(settings: Settings, engine: ToyEngine) -> Iterator[tuple[TestClient, Services]]:
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        yield client, client.app.state.services  # type: ignore[attr-defined]


def _create(client: TestClient, headers: dict[str, str], wav: bytes, **extra: str) -> dict[str, Any]:
    r = client.post(
        CLONES,
        files={"audio": ("me.wav", wav, "audio/wav")},
        data={"name": "Me"},
        headers={**headers, **extra},
    )
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def _wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, "the background self-check did not finish"
        time.sleep(0.05)


def _new_account(services: Services) -> dict[str, str]:
    _, key = services.accounts.create_key(credits="5")
    return {"Authorization": f"Bearer {key}"}


def test_pending_then_filled_in_and_never_on_the_request_path(
    make_settings: Callable[..., Settings], reference_wav: bytes
) -> None:
    engine = GatedEngine()
    with serve(make_settings(), engine) as (client, services):
        headers = _new_account(services)
        created = _create(client, headers, reference_wav, **{"Idempotency-Key": "k-1"})
        # the clone is stored and usable before its self-check has run
        assert (created["similarity"], created["similarity_status"]) == (None, "pending")
        vid = created["voice_id"]
        got = client.get(f"{CLONES}/{vid}", headers=headers).json()["data"]
        assert (got["similarity"], got["similarity_status"]) == (None, "pending")
        listed = client.get(CLONES, headers=headers).json()["data"]["voice_clones"]
        assert [(c["voice_id"], c["similarity_status"]) for c in listed] == [(vid, "pending")]
        speech = client.post(
            "/api/v1/tts_non_stream", json={"text": "hi you", "voice_id": vid}, headers=headers
        )
        assert speech.status_code == 200
        engine.gate.set()  # let the background check finish

        def done() -> bool:
            data = client.get(f"{CLONES}/{vid}", headers=headers).json()["data"]
            return bool(data["similarity_status"] == "done")

        _wait_until(done)
        got = client.get(f"{CLONES}/{vid}", headers=headers).json()["data"]
        assert got["similarity"] == 1.0  # the toy engine's score of its own enrollment
        # a replay of the create shows the score too, and still one clone
        replay = _create(client, headers, reference_wav, **{"Idempotency-Key": "k-1"})
        assert (replay["voice_id"], replay["similarity"], replay["similarity_status"]) == (vid, 1.0, "done")
        with services.db.sessions() as session:
            row = session.get(VoiceClone, vid)
            assert row is not None and row.check_key is None
        assert not services.db.blobs.exists(f"{vid}/check")  # its input is removed once done
        _create(client, headers, reference_wav)
        _wait_until(lambda: len(engine.check_threads) == 2)
    # every self-check ran on the background worker, none inside a request
    assert engine.check_threads == ["voxclone-similarity", "voxclone-similarity"]


def test_engine_without_self_check_says_unavailable(
    make_settings: Callable[..., Settings], reference_wav: bytes
) -> None:
    with serve(make_settings(), NoCheckEngine()) as (client, services):
        headers = _new_account(services)
        created = _create(client, headers, reference_wav)
        assert (created["similarity"], created["similarity_status"]) == (None, "unavailable")
        got = client.get(f"{CLONES}/{created['voice_id']}", headers=headers).json()["data"]
        assert got["similarity_status"] == "unavailable"
        assert not services.db.blobs.exists(f"{created['voice_id']}/check")


def test_a_restarted_server_finishes_checks_left_pending(
    make_settings: Callable[..., Settings], reference_wav: bytes
) -> None:
    settings = make_settings()
    # a server that stored two clones and stopped before checking them (no worker running)
    stopped = Services.build(settings=settings, engine=ToyEngine())
    account, key = stopped.accounts.create_key(credits="5")
    ids = []
    for name in ("a", "b"):
        created = asyncio.run(
            stopped.clones.create(
                account=account, name=name, audio=reference_wav, filename="r.wav", content_type="audio/wav"
            )
        )
        assert created.record.similarity_status == "pending"
        ids.append(created.record.voice_id)
    # the second was claimed a moment ago by another replica that is still working on it
    with stopped.db.write_sessions.begin() as session:
        session.execute(
            update(VoiceClone).where(VoiceClone.id == ids[1]).values(similarity_claimed_at=utcnow())
        )
    stopped.close()

    with serve(settings, ToyEngine()) as (client, services):
        headers = {"Authorization": f"Bearer {key}"}

        def status(vid: str) -> str:
            return str(client.get(f"{CLONES}/{vid}", headers=headers).json()["data"]["similarity_status"])

        _wait_until(lambda: status(ids[0]) == "done")
        assert status(ids[1]) == "pending"  # a live claim is left to its owner
        # ... until the claim is older than the timeout: its owner died, this server takes over
        with services.db.write_sessions.begin() as session:
            old = utcnow() - timedelta(seconds=settings.similarity_claim_timeout_s + 1)
            session.execute(
                update(VoiceClone).where(VoiceClone.id == ids[1]).values(similarity_claimed_at=old)
            )
        services.checks.wake()
        _wait_until(lambda: status(ids[1]) == "done")


def test_a_pending_check_is_claimed_once(
    make_settings: Callable[..., Settings], reference_wav: bytes
) -> None:
    settings = make_settings()
    # an engine name of its own: the PostgreSQL database is shared by the whole test session, and
    # other tests leave pending checks of the plain toy engine behind
    engine = ToyEngine()
    engine.name = f"toy-{secrets.token_hex(4)}"
    services = Services.build(settings=settings, engine=engine)
    try:
        account, _ = services.accounts.create_key(credits="5")
        created = asyncio.run(
            services.clones.create(
                account=account, name="x", audio=reference_wav, filename="r.wav", content_type="audio/wav"
            )
        )
        stale = utcnow() - timedelta(seconds=60)
        with services.db.write_sessions.begin() as session:
            first = repo.claim_similarity_check(session, engine=engine.name, stale_before=stale)
        with services.db.write_sessions.begin() as session:
            second = repo.claim_similarity_check(session, engine=engine.name, stale_before=stale)
            other_engine = repo.claim_similarity_check(  # pending checks of another engine only
                session, engine=f"{engine.name}-other", stale_before=utcnow()
            )
        assert first is not None and first.clone_id == created.record.voice_id and first.attempts == 1
        assert second is None and other_engine is None
        with services.db.write_sessions.begin() as session:  # its claimer is presumed dead now
            again = repo.claim_similarity_check(
                session, engine=engine.name, stale_before=utcnow() + timedelta(seconds=1)
            )
        assert again is not None and again.attempts == 2
    finally:
        services.close()
