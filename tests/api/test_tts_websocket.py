"""``GET /api/v1/tts_websocket`` over real sockets (uvicorn in a thread), on both databases.

The toy engine speaks 0.1 s of a sine tone per word (one chunk per word), whose pitch is the
voice's, so audio from another session is easy to spot and audio length counts words.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from voxclone.engines.base import text_words
from voxclone.service.holds import CreditHolds
from voxclone.service.scheduling import Kind
from voxclone.store import repositories as repo
from voxclone.store.db import Database

SR = 24000
WORD_SAMPLES = 2400  # the toy engine: 0.1 s per word at speed 1
TEXT = "Hello there, my friend. This is a test of the real-time voice, spoken as it arrives."


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/api/v1/tts_websocket"


@dataclass
class Session:
    """What a client saw: server messages in order, then how the connection was closed."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def pcm(self) -> bytes:
        return b"".join(base64.b64decode(m["audio"]) for m in self.of("audio"))

    @property
    def errors(self) -> list[str]:
        return [m["code"] for m in self.of("error")]


def read_all(ws: ClientConnection, seen: Session | None = None) -> Session:
    """Read server messages until the server closes the connection."""
    seen = seen or Session()
    try:
        while True:
            raw = ws.recv(timeout=30)
            seen.messages.append(json.loads(raw))
    except ConnectionClosed:
        pass
    seen.close_code = ws.close_code
    seen.close_reason = ws.close_reason or ""
    return seen


def converse(url: str, headers: dict[str, str] | None, frames: list[Any], *, read: bool = True) -> Session:
    """Send ``frames`` (dicts as JSON, str/bytes as they are) and read everything back."""
    with connect(ws_url(url), additional_headers=headers or {}, open_timeout=30) as ws:
        for frame in frames:
            try:
                ws.send(json.dumps(frame) if isinstance(frame, dict) else frame)
            except ConnectionClosed:  # the server already answered and closed (e.g. a bad key)
                break
        return read_all(ws) if read else Session()


def recv_until(ws: ClientConnection, seen: Session, kind: str) -> dict[str, Any]:
    """Read messages (recording them) until one of type ``kind``."""
    while True:
        message = json.loads(ws.recv(timeout=30))
        seen.messages.append(message)
        if message["type"] == kind:
            return message


def start(voice: str = "fa_low", **extra: Any) -> dict[str, Any]:
    return {"type": "start", "voice_id": voice, **extra}


def speech_ledger(db: Database, account_id: str) -> tuple[int, int]:
    """(micro-credits charged, audio ms) of the account's speech ledger rows."""
    with db.sessions() as session:
        rows = [e for e in repo.ledger_entries(session, account_id=account_id) if e.kind == "speech"]
    return -sum(e.amount_micro for e in rows), sum(e.audio_ms or 0 for e in rows)


def held(db: Database, account_id: str) -> int:
    with db.sessions() as session:
        return repo.balance_and_held(session, account_id=account_id)[1]


def wait_for(condition: Callable[[], bool], *, what: str, limit_s: float = 20) -> None:
    """Poll until ``condition`` holds (a bound on a hang, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


def dominant_hz(pcm: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float32)))
    return float(np.fft.rfftfreq(pcm.size, 1 / SR)[int(np.argmax(spectrum))])


# ---------------------------------------------------------------------------------- speaking


def test_text_in_pieces_is_spoken_while_it_arrives_and_charged(make_live: Any) -> None:
    live = make_live()
    account_id, headers = live.new_account("10")
    seen = Session()
    with connect(ws_url(live.urls[0]), additional_headers=headers, open_timeout=30) as ws:
        ws.send(json.dumps(start()))
        first, _, rest = TEXT.partition(". ")
        for token in (first + ". ").split(" "):
            ws.send(json.dumps({"type": "text", "text": token + " "}))
        recv_until(ws, seen, "audio")  # the first sentence speaks before the rest is even sent
        for token in rest.split(" "):
            ws.send(json.dumps({"type": "text", "text": token + " "}))
        ws.send(json.dumps({"type": "end"}))
        read_all(ws, seen)
    assert seen.errors == []
    assert seen.close_code == 1000
    done = seen.messages[-1]
    assert done["type"] == "done"
    assert len(seen.pcm) == 2 * WORD_SAMPLES * len(text_words(TEXT))
    assert done["audio_seconds"] == pytest.approx(0.1 * len(text_words(TEXT)))
    charged, audio_ms = speech_ledger(live.services[0].db, account_id)
    assert audio_ms == round(done["audio_seconds"] * 1000)
    assert charged == live.services[0].holds.cost(audio_ms)
    assert done["credits_charged"] == f"{charged / 1e6:.6f}"
    assert held(live.services[0].db, account_id) == 0


def test_one_piece_is_the_same_audio_as_the_http_route(make_live: Any) -> None:
    live = make_live()
    _, headers = live.new_account("10")
    seen = converse(
        live.urls[0], headers, [start("fa_high"), {"type": "text", "text": TEXT}, {"type": "end"}]
    )
    r = httpx.post(
        f"{live.urls[0]}/api/v1/tts_non_stream",
        json={"text": TEXT, "voice_id": "fa_high", "response_format": "pcm"},
        headers=headers,
        timeout=30,
    )
    assert r.status_code == 200
    assert seen.pcm == r.content


def test_words_cover_the_text_in_order_from_the_session_start(make_live: Any) -> None:
    live = make_live()
    _, headers = live.new_account("10")
    pieces = ["Hello there, ", "my friend. ", "It costs $42", " today!"]
    frames: list[Any] = [start(timestamps=True)]
    frames += [{"type": "text", "text": p} for p in pieces]
    frames.append({"type": "end"})
    seen = converse(live.urls[0], headers, frames)
    words = [w for m in seen.of("audio") for w in m["words"]]
    assert [w["word"] for w in words] == text_words("".join(pieces))
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and starts[0] == 0.0
    assert words[-1]["end"] == pytest.approx(len(seen.pcm) / 2 / SR, abs=1e-3)
    untimed = converse(live.urls[0], headers, [start(), *frames[1:]])
    assert untimed.of("audio") and all("words" not in m for m in untimed.of("audio"))


def test_flush_speaks_buffered_text_without_punctuation(make_live: Any) -> None:
    live = make_live()
    _, headers = live.new_account("10")
    seen = Session()
    with connect(ws_url(live.urls[0]), additional_headers=headers, open_timeout=30) as ws:
        ws.send(json.dumps(start()))
        ws.send(json.dumps({"type": "text", "text": "... "}))
        ws.send(json.dumps({"type": "flush"}))  # punctuation alone: nothing to say, no error
        ws.send(json.dumps({"type": "text", "text": "three words here"}))
        ws.send(json.dumps({"type": "flush"}))
        recv_until(ws, seen, "audio")
        ws.send(json.dumps({"type": "end"}))
        read_all(ws, seen)
    assert len(seen.pcm) == 2 * WORD_SAMPLES * 3
    assert seen.errors == [] and seen.messages[-1]["type"] == "done"


# ---------------------------------------------------------------------------------- protocol


def test_protocol_errors_are_messages_and_the_session_goes_on(make_live: Any) -> None:
    live = make_live()
    _, headers = live.new_account("10")
    frames: list[Any] = [
        "{not json",
        "[1, 2]",
        b"\x00\x01binary",
        {"type": "text", "text": "too early"},
        {"type": "flush"},
        {"type": "dance"},
        {"no_type": 1},
        start("no_such_voice"),
        start(speed=9),
        start(language="tlh"),
        start(timestamps="yes"),
        start(),
        start(),
        {"type": "text", "text": 42},
        {"type": "text", "text": "Still here."},
        {"type": "end"},
        {"type": "text", "text": "too late"},
    ]
    seen = converse(live.urls[0], headers, frames)
    assert seen.errors == [
        "invalid_json",
        "invalid_json",
        "invalid_json",
        "not_started",
        "not_started",
        "unknown_message_type",
        "unknown_message_type",
        "voice_not_found",
        "invalid_speed",
        "unsupported_language",
        "invalid_message",
        "already_started",
        "invalid_message",
        "session_ended",
    ]
    assert len(seen.pcm) == 2 * WORD_SAMPLES * 2
    assert seen.messages[-1]["type"] == "done" and seen.close_code == 1000
    assert all(set(m) >= {"code", "message"} for m in seen.of("error"))


def test_text_beyond_the_buffer_limit_is_refused_and_the_rest_spoken(make_live: Any) -> None:
    live = make_live(max_text_chars=40)
    _, headers = live.new_account("10")
    frames = [
        start(),
        {"type": "text", "text": "word " * 20},  # 100 characters waiting: refused whole
        {"type": "text", "text": "Two words."},
        {"type": "end"},
    ]
    seen = converse(live.urls[0], headers, frames)
    assert seen.errors == ["text_buffer_full"]
    assert len(seen.pcm) == 2 * WORD_SAMPLES * 2


def test_plain_http_gets_a_hint_not_a_bare_404(make_live: Any) -> None:
    live = make_live()
    r = httpx.get(f"{live.urls[0]}/api/v1/tts_websocket", timeout=30)
    assert r.status_code == 426 and r.json()["code"] == "websocket_required"


# ---------------------------------------------------------------------------------- auth


def test_a_bad_key_gets_invalid_api_key_then_a_close(make_live: Any) -> None:
    live = make_live()
    bad = converse(live.urls[0], {"Authorization": "Bearer oute_nope"}, [start()])
    assert bad.errors == ["invalid_api_key"] and bad.close_code == 1008 and not bad.of("audio")
    in_message = converse(live.urls[0], None, [{**start(), "api_key": "oute_nope"}])
    assert in_message.errors == ["invalid_api_key"] and in_message.close_code == 1008
    missing = converse(live.urls[0], None, [start()])
    assert missing.errors == ["missing_api_key"] and missing.close_code == 1008


def test_the_key_may_come_in_the_first_message(make_live: Any) -> None:
    live = make_live()
    account_id, headers = live.new_account("10")
    key = headers["Authorization"].split()[1]
    frames = [{**start(), "api_key": key}, {"type": "text", "text": "Browser speaking."}, {"type": "end"}]
    seen = converse(live.urls[0], None, frames)
    assert seen.errors == [] and len(seen.pcm) == 2 * WORD_SAMPLES * 2
    only_key = converse(live.urls[0], None, [{"api_key": key}, start(), *frames[1:]])
    assert only_key.errors == [] and only_key.messages[-1]["type"] == "done"
    assert speech_ledger(live.services[0].db, account_id)[1] == 400


# ---------------------------------------------------------------------------------- lifecycle


def test_an_idle_session_holds_no_worker_and_is_closed(make_live: Any) -> None:
    live = make_live(ws_idle_timeout_s=1.0)
    account_id, headers = live.new_account("10")
    seen = Session()
    with connect(ws_url(live.urls[0]), additional_headers=headers, open_timeout=30) as ws:
        ws.send(json.dumps(start()))
        ws.send(json.dumps({"type": "text", "text": "Speak and wait."}))
        recv_until(ws, seen, "audio")
        wait_for(lambda: live.services[0].pool.in_flight == 0, what="the worker freed while idle")
        read_all(ws, seen)
    assert seen.errors == ["idle_timeout"]
    assert seen.close_code == 1008 and seen.close_reason == "idle_timeout"
    assert len(seen.pcm) == 2 * WORD_SAMPLES * 3
    assert speech_ledger(live.services[0].db, account_id)[1] == 300
    assert held(live.services[0].db, account_id) == 0


def test_a_disconnect_stops_synthesis_and_bills_delivered_audio_only(make_live: Any) -> None:
    live = make_live(delay_s=0.05)
    account_id, headers = live.new_account("10")
    services, engine = live.services[0], live.engines[0]
    seen = Session()
    long_text = "word " * 200 + "end."
    with connect(ws_url(live.urls[0]), additional_headers=headers, open_timeout=30) as ws:
        ws.send(json.dumps(start()))
        ws.send(json.dumps({"type": "text", "text": long_text}))
        ws.send(json.dumps({"type": "end"}))
        for _ in range(3):
            recv_until(ws, seen, "audio")
    # the client closed after three chunks: synthesis stops and the hold is settled
    wait_for(lambda: held(services.db, account_id) == 0, what="the hold settled")
    wait_for(lambda: engine.closed_early == 1, what="the engine stopped early")
    charged, audio_ms = speech_ledger(services.db, account_id)
    received_ms = len(seen.pcm) // 2 * 1000 // SR
    assert received_ms <= audio_ms < 201 * 100
    assert charged == services.holds.cost(audio_ms)
    assert engine.chunks_made < 201
    assert services.pool.in_flight == 0


def test_credits_running_out_close_the_session_without_overdraw(make_live: Any) -> None:
    live = make_live()
    services = live.services[0]
    account_id, headers = live.new_account("0.0015")  # 1.5 s of audio: 15 toy words
    frames = [start(), {"type": "text", "text": "word " * 40 + "end."}, {"type": "end"}]
    seen = converse(live.urls[0], headers, frames)
    assert seen.errors == ["insufficient_credits"] and seen.close_code == 1008
    assert len(seen.pcm) == 2 * WORD_SAMPLES * 15
    charged, audio_ms = speech_ledger(services.db, account_id)
    assert (charged, audio_ms) == (1500, 1500)
    with services.db.sessions() as session:
        assert repo.balance_micro(session, account_id=account_id) == 0
    broke_id, broke = live.new_account("0")
    refused = converse(live.urls[0], broke, [start(), {"type": "text", "text": "hi."}, {"type": "end"}])
    assert refused.errors == ["insufficient_credits"] and not refused.of("audio")
    assert speech_ledger(services.db, broke_id) == (0, 0)


def test_sessions_at_once_never_mix_their_audio(make_live: Any) -> None:
    live = make_live(delay_s=0.01)
    _, headers = live.new_account("100")
    results: dict[int, Session] = {}
    voices = ["fa_low", "fa_high", "fa_low", "fa_high"]

    def one(i: int) -> None:
        text = f"Session {i} speaks " + "word " * (10 + i) + "now."
        results[i] = converse(
            live.urls[0], headers, [start(voices[i]), {"type": "text", "text": text}, {"type": "end"}]
        )

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(voices))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i, voice in enumerate(voices):
        seen = results[i]
        assert seen.errors == [] and seen.messages[-1]["type"] == "done"
        pcm = np.frombuffer(seen.pcm, "<i2")
        assert pcm.size == WORD_SAMPLES * (14 + i)
        expected = 220.0 if voice == "fa_low" else 440.0
        for chunk in pcm.reshape(-1, WORD_SAMPLES):
            assert dominant_hz(chunk) == pytest.approx(expected, abs=10)


def test_hold_is_one_per_session_and_released(make_live: Any) -> None:
    live = make_live()
    account_id, headers = live.new_account("10")
    holds: CreditHolds = live.services[0].holds
    with connect(ws_url(live.urls[0]), additional_headers=headers, open_timeout=30) as ws:
        ws.send(json.dumps(start()))
        ws.send(json.dumps({"type": "text", "text": "One two."}))
        seen = Session()
        recv_until(ws, seen, "audio")
        assert held(live.services[0].db, account_id) >= holds.cost(1000)
        ws.send(json.dumps({"type": "end"}))
        read_all(ws, seen)
    assert held(live.services[0].db, account_id) == 0


def test_a_session_beyond_the_measured_capacity_is_told_to_retry(make_live: Any) -> None:
    live = make_live(synthesis_workers=1, queue_size=8)
    pool = live.services[0].pool
    pool.throughput.record(audio_s=1.0, wall_s=100.0)  # measured: far slower than real time
    playing = pool.reserve(kind=Kind.STREAM)
    _, headers = live.new_account()
    url = live.urls[0]
    refused = converse(url, headers, [start(), {"type": "text", "text": "Hello there."}, {"type": "end"}])
    assert refused.errors == ["server_busy"] and refused.close_code == 1013
    playing.release()
    wait_for(lambda: pool.in_flight == 0, what="the refused session's place to be free")
    served = converse(url, headers, [start(), {"type": "text", "text": "Hello there."}, {"type": "end"}])
    assert served.errors == [] and served.of("done") and served.pcm
    wait_for(lambda: (pool.streams, pool.in_flight) == (0, 0), what="the session to leave the pool")
