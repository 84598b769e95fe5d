"""Helpers of the server benchmarks (``bench/api_load.py``, ``bench/realtime_ws.py``): start a real
``voxclone serve`` on loopback, describe the machine, time streams as a listener hears them."""

from __future__ import annotations

import csv
import io
import math
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RATE = 24000  # PCM from the server: 24 kHz, signed 16-bit little-endian, mono
BYTES_PER_S = 2 * RATE
LIGHT_ROUTES = ("/api/v1/health", "/api/v1/voices", "/api/v1/account")
FALLBACK = [
    "The morning train was late again, so she read the whole newspaper on the platform.",
    "Please remember to water the tomatoes before the sun gets too hot this afternoon.",
    "He opened the old wooden box and found a bundle of letters tied with a red ribbon.",
    "Our quarterly revenue grew by twelve percent, mostly thanks to the new subscription plan.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_shared(explicit: Path | None = None) -> Path | None:
    """The shared data folder: ``explicit``, else ``../shared`` of the checkout or of its parent
    (a git worktree lives one level deeper)."""
    for cand in (explicit, ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if cand is not None and (cand / "data").is_dir():
            return cand
    return None


def sentences(shared: Path | None) -> list[str]:
    path = shared / "data" / "text" / "sentences-dev.tsv" if shared else None
    if path is not None and path.is_file():
        rows = [line.split("\t", 1) for line in path.read_text().splitlines()[1:]]
        english = [text for lang, text in rows if lang == "en"]
        if english:
            return english
    return FALLBACK


def _env(data_dir: Path, workers: int | None = None, onnx_threads: int | None = None) -> dict[str, str]:
    env = {**os.environ, "VOXCLONE_DATA_DIR": str(data_dir)}
    for name in ("VOXCLONE_DATABASE_URL", "VOXCLONE_SYNTHESIS_WORKERS", "VOXCLONE_ONNX_THREADS"):
        env.pop(name, None)
    if workers:
        env["VOXCLONE_SYNTHESIS_WORKERS"] = str(workers)
    if onnx_threads:
        env["VOXCLONE_ONNX_THREADS"] = str(onnx_threads)
    return env


def create_key(data_dir: Path, account: str, credits: int = 100000) -> str:
    """A new key of ``account`` (created if needed) in ``data_dir``, via ``voxclone admin create-key``."""
    cmd = [sys.executable, "-m", "voxclone.cli", "admin", "create-key", "--data-dir", str(data_dir)]
    cmd += ["--credits", str(credits), "--account", account]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=_env(data_dir))
    return out.stdout.strip().splitlines()[-1]


def start_server(
    data_dir: Path, port: int, workers: int | None = None, onnx_threads: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``voxclone serve`` on ``127.0.0.1:port`` with a fresh key of account ``bench`` (100,000
    credits); returns when healthy. ``workers``/``onnx_threads`` go to ``VOXCLONE_SYNTHESIS_WORKERS``
    and ``VOXCLONE_ONNX_THREADS``."""
    cli = [sys.executable, "-m", "voxclone.cli"]
    env = _env(data_dir, workers, onnx_threads)
    key = create_key(data_dir, "bench")
    cmd = [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    proc = subprocess.Popen([*cmd, "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL)
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


def cpu_info() -> dict[str, Any]:
    """CPU model and flags from ``lscpu`` (the int8 kernels depend on them), Python, platform."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return info
    fields = {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in text.splitlines())}
    info["model"] = fields.get("Model name", "")
    info["flags"] = fields.get("Flags", "").split()
    return info


def has_vnni(machine: dict[str, Any]) -> bool:
    return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & set(machine.get("flags", [])))


def pct(values: list[float], q: float, scale: float = 1.0, digits: int = 3) -> float | None:
    """The ``q`` quantile (nearest rank) of ``values`` times ``scale``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered) - 1e-9) - 1))
    return round(ordered[rank] * scale, digits)


def player(arrivals: list[tuple[float, int]]) -> tuple[float | None, float, float]:
    """(first audio s, stall s, audio s) of a real-time player fed PCM chunks ``(arrival s, bytes)``:
    it starts at the first audio and waits whenever its buffer is empty."""
    first: float | None = None
    played_until = stall = 0.0
    total = 0
    for at, size in arrivals:
        if size <= 0:
            continue
        if first is None:
            first = played_until = at
        stall += max(0.0, at - played_until)
        played_until = max(played_until, at) + size / BYTES_PER_S
        total += size
    return first, stall, total / BYTES_PER_S


def stream_once(
    client: httpx.Client, body: dict[str, Any], started: threading.Event | None = None
) -> dict[str, Any]:
    """One ``POST /api/v1/tts_stream`` (``body`` asks for PCM), timed as a listener hears it;
    ``started`` is set at the first audio or the refusal."""
    started = started or threading.Event()
    t0 = time.monotonic()
    arrivals: list[tuple[float, int]] = []
    row: dict[str, Any] = {"start": t0}
    try:
        with client.stream("POST", "/api/v1/tts_stream", json=body) as r:
            row["status"] = r.status_code
            if r.status_code != 200:
                r.read()
                row["answer_s"] = round(time.monotonic() - t0, 4)
                row["retry_after"] = r.headers.get("retry-after")
                try:
                    row["code"] = r.json().get("code")
                except ValueError:
                    row["code"] = r.text[:80]
                row["end"] = time.monotonic()
                started.set()
                return row
            for chunk in r.iter_bytes():
                arrivals.append((time.monotonic() - t0, len(chunk)))
                started.set()
    except httpx.HTTPError as e:
        row["status"] = row.get("status") or 0
        row["error"] = f"{type(e).__name__}: {e}"[:160]
    started.set()
    row["end"] = time.monotonic()
    first, stall, audio = player(arrivals)
    row.update(
        first_audio_s=first, stall_s=stall, audio_s=audio, total_s=row["end"] - t0, reads=len(arrivals)
    )
    return row


class LightSampler:
    """A thread timing the non-synthesis routes (health, voices, account) in turn until stopped."""

    def __init__(self, base: str, key: str, interval: float = 0.05):
        self.base, self.key, self.interval = base, key, interval
        self.samples: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as client:
            i = 0
            while not self._stop.is_set():
                start = time.monotonic()
                try:
                    r = client.get(LIGHT_ROUTES[i % len(LIGHT_ROUTES)])
                    if r.status_code == 200:
                        self.samples.append(time.monotonic() - start)
                    else:
                        self.failures.append(str(r.status_code))
                except httpx.HTTPError as e:
                    self.failures.append(type(e).__name__)
                i += 1
                self._stop.wait(self.interval)

    def __enter__(self) -> LightSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def summary(self) -> dict[str, Any]:
        return {
            "samples": len(self.samples),
            "failures": len(self.failures),
            **{f"p{q}_ms": pct(self.samples, q / 100, 1000, 2) for q in (50, 95, 99)},
        }


def reference_wav(shared: Path | None, seconds: float = 10.0) -> bytes | None:
    """``seconds`` of one LibriSpeech speaker from ``shared/data/speech-dev`` as 16-bit WAV bytes
    or ``None`` without that data."""
    base = shared / "data" / "speech-dev" if shared else None
    if base is None or not (base / "index.tsv").is_file():
        return None
    import numpy as np
    import soundfile as sf

    with open(base / "index.tsv") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["file"].startswith("speakers/")]
    if not rows:
        return None
    parts, sr = [], 16000
    for row in (r for r in rows if r["speaker"] == rows[0]["speaker"]):
        audio, sr = sf.read(base / row["file"], dtype="float32")
        parts.append(audio)
        if sum(len(p) for p in parts) >= seconds * sr:
            break
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(parts)[: int(seconds * sr)], sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()
