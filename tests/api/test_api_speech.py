"""Speech routes over HTTP with the fake engine: formats, streaming, billing, back-pressure."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voxclone.service.scheduling import Kind
from voxclone.store import repositories as repo

SR = 24000


def _ledger(harness: Any, headers: dict[str, str]) -> list[Any]:
    with harness.services.db.sessions() as session:
        return repo.ledger_entries(session, account_id=harness.account_id(headers))


def _balance(harness: Any, headers: dict[str, str]) -> Decimal:
    return Decimal(harness.client.get("/api/v1/account", headers=headers).json()["data"]["balance"])


def test_non_stream_wav_and_exact_charge(harness: Any) -> None:
    headers = harness.new_account("1")
    r = harness.client.post(
        "/api/v1/tts_non_stream", json={"text": "one two three", "voice_id": "fa_low"}, headers=headers
    )
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    audio, sr = sf.read(io.BytesIO(r.content), dtype="int16")
    info = sf.info(io.BytesIO(r.content))
    assert (sr, info.channels, info.subtype) == (24000, 1, "PCM_16")
    assert len(audio) == 3 * 2400
    assert _balance(harness, headers) == Decimal("1") - Decimal("0.0003")
    entries = _ledger(harness, headers)
    assert [e.kind for e in entries] == ["topup", "speech"]
    assert entries[1].amount_micro == -300 and entries[1].audio_ms == 300
    assert Decimal(sum(e.amount_micro for e in entries)) / 10**6 == _balance(harness, headers)


def test_stream_is_a_complete_wav(harness: Any) -> None:
    headers = harness.new_account()
    with harness.client.stream(
        "POST", "/api/v1/tts_stream", json={"text": "a b c d e", "voice_id": "fa_high"}, headers=headers
    ) as r:
        assert r.status_code == 200
        parts = list(r.iter_bytes())
    data = b"".join(parts)
    audio, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == 24000 and len(audio) == 5 * 2400
    usage = harness.client.get("/api/v1/account", headers=headers).json()["data"]["usage"]
    assert usage["seconds_generated"] == 0.5


def test_formats_and_speed(harness: Any) -> None:
    headers = harness.new_account()
    for fmt, magic in (("mp3", None), ("flac", b"fLaC"), ("opus", b"OggS"), ("pcm", None)):
        r = harness.client.post(
            "/api/v1/tts_non_stream",
            json={"text": "one two", "voice_id": "fa_low", "response_format": fmt},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        assert len(r.content) > 100
        if magic:
            assert r.content.startswith(magic)
        if fmt == "pcm":
            assert len(r.content) == 2 * 2 * 2400
    r = harness.client.post(
        "/api/v1/tts_non_stream",
        json={"text": "one two", "voice_id": "fa_low", "speed": 2.0},
        headers=headers,
    )
    assert len(sf.read(io.BytesIO(r.content))[0]) == 2 * 1200


def test_insufficient_credits_charges_nothing(harness: Any) -> None:
    headers = harness.new_account("0.0005")
    before = _ledger(harness, headers)
    for path in ("/api/v1/tts_non_stream", "/api/v1/tts_stream"):
        r = harness.client.post(path, json={"text": "hello there", "voice_id": "fa_low"}, headers=headers)
        assert (r.status_code, r.json()["code"]) == (402, "insufficient_credits")
    r = harness.client.post(
        "/v1/audio/speech", json={"model": "tts-1", "input": "hi", "voice": "fa_low"}, headers=headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (402, "insufficient_credits")
    assert [(e.id, e.amount_micro) for e in _ledger(harness, headers)] == [
        (e.id, e.amount_micro) for e in before
    ]
    assert harness.engine.chunks_made == 0


def test_busy_pool_answers_503_with_retry_after(make_harness: Any, caplog: pytest.LogCaptureFixture) -> None:
    harness = make_harness(synthesis_workers=1, queue_size=1)
    headers = harness.new_account()
    slots = [harness.services.pool.reserve(), harness.services.pool.reserve()]
    r = harness.client.post(
        "/api/v1/tts_non_stream", json={"text": "hi", "voice_id": "fa_low"}, headers=headers
    )
    assert (r.status_code, r.json()["code"]) == (503, "server_busy")
    assert int(r.headers["retry-after"]) >= 1
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]  # shedding load is no error
    for slot in slots:
        slot.release()
    r = harness.client.post(
        "/api/v1/tts_non_stream", json={"text": "hi", "voice_id": "fa_low"}, headers=headers
    )
    assert r.status_code == 200
    assert len(_ledger(harness, headers)) == 2  # the refused request charged nothing


def test_openai_route_and_models(harness: Any) -> None:
    headers = harness.new_account()
    r = harness.client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "input": "one two three", "voice": "fa_low", "response_format": "wav"},
        headers=headers,
    )
    assert r.status_code == 200
    assert len(sf.read(io.BytesIO(r.content))[0]) == 3 * 2400
    r = harness.client.post(
        "/v1/audio/speech",
        json={
            "model": "tts-1",
            "input": "one two",
            "voice": "fa_low",
            "stream_format": "sse",
            "response_format": "pcm",
        },
        headers=headers,
    )
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[-1]["type"] == "speech.audio.done" and events[0]["type"] == "speech.audio.delta"
    ids = [m["id"] for m in harness.client.get("/v1/models", headers=headers).json()["data"]]
    assert "tts-1" in ids


def test_speed_beyond_engine_range_uses_tempo(harness: Any) -> None:
    pytest.importorskip("voxclone.audio.tempo")
    headers = harness.new_account()
    r = harness.client.post(
        "/v1/audio/speech",
        json={
            "model": "tts-1",
            "input": "one two",
            "voice": "fa_low",
            "speed": 4.0,
            "response_format": "pcm",
        },
        headers=headers,
    )
    assert r.status_code == 200
    assert 0 < len(r.content) < 2 * 2 * 2400


def test_concurrent_requests_do_not_mix(make_harness: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    harness = make_harness(delay_s=0.01, synthesis_workers=2)
    headers = harness.new_account()

    def say(voice: str) -> bytes:
        body = {"text": "w " * 8, "voice_id": voice}
        return bytes(harness.client.post("/api/v1/tts_non_stream", json=body, headers=headers).content)

    alone = {v: say(v) for v in ("fa_low", "fa_high")}
    with ThreadPoolExecutor(6) as ex:
        voices = ["fa_low", "fa_high"] * 3
        results = list(ex.map(say, voices))
    assert all(r == alone[v] for r, v in zip(results, voices, strict=True))


def _scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    """An ASGI HTTP scope for a JSON POST to ``path`` with the account's key."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"authorization", headers["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


async def test_client_disconnect_stops_synthesis_and_bills_delivered(make_harness: Any) -> None:
    harness = make_harness(delay_s=0.02)
    headers = harness.new_account()
    app = harness.client.app
    body = json.dumps({"text": "word " * 200, "voice_id": "fa_low", "response_format": "pcm"}).encode()
    got_body = asyncio.Event()
    sent: list[bytes] = []
    scope = _scope("/api/v1/tts_stream", headers)
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": body, "more_body": False}
        await got_body.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            sent.append(message["body"])
            if len(sent) >= 3:
                got_body.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=20)
    for _ in range(100):  # the worker notices between chunks
        if harness.engine.closed_early:
            break
        await asyncio.sleep(0.02)
    assert harness.engine.closed_early == 1
    assert harness.engine.chunks_made < 100
    entries = [e for e in _ledger(harness, headers) if e.kind == "speech"]
    assert len(entries) == 1
    delivered_ms = sum(len(b) for b in sent) // 2 * 1000 // SR
    assert 0 < entries[0].audio_ms <= delivered_ms + 100
    assert entries[0].amount_micro == -entries[0].audio_ms
    assert np.isclose(float(_balance(harness, headers)), 10 - entries[0].audio_ms / 1e6)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tts_non_stream", {"text": "one two", "voice_id": "fa_low"}),
        ("/api/v1/tts_stream", {"text": "one two", "voice_id": "fa_low", "response_format": "pcm"}),
        ("/api/v1/tts_with_timestamps", {"text": "one two", "voice_id": "fa_low"}),
        ("/v1/audio/speech", {"model": "tts-1", "input": "one two", "voice": "fa_low"}),
    ],
)
async def test_a_request_cancelled_while_its_job_is_prepared_releases_it(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch, path: str, body: dict[str, Any]
) -> None:
    """The route's task is cancelled (server shutdown, a cancelling middleware) while ``prepare``
    runs on its thread: the slot and the credit hold it made are released when it returns."""
    harness = make_harness()
    headers = harness.new_account("1")
    pool = harness.services.pool
    reserved, resume = threading.Event(), threading.Event()
    reserve = pool.reserve

    def slow_reserve(**kwargs: Any) -> Any:
        slot = reserve(**kwargs)
        reserved.set()
        resume.wait(10)  # the job is made; the request is cancelled before it is handed back
        return slot

    monkeypatch.setattr(pool, "reserve", slow_reserve)
    data = json.dumps(body).encode()
    messages = [{"type": "http.request", "body": data, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client stays
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        pass

    request = asyncio.ensure_future(harness.client.app(_scope(path, headers), receive, send))
    assert await asyncio.to_thread(reserved.wait, 10)
    request.cancel()
    await asyncio.sleep(0.05)
    resume.set()
    await asyncio.gather(request, return_exceptions=True)

    def account() -> dict[str, Any]:
        return dict(harness.client.get("/api/v1/account", headers=headers).json()["data"])

    for _ in range(200):  # released on the prepare thread, just after the request ended
        if pool.in_flight == 0 and Decimal(account()["held"]) == 0:
            break
        await asyncio.sleep(0.02)
    assert pool.in_flight == 0
    assert Decimal(account()["held"]) == 0 and Decimal(account()["balance"]) == 1


def test_voice_aliases_are_listed_and_speak_as_their_voice(harness: Any) -> None:
    headers = harness.new_account()
    voices = harness.client.get("/api/v1/voices", headers=headers).json()["data"]["voices"]
    assert {v["voice_id"]: v["aliases"] for v in voices} == {"fa_low": ["low"], "fa_high": []}
    by_id = harness.client.post(
        "/api/v1/tts_non_stream",
        json={"text": "one two", "voice_id": "fa_low", "response_format": "pcm"},
        headers=headers,
    )
    for route, body in (
        ("/api/v1/tts_non_stream", {"text": "one two", "voice_id": "low", "response_format": "pcm"}),
        (
            "/v1/audio/speech",
            {"model": "tts-1", "input": "one two", "voice": "low", "response_format": "pcm"},
        ),
    ):
        r = harness.client.post(route, json=body, headers=headers)
        assert r.status_code == 200, r.text
        assert len(r.content) == 2 * 2 * 2400 and r.content == by_id.content


def test_every_listed_model_is_accepted_and_no_other(harness: Any) -> None:
    headers = harness.new_account()
    ids = [m["id"] for m in harness.client.get("/v1/models", headers=headers).json()["data"]]
    assert {"voxclone", "voxclone-toy", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"} <= set(ids)
    assert len(ids) == len(set(ids))
    for model in ids:
        r = harness.client.post(
            "/v1/audio/speech",
            json={"model": model, "input": "hi", "voice": "fa_low", "response_format": "pcm"},
            headers=headers,
        )
        assert r.status_code == 200, (model, r.text)
    for model in ("voxclone-kokoro", "gpt-4o", "TTS-1", ""):
        r = harness.client.post(
            "/v1/audio/speech", json={"model": model, "input": "hi", "voice": "fa_low"}, headers=headers
        )
        assert r.status_code == 404, (model, r.text)
        error = r.json()["error"]
        assert error["code"] == "model_not_found", model
        assert "GET /v1/models" in error["message"]


def test_a_live_stream_beyond_the_measured_capacity_is_refused_at_once(make_harness: Any) -> None:
    harness = make_harness(synthesis_workers=1, queue_size=8)
    pool = harness.services.pool
    pool.throughput.record(audio_s=1.0, wall_s=100.0)  # measured: far slower than real time
    playing = pool.reserve(kind=Kind.STREAM, audio_s=8.0)  # one listener already uses it all
    headers = harness.new_account()
    body = {"text": "one two three", "voice_id": "fa_low"}
    r = harness.client.post("/api/v1/tts_stream", json=body, headers=headers)
    assert (r.status_code, r.json()["code"]) == (503, "server_busy")
    assert 1 <= int(r.headers["retry-after"]) <= 30
    speech = {"model": "tts-1", "input": "one two three", "voice": "fa_low", "response_format": "mp3"}
    r = harness.client.post("/v1/audio/speech", json=speech, headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (503, "server_busy")
    # a whole file is not a live stream: it waits its turn instead
    assert harness.client.post("/api/v1/tts_non_stream", json=body, headers=headers).status_code == 200
    playing.release()
    assert harness.client.post("/api/v1/tts_stream", json=body, headers=headers).status_code == 200
    assert pool.streams == 0
    assert len(_ledger(harness, headers)) == 3  # the refused streams charged nothing
