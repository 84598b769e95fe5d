"""The transformers backend on a tiny random checkpoint: loading, cache reuse, streamed synthesis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="the transformers backend needs torch; run .ci/outetts.sh")
pytest.importorskip("transformers", reason="transformers is installed by .ci/outetts.sh")

from outetts_fixtures import speech_like, write_tiny_dac, write_tiny_transformers

from voxclone.engines.outetts.engine import OuteTTSEngine
from voxclone.engines.registry import create_engine
from voxclone.settings import Settings


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> OuteTTSEngine:
    d = tmp_path_factory.mktemp("outetts-hf")
    write_tiny_transformers(d)
    write_tiny_dac(d / "weights_24khz_1.5kbps_v1.0.pth")
    eng = create_engine(Settings(engine="outetts", model_path=d, onnx_threads=1))
    assert isinstance(eng, OuteTTSEngine)
    assert type(eng.backend).__name__ == "TransformersBackend"
    eng.max_new_tokens = 300
    return eng


def test_prefix_cache_matches_fresh_forward(engine: OuteTTSEngine) -> None:
    import torch

    backend = engine.backend
    a = backend.tokenize("<|im_start|>\n<|text_start|>hello world<|text_end|>")
    b = backend.tokenize("<|im_start|>\n<|text_start|>hello there, friend<|text_end|>\n<|audio_start|>")
    with backend.lock:
        backend.next_logits(a)
        reused = backend.next_logits(b)
        grown = backend.next_logits([*b, 300])
    with torch.inference_mode():
        model = backend.model  # type: ignore[attr-defined]
        fresh = model(input_ids=torch.tensor([b])).logits[0, -1].numpy()
        fresh_grown = model(input_ids=torch.tensor([[*b, 300]])).logits[0, -1].numpy()
    np.testing.assert_allclose(reused, fresh, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grown, fresh_grown, rtol=1e-4, atol=1e-4)


def test_enroll_and_stream(engine: OuteTTSEngine) -> None:
    voice = engine.enroll_with_transcript(speech_like(2.0), 24000, transcript="A short reference clip.")
    chunks = list(engine.synthesize("Hello there.", voice))
    assert chunks and all(c.dtype == np.float32 and np.abs(c).max() <= 1.0 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), engine.generate("Hello there.", voice))


def test_weights_folder_prefers_gguf(tmp_path: Path) -> None:
    from voxclone.engines.outetts.weights import find_local

    write_tiny_transformers(tmp_path)
    (tmp_path / "weights_24khz_1.5kbps_v1.0.pth").write_bytes(b"")
    files = find_local(tmp_path)
    assert files.gguf is None and files.transformers_dir == tmp_path
    (tmp_path / "m.gguf").write_bytes(b"")
    assert find_local(tmp_path).gguf == tmp_path / "m.gguf"
