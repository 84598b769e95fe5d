#!/usr/bin/env python3
"""Cloning development benchmark: d-vector likeness on the dev set's single-utterance speakers.

Each single utterance of ``../shared/data/speech-dev`` is prepared by the intake and split: the
first 55 % is the clone's reference, the rest is held out. The clone reads three English sentences
of ``../shared/data/text/sentences-dev.tsv`` (different ones per speaker) and its d-vector (the
runtime encoder) is compared by cosine with the held-out part's. Speakers whose split leaves under
3 s of reference or 2 s held out are skipped. Variants as in ``bench/cloning.py``.

This is the set cloning settings are chosen on (the d-vector only; GE2E, the independent judge,
is left to ``bench/cloning.py``). It needs no scorer environment.

Usage::

    python bench/cloning_dev.py [--variants full,nopitch] [--threads 2]

Writes ``bench/results/cloning_dev.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from cloning import SHARED, load_reference  # noqa: E402
from cloning_variants import VARIANTS, bench_engine, variant_profile  # noqa: E402

REFERENCE_FRACTION = 0.55


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--variants", default="full,nopitch", help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cloning_dev.json")
    args = ap.parse_args()

    from voxclone.errors import ServiceError

    data = args.shared / "data" / "speech-dev"
    with (data / "index.tsv").open() as f:
        index = list(csv.DictReader(f, delimiter="\t"))
    counts = Counter(r["speaker"] for r in index)
    with (args.shared / "data" / "text" / "sentences-dev.tsv").open() as f:
        english = [r["text"] for r in csv.DictReader(f, delimiter="\t") if r["lang"] == "en"]

    engine = bench_engine(data_dir=ROOT / "voxclone-data", threads=args.threads)
    encoder = engine.cloner.encoder
    variants = args.variants.split(",")
    rows = []
    started = time.perf_counter()
    for i, row in enumerate(r for r in index if counts[r["speaker"]] == 1):
        try:
            audio, rate = load_reference(data / row["file"], engine.sample_rate)
        except ServiceError as e:
            print(f"skip {row['speaker']}: {e}")
            continue
        cut = int(audio.size * REFERENCE_FRACTION)
        ref, held = audio[:cut], audio[cut:]
        if ref.size < 3 * rate or held.size < 2 * rate:
            print(f"skip {row['speaker']}: too short to split")
            continue
        profile = engine.enroll(ref, rate)
        target = encoder.embed(held, rate)
        text = " ".join(english[(i + k) % len(english)] for k in (3, 11, 17))
        scores = {}
        for variant in variants:
            audio = engine.generate(text, variant_profile(engine, profile, variant), language="en-us")
            scores[variant] = round(float(encoder.embed(audio, engine.sample_rate) @ target), 4)
        rows.append(
            {
                "speaker": row["speaker"],
                "gender": row["gender"],
                "pitch": profile.meta.get("pitch_factor"),
                **scores,
            }
        )
        print(row["speaker"], row["gender"], scores, flush=True)

    summary = {}
    for variant in variants:
        summary[variant] = {"all": round(float(np.mean([r[variant] for r in rows])), 4)}
        for g in ("M", "F"):
            summary[variant][g] = round(float(np.mean([r[variant] for r in rows if r["gender"] == g])), 4)
    result = {
        "metric": "d-vector cosine, clone vs held-out part of the same utterance",
        "speakers": len(rows),
        "summary": summary,
        "per_speaker": rows,
        "seconds": round(time.perf_counter() - started, 1),
        "command": "python bench/cloning_dev.py " + " ".join(sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
