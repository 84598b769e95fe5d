"""Streamed speech: context managers that make the request on enter and always close on exit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from types import TracebackType

import httpx
import numpy as np

from voxclone.client._constants import DEFAULT_CHUNK_SIZE, SAMPLE_RATE
from voxclone.client._exceptions import APIConnectionError, APITimeoutError, VoxcloneError
from voxclone.client._pcm import PcmDecoder
from voxclone.client._wavfile import WavSizes


def _broken(err: httpx.TransportError, response: httpx.Response) -> APIConnectionError:
    if isinstance(err, httpx.TimeoutException):
        return APITimeoutError("The stream timed out.", request=response.request)
    return APIConnectionError(f"The stream broke off: {err}", request=response.request)


class _StreamBase:
    def __init__(self, *, format: str, chunk_size: int, sample_rate: int) -> None:
        self.format = format
        self.chunk_size = chunk_size
        self.sample_rate = sample_rate
        self._response: httpx.Response | None = None
        self._consumed = False

    @property
    def response(self) -> httpx.Response:
        """The underlying ``httpx.Response`` (only once the stream is open)."""
        if self._response is None:
            raise VoxcloneError("the stream is not open yet: use it in a `with` block")
        return self._response

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", ""))

    @property
    def request_id(self) -> str | None:
        value = self.response.headers.get("x-request-id")
        return None if value is None else str(value)

    @property
    def is_closed(self) -> bool:
        """True once the response is closed (or if it was never opened)."""
        return self._response is None or self._response.is_closed

    def _start(self) -> None:
        if self._consumed:
            raise VoxcloneError("a speech stream can be read only once")
        self._consumed = True


class SpeechStream(_StreamBase):
    """Audio streamed as it is synthesized.

    The request is made when the ``with`` block is entered (or on first read) and the response
    is always closed when the block exits, also when the loop stops early or raises::

        with client.speech.stream(text="Hello", voice_id="af_heart", format="pcm") as stream:
            for samples in stream.iter_pcm():
                play(samples)  # float32 in [-1, 1), 24 kHz mono

    A stream can be read once: by ``iter_bytes()``, iterating it, ``iter_pcm()``, ``save()`` or
    ``read()``.
    """

    def __init__(
        self,
        opener: Callable[[], httpx.Response],
        *,
        format: str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        super().__init__(format=format, chunk_size=chunk_size, sample_rate=sample_rate)
        self._opener = opener

    def open(self) -> SpeechStream:
        """Make the request now (raises the API's error at once); idempotent."""
        if self._response is None:
            self._response = self._opener()
        return self

    def close(self) -> None:
        """Close the response; safe to call repeatedly."""
        if self._response is not None:
            self._response.close()

    def __enter__(self) -> SpeechStream:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """Yield the encoded audio as it arrives; the response is closed at the end."""
        self._start()
        response = self.open().response
        try:
            for chunk in response.iter_bytes(chunk_size or self.chunk_size):
                if chunk:
                    yield chunk
        except httpx.TransportError as err:
            raise _broken(err, response) from err
        finally:
            self.close()

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_bytes()

    def iter_pcm(self) -> Iterator[np.ndarray]:
        """Yield float32 sample arrays in [-1, 1) as audio arrives (formats ``pcm`` and ``wav``)."""
        decoder = PcmDecoder(format=self.format)
        for chunk in self.iter_bytes():
            samples = decoder.feed(chunk)
            if samples.size:
                yield samples

    def read(self) -> bytes:
        """The whole body (waits for the generation to finish)."""
        return b"".join(self.iter_bytes())

    def save(self, path: str | Path) -> Path:
        """Write the audio to ``path`` as it arrives; returns the path.

        A WAV is completed when the stream ends: the RIFF and ``data`` sizes it was streamed with
        (``0xFFFFFFFF``, the length being unknown) are replaced by the real ones, so ``wave``, sox
        and every other reader see its exact length. Other formats are written as received.
        """
        output = Path(path)
        sizes = WavSizes()
        with output.open("wb") as handle:
            for chunk in self.iter_bytes():
                handle.write(chunk)
                sizes.feed(chunk)
            sizes.patch(handle)
        return output


class AsyncSpeechStream(_StreamBase):
    """Async twin of :class:`SpeechStream` (``async with`` / ``async for``)."""

    def __init__(
        self,
        opener: Callable[[], Awaitable[httpx.Response]],
        *,
        format: str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        super().__init__(format=format, chunk_size=chunk_size, sample_rate=sample_rate)
        self._opener = opener

    async def open(self) -> AsyncSpeechStream:
        """Make the request now (raises the API's error at once); idempotent."""
        if self._response is None:
            self._response = await self._opener()
        return self

    async def close(self) -> None:
        """Close the response; safe to call repeatedly."""
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> AsyncSpeechStream:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Yield the encoded audio as it arrives; the response is closed at the end."""
        self._start()
        response = (await self.open()).response
        try:
            async for chunk in response.aiter_bytes(chunk_size or self.chunk_size):
                if chunk:
                    yield chunk
        except httpx.TransportError as err:
            raise _broken(err, response) from err
        finally:
            await self.close()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_bytes()

    async def iter_pcm(self) -> AsyncIterator[np.ndarray]:
        """Yield float32 sample arrays in [-1, 1) as audio arrives (formats ``pcm`` and ``wav``)."""
        decoder = PcmDecoder(format=self.format)
        async for chunk in self.iter_bytes():
            samples = decoder.feed(chunk)
            if samples.size:
                yield samples

    async def read(self) -> bytes:
        """The whole body (waits for the generation to finish)."""
        return b"".join([chunk async for chunk in self.iter_bytes()])

    async def save(self, path: str | Path) -> Path:
        """Write the audio to ``path`` as it arrives; returns the path (a WAV is completed as in
        :meth:`SpeechStream.save`)."""
        output = Path(path)
        sizes = WavSizes()
        with output.open("wb") as handle:
            async for chunk in self.iter_bytes():
                handle.write(chunk)
                sizes.feed(chunk)
            sizes.patch(handle)
        return output
