"""Transport-level behaviour of the SDK against ``httpx.MockTransport``: retries, errors, closing.

Speech, clones and voices against the real server are in ``test_client_e2e.py``; here the
server is scripted so that failure sequences (503 then 200, a dropped connection, ...) are exact.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest

import voxclone.client._base_client as base_client
from voxclone.client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
    VoxcloneError,
)

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry waits instead of sleeping."""
    waits: list[float] = []
    monkeypatch.setattr(base_client, "time", SimpleNamespace(sleep=waits.append))

    async def fake_async_sleep(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(base_client, "asyncio", SimpleNamespace(sleep=fake_async_sleep))
    return waits


def make_client(handler: Handler, **kwargs: object) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Client("oute_test", base_url="http://voxclone.test", http_client=http, **kwargs)  # type: ignore[arg-type]


def error(status: int, code: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        json={"code": code, "message": f"{code} happened"},
        headers={"x-request-id": f"req_{status}", **(headers or {})},
    )


class Script:
    """Answers in order; records every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


VOICES = {"data": {"voices": [{"voice_id": "af_heart", "name": "Heart", "type": "builtin"}]}}


def test_503_then_200_is_retried_honouring_retry_after(sleeps: list[float]) -> None:
    script = Script(error(503, "server_busy", headers={"Retry-After": "3"}), httpx.Response(200, json=VOICES))
    voices = make_client(script).voices.list()
    assert [v.voice_id for v in voices] == ["af_heart"]
    assert sleeps == [3.0]
    assert len(script.requests) == 2
    assert "x-voxclone-retry-count" not in script.requests[0].headers
    assert script.requests[1].headers["x-voxclone-retry-count"] == "1"


def test_backoff_without_retry_after_is_exponential_with_jitter(sleeps: list[float]) -> None:
    script = Script(error(500, "internal_error"), error(502, "bad_gateway"), error(503, "busy"))
    with pytest.raises(InternalServerError) as info:
        make_client(script).voices.list()
    assert info.value.status_code == 503
    assert len(script.requests) == 3  # one try + max_retries=2
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0


def test_retry_after_over_a_minute_falls_back_to_backoff(sleeps: list[float]) -> None:
    busy = error(429, "rate_limited", headers={"Retry-After": "3600"})
    script = Script(busy, httpx.Response(200, json=VOICES))
    make_client(script).voices.list()
    assert 0.375 <= sleeps[0] <= 0.5


def test_retry_after_http_date_and_ms(sleeps: list[float]) -> None:
    date = "Wed, 21 Oct 2099 07:28:00 GMT"  # far future → over 60 s → backoff
    script = Script(
        error(429, "rate_limited", headers={"retry-after-ms": "250"}),
        error(429, "rate_limited", headers={"Retry-After": date}),
        httpx.Response(200, json=VOICES),
    )
    make_client(script).voices.list()
    assert sleeps[0] == pytest.approx(0.25)
    assert 0.75 <= sleeps[1] <= 1.0


@pytest.mark.parametrize("status", [400, 401, 402, 404, 409, 413, 415, 422])
def test_client_errors_are_not_retried(status: int, sleeps: list[float]) -> None:
    script = Script(error(status, "nope"), httpx.Response(200, json=VOICES))
    with pytest.raises(APIStatusError):
        make_client(script).voices.list()
    assert len(script.requests) == 1 and sleeps == []


def test_server_can_veto_a_retry(sleeps: list[float]) -> None:
    script = Script(error(503, "busy", headers={"x-should-retry": "false"}), httpx.Response(200, json=VOICES))
    with pytest.raises(InternalServerError):
        make_client(script).voices.list()
    assert len(script.requests) == 1


def test_max_retries_zero_and_with_options(sleeps: list[float]) -> None:
    script = Script(error(503, "busy"), httpx.Response(200, json=VOICES))
    client = make_client(script, max_retries=0)
    with pytest.raises(InternalServerError):
        client.voices.list()
    assert len(client.with_options(max_retries=1).voices.list()) == 1
    assert client.max_retries == 0


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, InsufficientCreditsError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (415, UnsupportedMediaTypeError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
    ],
)
def test_each_status_maps_to_its_class(status: int, cls: type[APIStatusError], sleeps: list[float]) -> None:
    script = Script(*[error(status, "some_code")] * 3)
    with pytest.raises(cls) as info:
        make_client(script).account.retrieve()
    err = info.value
    assert type(err) is cls and isinstance(err, VoxcloneError)
    assert (err.status_code, err.code, err.message, err.request_id) == (
        status,
        "some_code",
        "some_code happened",
        f"req_{status}",
    )
    assert err.payload == {"code": "some_code", "message": "some_code happened"}
    assert f"status={status}" in str(err) and "code=some_code" in str(err)


def test_openai_error_shape_and_non_json_bodies() -> None:
    openai_shape = httpx.Response(404, json={"error": {"code": "voice_not_found", "message": "no voice"}})
    client = make_client(Script(openai_shape, httpx.Response(401, text="go away")))
    with pytest.raises(NotFoundError) as nf:
        client.voices.list()
    assert (nf.value.code, nf.value.message) == ("voice_not_found", "no voice")
    with pytest.raises(AuthenticationError) as auth:
        client.voices.list()
    assert (auth.value.code, auth.value.message, auth.value.body) == (None, "go away", "go away")


def test_connection_errors_are_retried_then_raised(sleeps: list[float]) -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(200, json=VOICES))
    assert len(make_client(script).voices.list()) == 1
    script = Script(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(APIConnectionError) as info:
        make_client(script).voices.list()
    assert not isinstance(info.value, APITimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError) and len(script.requests) == 3
    with pytest.raises(APITimeoutError):
        make_client(Script(*[httpx.ReadTimeout("slow")] * 3)).voices.list()


def test_retried_clone_upload_sends_identical_body_and_key(sleeps: list[float]) -> None:
    created = {"data": {"voice_id": "vc_" + "0" * 26, "name": "me", "created_at": "2026-03-28T14:22:10Z"}}
    script = Script(error(503, "busy", headers={"Retry-After": "0"}), httpx.Response(201, json=created))
    clone = make_client(script).voice_clones.create(audio=b"RIFF....WAVEfmt ", name="me")
    assert clone.voice_id == "vc_" + "0" * 26 and clone.name == "me"
    first, second = script.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.content == second.content
    assert b'filename="audio.wav"' in first.content and b'name="name"' in first.content
    # a new call gets a new key
    script2 = Script(httpx.Response(201, json=created))
    make_client(script2).voice_clones.create(audio=b"RIFF....WAVEfmt ", name="me")
    assert script2.requests[0].headers["idempotency-key"] != first.headers["idempotency-key"]


def test_api_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOXCLONE_API_KEY", raising=False)
    monkeypatch.delenv("VOXCLONE_BASE_URL", raising=False)
    with pytest.raises(VoxcloneError, match="VOXCLONE_API_KEY"):
        Client()
    monkeypatch.setenv("VOXCLONE_API_KEY", "oute_env")
    with Client() as client:
        assert str(client.base_url) == "http://127.0.0.1:8000/"
    monkeypatch.setenv("VOXCLONE_BASE_URL", "http://example.test:9000/prefix")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=VOICES)

    Client(http_client=httpx.Client(transport=httpx.MockTransport(handler))).voices.list()
    assert str(seen[0].url) == "http://example.test:9000/prefix/api/v1/voices"
    assert seen[0].headers["authorization"] == "Bearer oute_env"


# streaming ------------------------------------------------------------------------------------


class CountingStream(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        self.closed = True


def pcm_bytes(n: int) -> tuple[np.ndarray, bytes]:
    ints = (np.arange(n, dtype=np.int64) * 37 % 65536 - 32768).astype("<i2")
    return ints.astype(np.float32) / 32768.0, ints.tobytes()


def stream_client(chunks: list[bytes]) -> tuple[Client, list[httpx.Request], list[CountingStream]]:
    requests: list[httpx.Request] = []
    bodies: list[CountingStream] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        body = CountingStream(chunks)
        bodies.append(body)
        return httpx.Response(200, stream=body, headers={"content-type": "audio/pcm"})

    return make_client(handler), requests, bodies


def test_stream_request_on_enter_and_closed_on_exit() -> None:
    expected, raw = pcm_bytes(1001)
    odd = [raw[:3], raw[3:1000], raw[1000:1001], raw[1001:]]  # samples split across chunks
    client, requests, bodies = stream_client(odd)
    stream = client.speech.stream(text="hi", voice_id="af_heart", format="pcm")
    assert requests == [] and stream.is_closed
    with stream:
        assert len(requests) == 1
        body = json.loads(requests[0].content)
        assert body == {"text": "hi", "voice_id": "af_heart", "response_format": "pcm"}
        samples = np.concatenate(list(stream.iter_pcm()))
    np.testing.assert_array_equal(samples, expected)
    assert stream.is_closed and bodies[0].closed


def test_stream_closed_after_early_break_and_error() -> None:
    client, _, bodies = stream_client([b"ab", b"cd", b"ef"])
    with client.speech.stream(text="hi", voice_id="af_heart") as stream:
        for _chunk in stream.iter_bytes():
            break
    assert stream.is_closed and bodies[0].closed
    with pytest.raises(RuntimeError), client.speech.stream(text="hi", voice_id="af_heart") as stream:
        raise RuntimeError("consumer failed")
    assert stream.is_closed and bodies[1].closed
    with client.speech.stream(text="hi", voice_id="af_heart") as stream:
        assert stream.read() == b"abcdef"
        with pytest.raises(VoxcloneError, match="only once"):
            stream.read()


def test_stream_error_status_raises_on_enter(sleeps: list[float]) -> None:
    client = make_client(Script(error(402, "insufficient_credits")))
    with pytest.raises(InsufficientCreditsError), client.speech.stream(text="hi", voice_id="x"):
        pytest.fail("the block must not run")


def test_broken_stream_raises_connection_error() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"RIFF"
            raise httpx.RemoteProtocolError("peer closed connection")

    client = make_client(lambda request: httpx.Response(200, stream=Broken()))
    with client.speech.stream(text="hi", voice_id="af_heart") as stream, pytest.raises(APIConnectionError):
        stream.read()
    assert stream.is_closed


def test_outeai_helpers_validate_like_outeai() -> None:
    client = make_client(Script())
    with pytest.raises(VoxcloneError, match="`text` must be a non-empty string"):
        client.generate_speech(text="   ", voice_id="af_heart")
    with pytest.raises(VoxcloneError, match="`voice_id`"):
        client.stream_speech(text="Hello", voice_id="")


# async ----------------------------------------------------------------------------------------


def make_async_client(handler: Handler) -> AsyncClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncClient("oute_test", base_url="http://voxclone.test", http_client=http)


async def test_async_retry_and_error_mapping(sleeps: list[float]) -> None:
    script = Script(error(503, "busy", headers={"Retry-After": "2"}), httpx.Response(200, json=VOICES))
    client = make_async_client(script)
    assert [v.voice_id for v in await client.voices.list()] == ["af_heart"]
    assert sleeps == [2.0]
    client = make_async_client(Script(error(404, "voice_not_found")))
    with pytest.raises(NotFoundError) as info:
        await client.voice_clones.retrieve("vc_missing")
    assert info.value.request_id == "req_404"


async def test_async_stream_request_on_enter_and_closed_on_exit() -> None:
    expected, raw = pcm_bytes(300)
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=raw)

    client = make_async_client(handler)
    stream = client.speech.stream(text="hi", voice_id="af_heart", format="pcm")
    assert requests == []
    async with stream:
        assert len(requests) == 1
        chunks = [c async for c in stream.iter_pcm()]
    np.testing.assert_array_equal(np.concatenate(chunks), expected)
    assert stream.is_closed


def _streamed_wav(samples: bytes, *, extra_chunk: bool = False) -> bytes:
    """A live-stream WAV header (sizes 0xFFFFFFFF), optionally with a LIST chunk before ``data``."""
    import struct

    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 24000, 48000, 2, 16)
    listing = b"LIST" + struct.pack("<I", 10) + b"INFOISFT\0\0" if extra_chunk else b""
    return b"RIFF\xff\xff\xff\xffWAVE" + fmt + listing + b"data\xff\xff\xff\xff" + samples


@pytest.mark.parametrize("extra_chunk", [False, True])
async def test_saved_wav_stream_gets_its_real_sizes(tmp_path: Path, extra_chunk: bool) -> None:
    """The wire keeps 0xFFFFFFFF (length unknown); ``save()`` writes a file every reader measures right."""
    import wave

    _, raw = pcm_bytes(24001)
    body = _streamed_wav(raw, extra_chunk=extra_chunk)
    parts = [body[:7], body[7:50], body[50:4097], body[4097:]]  # the header split across chunks
    client, _, _ = stream_client(parts)
    with client.speech.stream(text="hi", voice_id="af_heart") as stream:
        path = stream.save(tmp_path / "s.wav")
    with wave.open(str(path)) as w:
        assert w.getnframes() == 24001  # was 2,147,483,647
        assert w.readframes(10**6) == raw
    assert int.from_bytes(path.read_bytes()[4:8], "little") == path.stat().st_size - 8

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"".join(parts), headers={"content-type": "audio/wav"})

    async_client = AsyncClient(
        "oute_test",
        base_url="http://voxclone.test",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    async with async_client, async_client.speech.stream(text="hi", voice_id="af_heart") as astream:
        apath = await astream.save(tmp_path / "a.wav")
    assert apath.read_bytes() == path.read_bytes()


def test_saving_other_formats_writes_the_bytes_unchanged(tmp_path: Path) -> None:
    body = b"\xff\xfb\x90\x00" + bytes(range(256)) * 8  # MP3 frames: nothing to patch
    client, _, _ = stream_client([body[:5], body[5:]])
    with client.speech.stream(text="hi", voice_id="af_heart", format="mp3") as stream:
        path = stream.save(tmp_path / "s.mp3")
    assert path.read_bytes() == body
