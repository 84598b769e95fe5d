#!/usr/bin/env python3
"""Cloning benchmark: identity (d-vector and GE2E), WER and enrollment time on real speakers.

For each multi-utterance speaker of ``../shared/data/speech-dev`` the first utterance is the
reference (prepared by the intake when available); the clone reads English sentences of
``../shared/data/text/sentences-dev.tsv`` and is scored with ``../shared/tools/voice_identity.py``
against the speaker's other utterances, and with ``speech_wer.py``. Variants
(``bench/cloning_variants.py``): ``full`` (style + timbre stage: the content-matched envelope
transfer; pitch in the model), ``nopitch`` (as ``anchors+knn-v2``: the style's own pitch), ``eq``
(the retired ``anchors+eq-v1`` global envelope EQ instead of the transfer), ``style`` (the enrolled
style alone, no post-stage) and ``sharp`` (the transfer at k=1, ±17 dB clip, 30 ms smoothing).
Per speaker it also reports the median F0 of the reference and of the ``full`` clone (WORLD), and
the post-stage cost as a real-time factor (post-stage seconds per second of audio).

Usage::

    python bench/cloning.py [--sentences 4] [--eval-python /tmp/eval-venv/bin/python]

Writes ``bench/results/cloning.json``. Needs the scorers' environment
(``bash ../shared/tools/setup-eval-env.sh /tmp/eval-venv``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "bench"))

from cloning_variants import VARIANTS, bench_engine, variant_profile  # noqa: E402

NUMBER_WORDS = {
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "hundred",
    "thousand",
    "percent",
    "first",
    "second",
    "third",
}


def _words(text: str) -> set[str]:
    return {w.strip(".,;:!?'\"").lower() for w in text.split()}


def load_reference(path: Path, sample_rate: int) -> tuple[np.ndarray, int]:
    """Reference through the intake (``prepare_reference``) when it exists, else a plain read."""
    data = path.read_bytes()
    try:
        from voxclone.audio.intake import prepare_reference
    except ImportError:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
        return audio.mean(axis=1), int(sr)
    prep = prepare_reference(data, filename=path.name, content_type=None, target_sample_rate=sample_rate)
    return prep.audio, prep.sample_rate


def judge_speakers(data: Path) -> dict[str, list[dict[str, str]]]:
    """The multi-utterance speakers of ``index.tsv`` (not the ``train-clean-100`` singles): their rows."""
    with (data / "index.tsv").open() as f:
        index = list(csv.DictReader(f, delimiter="\t"))
    speakers: dict[str, list[dict[str, str]]] = {}
    for row in index:
        if row["subset"] != "train-clean-100":
            speakers.setdefault(row["speaker"], []).append(row)
    return speakers


def _score(args: argparse.Namespace, tool: str, out: Path, *tool_args: str | Path) -> dict:
    """Run one of ``../shared/tools``' scorers in the eval environment; its JSON result."""
    cmd = [args.eval_python, str(args.shared / "tools" / tool), *map(str, tool_args), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    result: dict = json.loads(out.read_text())
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--sentences", type=int, default=4)
    ap.add_argument("--variants", default="full,eq,style", help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--eval-python", default="/tmp/eval-venv/bin/python")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, help="keep generated audio here (default: a temp folder)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cloning.json")
    args = ap.parse_args()

    data = args.shared / "data" / "speech-dev"
    speakers = judge_speakers(data)
    with (args.shared / "data" / "text" / "sentences-dev.tsv").open() as f:
        english = [r["text"] for r in csv.DictReader(f, delimiter="\t") if r["lang"] == "en"]
    # the WER scorer compares words literally ("twelve percent" is heard as "12%"): skip numbers
    texts = [t for t in english if not any(c.isdigit() for c in t) and not NUMBER_WORDS & _words(t)]
    texts = texts[: args.sentences]

    engine = bench_engine(data_dir=ROOT / "voxclone-data", threads=args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="vc-cloning-"))
    work.mkdir(parents=True, exist_ok=True)
    variants = args.variants.split(",")
    manifests = {v: [] for v in variants}  # type: dict[str, list[dict[str, str]]]
    per_speaker: dict[str, dict] = {}
    _, warm_ref, warm_sr = first_usable(data, next(iter(speakers.values())), engine.sample_rate)
    engine.enroll(warm_ref, warm_sr)  # warm-up
    for spk, rows in sorted(speakers.items()):
        ref_row, ref, sr = first_usable(data, rows, engine.sample_rate)
        t0 = time.perf_counter()
        profile = engine.enroll(ref, sr)
        enroll_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        selfcheck = engine.similarity(profile, ref, sr)
        selfcheck_s = time.perf_counter() - t0
        per_speaker[spk] = {
            "gender": ref_row["gender"],
            "reference": ref_row["file"],
            "enroll_s": round(enroll_s, 3),
            "selfcheck": round(selfcheck, 3),
            "selfcheck_s": round(selfcheck_s, 2),
            "meta": profile.meta,
        }
        for variant in variants:
            prof = variant_profile(engine, profile, variant)
            rendered = []
            for i, text in enumerate(texts):
                name = f"{variant}-{spk}-{i}.wav"
                audio = engine.generate(text, prof, language="en-us")
                rendered.append(audio)
                sf.write(str(work / name), audio, engine.sample_rate)
                manifests[variant].append(
                    {"speaker": spk, "reference": ref_row["file"], "generated": name, "text": text}
                )
            if variant == "full":
                per_speaker[spk].update(pitch_and_cost(engine, profile, ref, sr, rendered))
        print(f"{spk}: enroll {enroll_s:.2f} s, self-check {selfcheck:.2f}", file=sys.stderr, flush=True)

    results: dict[str, dict] = {}
    for variant in variants:
        manifest = work / f"manifest-{variant}.tsv"
        with manifest.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["speaker", "reference", "generated", "text"], delimiter="\t")
            w.writeheader()
            w.writerows(manifests[variant])
        identity_out = work / f"identity-{variant}.json"
        identity = _score(args, "voice_identity.py", identity_out, "--data", data, "--manifest", manifest)
        wer = _score(args, "speech_wer.py", work / f"wer-{variant}.json", "--manifest", manifest)
        results[variant] = summarise(identity, wer, per_speaker)
    report = {
        "speakers": per_speaker,
        "variants": results,
        "sentences": texts,
        "enroll_s_max": max(v["enroll_s"] for v in per_speaker.values()),
        "post_rtf_mean": round(float(np.mean([v.get("post_rtf", np.nan) for v in per_speaker.values()])), 4),
        "machine": {"cpus": os.cpu_count(), "onnx_threads": args.threads},
        "command": "python bench/cloning.py " + " ".join(sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({v: {k: r[k] for k in ("identity", "wer")} for v, r in results.items()}, indent=2))
    return 0


def pitch_and_cost(engine: Any, profile: Any, ref: np.ndarray, sr: int, rendered: list[np.ndarray]) -> dict:
    """Median F0 (Hz) of the reference and of the clone's renders; post-stage real-time factor."""
    from voxclone.audio.speaker import resample
    from voxclone.engines.kokoro.cloning.features import ANALYSIS_RATE, pitch

    def median_f0(x: np.ndarray, rate: int) -> float:
        f0, _ = pitch(resample(x, rate, ANALYSIS_RATE))
        return float(np.median(f0[f0 > 0])) if np.any(f0 > 0) else 0.0

    clone = np.concatenate(rendered)
    t0 = time.perf_counter()
    for audio in rendered:  # whole sentences: at least as long as the engine's chunks
        engine.cloner.postprocess(audio, profile, engine.sample_rate)
    cost = time.perf_counter() - t0
    ref_f0, clone_f0 = median_f0(ref, sr), median_f0(clone, engine.sample_rate)
    return {
        "reference_f0_hz": round(ref_f0, 1),
        "clone_f0_hz": round(clone_f0, 1),
        "clone_minus_reference_semitones": (
            round(12 * float(np.log2(clone_f0 / ref_f0)), 2) if ref_f0 and clone_f0 else None
        ),
        "post_rtf": round(cost / (clone.size / engine.sample_rate), 4),
    }


def first_usable(data: Path, rows: list[dict[str, str]], sample_rate: int) -> tuple[dict, np.ndarray, int]:
    """The speaker's first utterance that the intake accepts (some are under 3 s of speech)."""
    from voxclone.errors import ServiceError

    for row in rows:
        try:
            audio, sr = load_reference(data / row["file"], sample_rate)
        except ServiceError as e:
            print(f"skip reference {row['file']}: {e}", file=sys.stderr)
            continue
        return row, audio, sr
    raise SystemExit(f"no usable reference for speaker {rows[0]['speaker']}")


def summarise(identity: dict, wer: dict, per_speaker: dict) -> dict:
    """Identity per encoder, per speaker and per gender, plus the WER summary."""
    out: dict = {"identity": {}, "per_speaker": {}, "per_gender": {}, "wer": wer.get("wer", wer)}
    for enc, res in identity.items():
        out["identity"][enc] = res["identity"]
        for spk, r in res["speakers"].items():
            out["per_speaker"].setdefault(spk, {})[enc] = round(r["identity"], 3)
        for gender in ("M", "F"):
            vals = [r["identity"] for s, r in res["speakers"].items() if per_speaker[s]["gender"] == gender]
            if vals:
                out["per_gender"].setdefault(gender, {})[enc] = round(float(np.mean(vals)), 3)
    return out


if __name__ == "__main__":
    sys.exit(main())
