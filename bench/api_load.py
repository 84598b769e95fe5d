"""Load test of the real server: N listeners asking at once for a streamed paragraph (issue 17).

Starts ``voxclone serve`` on a free loopback port with a fresh data folder and key, then for each
level N of ``--streams``: N clients released together (a barrier) each stream one English paragraph
(``POST /api/v1/tts_stream``, PCM 24 kHz s16le mono, text and voice varied per client) while another
thread times the non-synthesis routes (health, voices, account). Per stream: admitted or refused
(503 ``server_busy``, and how fast), first audio, and the stall a real-time player would hear (it
starts at the first audio and waits whenever its buffer is empty, simulated from the arrival time
and size of every chunk). Per level: first-audio p50/p95 of admitted streams, stall per stream
(seconds and % of its audio), aggregate audio seconds per wall second, 503s, errors, non-synthesis
latency p50/p95/p99. The machine's capacity C (real-time streams = 1 / single-stream real-time
factor) is measured at N=1 in the same run, and the issue's targets are evaluated against it.
Then clone creation (``POST /api/v1/voice-clones``, 10 s reference): idle, and while
``--load-streams`` streams play. ``--workers``/``--onnx-threads`` set the server's thread layout
(``VOXCLONE_SYNTHESIS_WORKERS``/``VOXCLONE_ONNX_THREADS``), to compare one job with 2 threads
against two single-thread jobs. Each listener has its own account (``--accounts one`` puts them on
one); clones are made by another account::

    python bench/api_load.py --streams 1,2,4,8
    python bench/api_load.py --streams 1,2,4,8 --workers 2 --onnx-threads 1 --out /tmp/2x1.json

Writes ``bench/results/api_load.json`` (``--out``). Only loopback traffic; every request has a timeout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from _loadlib import (
    LIGHT_ROUTES,
    ROOT,
    LightSampler,
    cpu_info,
    create_key,
    find_shared,
    free_port,
    has_vnni,
    pct,
    reference_wav,
    sentences,
    start_server,
    stream_once,
)

HEADROOM = 0.9  # share of C the server may admit (the issue's ⌊0.9·C⌋)
TARGETS = {
    "first_audio_p95_s": 1.0,
    "stall_pct_of_audio": 2.0,
    "refusal_s": 0.2,
    "non_synthesis_p99_ms": 50.0,
    "first_audio_1_stream_s": {"vnni": 0.4, "avx2_only": 0.8},
    "clone_idle_s": 1.0,
    "clone_under_4_streams_s": 1.5,
}


def _paragraph(pool: list[str], k: int, seed: int) -> str:
    return " ".join(random.Random(seed).sample(pool, min(k, len(pool))))


def _bodies(n: int, pool: list[str], k: int, voices: list[str], seed: int) -> list[dict[str, Any]]:
    return [
        {
            "text": _paragraph(pool, k, seed * 100 + i),
            "voice_id": voices[(seed + i) % len(voices)],
            "response_format": "pcm",
        }
        for i in range(n)
    ]


def _start_streams(
    base: str, keys: list[str], bodies: list[dict[str, Any]], timeout: float
) -> tuple[list[threading.Thread], list[dict[str, Any]], list[threading.Event]]:
    """One thread per body (client ``i`` uses ``keys[i % len(keys)]``); all send their request
    together (a barrier) once connected."""
    barrier = threading.Barrier(len(bodies))
    rows: list[dict[str, Any]] = [{} for _ in bodies]
    started = [threading.Event() for _ in bodies]

    def client(i: int) -> None:
        headers = {"Authorization": f"Bearer {keys[i % len(keys)]}"}
        try:
            with httpx.Client(base_url=base, headers=headers, timeout=timeout) as c:
                c.get("/api/v1/health")  # connect before the barrier
                barrier.wait(timeout=60)
                rows[i] = stream_once(c, bodies[i], started[i])
        except (httpx.HTTPError, threading.BrokenBarrierError) as e:
            rows[i] = {"status": 0, "error": f"{type(e).__name__}: {e}"[:160]}
            started[i].set()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(bodies))]
    for t in threads:
        t.start()
    return threads, rows, started


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    admitted = [r for r in rows if r.get("status") == 200 and "error" not in r]
    refused = [r for r in rows if r.get("status") == 503 and r.get("code") == "server_busy"]
    errors = [r for r in rows if r not in admitted and r not in refused]
    first = [r["first_audio_s"] for r in admitted if r["first_audio_s"] is not None]
    stalls = [r["stall_s"] for r in admitted]
    stall_pct = [100 * r["stall_s"] / r["audio_s"] if r["audio_s"] else 100.0 for r in admitted]
    audio = sum(r["audio_s"] for r in admitted)
    timed = [r for r in rows if "start" in r and "end" in r]
    wall = max(r["end"] for r in timed) - min(r["start"] for r in timed) if timed else 0.0
    return {
        "streams_asked": len(rows),
        "admitted": len(admitted),
        "refused_503": len(refused),
        "errors": len(errors),
        "error_samples": [r.get("error") or f"{r.get('status')} {r.get('code')}" for r in errors][:5],
        "first_audio_s": {"p50": pct(first, 0.5), "p95": pct(first, 0.95), "max": pct(first, 1.0)},
        "stall_s": {"per_stream": [_r(s) for s in stalls], "max": _r(max(stalls, default=None))},
        "stall_pct_of_audio": {
            "per_stream": [_r(p, 2) for p in stall_pct],
            "max": _r(max(stall_pct, default=None), 2),
        },
        "refusal_s": {
            "per_refusal": [r["answer_s"] for r in refused],
            "max": max((r["answer_s"] for r in refused), default=None),
        },
        "retry_after_s": [r.get("retry_after") for r in refused],
        "audio_s": round(audio, 2),
        "wall_s": round(wall, 3),
        "aggregate_audio_s_per_wall_s": round(audio / wall, 3) if wall > 0 else None,
        "streams": [
            {k: _r(v) if isinstance(v, float) else v for k, v in r.items() if k not in ("start", "end")}
            for r in rows
        ],
    }


def _level_targets(level: dict[str, Any], capacity: float | None) -> dict[str, Any]:
    n = level["streams_asked"]
    need = min(n, math.floor(HEADROOM * capacity)) if capacity else None
    p95, p99 = level["first_audio_s"]["p95"], level["non_synthesis"]["p99_ms"]
    stall_max, refusal_max = level["stall_pct_of_audio"]["max"], level["refusal_s"]["max"]
    return {
        "admitted_at_least": need,
        "admitted_ok": None if need is None else level["admitted"] >= need,
        "first_audio_p95_ok": None if p95 is None else p95 <= TARGETS["first_audio_p95_s"],
        "stall_ok": None if stall_max is None else stall_max <= TARGETS["stall_pct_of_audio"],
        "refusals_fast_ok": True if refusal_max is None else refusal_max <= TARGETS["refusal_s"],
        "non_synthesis_p99_ok": None if p99 is None else p99 <= TARGETS["non_synthesis_p99_ms"],
        "no_errors": level["errors"] == 0,
    }


def _post_clone(client: httpx.Client, ref: bytes, name: str) -> dict[str, Any]:
    t = time.monotonic()
    try:
        r = client.post(
            "/api/v1/voice-clones", files={"audio": ("ref.wav", ref, "audio/wav")}, data={"name": name}
        )
    except httpx.HTTPError as e:
        return {"status": 0, "error": f"{type(e).__name__}: {e}"[:160]}
    row: dict[str, Any] = {"status": r.status_code, "wall_s": round(time.monotonic() - t, 3)}
    if r.status_code in (200, 201):
        data = r.json().get("data", {})
        row.update(voice_id=data.get("voice_id"), similarity_status=data.get("similarity_status"))
    else:
        row["error"] = r.text[:160]
    return row


def _await_selfcheck(client: httpx.Client, voice_id: str | None, timeout: float = 120) -> float | None:
    """Seconds until the clone's self-check is no longer pending (``None``: still pending)."""
    t = time.monotonic()
    while voice_id and time.monotonic() - t < timeout:
        status = (
            client.get(f"/api/v1/voice-clones/{voice_id}").json().get("data", {}).get("similarity_status")
        )
        if status != "pending":
            return round(time.monotonic() - t, 2)
        time.sleep(0.25)
    return None


def _clones(
    base: str, keys: dict[str, list[str]], ref: bytes, args: argparse.Namespace, load: list[dict[str, Any]]
) -> dict[str, Any]:
    """Clone creation by account ``cloner``: idle (each after the previous self-check ended), then
    while ``load`` streams (the listeners' accounts) play."""
    headers = {"Authorization": f"Bearer {keys['cloner'][0]}"}
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, headers=headers, timeout=args.timeout) as c:
        cold = _post_clone(c, ref, "warm-up")  # the first clone loads lazy parts (VAD, encoder)
        _await_selfcheck(c, cold.get("voice_id"))
        out["first_clone_cold"] = cold
        idle = []
        for i in range(args.clones):
            row = _post_clone(c, ref, f"idle {i}")
            row["self_check_done_after_s"] = _await_selfcheck(c, row.get("voice_id"))
            idle.append(row)
        out["idle"] = idle
        threads, rows, started = _start_streams(base, keys["listeners"], load, args.timeout)
        for e in started:
            e.wait(timeout=args.timeout)
        busy = []
        for i in range(args.clones):
            playing = sum(t.is_alive() for t in threads)
            if not playing:
                break
            row = _post_clone(c, ref, f"busy {i}")
            busy.append(
                {
                    **row,
                    "streams_playing_before": playing,
                    "streams_playing_after": sum(t.is_alive() for t in threads),
                }
            )
        for t in threads:
            t.join(timeout=args.timeout + 60)
        load_summary = _summary(rows)
        out["under_streams"] = {
            "streams_asked": len(load),
            "streams_admitted": load_summary["admitted"],
            "stream_errors": load_summary["errors"],
            "posts": busy,
        }
    return out


def _idle_light(base: str, key: str, n: int = 60) -> dict[str, Any]:
    with LightSampler(base, key, interval=0.02) as light:
        while len(light.samples) + len(light.failures) < n:
            time.sleep(0.05)
    return light.summary()


def _targets(
    results: dict[str, Any], capacity: float | None, machine: dict[str, Any], clones: dict[str, Any]
) -> dict[str, Any]:
    """The issue's targets as booleans (``None``: not measurable in this run)."""
    out: dict[str, Any] = {"capacity_C": _r(capacity), "headroom": HEADROOM, "thresholds": TARGETS}
    out["levels"] = {n: _level_targets(lv, capacity) for n, lv in results.items()}
    first1 = results.get("1", {}).get("first_audio_s", {}).get("p50")
    limit1 = TARGETS["first_audio_1_stream_s"]["vnni" if has_vnni(machine) else "avx2_only"]  # type: ignore[index]
    out["first_audio_1_stream_ok"] = None if first1 is None else first1 <= limit1
    single = results.get("1", {}).get("aggregate_audio_s_per_wall_s")
    floor_c = max(1, math.floor(HEADROOM * capacity)) if capacity else None
    saturated = [lv for n, lv in results.items() if floor_c and int(n) >= floor_c]
    out["aggregate_at_saturation_ok"] = (
        all((lv["aggregate_audio_s_per_wall_s"] or 0) >= single for lv in saturated)
        if saturated and single
        else None
    )
    idle = [r.get("wall_s", 1e9) <= TARGETS["clone_idle_s"] for r in clones["idle"]]
    limit = TARGETS["clone_under_4_streams_s"]
    busy = [r.get("wall_s", 1e9) <= limit for r in clones["under_streams"]["posts"]]
    out["clone_idle_ok"] = all(idle) if idle else None
    out["clone_under_streams_ok"] = all(busy) if busy else None
    flat = [
        v for lv in out["levels"].values() for k, v in lv.items() if k.endswith("_ok") or k == "no_errors"
    ]
    flat += [v for k, v in out.items() if k.endswith("_ok")]
    out["all_met"] = all(v is not False for v in flat)
    return out


def _levels(
    base: str, key: str, keys: list[str], levels: list[int], pool: list[str], voices: list[str], args: Any
) -> tuple[dict[str, Any], float | None]:
    """Each level's summary, and C = 1 / real-time factor of the one stream of level 1."""
    results: dict[str, Any] = {}
    capacity: float | None = None
    for n in levels:
        bodies = _bodies(n, pool, args.paragraph_sentences, voices, n)
        with LightSampler(base, key, args.interval) as light:
            threads, rows, _ = _start_streams(base, keys, bodies, args.timeout)
            for t in threads:
                t.join(timeout=args.timeout + 60)
        level = _summary(rows)
        level["non_synthesis"] = light.summary()
        one = level["streams"][0]
        if n == 1 and level["admitted"] == 1 and one["audio_s"]:
            capacity = one["audio_s"] / one["total_s"]  # request to last byte
            level["real_time_factor"] = _r(one["total_s"] / one["audio_s"])
        results[str(n)] = level
        keep = ("admitted", "refused_503", "errors", "first_audio_s", "aggregate_audio_s_per_wall_s")
        print(f"N={n}", json.dumps({k: level[k] for k in keep}), file=sys.stderr)
        time.sleep(1.0)
    return results, capacity


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--streams", default="1,2,4,8", help="levels: streams asked for at once (1 is always run)"
    )
    parser.add_argument(
        "--paragraph-sentences", type=int, default=4, help="sentences per paragraph (default 4)"
    )
    parser.add_argument("--clones", type=int, default=3, help="clones timed idle and under load (default 3)")
    parser.add_argument("--load-streams", type=int, default=4, help="streams playing while clones are made")
    parser.add_argument("--workers", type=int, default=None, help="VOXCLONE_SYNTHESIS_WORKERS (default auto)")
    parser.add_argument("--onnx-threads", type=int, default=None, help="VOXCLONE_ONNX_THREADS (default auto)")
    parser.add_argument("--interval", type=float, default=0.05, help="pause between non-synthesis requests")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one request may take")
    parser.add_argument(
        "--accounts",
        choices=("per-stream", "one"),
        default="per-stream",
        help="one account per listener (default) or all streams on one; clones use another",
    )
    parser.add_argument("--shared", type=Path, default=None, help="shared data folder (default ../shared)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api_load.json")
    args = parser.parse_args(argv)
    levels = sorted({1, *(int(x) for x in args.streams.split(",") if x.strip())})
    shared = find_shared(args.shared)
    pool = sentences(shared)
    machine = cpu_info()
    cpus = os.cpu_count() or 2
    layout = {
        "workers": args.workers or "auto",
        "onnx_threads": args.onnx_threads or "auto",
        "resolved_workers": args.workers or max(1, cpus // 2),  # Settings.resolved_workers
        "resolved_onnx_threads": args.onnx_threads or cpus,  # KokoroModel: 0 = core count
    }
    load_before = os.getloadavg()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    report: dict[str, Any] = {"benchmark": "api_load", "layout": layout}
    with tempfile.TemporaryDirectory(prefix="voxclone-bench-") as tmp:
        listeners = max(max(levels), args.load_streams) if args.accounts == "per-stream" else 1
        keys = {"listeners": [create_key(Path(tmp), f"listener-{i}") for i in range(listeners)]}
        keys["cloner"] = [create_key(Path(tmp), "cloner")]
        proc, key = start_server(Path(tmp), port, args.workers, args.onnx_threads)
        try:
            headers = {"Authorization": f"Bearer {key}"}
            layout["runtime"] = httpx.get(f"{base}/api/v1/health").json()["engine"].get("runtime")
            listed = httpx.get(f"{base}/api/v1/voices", headers=headers).json()["data"]["voices"]
            voices = [v["voice_id"] for v in listed if str(v.get("language", "")).startswith("en")]
            voices = voices or [listed[0]["voice_id"]]
            warm = _bodies(1, ["Warming up the engine."], 1, voices, 0)
            with httpx.Client(base_url=base, headers=headers, timeout=args.timeout) as c:
                report["warm_up"] = {
                    k: _r(v)
                    for k, v in stream_once(c, warm[0]).items()
                    if k in ("status", "first_audio_s", "total_s")
                }
            report["non_synthesis_idle"] = _idle_light(base, key)
            results, capacity = _levels(base, key, keys["listeners"], levels, pool, voices, args)
            ref = reference_wav(shared)
            ref_source = "speech-dev (LibriSpeech), 10 s of one speaker"
            if ref is None:  # no shared data: the server's own speech as the reference
                body = {"text": " ".join(pool[:3]), "voice_id": voices[0], "response_format": "wav"}
                ref = httpx.post(
                    f"{base}/api/v1/tts_non_stream", json=body, headers=headers, timeout=args.timeout
                ).content
                ref_source = f"synthesized by the server ({voices[0]})"
            load = _bodies(args.load_streams, pool, 2 * args.paragraph_sentences, voices, 99)
            clones = _clones(base, keys, ref, args, load)
            clones["reference"] = {"source": ref_source, "bytes": len(ref)}
            print("clones", json.dumps({k: clones[k] for k in ("idle", "under_streams")}), file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=60)

    targets = _targets(results, capacity, machine, clones)
    report.update(
        arguments={
            "streams": levels,
            "paragraph_sentences": args.paragraph_sentences,
            "clones": args.clones,
            "load_streams": args.load_streams,
            "accounts": args.accounts,
            "format": "pcm 24 kHz s16le mono",
            "non_synthesis_routes": list(LIGHT_ROUTES),
        },
        machine={
            **machine,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        targets=targets,
        levels=results,
        clones=clones,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}; targets all met: {targets['all_met']}", file=sys.stderr)
    return 0 if all(lv["errors"] == 0 for lv in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
