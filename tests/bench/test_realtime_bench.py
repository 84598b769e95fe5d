"""The timestamp benchmark's comparison with Whisper (``bench/realtime.py``): pairing, the kinds of
outliers, the summary."""

from __future__ import annotations

import numpy as np
from script_module import load_script

from voxclone.engines.base import WordTiming

realtime = load_script("bench/realtime.py", "bench_realtime")

RATE = 24000


def _speech_pause_speech() -> np.ndarray:
    """1 s of noise ("speech"), 0.5 s of silence, 1 s of noise."""
    rng = np.random.default_rng(0)
    loud = (0.3 * rng.standard_normal(RATE)).astype(np.float32)
    return np.concatenate([loud, np.zeros(RATE // 2, np.float32), loud])


def test_pairs_leave_out_the_first_word_and_words_spelled_differently() -> None:
    ours = [WordTiming("Hello", 0.05, 0.4), WordTiming("$42", 0.5, 1.2), WordTiming("there.", 1.3, 1.6)]
    heard = [("Hello", 0.0, 0.45), ("forty-two", 0.45, 1.2), ("there", 1.26, 1.6)]
    pairs = realtime._pairs(ours, heard)
    assert [(w.word, h[0]) for w, h in pairs] == [("there.", "there")]


def test_a_whisper_start_in_the_pause_before_a_word_is_whisper_s() -> None:
    audio = _speech_pause_speech()
    ours = [WordTiming("box", 0.05, 1.0), WordTiming("and", 1.5, 1.8)]
    heard = [("box", 0.0, 1.0), ("and", 1.0, 1.8)]  # Whisper: "and" starts where "box" ended
    (row,) = realtime.compare(ours, heard, audio, RATE)
    assert (row["word"], row["diff_ms"], row["kind"]) == ("and", 500.0, "whisper_start_in_pause")


def test_our_start_in_a_pause_is_ours() -> None:
    audio = _speech_pause_speech()
    ours = [WordTiming("box", 0.05, 0.9), WordTiming("and", 1.0, 1.8)]
    heard = [("box", 0.0, 1.0), ("and", 1.5, 1.8)]
    (row,) = realtime.compare(ours, heard, audio, RATE)
    assert (row["diff_ms"], row["kind"]) == (-500.0, "our_start_in_pause")


def test_a_squeezed_whisper_word_inside_speech_is_a_collapsed_word() -> None:
    audio = _speech_pause_speech()
    ours = [WordTiming("a", 0.05, 0.2), WordTiming("bundle", 0.3, 0.6), WordTiming("of", 0.65, 0.8)]
    heard = [("a", 0.0, 0.3), ("bundle", 0.58, 0.6), ("of", 0.6, 0.8)]
    rows = realtime.compare(ours, heard, audio, RATE)
    assert [r["kind"] for r in rows] == ["whisper_collapsed_word", "ok"]


def test_summary_reports_raw_figures_and_the_p95_without_whisper_errors() -> None:
    rows = [{"word": "w", "diff_ms": d, "kind": "ok"} for d in (-20.0, 10.0, 30.0, -40.0)]
    rows += [{"word": "and", "diff_ms": 500.0, "kind": "whisper_start_in_pause"}]
    s = realtime.summary(rows, total=6, worst=1)
    assert s["words_paired"] == 5 and s["words_compared_of"] == 6
    assert s["mean_abs_start_ms"] == 120.0
    assert s["mean_signed_start_ms"] == 96.0
    assert s["over_200_ms"] == {"whisper_start_in_pause": 1}
    assert s["p95_abs_start_ms"] > 400
    assert s["p95_abs_start_ms_without_whisper_errors"] <= 40
    assert [r["word"] for r in s["worst"]] == ["and"]
    assert realtime.summary([]) == {"words_paired": 0}


def test_pause_ends_are_onsets_after_silences_inside_the_audio() -> None:
    silent = np.array([1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0], bool)  # 10 ms frames
    # the leading silence is not a pause; 8 frames (80 ms) < 100 ms is not either; 10 frames are
    assert realtime.pause_ends(silent) == []
    silent = np.concatenate([silent[:4], np.ones(10, bool), np.zeros(3, bool)])
    assert realtime.pause_ends(silent) == [0.14]


def test_words_after_a_pause_are_checked_against_the_acoustic_onset() -> None:
    audio = _speech_pause_speech()  # the pause ends at 1.5 s
    ours = [WordTiming("box", 0.05, 1.0), WordTiming("and", 1.54, 1.8), WordTiming("then", 2.0, 2.4)]
    heard = [("box", 0.0, 1.0), ("and", 1.0, 1.8), ("then", 2.0, 2.4)]
    rows = realtime.compare(ours, heard, audio, RATE)
    assert [r["onset_s"] for r in rows] == [1.5, None]
    after = realtime.summary(rows)["after_a_pause"]
    assert after == {"words": 1, "median_ours_minus_onset_ms": 40.0, "median_whisper_minus_onset_ms": -500.0}
