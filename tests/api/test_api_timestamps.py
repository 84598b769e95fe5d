"""``POST /api/v1/tts_with_timestamps``: audio plus word times, billed like a whole file."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from toy_engine import ToyEngine

from voxclone.api import create_app
from voxclone.engines.base import Capabilities, Engine, TimedChunk, Utterance, text_words
from voxclone.settings import Settings
from voxclone.store import repositories as repo

ROUTE = "/api/v1/tts_with_timestamps"
TEXT = "Hello there, $42 is 3.5% of it 🙂"


def _speech_rows(services: Any, account_id: str) -> list[Any]:
    with services.db.sessions() as session:
        return [e for e in repo.ledger_entries(session, account_id=account_id) if e.kind == "speech"]


def test_words_cover_the_text_with_times_from_the_start_of_the_audio(harness: Any) -> None:
    headers = harness.new_account("1")
    r = harness.client.post(ROUTE, json={"text": TEXT, "voice_id": "fa_low"}, headers=headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["sample_rate"] == 24000
    audio, rate = sf.read(io.BytesIO(base64.b64decode(data["audio"])), dtype="float32")
    assert rate == 24000
    words = data["words"]
    assert [w["word"] for w in words] == text_words(TEXT)
    # the toy speaks one 0.1 s chunk per word: word k spans [0.1 k, 0.1 (k + 1)] of the file
    for k, w in enumerate(words):
        assert w["start"] == pytest.approx(0.1 * k, abs=1e-3)
        assert w["end"] == pytest.approx(0.1 * (k + 1), abs=1e-3)
    assert words[-1]["end"] == pytest.approx(audio.size / rate, abs=1e-3)
    rows = _speech_rows(harness.services, harness.account_id(headers))
    assert [row.audio_ms for row in rows] == [round(1000 * audio.size / rate)]


def test_speed_shortens_the_times(harness: Any) -> None:
    r = harness.client.post(
        ROUTE,
        json={"text": "one two three", "voice_id": "fa_low", "speed": 2.0},
        headers=harness.new_account(),
    )
    assert r.status_code == 200, r.text
    assert [w["end"] for w in r.json()["data"]["words"]] == pytest.approx([0.05, 0.1, 0.15], abs=1e-3)


def test_not_enough_credits_costs_nothing(harness: Any) -> None:
    headers = harness.new_account("0.001")  # one second; this text needs more
    r = harness.client.post(
        ROUTE, json={"text": " ".join(["word"] * 30), "voice_id": "fa_low"}, headers=headers
    )
    assert r.status_code == 402, r.text
    assert r.json()["code"] == "insufficient_credits"
    assert _speech_rows(harness.services, harness.account_id(headers)) == []


class _NoTimestamps(ToyEngine):
    """The toy engine, declaring (as OuteTTS does) that it cannot time words."""

    capabilities = Capabilities(cloning=True, self_check=True, timestamps=False, streaming="phrase")

    def stream_timed(self, utterance: Utterance) -> Iterator[TimedChunk]:
        return Engine.stream_timed(self, utterance)


@pytest.fixture
def untimed_client(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, Any]]:
    engine = _NoTimestamps()
    app = create_app(make_settings(), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        engine.reset_counts()  # the start-up capability check spoke a test word
        yield client, app.state.services
    assert engine.started == 0  # refused before any synthesis


def test_engines_without_timestamps_refuse_with_a_stable_code(untimed_client: tuple[TestClient, Any]) -> None:
    client, services = untimed_client
    account, key = services.accounts.create_key(credits="1")
    headers = {"Authorization": f"Bearer {key}"}
    r = client.post(ROUTE, json={"text": "Hello there.", "voice_id": "fa_low"}, headers=headers)
    assert r.status_code == 400
    assert r.json()["code"] == "timestamps_unavailable"
    assert client.get("/api/v1/health").json()["engine"]["capabilities"]["timestamps"] is False
    me = client.get("/api/v1/account", headers=headers).json()["data"]
    assert Decimal(me["balance"]) == 1 and Decimal(me["held"]) == 0
    assert _speech_rows(services, account.id) == []


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_kokoro_words_match_its_audio(kokoro_engine: Any, make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(), engine=kokoro_engine)
    text = "Dr. Smith paid $42. Then he left."
    with TestClient(app, raise_server_exceptions=False) as client:
        _, key = app.state.services.accounts.create_key(credits="1")
        r = client.post(
            ROUTE, json={"text": text, "voice_id": "en-female-1"}, headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        plain = client.post(
            "/api/v1/tts_non_stream",
            json={"text": text, "voice_id": "en-female-1"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert base64.b64decode(data["audio"]) == plain.content
    audio, rate = sf.read(io.BytesIO(plain.content), dtype="float32")
    words = data["words"]
    assert [w["word"] for w in words] == text_words(text)
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and all(w["end"] > w["start"] for w in words)
    assert words[-1]["end"] <= audio.size / rate + 1e-3
    # "Then" follows the sentence pause: it starts after "$42" ends
    assert words[4]["word"] == "Then" and words[4]["start"] >= words[3]["end"] + 0.2
    assert np.isfinite(audio).all()
