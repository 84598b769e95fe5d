"""Defaults of the voxclone SDK, in one place."""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
"""Where ``voxclone serve`` listens by default."""

API_KEY_ENV = "VOXCLONE_API_KEY"
BASE_URL_ENV = "VOXCLONE_BASE_URL"

DEFAULT_TIMEOUT = httpx.Timeout(timeout=600.0, connect=5.0)
"""Seconds; long generations stream for minutes, but a dead host fails fast."""

DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
"""Seconds before the first retry; doubles on each further retry."""
MAX_RETRY_DELAY = 8.0
"""Seconds; the exponential backoff never waits longer than this."""
MAX_RETRY_AFTER = 60.0
"""Seconds; a server ``Retry-After`` above this is ignored in favour of the backoff."""

DEFAULT_CHUNK_SIZE = 8192
"""Bytes per chunk when iterating a streamed response."""

SAMPLE_RATE = 24000
"""Hz; the server's output sample rate (WAV and PCM are mono 16-bit at this rate)."""

OUTEAI_DEFAULT_MODEL: str | None = None
"""``model`` of the OuteAI-style helpers; ``None`` lets the server choose its engine."""
