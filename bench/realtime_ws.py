"""Real-time WebSocket benchmark: an LLM-like text feed against a live server (real engine).

Starts ``voxclone serve`` as a subprocess on a free loopback port with a fresh data folder and a
funded key, then opens ``GET /api/v1/tts_websocket`` sessions fed like a voice agent's LLM:

* **trickle**: one word every ``--interval`` seconds (default 0.05, faster than speech), then
  ``end``;
* **burst**: the whole paragraph in one message, then ``end``;

first one session alone (idle server), then ``--sessions`` at once (default 4). For each session:

* ``first_audio_s``: time from sending the end of the first sentence (its last word, or the burst)
  to the first audio message (negative when a clause boundary let audio start before the sentence
  ended). Target ≤ 0.5 s on an idle 2-core machine;
* ``stall_s``: once audio started, the time a player playing chunks as they arrive in real time
  would wait for audio (target 0 when text arrives faster than speech);
* audio seconds, wall seconds, errors.

As a baseline taken at the same time (the box's load moves every number), ``baseline`` holds the
time to first byte of ``POST /api/v1/tts_stream`` for each paragraph's first sentence alone: what
the engine needs to start speaking it, without the WebSocket.

Writes ``bench/results/realtime_ws.json`` with the CPU model and flags (``lscpu``)::

    python bench/realtime_ws.py --sessions 4 --paragraphs 2

``bench/realtime.py`` runs the same rounds (:func:`run_feed`) as the ``feed`` section of its report,
next to the word-timestamp accuracy; this script runs them alone.

Only loopback traffic; every session is bounded by ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _loadlib import cpu_info
from _loadlib import free_port as _free_port
from _loadlib import start_server as _start_server

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPHS = [
    "Sure, I can help with that. Your order shipped this morning and should arrive on Thursday. "
    "If you are not home, the driver will leave it with a neighbour or at the nearest pickup point.",
    "The museum opens at nine and closes at six. Tickets are cheaper online, and children under "
    "twelve get in for free. I would start with the modern art wing, since it gets crowded after lunch.",
    "Let me check the weather for you. Tomorrow looks mostly sunny with a high of twenty two degrees. "
    "There is a small chance of rain in the evening, so you might want to bring a light jacket.",
]
SR = 24000


def _first_sentence_words(paragraph: str) -> int:
    """How many words the first sentence has (its end is the word ending with . ! or ?)."""
    for i, word in enumerate(paragraph.split()):
        if word.endswith((".", "!", "?")):
            return i + 1
    return len(paragraph.split())


async def _session(
    url: str, key: str, voice: str, paragraph: str, mode: str, interval: float
) -> dict[str, Any]:
    """One session; returns its measurements. A session the server turns away (closed with a code,
    or refused at the upgrade) has the reason in ``errors`` and no audio."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    arrivals: list[tuple[float, float]] = []  # (arrival time, seconds of audio)
    errors: list[str] = []
    sentence_end_at: float | None = None
    done: dict[str, Any] = {}
    start = time.monotonic()

    def closed(exc: Exception) -> None:
        reason = _refusal(exc)
        if reason not in errors:  # the server may have said it in an error message first
            errors.append(reason)

    try:
        async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}, max_size=2**26) as ws:
            await ws.send(json.dumps({"type": "start", "voice_id": voice}))

            async def feed() -> None:
                nonlocal sentence_end_at
                try:
                    if mode == "burst":
                        sentence_end_at = time.monotonic()
                        await ws.send(json.dumps({"type": "text", "text": paragraph}))
                    else:
                        words = paragraph.split()
                        first_end = _first_sentence_words(paragraph)
                        for i, word in enumerate(words):
                            await ws.send(json.dumps({"type": "text", "text": (" " if i else "") + word}))
                            if i + 1 == first_end:
                                sentence_end_at = time.monotonic()
                            await asyncio.sleep(interval)
                    await ws.send(json.dumps({"type": "end"}))
                except ConnectionClosed:
                    return  # the receiving side records why

            sender = asyncio.ensure_future(feed())
            try:
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "audio":
                        seconds = len(base64.b64decode(message["audio"])) / 2 / SR
                        arrivals.append((time.monotonic(), seconds))
                    elif message["type"] == "error":
                        errors.append(str(message.get("code")))
                    elif message["type"] == "done":
                        done = message
            except ConnectionClosed as exc:  # closed with an error code (1013 server_busy …)
                closed(exc)
            finally:
                await sender
    except (ConnectionClosed, InvalidStatus) as exc:  # turned away before or at the upgrade
        closed(exc)
    first = arrivals[0][0] if arrivals else None
    stall = 0.0
    playhead = first or 0.0  # when the audio received so far will have finished playing
    for arrival, seconds in arrivals:
        if arrival > playhead:
            stall += arrival - playhead
            playhead = arrival
        playhead += seconds
    return {
        "mode": mode,
        "first_audio_s": round(first - sentence_end_at, 3) if first and sentence_end_at else None,
        "stall_s": round(stall, 3),
        "audio_s": round(sum(s for _, s in arrivals), 3),
        "chunks": len(arrivals),
        "wall_s": round(time.monotonic() - start, 3),
        "credits_charged": done.get("credits_charged"),
        "errors": errors,
    }


def _refusal(exc: Exception) -> str:
    """Why a connection ended: the close reason (``server_busy``), ``close_<code>`` or ``http_<status>``."""
    received = getattr(exc, "rcvd", None)
    if received is not None:
        return str(received.reason or f"close_{received.code}")
    response = getattr(exc, "response", None)
    if response is not None:
        return f"http_{response.status_code}"
    return type(exc).__name__


async def _round(
    url: str,
    key: str,
    voices: list[str],
    mode: str,
    sessions: int,
    paragraphs: int,
    interval: float,
    timeout: float,
) -> list[dict[str, Any]]:
    results = []
    for p in range(paragraphs):
        jobs = [
            _session(
                url, key, voices[(p + i) % len(voices)], PARAGRAPHS[(p + i) % len(PARAGRAPHS)], mode, interval
            )
            for i in range(sessions)
        ]
        results += await asyncio.wait_for(asyncio.gather(*jobs), timeout=timeout)
    return results


def _http_first_audio(base: str, key: str, voice: str, text: str) -> float:
    """Seconds to the first audio byte of ``tts_stream`` for ``text`` (PCM)."""
    import httpx

    body = {"text": text, "voice_id": voice, "response_format": "pcm"}
    start = time.monotonic()
    with httpx.stream(
        "POST",
        f"{base}/api/v1/tts_stream",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    ) as r:
        for chunk in r.iter_bytes():
            if chunk:
                return round(time.monotonic() - start, 3)
    return float("nan")


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    first = [r["first_audio_s"] for r in rows if r["first_audio_s"] is not None]
    stall = [r["stall_s"] for r in rows if r["chunks"]]  # sessions turned away never played
    return {
        "sessions": len(rows),
        "rejected": sum(1 for r in rows if not r["chunks"] and r["errors"]),
        "first_audio_s_median": round(statistics.median(first), 3) if first else None,
        "first_audio_s_max": max(first) if first else None,
        "stall_s_median": round(statistics.median(stall), 3) if stall else None,
        "stall_s_max": max(stall) if stall else None,
        "errors": sorted({e for r in rows for e in r["errors"]}),
    }


def run_feed(
    *,
    sessions: int = 4,
    paragraphs: int = 3,
    interval: float = 0.05,
    workers: int | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Start a server, run the trickle and burst rounds (1 session, then ``sessions`` at once) and
    return the report (``arguments``, ``targets``, ``machine``, ``results``); writes nothing.
    ``bench/realtime.py`` runs this as its ``feed`` section."""
    paragraphs = max(1, min(paragraphs, len(PARAGRAPHS)))
    load_before = os.getloadavg()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}/api/v1/tts_websocket"
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="voxclone-bench-") as tmp:
        proc, key = _start_server(Path(tmp), port, workers)
        try:
            import httpx

            listed = httpx.get(f"{base}/api/v1/voices", headers={"Authorization": f"Bearer {key}"}).json()
            voices = [
                v["voice_id"] for v in listed["data"]["voices"] if v.get("language", "").startswith("en")
            ]
            voices = voices or [listed["data"]["voices"][0]["voice_id"]]
            # warm-up: the first synthesis loads lazy parts of the engine
            asyncio.run(_session(url, key, voices[0], "Warming up.", "burst", 0.0))
            report["baseline"] = {
                "http_stream_first_audio_s_first_sentence": [
                    _http_first_audio(
                        base,
                        key,
                        voices[p % len(voices)],
                        " ".join(text.split()[: _first_sentence_words(text)]),
                    )
                    for p, text in enumerate(PARAGRAPHS[:paragraphs])
                ]
            }
            print("baseline", json.dumps(report["baseline"]), file=sys.stderr)
            for mode in ("trickle", "burst"):
                for label, n in (("idle", 1), (f"{sessions}_sessions", sessions)):
                    rows = asyncio.run(_round(url, key, voices, mode, n, paragraphs, interval, timeout))
                    report[f"{mode}_{label}"] = {"summary": _summary(rows), "sessions": rows}
                    print(mode, label, json.dumps(report[f"{mode}_{label}"]["summary"]), file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return {
        "arguments": {
            "sessions": sessions,
            "paragraphs": paragraphs,
            "interval_s": interval,
            "workers": workers,
        },
        "targets": {"first_audio_s_idle": 0.5, "stall_s": 0.0},
        "machine": {
            **cpu_info(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in load_before],
        },
        "results": report,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4, help="sessions at once in the loaded round")
    parser.add_argument("--paragraphs", type=int, default=3, help="paragraphs per round (1–3)")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between words (trickle)")
    parser.add_argument("--workers", type=int, default=None, help="server synthesis workers (default auto)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a round may take")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "realtime_ws.json")
    args = parser.parse_args(argv)
    feed = run_feed(
        sessions=args.sessions,
        paragraphs=args.paragraphs,
        interval=args.interval,
        workers=args.workers,
        timeout=args.timeout,
    )
    result = {"benchmark": "realtime_ws", **feed}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
