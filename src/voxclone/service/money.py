"""Exact credit arithmetic: ``Decimal`` at the edges, integer micro-credits in storage.

1 credit = 1,000,000 micro-credits, so a clone (0.025) is 25,000 and one second of audio
(0.001) is 1,000: one micro-credit buys one millisecond.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from voxclone.errors import InvalidRequest

MICRO = 1_000_000


def to_micro(amount: Decimal | str | int) -> int:
    """Credits → micro-credits; refuses amounts finer than 0.000001 or not a finite number."""
    try:
        value = Decimal(str(amount)) * MICRO
    except InvalidOperation as e:
        raise InvalidRequest(f"{amount!r} is not a number of credits", code="invalid_amount") from e
    if not value.is_finite() or value != value.to_integral_value():
        raise InvalidRequest(
            f"{amount!r} is not a whole number of micro-credits (use at most 6 decimals)",
            code="invalid_amount",
        )
    return int(value)


def from_micro(micro: int) -> Decimal:
    """Micro-credits → credits (exact, 6 decimals)."""
    return (Decimal(micro) / MICRO).quantize(Decimal("0.000001"))


def format_credits(micro: int) -> str:
    """A decimal string with 6 decimals, e.g. ``"9.975000"`` (exact, never a float)."""
    return str(from_micro(micro))


def speech_cost_micro(*, audio_ms: int, cost_per_second: Decimal) -> int:
    """Cost of ``audio_ms`` milliseconds of audio, rounded half-up to a micro-credit."""
    per_second = to_micro(cost_per_second)
    return (per_second * audio_ms + 500) // 1000


def samples_to_ms(samples: int, sample_rate: int) -> int:
    """Duration of ``samples`` at ``sample_rate`` in whole milliseconds (half-up)."""
    return (samples * 1000 * 2 + sample_rate) // (2 * sample_rate)
