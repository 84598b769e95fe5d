"""Benchmark the embedded Kokoro engine: time to first audio, real-time factor, peak memory,
loudness, and (when the scorers' environment exists) WER of every built-in voice.

Usage::

    python bench/engine.py [--threads N] [--no-wer] [--eval-python /tmp/eval-venv/bin/python]

Writes ``bench/results/engine.json`` (after each stage, so long runs leave partial results).
``wer`` is the shared scorer's number; Whisper writes numbers as digits ("12%") while the
sentences spell them ("twelve percent"), so ``wer_number_tolerant`` also spells the numbers of
both sides before counting errors. ``stall_s`` is how long a player that starts at the first
chunk would wait for later ones. Reads ``../shared`` (sentences and the WER scorer); timings
depend on machine load, which the JSON records (load average).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import soundfile as sf

from _loadlib import cpu_info
from voxclone.engines.kokoro import voices
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.engines.kokoro.model import KokoroModel
from voxclone.engines.kokoro.openvino_session import choose_runtime, cpu_flags, openvino_installed
from voxclone.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PARAGRAPH = (
    "Welcome back to the evening news. Tonight we look at how small towns are rebuilding their "
    "main streets, one shop at a time. Our reporter spent a week with the people who make it happen, "
    "from bakers who start before dawn to volunteers who paint the old cinema. Here is her story."
)
MULTILINGUAL = {
    "es": "Buenos días. Hoy vamos a hablar de la historia de esta ciudad y de su gente.",
    "fr": "Bonjour à tous. Aujourd'hui, nous parlons de l'histoire de cette ville et de ses habitants.",
    "it": "Buongiorno a tutti. Oggi parliamo della storia di questa città e della sua gente.",
    "pt-br": "Bom dia a todos. Hoje vamos falar sobre a história desta cidade e do seu povo.",
    "hi": "नमस्ते दोस्तों। आज हम इस शहर और इसके लोगों के इतिहास के बारे में बात करेंगे।",
    "ja": "皆さん、こんにちは。今日はこの町の歴史と人々についてお話しします。",
    "en-gb": "Good morning, everyone. Today we talk about the history of this town and its people.",
}


def _stream_timing(engine: KokoroEngine, text: str, voice: str, language: str) -> dict[str, float]:
    profile = engine.builtin_profile(voice)
    start, cpu_start = time.perf_counter(), time.process_time()
    first = first_cpu = None
    samples = 0
    played_until = stall = 0.0  # a player starting at the first chunk: when its queue runs dry
    for chunk in engine.synthesize(text, profile, language=language):
        now = time.perf_counter() - start
        if first is None:
            first, first_cpu = now, time.process_time() - cpu_start
            played_until = now
        stall += max(0.0, now - played_until)
        played_until = max(played_until, now) + chunk.size / engine.sample_rate
        samples += chunk.size
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    seconds = samples / engine.sample_rate
    return {
        "first_audio_s": first or total,
        "first_audio_cpu_s": first_cpu or cpu,
        "total_s": total,
        "cpu_s": cpu,
        "audio_s": seconds,
        "rtf": total / seconds,
        "cpu_per_audio_s": cpu / seconds,
        "stall_s": stall,
    }


def _loudness(audio: np.ndarray, sample_rate: int) -> dict[str, float]:
    import pyloudnorm

    return {
        "lufs": round(float(pyloudnorm.Meter(sample_rate).integrated_loudness(audio.astype(np.float64))), 2),
        "peak_dbfs": round(float(20 * np.log10(np.max(np.abs(audio)) + 1e-12)), 2),
    }


def _words(text: str) -> list[str]:
    """Scorer-style words after spelling numbers the same way on both sides (12% == twelve percent,
    Whisper's 4.30pm == 4:30 PM)."""
    import re

    from voxclone.text import normalize

    text = re.sub(
        r"\b(\d{1,2})\.(\d{2})\s*([ap]m)?\b", r"\1:\2 \3", text, flags=re.IGNORECASE
    )  # Whisper's 4.30pm
    spelled = normalize(text, language="en-us").lower().replace("’", "'").replace("-", " ")
    return re.sub(r"[^a-z0-9' ]+", " ", spelled).split()


def _edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def _wer(
    engine: KokoroEngine,
    eval_python: Path,
    folder: Path,
    results: dict[str, object],
    save: Callable[[], None],
    voice_ids: Collection[str] | None = None,
) -> None:
    """WER of each built-in voice (or of ``voice_ids``) over the English dev lines, into ``results``."""
    lines = [
        row[1]
        for row in csv.reader((SHARED / "data/text/sentences-dev.tsv").open(encoding="utf-8"), delimiter="\t")
        if row and row[0] == "en"
    ]
    for info in engine.builtin_voices():
        if voice_ids is not None and info.voice_id not in voice_ids:
            continue
        profile = engine.builtin_profile(info.voice_id)
        vdir = folder / info.voice_id
        vdir.mkdir(parents=True, exist_ok=True)
        with (vdir / "manifest.tsv").open("w", encoding="utf-8") as f:
            f.write("generated\ttext\n")
            levels = []
            for i, line in enumerate(lines):
                audio = engine.generate(line, profile, language="en-us")
                sf.write(vdir / f"{i}.wav", audio, engine.sample_rate)
                levels.append(_loudness(audio, engine.sample_rate))
                f.write(f"{i}.wav\t{line}\n")
        out = vdir / "wer.json"
        subprocess.run(
            [
                str(eval_python),
                str(SHARED / "tools/speech_wer.py"),
                "--manifest",
                str(vdir / "manifest.tsv"),
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        scored = json.loads(out.read_text())
        pairs = [(_words(item["text"]), _words(item["heard"])) for item in scored["items"]]
        tolerant = sum(_edit_distance(r, h) for r, h in pairs) / sum(len(r) for r, _ in pairs)
        bad = [item for item, (r, h) in zip(scored["items"], pairs, strict=True) if r != h]
        results[info.voice_id] = {
            "mix": dict(next(v.mix for v in voices.BUILTIN_VOICES if v.voice_id == info.voice_id)),
            "wer": round(scored["wer"], 4),
            "wer_number_tolerant": round(tolerant, 4),
            "n": scored["n"],
            "mean_lufs": round(statistics.mean(x["lufs"] for x in levels), 2),
            "max_peak_dbfs": max(x["peak_dbfs"] for x in levels),
            "errors": [{"text": b["text"], "heard": b["heard"]} for b in bad],
        }
        print(info.voice_id, scored["wer"], tolerant, file=sys.stderr)
        save()


def _save(report: dict[str, object], out: Path) -> None:
    """Write the report so far (peak RSS and load updated) so a long run leaves partial results."""
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    machine = report["machine"]
    assert isinstance(machine, dict)
    machine["load_average_1m_now"] = os.getloadavg()[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0 = all cores)")
    ap.add_argument(
        "--runtime",
        choices=["auto", "onnxruntime", "openvino"],
        default="onnxruntime",
        help="inference runtime (auto: what the server would pick on this CPU)",
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-wer", action="store_true")
    ap.add_argument("--reuse-wer", action="store_true", help="keep the WER block of an existing --out file")
    ap.add_argument("--eval-python", type=Path, default=Path("/tmp/eval-venv/bin/python"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/engine.json")
    args = ap.parse_args()
    previous = (
        json.loads(args.out.read_text(encoding="utf-8")) if args.reuse_wer and args.out.exists() else None
    )

    settings = Settings(data_dir=Path(tempfile.gettempdir()) / "voxclone-bench", onnx_threads=args.threads)
    load_start = time.perf_counter()
    runtime = choose_runtime(args.runtime, flags=cpu_flags(), has_openvino=openvino_installed())
    engine = KokoroEngine(KokoroModel.from_cache(settings.cache_dir(), threads=args.threads, runtime=runtime))
    engine.warm_up()
    load_s = time.perf_counter() - load_start

    runs = [_stream_timing(engine, PARAGRAPH, "en-female-1", "en-us") for _ in range(args.runs)]
    report: dict[str, object] = {
        "machine": {**cpu_info(), "load_average_1m_at_start": os.getloadavg()[0]},
        "threads": args.threads or os.cpu_count(),
        "runtime": runtime,
        "load_and_warm_up_s": round(load_s, 2),
        "paragraph": {
            "first_audio_s_median": round(statistics.median(r["first_audio_s"] for r in runs), 3),
            "rtf_median": round(statistics.median(r["rtf"] for r in runs), 3),
            # process CPU time: what wall time would be on an idle machine with 1 thread
            "first_audio_cpu_s_median": round(statistics.median(r["first_audio_cpu_s"] for r in runs), 3),
            "cpu_per_audio_s_median": round(statistics.median(r["cpu_per_audio_s"] for r in runs), 3),
            # seconds a player that starts at the first chunk waits for later ones (underruns)
            "stall_s_median": round(statistics.median(r["stall_s"] for r in runs), 3),
            "audio_s": round(runs[0]["audio_s"], 2),
            "runs": [{k: round(v, 3) for k, v in r.items()} for r in runs],
        },
    }
    languages = {}
    for lang, text in MULTILINGUAL.items():
        audio = engine.generate(text, engine.builtin_profile("en-female-2"), language=lang)
        seconds = audio.size / engine.sample_rate
        languages[lang] = {
            "audio_s": round(seconds, 2),
            "chars": len(text),
            "s_per_char": round(seconds / len(text), 3),
            **_loudness(audio, engine.sample_rate),
        }
    report["languages"] = languages
    _save(report, args.out)
    if previous is not None:
        report["wer"] = previous.get("wer", {})
        report["wer_peak_rss_mb"] = previous.get("peak_rss_mb")
    elif not args.no_wer and args.eval_python.exists() and (SHARED / "tools/speech_wer.py").exists():
        wer: dict[str, object] = {}
        report["wer"] = wer
        with tempfile.TemporaryDirectory() as tmp:
            _wer(engine, args.eval_python, Path(tmp), wer, lambda: _save(report, args.out))
    _save(report, args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "wer"}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
