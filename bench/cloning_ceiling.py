#!/usr/bin/env python3
"""Where the cloning ceiling lies: the judge's identity for real speech, altered or converted.

``bench/cloning.py`` scores Kokoro clones. This benchmark asks what the same scorer gives when the
source is *natural* speech instead, to separate what the engine's style lacks from what the
post-synthesis stage can carry:

- ``prosody``: each multi-utterance speaker's own recordings (utterances 2-5), re-synthesised with
  WORLD unchanged (``world``), pitch raised 2 semitones (``f0+2st``), intonation range halved
  (``range0.5``), intonation flattened (``flat``) and slowed 15 % (``slow1.15``). Each altered file
  is listed as its own reference, so the scorer leaves it out of the speaker's centroid.
- ``transfer``: the content-matched envelope transfer applied to recordings of *other* speakers
  of the same gender (utterances 2-3 of each), toward the clone profile enrolled from the
  target's first usable utterance: ``stranger`` (unchanged: the floor), ``default`` (the shipped
  settings) and frame copying (``k=1``, ±26 dB, no smoothing), which is unusable as a product
  (bench/cloning.py ``sharp`` already loses intelligibility) but bounds what the envelope can carry.

Usage::

    python bench/cloning_ceiling.py [--parts prosody,transfer] [--eval-python /tmp/eval-venv/bin/python]

Writes ``bench/results/cloning_ceiling.json``. Needs the scorers' environment
(``bash ../shared/tools/setup-eval-env.sh /tmp/eval-venv``) and pyworld.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from cloning import SHARED, _score, first_usable, judge_speakers  # noqa: E402

Row = dict[str, str]

PROSODY = {  # name: (semitone shift, intonation range factor, time stretch); None = the file as is
    "original": None,
    "world": (0.0, 1.0, 1.0),
    "f0+2st": (2.0, 1.0, 1.0),
    "range0.5": (0.0, 0.5, 1.0),
    "flat": (0.0, 0.0, 1.0),
    "slow1.15": (0.0, 1.0, 1.15),
}


def world_alter(x: np.ndarray, sr: int, shift_st: float, f0_range: float, stretch: float) -> np.ndarray:
    """WORLD re-synthesis with shifted / compressed log-F0 and a frame-repeating time stretch."""
    from voxclone.engines.kokoro.cloning.features import world

    pw = world()
    f0, t = pw.harvest(x, sr, frame_period=5.0)
    sp = pw.cheaptrick(x, f0, t, sr)
    ap = pw.d4c(x, f0, t, sr)
    voiced = f0 > 0
    log_f0 = np.log(f0[voiced])
    mean = log_f0.mean()
    f0[voiced] = np.exp(mean + (log_f0 - mean) * f0_range + shift_st * np.log(2.0) / 12.0)
    if stretch != 1.0:
        pick = np.linspace(0, f0.size - 1, round(f0.size * stretch)).round().astype(int)
        f0, sp, ap = f0[pick], sp[pick], ap[pick]
    out: np.ndarray = pw.synthesize(f0, sp, ap, sr, 5.0)
    return out


def _write(path: Path, audio: np.ndarray, sr: int) -> str:
    """Write ``audio`` (peak limited to 0.99) as WAV; its file name, for the manifest."""
    from voxclone.engines.kokoro.cloning.envelope import limit_peak

    sf.write(str(path), limit_peak(audio), sr)
    return path.name


def prosody_part(speakers: dict[str, list[Row]], data: Path, work: Path) -> dict[str, list[Row]]:
    manifests: dict[str, list[Row]] = {name: [] for name in PROSODY}
    for spk, rows in sorted(speakers.items()):
        for row in rows[1:5]:
            x, sr = sf.read(str(data / row["file"]), dtype="float64")
            for name, alter in PROSODY.items():
                y = x if alter is None else world_alter(x, sr, *alter)
                out = _write(work / f"prosody-{name}-{Path(row['file']).stem}.wav", y, sr)
                manifests[name].append({"speaker": spk, "reference": row["file"], "generated": out})
    return manifests


def transfer_part(speakers: dict[str, list[Row]], data: Path, work: Path) -> dict[str, list[Row]]:
    from voxclone.engines.kokoro.cloning.envelope import DEFAULT_SETTINGS, TransferSettings, transfer
    from voxclone.engines.kokoro.engine import KokoroEngine
    from voxclone.settings import Settings

    engine = KokoroEngine.from_settings(Settings(data_dir=ROOT / "voxclone-data", onnx_threads=2))
    settings: dict[str, TransferSettings | None] = {
        "stranger": None,
        "default": DEFAULT_SETTINGS,
        "copy": TransferSettings(k=1, limit=6.0, smooth_frames=1),
    }
    manifests: dict[str, list[Row]] = {name: [] for name in settings}
    for target, rows in sorted(speakers.items()):
        ref_row, ref, ref_sr = first_usable(data, rows, engine.sample_rate)
        profile = engine.enroll(ref, ref_sr)
        reference = ref_row["file"]
        sources = [s for s in speakers if s != target and speakers[s][0]["gender"] == rows[0]["gender"]]
        for source in sources:
            for row in speakers[source][1:3]:
                x, sr = sf.read(str(data / row["file"]), dtype="float32")
                for name, s in settings.items():
                    y = x if s is None else transfer(x, sr, profile.tensors, s)
                    out = _write(work / f"transfer-{name}-{target}-{Path(row['file']).stem}.wav", y, sr)
                    manifests[name].append({"speaker": target, "reference": reference, "generated": out})
    return manifests


PARTS: dict[str, Callable[[dict[str, list[Row]], Path, Path], dict[str, list[Row]]]] = {
    "prosody": prosody_part,
    "transfer": transfer_part,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--parts", default="prosody,transfer")
    ap.add_argument("--eval-python", default="/tmp/eval-venv/bin/python")
    ap.add_argument("--work", type=Path, help="keep the audio here (default: a temp folder)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cloning_ceiling.json")
    args = ap.parse_args()

    data = args.shared / "data" / "speech-dev"
    speakers = judge_speakers(data)
    work = args.work or Path(tempfile.mkdtemp(prefix="vc-ceiling-"))
    work.mkdir(parents=True, exist_ok=True)

    report: dict[str, dict] = {}
    for part in args.parts.split(","):
        for name, rows in PARTS[part](speakers, data, work).items():
            manifest = work / f"manifest-{part}-{name}.tsv"
            with manifest.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=["speaker", "reference", "generated"], delimiter="\t")
                w.writeheader()
                w.writerows(rows)
            res = _score(
                args,
                "voice_identity.py",
                work / f"identity-{part}-{name}.json",
                "--data",
                data,
                "--manifest",
                manifest,
            )
            report.setdefault(part, {})[name] = {
                enc: {
                    "identity": round(r["identity"], 3),
                    "per_speaker": {s: round(v["identity"], 3) for s, v in r["speakers"].items()},
                }
                for enc, r in res.items()
            }
            summary = {enc: v["identity"] for enc, v in report[part][name].items()}
            print(f"{part} {name}: {summary}", file=sys.stderr, flush=True)
    out = {"parts": report, "command": "python bench/cloning_ceiling.py " + " ".join(sys.argv[1:])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
