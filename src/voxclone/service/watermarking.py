"""The watermark policy of one server: whether to mark, with which server id, and the per-clip marker.

Every synthesis passes :meth:`voxclone.service.speech.SpeechService._chunks`, which marks each
chunk with :class:`~voxclone.audio.watermark.Marker` (keyed to the sample position in the clip,
so a stream and a whole file carry the same samples). The payload is this server's id and a
16-bit hash of the account (:func:`~voxclone.audio.watermark.account_hash`).

Server id (0–65535): ``VOXCLONE_SERVER_ID`` when set; else, with PostgreSQL, derived from the
database's host, port and name (every replica of one deployment agrees); else a random id drawn
once and kept in ``data_dir/server_id``. ``VOXCLONE_WATERMARK=off`` disables marking.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.engine import make_url

from voxclone.audio.watermark import Marker, Payload, account_hash
from voxclone.settings import Settings

log = logging.getLogger(__name__)

SERVER_ID_FILE = "server_id"


def resolve_server_id(settings: Settings) -> int:
    """This server's 16-bit id (see the module docstring); may create ``data_dir/server_id``."""
    if settings.server_id is not None:
        return settings.server_id
    if settings.database_url:
        url = make_url(settings.database_url)
        key = f"{url.host or ''}:{url.port or ''}/{url.database or ''}"
        return int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big")
    path = Path(settings.data_dir) / SERVER_ID_FILE
    try:
        return int(path.read_text().strip()) & 0xFFFF
    except (FileNotFoundError, ValueError):
        pass
    value = secrets.randbelow(1 << 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{value}\n")
    tmp.replace(path)
    return value


@dataclass(frozen=True)
class Watermarking:
    """Marks the clips of one server at ``sample_rate`` Hz with ``server_id``."""

    server_id: int
    sample_rate: int

    @classmethod
    def from_settings(cls, settings: Settings, *, sample_rate: int) -> Watermarking | None:
        """The policy, or ``None`` when ``VOXCLONE_WATERMARK=off``."""
        if not settings.watermark:
            log.warning("watermarking is off (VOXCLONE_WATERMARK=off): generated audio is not marked")
            return None
        return cls(server_id=resolve_server_id(settings), sample_rate=sample_rate)

    def marker(self, account_id: str) -> Marker:
        """A marker for the clips of ``account_id``."""
        payload = Payload(server_id=self.server_id, account_hash=account_hash(account_id))
        return Marker(sample_rate=self.sample_rate, payload=payload)

    def clip(self, account_id: str) -> ClipMarker:
        """Marks one clip (or one real-time session's audio) of ``account_id``, chunk after chunk."""
        return ClipMarker(self.marker(account_id))


class ClipMarker:
    """Marks the consecutive chunks of one clip: keeps the sample position of the next chunk.

    For paths that do not go through :func:`mark_chunks` (a real-time session that speaks several
    utterances as one audio stream): ``audio = clip.mark(audio)`` on every chunk, in order. The
    length of a chunk never changes, so word timings stay valid.
    """

    def __init__(self, marker: Marker | None):
        self._marker = marker
        self.offset = 0

    def mark(self, chunk: np.ndarray) -> np.ndarray:
        """``chunk`` (float32 mono) marked at the clip's current position (unchanged without a marker)."""
        audio = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if self._marker is not None and audio.size:
            audio = self._marker.mark(audio, offset=self.offset)
        self.offset += audio.size
        return audio


def mark_chunks(chunks: Iterable[np.ndarray], marker: Marker | None) -> Iterator[np.ndarray]:
    """``chunks`` (float32 mono, one clip, in order) with the mark added; as they are when
    ``marker`` is ``None``. Each chunk is marked from its own samples and its position."""
    clip = ClipMarker(marker)
    for chunk in chunks:
        yield clip.mark(chunk)
