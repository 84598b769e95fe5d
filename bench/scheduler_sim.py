"""Listeners arriving together, through the real synthesis pool, with chunk compute simulated.

The pool (:class:`voxclone.service.pool.SynthesisPool`: admission, deadlines, fair share) runs as
in the server; only the engine is replaced by a sleep per chunk. The chunks are the streamed
paragraph of ``bench/engine.py`` as the Kokoro engine cuts it (audio kept per chunk, and audio
rendered with its padding), and a chunk takes ``rendered seconds × k`` wall seconds: ``k`` = 0.175
is the AMX Xeon on OpenVINO (capacity C ≈ 4.6 real-time streams), 0.36 the AVX-512/VNNI EPYC on
ONNX Runtime (C ≈ 2.2). Every listener has its own account and, when refused, retries after the
``Retry-After`` it was given. Per listener: refusals, first audio (seconds from the burst) and the
stall a real-time player would hear (% of its audio). It shows what admission and scheduling do
with a burst on machines this project has no access to; it does not measure the engine::

    python bench/scheduler_sim.py [--k 0.08,0.175,0.36] [--listeners 4,8] [--variants rule,off] [--out …]

``off`` is the pool without the start rule (capacity admission only), as it was before the rule.

Writes ``bench/results/scheduler_sim.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _loadlib import BYTES_PER_S, cpu_info, player
from voxclone.errors import Overloaded
from voxclone.service.pool import SynthesisPool
from voxclone.service.scheduling import Kind

ROOT = Path(__file__).resolve().parents[1]
# the streamed paragraph's chunks on the Kokoro engine: audio kept, and audio rendered (with the
# leading pad and trailing silence that are trimmed), seconds
KEPT = (1.09, 1.32, 3.11, 2.75, 9.10, 1.51)
RENDERED = (1.85, 2.15, 3.80, 3.73, 9.82, 2.10)


def _chunks(k: float) -> Iterator[float]:
    for kept, rendered in zip(KEPT, RENDERED, strict=True):
        time.sleep(rendered * k)
        yield kept


async def _listener(pool: SynthesisPool, i: int, k: float, t0: float) -> dict[str, Any]:
    refused = 0
    while True:
        try:
            slot = pool.reserve(kind=Kind.STREAM, account=f"listener-{i}", audio_s=sum(KEPT))
            break
        except Overloaded as e:
            refused += 1
            await asyncio.sleep(e.retry_after)
    arrivals = [  # as PCM reads, for the same real-time player api_load.py uses
        (time.perf_counter() - t0, round(audio_s * BYTES_PER_S))
        async for audio_s in pool.iterate(slot, lambda: _chunks(k), seconds=float)
    ]
    first, stall, audio = player(arrivals)
    return {
        "refused": refused,
        "first_audio_s": round(first or 0.0, 2),
        "stall_pct_of_audio": round(stall / audio * 100, 1),
    }


class _NoStartRule(SynthesisPool):
    """The pool as it was before the start rule: capacity admission only."""

    def _check_start(self) -> None:
        return None


async def _burst(k: float, listeners: int, *, variant: str = "rule") -> dict[str, Any]:
    pool = (_NoStartRule if variant == "off" else SynthesisPool)(workers=1, queue_size=16)
    try:
        for n, (kept, rendered) in enumerate(zip(KEPT, RENDERED, strict=True)):  # as learned by a server
            pool.throughput.record(audio_s=kept, wall_s=rendered * k, first=n == 0)
        capacity = pool.stream_capacity()
        t0 = time.perf_counter()
        results = await asyncio.gather(*(_listener(pool, i, k, t0) for i in range(listeners)))
    finally:
        pool.close()
    return {
        "variant": variant,
        "k": k,
        "capacity_C": round(capacity or 0.0, 2),
        "listeners": listeners,
        "per_listener": results,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", default="0.08,0.175,0.36", help="wall seconds per rendered audio second")
    ap.add_argument("--listeners", default="4,8", help="listeners arriving together")
    ap.add_argument("--variants", default="rule,off", help="rule: as shipped; off: without the start rule")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/scheduler_sim.json")
    args = ap.parse_args()
    runs = []
    for variant in args.variants.split(","):
        for k in (float(v) for v in args.k.split(",")):
            for n in (int(v) for v in args.listeners.split(",")):
                run = asyncio.run(_burst(k, n, variant=variant))
                print(json.dumps(run))
                runs.append(run)
    result = {"benchmark": "scheduler_sim", "machine": cpu_info(), "runs": runs}
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
