"""Identifiers: lowercase ULIDs (time-ordered, 26 Crockford base32 characters)."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_lock = threading.Lock()
_last: list[int] = [0, 0]  # [timestamp_ms, random80] of the previous id, for monotonic ids


def new_ulid() -> str:
    """A new lowercase ULID; ids made in the same process sort in creation order."""
    with _lock:
        now = int(time.time() * 1000)
        if now <= _last[0]:
            now, rand = _last[0], (_last[1] + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last[0], _last[1] = now, rand
    value = (now << 80) | rand
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def new_id(prefix: str) -> str:
    """``prefix`` + ``_`` + a lowercase ULID, e.g. ``vc_01j…``."""
    return f"{prefix}_{new_ulid()}"


def is_ulid_id(value: str, prefix: str) -> bool:
    """Whether ``value`` looks like an id made by :func:`new_id` with ``prefix``."""
    head = f"{prefix}_"
    body = value[len(head) :]
    return value.startswith(head) and len(body) == 26 and all(c in _ALPHABET for c in body)
