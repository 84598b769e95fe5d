"""Streaming DAC decode: overlapping windows concatenate to the whole-utterance decode, seamlessly."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the DAC codec needs torch; run .ci/outetts.sh")

from outetts_fixtures import TINY_DAC_KWARGS, speech_like, tiny_dac  # noqa: E402

from voxclone.engines.outetts.dac import DAC, load_dac, save_dac  # noqa: E402
from voxclone.engines.outetts.streaming import StreamingDecoder  # noqa: E402


@pytest.fixture(scope="module")
def codec() -> DAC:
    model = tiny_dac()
    assert isinstance(model, DAC)
    return model


def _stream(codec: DAC, codes: np.ndarray, **kw: int) -> list[np.ndarray]:
    dec = StreamingDecoder(decode=codec.decode, hop=codec.hop_length, **kw)
    chunks = [c for f in range(codes.shape[1]) if (c := dec.push(codes[:, f])) is not None]
    return [*chunks, dec.flush()]


def test_codec_shapes_and_checkpoint_round_trip(codec: DAC, tmp_path) -> None:
    audio = speech_like(1.0)
    codes = codec.encode(audio)
    assert codes.shape == (2, 75) and codes.min() >= 0 and codes.max() < 1024
    out = codec.decode(codes)
    assert out.dtype == np.float32 and abs(out.size - 75 * 320) < 320
    save_dac(codec, tmp_path / "dac.pth", kwargs=TINY_DAC_KWARGS)
    again = load_dac(tmp_path / "dac.pth")
    np.testing.assert_array_equal(again.encode(audio), codes)
    np.testing.assert_allclose(again.decode(codes), out, atol=1e-5)


@pytest.mark.parametrize(("frames", "chunk"), [(160, 25), (97, 10), (30, 25), (5, 25)])
def test_streamed_concat_matches_whole_decode(codec: DAC, frames: int, chunk: int) -> None:
    codes = np.random.default_rng(frames).integers(0, 1024, (2, frames))
    whole = codec.decode(codes)
    chunks = _stream(codec, codes, chunk_frames=chunk)
    streamed = np.concatenate(chunks)
    assert streamed.shape == whole.shape
    assert np.abs(whole).max() > 0.01  # the random codec produces signal, not silence
    np.testing.assert_allclose(streamed, whole, atol=2e-3 * np.abs(whole).max())
    if frames >= 97:
        assert len(chunks) >= 3  # audio really arrived in pieces before the end


def test_joins_have_no_seam_even_with_short_context(codec: DAC) -> None:
    codes = np.random.default_rng(9).integers(0, 1024, (2, 120))
    whole = codec.decode(codes)
    streamed = np.concatenate(_stream(codec, codes, chunk_frames=20, context_frames=2))
    # too little context makes window edges differ; the crossfade keeps the joins continuous
    jumps = np.abs(np.diff(streamed))
    assert jumps.max() <= 1.5 * np.abs(np.diff(whole)).max() + 1e-3
