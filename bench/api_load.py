"""Load test of the real server: N concurrent clients streaming speech for a fixed time.

Starts ``voxclone serve`` as a subprocess on a free loopback port with a fresh data folder,
creates a key with ``voxclone admin create-key``, then runs ``--clients`` threads that each
stream ``POST /api/v1/tts_stream`` back to back until ``--duration`` seconds have passed, while
one more thread samples the latency of the non-synthesis routes (health, voices, account).
Writes ``bench/results/api_load.json``::

    python bench/api_load.py --duration 60 --clients 8

Only loopback traffic; every loop is bounded by the deadline and every request by a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT.parent / "shared" / "data" / "text" / "sentences-dev.tsv"
FALLBACK = [
    "The morning train was late again, so she read the whole newspaper on the platform.",
    "Please remember to water the tomatoes before the sun gets too hot this afternoon.",
    "He opened the old wooden box and found a bundle of letters tied with a red ribbon.",
    "Our quarterly revenue grew by twelve percent, mostly thanks to the new subscription plan.",
]
LIGHT_ROUTES = ("/api/v1/health", "/api/v1/voices", "/api/v1/account")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sentences() -> list[str]:
    if SENTENCES.is_file():
        rows = [line.split("\t", 1) for line in SENTENCES.read_text().splitlines()[1:]]
        english = [text for lang, text in rows if lang == "en"]
        if english:
            return english
    return FALLBACK


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def _start_server(data_dir: Path, port: int, workers: int | None) -> tuple[subprocess.Popen[bytes], str]:
    cli = [sys.executable, "-m", "voxclone.cli"]
    env = {**os.environ, "VOXCLONE_DATA_DIR": str(data_dir)}
    env.pop("VOXCLONE_DATABASE_URL", None)
    out = subprocess.run(
        [
            *cli,
            "admin",
            "create-key",
            "--data-dir",
            str(data_dir),
            "--credits",
            "100000",
            "--account",
            "bench",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    key = out.stdout.strip().splitlines()[-1]
    cmd = [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    cmd += ["--log-level", "warning"]
    if workers:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc, key
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.terminate()
    raise RuntimeError("server did not become healthy in 120 s")


def _stream_client(
    idx: int, base: str, key: str, voices: list[str], texts: list[str], deadline: float, out: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    n = 0
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        while time.monotonic() < deadline:
            body = {"text": texts[(idx + n) % len(texts)], "voice_id": voices[(idx + n) % len(voices)]}
            n += 1
            start = time.monotonic()
            try:
                with client.stream("POST", "/api/v1/tts_stream", json=body) as r:
                    if r.status_code != 200:
                        r.read()
                        out["errors"].append(f"{r.status_code} {r.text[:120]}")
                        continue
                    size = 0
                    first: float | None = None
                    for chunk in r.iter_bytes():
                        if first is None and chunk:
                            first = time.monotonic() - start
                        size += len(chunk)
            except httpx.HTTPError as e:
                out["errors"].append(f"{type(e).__name__}: {e}")
                continue
            out["ttfb"].append(first or 0.0)
            out["latency"].append(time.monotonic() - start)
            out["audio_s"].append(max(0, size - 44) / 2 / 24000)


def _light_client(base: str, key: str, deadline: float, samples: list[float]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        i = 0
        while time.monotonic() < deadline:
            start = time.monotonic()
            r = client.get(LIGHT_ROUTES[i % len(LIGHT_ROUTES)])
            if r.status_code == 200:
                samples.append(time.monotonic() - start)
            i += 1
            time.sleep(0.05)


def _idle_light_latency(base: str, key: str, n: int = 150) -> list[float]:
    samples: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(n):
            start = time.monotonic()
            r = client.get(LIGHT_ROUTES[i % len(LIGHT_ROUTES)])
            if r.status_code == 200:
                samples.append(time.monotonic() - start)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent streaming clients (default 8)")
    parser.add_argument("--workers", type=int, default=None, help="server synthesis workers (default auto)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api_load.json")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="voxclone-bench-") as tmp:
        proc, key = _start_server(Path(tmp), port, args.workers)
        try:
            headers = {"Authorization": f"Bearer {key}"}
            voices = [
                v["voice_id"]
                for v in httpx.get(f"{base}/api/v1/voices", headers=headers).json()["data"]["voices"]
            ]
            texts = _sentences()
            idle_before = _idle_light_latency(base, key)
            results: dict[str, Any] = {"ttfb": [], "latency": [], "audio_s": [], "errors": []}
            light: list[float] = []
            start = time.monotonic()
            deadline = start + args.duration
            threads = [
                threading.Thread(target=_stream_client, args=(i, base, key, voices, texts, deadline, results))
                for i in range(args.clients)
            ]
            threads.append(threading.Thread(target=_light_client, args=(base, key, deadline, light)))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - start
        finally:
            proc.terminate()
            t_stop = time.monotonic()
            proc.wait(timeout=60)
            print(f"server stopped in {time.monotonic() - t_stop:.1f} s", file=sys.stderr)

    report = {
        "clients": args.clients,
        "duration_s": args.duration,
        "wall_s": round(wall, 2),
        "requests_completed": len(results["ttfb"]),
        "errors": len(results["errors"]),
        "error_samples": results["errors"][:5],
        "ttfb_ms": {"p50": _pct(results["ttfb"], 0.5), "p95": _pct(results["ttfb"], 0.95)},
        "request_ms": {"p50": _pct(results["latency"], 0.5), "p95": _pct(results["latency"], 0.95)},
        "audio_seconds": round(sum(results["audio_s"]), 2),
        "audio_seconds_per_wall_second": round(sum(results["audio_s"]) / wall, 3) if wall else None,
        "non_synthesis_ms": {
            "routes": list(LIGHT_ROUTES),
            "p50_idle": _pct(idle_before, 0.5),
            "p95_idle": _pct(idle_before, 0.95),
            "p50_under_load": _pct(light, 0.5),
            "p95_under_load": _pct(light, 0.95),
            "samples_under_load": len(light),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # a 1-minute load average far above the core count means other work shared the CPUs
            "load_average_1m_before": round(load_before[0], 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
        },
        "mean_audio_s_per_request": round(statistics.fmean(results["audio_s"]), 2)
        if results["audio_s"]
        else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if not results["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
