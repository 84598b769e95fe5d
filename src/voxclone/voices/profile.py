"""A versioned voice profile serialised as safetensors.

A profile is what an engine needs to speak in a voice: named float arrays (style vectors, speaker
embedding, statistics) plus string metadata. It never contains model weights, and it is the only
thing stored per voice besides the optional reference audio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voxclone.errors import Unprocessable

PROFILE_FORMAT_VERSION = 1


@dataclass
class VoiceProfile:
    """Engine conditioning for one voice.

    Attributes
    ----------
    engine : str
        Name of the engine that made the profile (``"kokoro"``, ``"outetts"``).
    version : int
        Engine-specific profile version; engines refuse versions they cannot read.
    tensors : dict[str, numpy.ndarray]
        Named arrays (float32 unless stated by the engine).
    meta : dict[str, Any]
        JSON-serialisable metadata (enrollment report, source, language...).
    """

    engine: str
    version: int
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Serialise to safetensors bytes (metadata JSON under ``__metadata__``)."""
        from safetensors.numpy import save

        header = {
            "format": str(PROFILE_FORMAT_VERSION),
            "engine": self.engine,
            "version": str(self.version),
            "meta": json.dumps(self.meta, sort_keys=True),
        }
        arrays = {k: np.ascontiguousarray(v) for k, v in self.tensors.items()}
        return bytes(save(arrays, metadata=header))

    @classmethod
    def from_bytes(cls, data: bytes) -> VoiceProfile:
        """Parse bytes written by :meth:`to_bytes`; raise ``Unprocessable`` for anything else."""
        from safetensors import safe_open
        from safetensors.numpy import load

        try:
            tensors = load(data)
            header = _read_metadata(data, safe_open)
            return cls(
                engine=header["engine"],
                version=int(header["version"]),
                tensors=dict(tensors),
                meta=json.loads(header.get("meta", "{}")),
            )
        except (KeyError, ValueError, OSError) as e:
            raise Unprocessable(
                "voice profile is corrupt or not a voxclone profile", code="invalid_profile"
            ) from e


def _read_metadata(data: bytes, _safe_open: Any) -> dict[str, str]:
    # safetensors layout: 8-byte little-endian header length, then the JSON header.
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        raise ValueError("no metadata")
    return meta
