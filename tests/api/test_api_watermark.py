"""The watermark through HTTP: every route marks (chunk by chunk, so a stream and a whole file are
the same samples), ``POST /api/v1/watermark/detect`` finds the mark and its payload, and
``VOXCLONE_WATERMARK=off`` leaves the engine's audio as it is."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from voxclone.api import create_app
from voxclone.audio.encode import encode_all
from voxclone.audio.watermark import account_hash
from voxclone.settings import Settings

SR = 24000
SENTENCE = "The lighthouse keeper counted the ships that passed the harbour every evening."


def _pcm(data: bytes) -> np.ndarray:
    return sf.read(io.BytesIO(data), dtype="int16")[0]


def _stream(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    with client.stream("POST", path, json=body, headers=headers) as r:
        assert r.status_code == 200, r.read()
        return b"".join(r.iter_bytes())


def _toy_outputs(harness: Any) -> dict[str, np.ndarray]:
    headers = harness.new_account()
    body = {"text": "one two three four five six", "voice_id": "fa_high"}
    whole = harness.client.post("/api/v1/tts_non_stream", json=body, headers=headers)
    assert whole.status_code == 200
    openai = harness.client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "input": body["text"], "voice": "fa_high", "response_format": "wav"},
        headers=headers,
    )
    assert openai.status_code == 200
    return {
        "whole": _pcm(whole.content),
        "stream": _pcm(_stream(harness.client, "/api/v1/tts_stream", body, headers)),
        "openai": _pcm(openai.content),
    }


def test_toy_stream_equals_whole_file_and_is_marked(make_harness: Any) -> None:
    out = _toy_outputs(make_harness(server_id=12))
    assert np.array_equal(out["stream"], out["whole"]) and np.array_equal(out["openai"], out["whole"])
    harness = make_harness(watermark=False)
    plain = _toy_outputs(harness)
    engine = harness.engine
    raw = engine.generate("one two three four five six", engine.builtin_profile("fa_high"))
    assert np.array_equal(plain["whole"], _pcm(encode_all(raw, SR, "wav")))  # off: the engine's audio
    assert not np.array_equal(out["whole"], plain["whole"])  # on: marked


def test_server_id_is_kept_in_the_data_dir(make_settings: Any, tmp_path: Path) -> None:
    from voxclone.service.watermarking import resolve_server_id

    settings = make_settings(data_dir=tmp_path / "d", database_url=None)
    first = resolve_server_id(settings)
    assert (tmp_path / "d" / "server_id").read_text().strip() == str(first)
    assert resolve_server_id(settings) == first
    assert resolve_server_id(make_settings(server_id=4242)) == 4242
    pg = "postgresql://u:secret@db.example:5432/vox"
    a = resolve_server_id(make_settings(database_url=pg))
    assert a == resolve_server_id(make_settings(database_url=pg.replace("u:secret", "other:pw")))


def test_detect_route_refuses_bad_uploads(harness: Any) -> None:
    headers = harness.new_account()
    url = "/api/v1/watermark/detect"
    assert harness.client.post(url, files={"audio": ("a.wav", b"RIFF")}).status_code == 401
    r = harness.client.post(url, json={"audio": "x"}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_content_type")
    r = harness.client.post(url, files={"other": ("a.wav", b"x")}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (400, "missing_audio")
    r = harness.client.post(url, files={"audio": ("a.wav", b"not audio at all")}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (415, "unsupported_audio_format")
    silence = encode_all(np.zeros(SR, np.float32), SR, "wav")
    r = harness.client.post(url, files={"audio": ("s.wav", silence)}, headers=headers)
    assert r.status_code == 200
    assert r.json() == {"data": {"watermarked": False, "confidence": 0.0, "payload": None}}


@pytest.fixture(scope="module")
def kokoro_client(kokoro_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``make(**settings)``: the real app on the Kokoro engine (SQLite), one per settings."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        data_dir = tmp_path_factory.mktemp("wm") / "data"
        settings = Settings(data_dir=data_dir, onnx_threads=1, synthesis_workers=1, **overrides)
        client = TestClient(create_app(settings, engine=kokoro_engine), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _account(client: TestClient) -> tuple[str, dict[str, str]]:
    ref, key = client.app.state.services.accounts.create_key(credits="10")  # type: ignore[attr-defined]
    return ref.id, {"Authorization": f"Bearer {key}"}


def _detect(client: TestClient, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/v1/watermark/detect", files={"audio": ("clip", data)}, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["data"])


def test_kokoro_stream_equals_whole_file_and_detect_finds_the_payload(kokoro_client: Any) -> None:
    client = kokoro_client(server_id=777)
    account_id, headers = _account(client)
    # two sentences: a live stream may cut a lone sentence sooner than a file would (earlier first
    # audio); with more than one, both are cut alike
    body = {"text": f"{SENTENCE} Then the lamp went out.", "voice_id": "en-female-2"}
    whole = client.post("/api/v1/tts_non_stream", json=body, headers=headers)
    assert whole.status_code == 200
    streamed = _stream(client, "/api/v1/tts_stream", body, headers)
    assert np.array_equal(_pcm(streamed), _pcm(whole.content))  # same samples, streamed or not
    expected = {"server_id": 777, "account_hash": f"{account_hash(account_id):04x}"}
    found = _detect(client, whole.content, headers)
    assert found["watermarked"] and found["confidence"] > 0.999 and found["payload"] == expected
    mp3 = _stream(client, "/api/v1/tts_stream", {**body, "response_format": "mp3"}, headers)
    found = _detect(client, mp3, headers)
    assert found["watermarked"] and found["payload"] == expected
    # a 3 s excerpt of the file, re-encoded as OGG/Opus at 16 kHz, is still traced
    audio = _pcm(whole.content).astype(np.float32) / 32768
    excerpt = encode_all(audio[SR // 2 : SR // 2 + 3 * SR], SR, "opus")
    found = _detect(client, excerpt, headers)
    assert found["watermarked"] and found["payload"] == expected


def test_kokoro_watermark_off_is_not_detected(kokoro_client: Any) -> None:
    client = kokoro_client(watermark=False)
    _, headers = _account(client)
    whole = client.post(
        "/api/v1/tts_non_stream", json={"text": SENTENCE, "voice_id": "en-female-2"}, headers=headers
    )
    assert whole.status_code == 200
    found = _detect(client, whole.content, headers)
    assert found == {"watermarked": False, "confidence": found["confidence"], "payload": None}
    assert found["confidence"] < 0.99


def test_clip_marker_for_paths_outside_the_chunk_path(make_harness: Any) -> None:
    """A real-time session marks its chunks with ``SpeechService.clip_marker``: the same samples as
    the chunk path for the same chunks; nothing changes when the watermark is off."""
    from voxclone.service.accounts import AccountRef
    from voxclone.service.watermarking import mark_chunks

    rng = np.random.default_rng(3)
    t = np.arange(2 * SR) / SR
    chunks = [
        x.astype(np.float32)
        for x in np.array_split(0.3 * np.sin(2 * np.pi * 900 * t) * rng.random(t.size), 5)
    ]
    account = AccountRef(id="acct_1", name="a")
    on = make_harness(server_id=5).services.speech
    clip = on.clip_marker(account)
    marked = [clip.mark(c) for c in chunks]
    expected = list(mark_chunks(chunks, on._watermark.marker(account.id)))  # type: ignore[union-attr]
    assert all(np.array_equal(a, b) for a, b in zip(marked, expected, strict=True))
    assert not np.array_equal(np.concatenate(marked), np.concatenate(chunks))
    off = make_harness(watermark=False).services.speech.clip_marker(account)
    assert all(np.array_equal(off.mark(c), c) for c in chunks)
