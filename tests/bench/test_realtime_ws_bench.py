"""The WebSocket feed benchmark (``bench/realtime_ws.py``) against a stand-in server: a session the
server turns away is counted, not a crash of the whole run."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from script_module import load_script

realtime_ws = load_script("bench/realtime_ws.py", "bench_realtime_ws")


async def _busy(ws: Any) -> None:
    """Reads the start message, then closes as the server does when it has no capacity."""
    await ws.recv()
    await ws.close(1013, "server_busy")


async def _speaks(ws: Any) -> None:
    """Answers a session with one second of silence, then done."""
    await ws.recv()
    async for raw in ws:
        if json.loads(raw)["type"] == "end":
            break
    audio = base64.b64encode(bytes(2 * realtime_ws.SR)).decode()
    await ws.send(json.dumps({"type": "audio", "audio": audio}))
    await ws.send(json.dumps({"type": "done", "audio_seconds": 1.0, "credits_charged": "1"}))


async def _run(handler: Any, mode: str) -> dict[str, Any]:
    """One benchmark session against ``handler``."""
    from websockets.asyncio.server import serve

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        url = f"ws://127.0.0.1:{port}/api/v1/tts_websocket"
        session = realtime_ws._session(url, "k", "v", "Hello there. How are you today?", mode, 0.01)
        result: dict[str, Any] = await asyncio.wait_for(session, 10)
        return result


async def test_a_session_the_server_turns_away_is_recorded_as_rejected() -> None:
    for mode in ("trickle", "burst"):
        row = await _run(_busy, mode)
        assert row["errors"] == ["server_busy"]
        assert row["first_audio_s"] is None and row["chunks"] == 0


async def test_summary_counts_rejected_sessions_apart_from_the_stalls_of_the_others() -> None:
    served = await _run(_speaks, "burst")
    busy = await _run(_busy, "burst")
    assert served["errors"] == [] and served["chunks"] == 1 and served["audio_s"] == 1.0
    summary = realtime_ws._summary([served, busy])
    assert summary["sessions"] == 2 and summary["rejected"] == 1
    assert summary["errors"] == ["server_busy"]
