"""Make a :class:`~voxclone.service.speech.SpeechJob` and turn it into an HTTP response.

From :func:`prepare_job` on, these helpers own the job: whatever happens (success, error, client
gone before or after the headers, cancellation, even while the job is being made) its worker slot
and its credit hold are released, and only audio that was sent is charged.

A client that disconnects while nothing has been sent yet is noticed by racing the work against the
ASGI ``receive()`` (the request body has been read by then, so the next message is
``http.disconnect``): the work is cancelled at the next chunk boundary, the worker is freed and
nothing is charged; the answer, which nobody will read, is a bodiless 499.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from voxclone.service.accounts import AccountRef
from voxclone.service.container import Services
from voxclone.service.speech import SpeechJob, SpeechRequest, SpeechService

T = TypeVar("T")
CLIENT_GONE = 499  # nginx's "client closed request": only ever seen in access logs
_MAX_OTHER_MESSAGES = 64  # a server that keeps answering receive() with non-disconnect messages


class _Gone(Exception):
    """The client disconnected before the work finished (the work was cancelled)."""


async def _disconnected(receive: Receive) -> bool:
    """Wait for ``http.disconnect`` (True); False if the server sends other messages instead."""
    for _ in range(_MAX_OTHER_MESSAGES):
        if (await receive())["type"] == "http.disconnect":
            return True
    return False


async def _unless_disconnected(work: Awaitable[T], receive: Receive) -> T:
    """Await ``work``; if the client disconnects first, cancel it, wait for it and raise ``_Gone``."""
    task: asyncio.Future[T] = asyncio.ensure_future(work)
    watch: asyncio.Future[bool] = asyncio.ensure_future(_disconnected(receive))
    try:
        racing: set[asyncio.Future[Any]] = {task, watch}
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        if not task.done() and not watch.cancelled() and watch.exception() is None and watch.result():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise _Gone
        return await task
    finally:
        task.cancel()
        watch.cancel()
        await asyncio.gather(task, watch, return_exceptions=True)


async def prepare_job(
    services: Services,
    *,
    account: AccountRef,
    request: SpeechRequest,
    timestamps: bool = False,
    live: bool = False,
) -> SpeechJob:
    """:meth:`SpeechService.prepare` on a worker thread (it reads the database).

    A request cancelled meanwhile (server shutdown, a cancelling middleware) stops waiting at once,
    but the thread runs on and makes the job: whichever side comes second closes it, so its slot
    and credit hold are never lost.
    """
    speech = services.speech
    lock = threading.Lock()
    made: list[SpeechJob] = []
    gone = threading.Event()

    def prepare() -> SpeechJob:
        job = speech.prepare(account=account, request=request, timestamps=timestamps, live=live)
        with lock:
            if not gone.is_set():
                made.append(job)
                return job
        speech.discard(job)  # the request was cancelled while this thread made its job
        return job

    try:
        return await run_in_threadpool(prepare)
    except BaseException:
        with lock:
            gone.set()
            jobs = list(made)  # made, but cancelled before it was handed over
        for job in jobs:
            await speech.close(job)  # the slot first; the settle is shielded
        raise


async def _render_or_close(
    speech: SpeechService, job: SpeechJob, work: Awaitable[T], receive: Receive
) -> T | None:
    """``work``'s result (a whole render of ``job``), or ``None`` when the client left first; the
    job is closed then, and when the render fails."""
    try:
        return await _unless_disconnected(work, receive)
    except _Gone:
        await speech.close(job)
        return None
    except BaseException:
        await speech.close(job)
        raise


class _FileResponse(Response):
    """A whole file, charged once it has been handed to the connection."""

    def __init__(
        self,
        content: bytes,
        *,
        job: SpeechJob,
        speech: SpeechService,
        headers: dict[str, str],
        media_type: str | None = None,
    ):
        super().__init__(content, media_type=media_type or job.content_type, headers=headers)
        self._job = job
        self._speech = speech

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except BaseException:
            await self._speech.close(self._job)  # not delivered: nothing charged
            raise
        self._job.delivered_samples = self._job.rendered_samples
        await self._speech.settle(self._job)


async def render_job(services: Services, job: SpeechJob, *, receive: Receive) -> Response:
    """Render the whole file unless the client leaves first, and answer with it (exact sizes).

    The file is charged once it has been sent; a client that left before gets a 499 nobody reads
    and pays nothing.
    """
    speech = services.speech
    data = await _render_or_close(speech, job, speech.render_file(job), receive)
    if data is None:
        return Response(status_code=CLIENT_GONE)
    seconds = job.rendered_samples / job.sample_rate
    return _FileResponse(data, job=job, speech=speech, headers={"x-audio-seconds": f"{seconds:.3f}"})


async def render_timed_job(services: Services, job: SpeechJob, *, receive: Receive) -> Response:
    """:func:`render_job` for ``tts_with_timestamps``: a JSON body with the base64 audio and the
    words, charged once sent (a client that left before pays nothing)."""
    import base64
    import json

    speech = services.speech
    rendered = await _render_or_close(speech, job, speech.render_file_timed(job), receive)
    if rendered is None:
        return Response(status_code=CLIENT_GONE)
    data, words = rendered
    body = {
        "data": {
            "audio": base64.b64encode(data).decode("ascii"),
            "sample_rate": job.sample_rate,
            "words": [{"word": w.word, "start": w.start, "end": w.end} for w in words],
        }
    }
    seconds = job.rendered_samples / job.sample_rate
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return _FileResponse(
        content,
        job=job,
        speech=speech,
        headers={"x-audio-seconds": f"{seconds:.3f}"},
        media_type="application/json",
    )


class _JobStreamingResponse(StreamingResponse):
    """Streams ``layers[0]``; afterwards, however it ended (even if it never started), closes every
    generator layer, outermost first, and settles the job."""

    def __init__(
        self,
        layers: list[AsyncGenerator[Any, None]],
        *,
        job: SpeechJob,
        speech: SpeechService,
        media_type: str,
        headers: dict[str, str],
    ):
        super().__init__(layers[0], media_type=media_type, headers=headers)
        self._layers = layers
        self._job = job
        self._speech = speech

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            for layer in self._layers:
                await layer.aclose()
            await self._speech.close(self._job)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    yield first
    async for data in rest:
        yield data


async def stream_job(
    services: Services,
    job: SpeechJob,
    *,
    receive: Receive,
    headers: dict[str, str],
    media_type: str | None = None,
    wrap: Callable[[AsyncIterator[bytes]], AsyncGenerator[Any, None]] | None = None,
) -> Response:
    """Start synthesis and answer once the first bytes exist, so early errors keep their 4xx/5xx.

    Synthesis stops when the client goes away (at the next chunk) and the audio delivered until
    then is charged; a client gone before the first bytes pays nothing. ``wrap`` re-frames the
    audio bytes (server-sent events).
    """
    speech = services.speech
    chunks = speech.stream(job)
    try:
        first = await _unless_disconnected(anext(chunks), receive)
    except StopAsyncIteration:
        first = b""
    except _Gone:
        await chunks.aclose()
        await speech.close(job)
        return Response(status_code=CLIENT_GONE)
    except BaseException:
        await chunks.aclose()
        await speech.close(job)
        raise
    body = _chain(first, chunks)
    layers = [wrap(body), body, chunks] if wrap is not None else [body, chunks]
    return _JobStreamingResponse(
        layers,
        job=job,
        speech=speech,
        media_type=media_type or job.content_type,
        headers=headers,
    )
