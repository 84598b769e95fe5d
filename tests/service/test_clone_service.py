"""Clone service on the real Kokoro engine: a clone speaks, is scored, and failures leave nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voxclone.errors import ServiceError
from voxclone.service.container import Services
from voxclone.service.speech import SpeechRequest
from voxclone.settings import Settings
from voxclone.store import repositories as repo


@pytest.fixture
def services(tmp_path: Path, kokoro_engine: Any) -> Iterator[Services]:
    settings = Settings(data_dir=tmp_path, synthesis_workers=1, onnx_threads=1)
    built = Services.build(settings=settings, engine=kokoro_engine)
    yield built
    built.close()


async def test_clone_with_kokoro_speaks_and_is_billed(services: Services, reference_wav: bytes) -> None:
    account, _ = services.accounts.create_key(credits="1")
    created = await services.clones.create(
        account=account, name="Ref", audio=reference_wav, filename="ref.wav", content_type="audio/wav"
    )
    record = created.record
    assert record.engine == "kokoro" and record.has_reference_audio
    # the self-check runs after creation, in the background (here: by hand, once)
    assert record.similarity is None and record.similarity_status == "pending"
    assert await asyncio.to_thread(services.checks.run_once)
    done = services.clones.retrieve(account=account, voice_id=record.voice_id)
    assert done.similarity_status == "done"
    assert done.similarity is not None and 0.0 <= done.similarity <= 1.0
    with services.db.sessions() as session:
        row = repo.get_clone(session, account_id=account.id, clone_id=record.voice_id)
        assert row is not None and row.check_key is None  # the check blob is gone
    assert not services.db.blobs.exists(f"{record.voice_id}/check")
    profile = services.clones.load_profile(account=account, voice_id=record.voice_id)
    assert profile.engine == "kokoro" and profile.tensors["style"].shape == (510, 256)
    job = await asyncio.to_thread(
        services.speech.prepare,
        account=account,
        request=SpeechRequest(text="Hi.", voice_id=record.voice_id, format="pcm"),
    )
    audio = await services.speech.render(job)
    assert len(audio) > 0.2 * 24000 * 2
    with services.db.sessions() as session:
        entries = repo.ledger_entries(session, account_id=account.id)
    assert [e.kind for e in entries] == ["topup", "clone", "speech"]
    assert entries[1].amount_micro == -25_000


async def test_failed_intake_leaves_no_clone_no_charge_no_blob(services: Services) -> None:
    account, _ = services.accounts.create_key(credits="1")
    with pytest.raises(ServiceError) as err:
        await services.clones.create(
            account=account,
            name="Bad",
            audio=b"RIFF" + b"\0" * 4000,
            filename="x.wav",
            content_type="audio/wav",
        )
    assert 400 <= err.value.status < 500
    with services.db.sessions() as session:
        assert repo.count_clones(session, account_id=account.id) == 0
        assert repo.balance_micro(session, account_id=account.id) == 1_000_000
    blobs = services.settings.data_dir / "blobs"
    assert not [p for p in blobs.rglob("*") if p.is_file()]
    assert services.pool.in_flight == 0
