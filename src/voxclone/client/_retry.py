"""The retry policy: which failures are retried and how long to wait. Used by both transports.

Retried: connection errors and timeouts, and answers 408, 429 and 5xx (unless the server says
``x-should-retry: false``). The wait honours ``retry-after-ms`` / ``Retry-After`` (seconds or an
HTTP date) when it is between 0 and 60 s; otherwise it is an exponential backoff from 0.5 s,
capped at 8 s, with up to 25 % jitter.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

import httpx

from voxclone.client._constants import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY

RETRY_STATUSES = frozenset({408, 429})


def should_retry_status(status_code: int, headers: Mapping[str, str]) -> bool:
    """Whether an answer with this status (and headers) is worth another try."""
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status_code in RETRY_STATUSES or status_code >= 500


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, or ``None`` when it did not say (or said nonsense).

    Parameters
    ----------
    headers : mapping
        Answer headers (case-insensitive mapping such as ``httpx.Headers``).
    now : float, optional
        Current Unix time, for HTTP-date values; defaults to ``time.time()``.
    """
    millis = _as_float(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _as_float(raw)
    if seconds is not None:
        return seconds
    parsed = email.utils.parsedate_tz(raw)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed)) - (time.time() if now is None else now)


def _as_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def retry_delay(
    retries_taken: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to sleep before retry number ``retries_taken + 1``.

    Parameters
    ----------
    retries_taken : int
        Retries already made for this request (0 before the first retry).
    retry_after : float, optional
        The server's ``Retry-After`` in seconds; used as is when 0 ≤ value ≤ 60.
    rng : random.Random, optional
        Source of the jitter (tests pass a seeded one).
    """
    if retry_after is not None and 0 <= retry_after <= MAX_RETRY_AFTER:
        return retry_after
    backoff = min(INITIAL_RETRY_DELAY * 2.0**retries_taken, MAX_RETRY_DELAY)
    jitter = 1.0 - 0.25 * (rng or random).random()
    return backoff * jitter


def next_delay(
    retries_taken: int,
    max_retries: int,
    *,
    response: httpx.Response | None = None,
    error: Exception | None = None,
) -> float | None:
    """The one retry decision: seconds to wait before trying again, or ``None`` to give up.

    Parameters
    ----------
    retries_taken : int
        Retries already made for this request.
    max_retries : int
        The client's limit (0 disables retries).
    response : httpx.Response, optional
        The failed answer (status ≥ 400), when there was one.
    error : Exception, optional
        The transport error (``httpx.TransportError``), when there was no answer.
    """
    if retries_taken >= max_retries:
        return None
    if response is not None:
        if not should_retry_status(response.status_code, response.headers):
            return None
        return retry_delay(retries_taken, retry_after=parse_retry_after(response.headers))
    if isinstance(error, httpx.TransportError) and not isinstance(error, httpx.UnsupportedProtocol):
        return retry_delay(retries_taken)
    return None
