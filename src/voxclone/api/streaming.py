"""Turn a prepared :class:`~voxclone.service.speech.SpeechJob` into an HTTP response."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from fastapi.responses import StreamingResponse

from voxclone.service.container import Services
from voxclone.service.speech import SpeechJob


async def _chain(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    try:
        yield first
        async for data in rest:
            yield data
    finally:
        await rest.aclose()


async def stream_job(services: Services, job: SpeechJob, *, headers: dict[str, str]) -> StreamingResponse:
    """Start synthesis and answer once the first bytes exist, so early errors keep their 4xx/5xx.

    Synthesis stops when the client goes away (the generator is closed between chunks) and the
    audio delivered until then is charged.
    """
    chunks = services.speech.stream(job)
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""
    except BaseException:
        await chunks.aclose()
        raise
    return StreamingResponse(_chain(first, chunks), media_type=job.content_type, headers=headers)
