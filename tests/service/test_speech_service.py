"""Speech service on the real Kokoro engine: isolation under concurrency, exact billing."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from voxclone.errors import InsufficientCredits, NotFound
from voxclone.service.accounts import AccountRef
from voxclone.service.container import Services
from voxclone.service.speech import SpeechRequest
from voxclone.settings import Settings
from voxclone.store import repositories as repo


@pytest.fixture
def services(tmp_path: Path, kokoro_engine: Any) -> Iterator[Services]:
    """Services on SQLite (the API suite covers both databases; synthesis is the point here)."""
    settings = Settings(data_dir=tmp_path, synthesis_workers=2, onnx_threads=1)
    built = Services.build(settings=settings, engine=kokoro_engine)
    yield built
    built.close()


def _account(services: Services, credits: str = "5") -> AccountRef:
    ref, _ = services.accounts.create_key(credits=credits)
    return ref


async def _render(services: Services, account: AccountRef, voice: str, text: str) -> bytes:
    job = await asyncio.to_thread(
        services.speech.prepare,
        account=account,
        request=SpeechRequest(text=text, voice_id=voice, format="pcm"),
    )
    return await services.speech.render(job)


async def test_parallel_requests_with_different_voices_match_solo_runs(
    services: Services, kokoro_engine: Any
) -> None:
    account = _account(services)
    voices = [v.voice_id for v in kokoro_engine.builtin_voices()[:2]]
    texts = ["Good morning.", "Thank you."]
    alone = [await _render(services, account, v, t) for v, t in zip(voices, texts, strict=True)]
    together = await asyncio.gather(
        *(_render(services, account, v, t) for v, t in zip(voices, texts, strict=True))
    )
    assert list(together) == alone
    assert len(set(alone)) == 2


async def test_stream_matches_render_and_charges_exactly(services: Services, kokoro_engine: Any) -> None:
    account = _account(services, "1")
    voice = kokoro_engine.builtin_voices()[0].voice_id
    request = SpeechRequest(text="Hello.", voice_id=voice, format="wav")
    job = await asyncio.to_thread(services.speech.prepare, account=account, request=request)
    streamed = b"".join([chunk async for chunk in services.speech.stream(job)])
    job2 = await asyncio.to_thread(services.speech.prepare, account=account, request=request)
    whole = await services.speech.render(job2)
    a, sr = sf.read(io.BytesIO(streamed), dtype="int16")
    b, _ = sf.read(io.BytesIO(whole), dtype="int16")
    assert sr == 24000 and (a == b).all()
    with services.db.sessions() as session:
        entries = repo.ledger_entries(session, account_id=account.id)
        balance = repo.balance_micro(session, account_id=account.id)
    speech = [e for e in entries if e.kind == "speech"]
    expected_ms = round(len(a) * 1000 / 24000)
    assert [e.audio_ms for e in speech] == [expected_ms, expected_ms]
    assert [e.amount_micro for e in speech] == [-expected_ms, -expected_ms]
    assert balance == sum(e.amount_micro for e in entries) == 1_000_000 - 2 * expected_ms
    assert services.pool.in_flight == 0
    assert services.accounts.summary(account_id=account.id).held_micro == 0


async def test_a_stream_closed_early_charges_only_what_it_yielded(
    services: Services, kokoro_engine: Any
) -> None:
    account = _account(services, "1")
    voice = kokoro_engine.builtin_voices()[0].voice_id
    text = "Good morning. The weather is fine today. We will walk to the river and back."
    request = SpeechRequest(text=text, voice_id=voice, format="pcm")
    job = await asyncio.to_thread(services.speech.prepare, account=account, request=request)
    assert services.accounts.summary(account_id=account.id).held_micro > 0
    chunks = services.speech.stream(job)
    first = await anext(chunks)
    await anext(chunks)  # asking for more confirms the first chunk was delivered
    await chunks.aclose()  # the client went away before taking the second one
    with services.db.sessions() as session:
        speech = [e for e in repo.ledger_entries(session, account_id=account.id) if e.kind == "speech"]
    assert [e.audio_ms for e in speech] == [round(len(first) / 2 * 1000 / 24000)]
    summary = services.accounts.summary(account_id=account.id)
    assert summary.held_micro == 0 and summary.balance_micro == 1_000_000 - speech[0].audio_ms
    assert services.pool.in_flight == 0


def test_refusals_happen_before_work(services: Services, kokoro_engine: Any) -> None:
    poor = _account(services, "0")
    voice = kokoro_engine.builtin_voices()[0].voice_id
    with pytest.raises(InsufficientCredits):
        services.speech.prepare(account=poor, request=SpeechRequest(text="Hi.", voice_id=voice))
    other = _account(services)
    with pytest.raises(NotFound) as err:
        services.speech.prepare(
            account=other, request=SpeechRequest(text="Hi.", voice_id="vc_01j00000000000000000000000")
        )
    assert err.value.code == "voice_not_found"
    assert services.pool.in_flight == 0
