"""Provenance benchmark (issue 19): the consent checks and the watermark in one run; JSON to
``bench/results/provenance.json``.

Runs :func:`consent.evaluate` (``bench/consent.py``: false accepts and false rejects of the word
check and of the speaker check on ``../shared/data/speech-dev``) and :func:`watermark.evaluate`
(``bench/watermark.py``: detection under each attack, false positives on real speech and unmarked
output, WER and identity with and without the mark, cost) and records the CPU (``lscpu`` model name
and flags) once for both. The two benches' options apply; see their module docs.

    PYTHONPATH=src python bench/provenance.py                  # the full run (long: ~1 h on 2 cores)
    PYTHONPATH=src python bench/provenance.py --smoke          # tiny sizes, JSON to the temp folder
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benches, also when imported

import consent  # bench/consent.py
import watermark  # bench/watermark.py

ROOT = Path(__file__).resolve().parent
SMOKE = {
    "voices": 1,
    "per_speaker": 2,
    "strangers": 2,
    "clips": 2,
    "fp_excerpts": 10,
    "unmarked_excerpts": 1,
}
"""Sizes of ``--smoke``: checks that the bench runs end to end, measures nothing."""


def run(args: argparse.Namespace) -> dict[str, Any]:
    start = time.perf_counter()
    result: dict[str, Any] = {"bench": "provenance", "smoke": args.smoke, "cpu": consent.cpu_info()}
    result["consent"] = consent.evaluate_args(args)
    result["watermark"] = watermark.evaluate_args(args)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    consent.add_arguments(parser)
    watermark.add_arguments(parser, clips=100)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; --out defaults to the temp folder")
    parser.add_argument("--out", type=Path, help="default bench/results/provenance.json")
    args = parser.parse_args()
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    out = args.out or (
        Path(tempfile.gettempdir()) / "voxclone-provenance-smoke.json"
        if args.smoke
        else ROOT / "results" / "provenance.json"
    )
    result = run(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
