"""Turn what a caller passes as reference audio (path, bytes or file) into an upload part."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import IO, Union

AudioInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]
"""A path to an audio file, its raw bytes, or a binary file object opened for reading."""

_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"RIFF", "wav", "audio/wav"),
    (b"fLaC", "flac", "audio/flac"),
    (b"OggS", "ogg", "audio/ogg"),
    (b"ID3", "mp3", "audio/mpeg"),
    (b"\xff\xfb", "mp3", "audio/mpeg"),
    (b"\xff\xf3", "mp3", "audio/mpeg"),
    (b"\xff\xf2", "mp3", "audio/mpeg"),
)


def read_audio_input(audio: AudioInput, *, filename: str | None = None) -> tuple[str, bytes, str]:
    """Read ``audio`` fully and name it.

    The bytes are read once, up front, so that a retried upload sends exactly the same body.

    Parameters
    ----------
    audio : str, os.PathLike, bytes or binary file
        The reference recording.
    filename : str, optional
        Name to send; defaults to the path's or file's name, else one guessed from the content.

    Returns
    -------
    tuple of (str, bytes, str)
        ``(filename, data, content_type)`` for an ``httpx`` multipart ``files=`` entry.
    """
    if isinstance(audio, (bytes, bytearray, memoryview)):
        data = bytes(audio)
        name = filename
    elif isinstance(audio, (str, os.PathLike)):
        path = Path(audio)
        data = path.read_bytes()
        name = filename or path.name
    elif hasattr(audio, "read"):
        raw = audio.read()
        if not isinstance(raw, (bytes, bytearray)):
            raise TypeError("`audio` file objects must be opened in binary mode ('rb')")
        data = bytes(raw)
        name = filename or os.path.basename(str(getattr(audio, "name", "") or "")) or None
    else:
        raise TypeError(f"`audio` must be a path, bytes or a binary file, not {type(audio).__name__}")
    sniffed_ext, sniffed_type = _sniff(data)
    if not name:
        name = f"audio.{sniffed_ext}" if sniffed_ext else "audio"
    content_type = mimetypes.guess_type(name)[0] or sniffed_type or "application/octet-stream"
    return name, data, content_type


def _sniff(data: bytes) -> tuple[str | None, str | None]:
    for magic, ext, content_type in _MAGIC:
        if data.startswith(magic):
            return ext, content_type
    if data[4:8] == b"ftyp":
        return "m4a", "audio/mp4"
    return None, None
