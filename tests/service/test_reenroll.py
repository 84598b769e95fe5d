"""Clones of an older profile version are re-enrolled from their kept reference audio.

The toy engine plays an engine that bumped its profile version: version-1 profiles are outdated,
enrollment now writes version 2. Four ways in: a pass of ``reenroll_outdated``, the server's
start-up pass, ``voxclone admin reenroll``, and a clone's first use. Both databases.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from toy_engine import ToyEngine

from voxclone.api.app import create_app
from voxclone.cli import main
from voxclone.service.container import Services
from voxclone.service.reenroll import reenroll_outdated
from voxclone.service.speech import SpeechRequest
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.voices.profile import VoiceProfile


class ToyEngineV2(ToyEngine):
    """The toy engine after a change of what its profiles mean (version 1 → 2)."""

    profile_version = 2

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        profile = super().enroll(audio, sample_rate)
        return VoiceProfile(self.name, profile.version, profile.tensors, {"method": "v2"})


@pytest.fixture
def build(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Services]]:
    """Services around toy engines that all carry one engine name of this test's own (the
    PostgreSQL database is shared by the test session: other tests' toy clones must not count)."""
    built: list[Services] = []
    name = f"toy-{secrets.token_hex(4)}"

    def make(engine: ToyEngine, **overrides: Any) -> Services:
        engine.name = name
        services = Services.build(settings=make_settings(**overrides), engine=engine)
        built.append(services)
        return services

    yield make
    for services in built:
        services.close()


async def _clone(services: Services, reference_wav: bytes, name: str) -> tuple[Any, str]:
    account, _ = services.accounts.create_key(credits="1")
    created = await services.clones.create(
        account=account, name=name, audio=reference_wav, filename="r.wav", content_type="audio/wav"
    )
    return account, created.record.voice_id


def _stored(services: Services, voice_id: str) -> VoiceProfile:
    with services.db.sessions() as session:
        rows = {r[0]: r[1] for r in repo.iter_clone_keys(session, engine=services.engine.name)}
    return VoiceProfile.from_bytes(services.db.blobs.get(rows[voice_id]))


async def test_a_pass_reenrolls_outdated_clones_with_references(
    build: Callable[..., Services], reference_wav: bytes
) -> None:
    old = build(ToyEngine())
    _, kept = await _clone(old, reference_wav, "kept")
    assert _stored(old, kept).version == 1

    new = build(ToyEngineV2())
    report = reenroll_outdated(db=new.db, clones=new.clones, engine_name=new.engine.name)
    assert report.reenrolled == [kept] and not report.failed and report.checked == 1
    profile = _stored(new, kept)
    assert profile.version == 2 and profile.meta["method"] == "v2"
    # a second pass finds nothing to do
    again = reenroll_outdated(db=new.db, clones=new.clones, engine_name=new.engine.name)
    assert again.reenrolled == [] and again.checked == 1


async def test_clones_without_reference_are_reported_not_touched(
    build: Callable[..., Services], reference_wav: bytes
) -> None:
    old = build(ToyEngine(), keep_reference_audio=False)
    _, voice_id = await _clone(old, reference_wav, "no-ref")
    new = build(ToyEngineV2(), keep_reference_audio=False)
    report = reenroll_outdated(db=new.db, clones=new.clones, engine_name=new.engine.name)
    assert report.no_reference == [voice_id] and report.reenrolled == []
    assert _stored(new, voice_id).version == 1


async def test_first_use_reenrolls_and_speaks(build: Callable[..., Services], reference_wav: bytes) -> None:
    old = build(ToyEngine())
    account, voice_id = await _clone(old, reference_wav, "lazy")
    new = build(ToyEngineV2())
    job = new.speech.prepare(
        account=account, request=SpeechRequest(text="Hello again.", voice_id=voice_id, format="pcm")
    )
    audio = await new.speech.render(job)
    assert len(audio) > 0
    assert _stored(new, voice_id).version == 2


def test_the_server_reenrolls_outdated_clones_at_start(
    build: Callable[..., Services], reference_wav: bytes
) -> None:
    old = build(ToyEngine())
    _, voice_id = asyncio.run(_clone(old, reference_wav, "at-start"))
    new = build(ToyEngineV2())
    with TestClient(create_app(services=new)):
        deadline = time.monotonic() + 30  # a bound on a hang, not a timing assertion
        while _stored(new, voice_id).version != 2:
            assert time.monotonic() < deadline, "the start-up pass did not re-enroll the clone"
            time.sleep(0.05)
    assert _stored(new, voice_id).meta["method"] == "v2"


def test_admin_reenroll_command(
    build: Callable[..., Services],
    reference_wav: bytes,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = build(ToyEngine())
    _, voice_id = asyncio.run(_clone(old, reference_wav, "by-command"))
    settings = old.settings
    if settings.database_url:
        monkeypatch.setenv("VOXCLONE_DATABASE_URL", settings.database_url)
    engines: list[ToyEngineV2] = []

    def create_engine(s: Settings) -> ToyEngineV2:
        engine = ToyEngineV2()
        engine.name = s.engine
        engines.append(engine)
        return engine

    monkeypatch.setattr("voxclone.engines.registry.create_engine", create_engine)
    argv = ["admin", "reenroll", "--data-dir", str(settings.data_dir), "--engine", old.engine.name, "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["reenrolled"], report["failed"], report["no_reference"]) == ([voice_id], {}, [])
    assert [e.name for e in engines] == [old.engine.name]
    assert _stored(old, voice_id).version == 2
    # nothing left to do: a second run re-enrolls nothing
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["reenrolled"] == []
