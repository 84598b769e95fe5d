"""No route runs a database statement or touches a blob on the event loop (SQLite and PostgreSQL):
every query and every blob read or write of a mixed workload (clone create, replay, list, get,
speech whole, streamed and with timestamps, OpenAI speech and its server-sent events, delete) runs
on a worker thread, so one slow query or disk never stalls every other request."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import event


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_no_database_statement_runs_on_the_event_loop(
    harness: Any, reference_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    on_loop: list[str] = []
    lock = threading.Lock()
    blobs = harness.services.db.blobs

    def watch(name: str) -> Any:
        call = getattr(blobs, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            with lock:
                seen.append(f"blob {name}")
                if _on_event_loop():
                    on_loop.append(f"blob {name} {args[:1]}")
            return call(*args, **kwargs)

        return watched

    for name in ("get", "put", "delete", "exists", "transaction"):
        monkeypatch.setattr(blobs, name, watch(name))

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with lock:
            seen.append(statement)
            if _on_event_loop():
                on_loop.append(statement.split("\n")[0][:120])

    engine = harness.services.db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        headers = harness.new_account("5")
        client = harness.client
        for _ in range(2):  # the second is an idempotent replay
            r = client.post(
                "/api/v1/voice-clones",
                files={"audio": ("me.wav", reference_wav, "audio/wav")},
                data={"name": "Me"},
                headers={**headers, "Idempotency-Key": "loop-1"},
            )
            assert r.status_code == 201, r.text
        vid = r.json()["data"]["voice_id"]
        assert client.get("/api/v1/voice-clones", headers=headers).status_code == 200
        assert client.get(f"/api/v1/voice-clones/{vid}", headers=headers).status_code == 200
        body = {"text": "hello there", "voice_id": vid}
        assert client.post("/api/v1/tts_non_stream", json=body, headers=headers).status_code == 200
        with client.stream("POST", "/api/v1/tts_stream", json=body, headers=headers) as s:
            assert s.status_code == 200 and len(s.read()) > 0
        timed = client.post("/api/v1/tts_with_timestamps", json=body, headers=headers)
        assert timed.status_code == 200
        openai = {"model": "tts-1", "input": "hello", "voice": vid, "response_format": "pcm"}
        assert client.post("/v1/audio/speech", json=openai, headers=headers).status_code == 200
        sse = client.post("/v1/audio/speech", json={**openai, "stream_format": "sse"}, headers=headers)
        assert sse.status_code == 200 and "speech.audio.done" in sse.text
        assert client.get("/api/v1/account", headers=headers).status_code == 200
        assert client.delete(f"/api/v1/voice-clones/{vid}", headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert any(not s.startswith("blob ") for s in seen), "the workload ran no query at all"
    assert any(s.startswith("blob get") for s in seen), "the workload read no blob at all"
    assert on_loop == [], on_loop
