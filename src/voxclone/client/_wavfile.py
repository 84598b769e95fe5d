"""Complete a streamed WAV once it has been written to a seekable file.

A live WAV stream is sent before its length is known, so its RIFF and ``data`` chunk sizes are
``0xFFFFFFFF`` ("until the end of the file"). ffmpeg, browsers and libsndfile read such a file to
its end, but Python's ``wave`` reports 2,147,483,647 frames and sox warns of a premature end.
:class:`WavSizes` watches the bytes as they are written and, when the stream has ended, writes the
real sizes into the header of a seekable output.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import IO

HEAD_LIMIT = 64 * 1024
"""Bytes searched for the ``data`` chunk (voxclone's header is 44 bytes; others add LIST chunks)."""
_MAX_SIZE = 0xFFFFFFFF


def riff_chunks(head: bytes) -> Iterator[tuple[bytes, int, int]]:
    """``(chunk id, offset, size)`` of each chunk of a RIFF/WAVE prefix whose 8-byte chunk header
    ``head`` holds (the chunk's body may not be there yet); none while ``head`` is under 12 bytes.

    Raises
    ------
    ValueError
        If ``head`` (12 bytes or more) is not a RIFF/WAVE file.
    """
    if len(head) < 12:
        return
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE stream")
    pos = 12
    while len(head) >= pos + 8:
        (size,) = struct.unpack("<I", head[pos + 4 : pos + 8])
        yield head[pos : pos + 4], pos, size
        pos += 8 + size + (size & 1)


def data_chunk_offset(head: bytes) -> int | None:
    """Offset of the ``data`` chunk id in a RIFF/WAVE prefix; ``None`` until the prefix reaches it.

    Raises
    ------
    ValueError
        If ``head`` (12 bytes or more) is not a RIFF/WAVE file.
    """
    return next((pos for chunk_id, pos, _ in riff_chunks(head) if chunk_id == b"data"), None)


class WavSizes:
    """Follow a stream's bytes (``feed`` each chunk as it is written), then :meth:`patch` the file.

    Anything that is not a RIFF/WAVE stream is ignored: ``patch`` then leaves the file alone.
    """

    def __init__(self) -> None:
        self.size = 0
        self._head = b""
        self._data_at: int | None = None
        self._wav = True

    def feed(self, chunk: bytes) -> None:
        """Account for ``chunk``, the next bytes written to the file."""
        self.size += len(chunk)
        if self._data_at is not None or not self._wav or len(self._head) >= HEAD_LIMIT:
            return
        self._head += chunk[: HEAD_LIMIT - len(self._head)]
        try:
            self._data_at = data_chunk_offset(self._head)
        except ValueError:
            self._wav = False
            self._head = b""

    def patch(self, handle: IO[bytes], *, start: int = 0) -> bool:
        """Write the RIFF and ``data`` sizes into the WAV written at byte ``start`` of ``handle``.

        ``handle`` must be the file the fed bytes went to, positioned at their end. Returns whether
        the header was completed: not for other formats, unseekable outputs (pipes), files opened
        for appending (a write there lands at the end whatever the position) or audio over 4 GiB
        (whose sizes stay ``0xFFFFFFFF``). The position is left at the end of the file.
        """
        if self._data_at is None or not _can_rewrite(handle):
            return False
        riff, data = self.size - 8, self.size - (self._data_at + 8)
        if data < 0 or riff > _MAX_SIZE:
            return False
        handle.flush()
        end = handle.tell()
        handle.seek(start + 4)
        handle.write(struct.pack("<I", riff))
        handle.seek(start + self._data_at + 4)
        handle.write(struct.pack("<I", data))
        handle.seek(end)
        handle.flush()
        return True


def _can_rewrite(handle: IO[bytes]) -> bool:
    try:
        if not handle.seekable():
            return False
        fd = handle.fileno()
    except (OSError, ValueError):  # closed, or no file descriptor (BytesIO is fine: no O_APPEND)
        return handle.seekable() if not handle.closed else False
    try:
        import fcntl
    except ImportError:  # Windows: append mode cannot be detected there; a file we opened is fine
        return "a" not in getattr(handle, "mode", "")
    return not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND
