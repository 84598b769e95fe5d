"""The load benchmark's listener model (``bench/_loadlib.py``): stalls and percentiles."""

from __future__ import annotations

from script_module import load_script

loadlib = load_script("bench/_loadlib.py", "_loadlib")

SECOND = loadlib.BYTES_PER_S


def test_player_starts_at_first_audio_and_waits_when_the_buffer_is_empty() -> None:
    # 1 s at t=1, 1 s at t=1.5 (buffered until 3.0), 0.5 s at t=4: one second of silence
    first, stall, audio = loadlib.player([(1.0, SECOND), (1.5, SECOND), (4.0, SECOND // 2)])
    assert (first, stall, audio) == (1.0, 1.0, 2.5)


def test_player_ignores_empty_reads_and_never_stalls_on_audio_that_arrives_in_time() -> None:
    first, stall, audio = loadlib.player([(0.5, 0), (1.0, 2 * SECOND), (2.5, SECOND)])
    assert (first, stall, audio) == (1.0, 0.0, 3.0)
    assert loadlib.player([]) == (None, 0.0, 0.0)


def test_pct_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert loadlib.pct(values, 0.5) == 5.0
    assert loadlib.pct(values, 0.95) == 10.0
    assert loadlib.pct([0.1], 0.99, scale=1000) == 100.0
    assert loadlib.pct([], 0.5) is None
