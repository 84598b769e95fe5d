"""Kokoro on OpenVINO in bfloat16 against ONNX Runtime's int8 graph: CPU per audio second and WER.

An experiment, not a runtime option (``docs/performance.md``, "Tried and not kept"): on a CPU with
AMX, OpenVINO runs the float form of the graph (``_dequantize.py``: the int8 weights kept exactly,
activations no longer quantised) in bfloat16 at about half the CPU time, but Whisper tiny.en mishears
its speech more often.

Usage::

    pip install openvino
    python bench/openvino_bf16.py [--threads 2] [--voices en-female-1,en-female-2] [--precision bf16]

Writes ``bench/results/openvino_bf16.json``: per runtime, the streamed paragraph of
``bench/engine.py`` (first audio, real-time factor, CPU per audio second, stall), peak memory of
its own process, and the WER of each voice over the 20 English dev lines (needs ``../shared`` and
its eval env). Each runtime runs in a subprocess of its own, so peak memory is that runtime's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _dequantize import dequantize
from _loadlib import cpu_info
from engine import PARAGRAPH, SHARED, _stream_timing, _wer
from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.engines.kokoro.model import KokoroModel
from voxclone.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


class _Port:
    def __init__(self, name: str):
        self.name = name


class OpenVinoSession:
    """An OpenVINO compiled model behind the ``InferenceSession`` calls ``KokoroModel`` makes.

    Thread-safe: each concurrent ``run`` takes an inference request of its own from a pool.
    """

    def __init__(self, compiled: Any):
        self._compiled = compiled
        self._inputs = [_Port(p.get_any_name()) for p in compiled.inputs]
        self._outputs = [_Port(p.get_any_name()) for p in compiled.outputs]
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    @classmethod
    def compile(
        cls, path: Path, *, threads: int, streams: int = 1, precision: str = "bf16"
    ) -> OpenVinoSession:
        import openvino as ov

        config = {
            "INFERENCE_NUM_THREADS": max(1, threads) * max(1, streams),
            "NUM_STREAMS": max(1, streams),
            "INFERENCE_PRECISION_HINT": precision,
        }
        return cls(ov.Core().compile_model(str(path), "CPU", config))

    def get_inputs(self) -> list[_Port]:
        return list(self._inputs)

    def get_outputs(self) -> list[_Port]:
        return list(self._outputs)

    def run(
        self, names: Sequence[str], feed: Mapping[str, np.ndarray], run_options: object = None
    ) -> list[Any]:
        with self._lock:
            request = self._idle.pop() if self._idle else self._compiled.create_infer_request()
        try:
            results = request.infer(dict(feed))
            by_name = {port.get_any_name(): np.array(value) for port, value in results.items()}
        finally:
            with self._lock:
                self._idle.append(request)
        return [by_name[name] for name in names]


def float_model(cache_dir: Path) -> Path:
    """The float form of the cached int8 graph, written next to it once."""
    import onnx

    out = cache_dir / "kokoro-v1.0.float.onnx"
    if not out.exists():
        model = onnx.load(str(assets.model_path(cache_dir)))
        dequantize(model)
        onnx.save(model, str(out))
    return out


def _measure(runtime: str, args: argparse.Namespace, out: Path) -> None:
    """One runtime, in this process: paragraph timings, then WER per voice; JSON to ``out``."""
    cache = Settings(data_dir=Path(tempfile.gettempdir()) / "voxclone-bench").cache_dir()
    start = time.perf_counter()
    if runtime == "openvino":
        session = OpenVinoSession.compile(float_model(cache), threads=args.threads, precision=args.precision)
        model = KokoroModel.from_session(session)
    else:
        model = KokoroModel.from_cache(cache, threads=args.threads)
    engine = KokoroEngine(model)
    engine.warm_up()
    report: dict[str, Any] = {"runtime": runtime, "load_and_warm_up_s": round(time.perf_counter() - start, 2)}
    if runtime == "openvino":
        report["precision"] = args.precision
    runs = [_stream_timing(engine, PARAGRAPH, "en-female-1", "en-us") for _ in range(args.runs)]
    report["paragraph"] = {
        k: round(statistics.median(r[k] for r in runs), 3)
        for k in ("first_audio_s", "rtf", "cpu_per_audio_s", "first_audio_cpu_s", "stall_s")
    }
    report["peak_rss_mb_before_wer"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.eval_python.exists() and (SHARED / "tools/speech_wer.py").exists():
        wer: dict[str, Any] = {}
        with tempfile.TemporaryDirectory() as tmp:
            _wer(engine, args.eval_python, Path(tmp), wer, lambda: None, voice_ids=args.voices.split(","))
        report["wer_number_tolerant"] = {k: v["wer_number_tolerant"] for k, v in wer.items()}
        report["errors"] = {k: v["errors"] for k, v in wer.items()}
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--voices", default="en-female-1,en-female-2,en-female-3,en-female-4")
    ap.add_argument("--precision", default="bf16", help="OpenVINO inference precision hint (bf16, f32)")
    ap.add_argument("--eval-python", type=Path, default=Path("/tmp/eval-venv/bin/python"))
    ap.add_argument("--only", choices=["onnxruntime", "openvino"], help=argparse.SUPPRESS)
    ap.add_argument("--part", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/openvino_bf16.json")
    args = ap.parse_args()
    if args.only:
        _measure(args.only, args, args.part)
        return 0
    report: dict[str, Any] = {"machine": {**cpu_info(), "load_average_1m_at_start": os.getloadavg()[0]}}
    with tempfile.TemporaryDirectory() as tmp:
        for runtime in ("onnxruntime", "openvino"):
            part = Path(tmp) / f"{runtime}.json"
            cmd = [sys.executable, __file__, *sys.argv[1:], "--only", runtime, "--part", str(part)]
            subprocess.run(cmd, check=True)
            report[runtime] = json.loads(part.read_text(encoding="utf-8"))
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(
        json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2, ensure_ascii=False)[:3000]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
