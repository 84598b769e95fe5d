"""Speaker-profile features and JSON: behaviour, and conformance with outetts' own audio processor."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from outetts_fixtures import speech_like
from outetts_reference import load

from voxclone.engines.outetts.features import extract_features, normalize_loudness
from voxclone.engines.outetts.speaker import (
    Word,
    build_speaker,
    profile_to_speaker,
    speaker_to_profile,
)
from voxclone.errors import Unprocessable
from voxclone.voices.profile import VoiceProfile

SR = 24000
WORDS = [Word("The", 0.31, 0.52), Word("quick", 0.52, 0.9), Word("brown", 0.95, 1.4), Word("fox.", 1.41, 2.2)]


def _codes(frames: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 1024, (2, frames))


def test_features_are_ints_in_range_and_track_the_signal() -> None:
    t = np.arange(SR) / SR
    low = (0.3 * np.sin(2 * np.pi * 250 * t)).astype(np.float32)
    high = (0.3 * np.sin(2 * np.pi * 400 * t)).astype(np.float32)
    f_low, f_high = extract_features(low, SR), extract_features(high, SR)
    for f in (f_low, f_high):
        assert set(f) == {"energy", "spectral_centroid", "pitch"}
        assert all(isinstance(v, int) and 0 <= v <= 100 for v in f.values())
    assert f_low["energy"] == round(0.3 / np.sqrt(2) * 100)
    assert f_high["pitch"] > f_low["pitch"] > 0
    assert f_high["spectral_centroid"] > f_low["spectral_centroid"]
    assert extract_features(np.zeros(0, np.float32), SR) == {"energy": 0, "spectral_centroid": 0, "pitch": 0}


def test_loudness_normalisation_hits_target() -> None:
    import pyloudnorm as pyln

    x = speech_like(3.0) * 0.05
    y = normalize_loudness(x, SR)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert abs(pyln.Meter(SR).integrated_loudness(y.astype(np.float64)) + 18.0) < 0.5
    assert np.abs(y).max() <= 10 ** (-1 / 20) + 1e-6


def test_word_slicing_matches_outetts_rules() -> None:
    audio = speech_like(2.5)
    codes = _codes(188)
    sp = build_speaker(audio=audio, sample_rate=SR, text="The quick brown fox.", words=WORDS, codes=codes)
    starts = [max(0, int(0.31 * 75) - 20), int(0.52 * 75), int(0.9 * 75), int(1.4 * 75)]
    ends = [int(0.52 * 75), int(0.9 * 75), int(1.4 * 75), min(188, int(2.2 * 75) + 20)]
    for w, a, b in zip(sp["words"], starts, ends, strict=True):
        assert w["c1"] == codes[0, a:b].tolist() and w["c2"] == codes[1, a:b].tolist()
        assert w["duration"] == round((b - a) / 75, 2)
    assert [w["word"] for w in sp["words"]] == ["The", "quick", "brown", "fox."]


def test_profile_round_trip_and_rejections() -> None:
    sp = build_speaker(
        audio=speech_like(2.5), sample_rate=SR, text="The quick brown fox.", words=WORDS, codes=_codes(188)
    )
    prof = VoiceProfile.from_bytes(speaker_to_profile(sp, meta={"source": "test"}).to_bytes())
    assert prof.engine == "outetts" and prof.version == 1 and prof.meta["words"] == 4
    assert profile_to_speaker(prof) == json.loads(json.dumps(sp))
    with pytest.raises(Unprocessable):
        profile_to_speaker(VoiceProfile(engine="kokoro", version=1, tensors={}))
    bad = VoiceProfile(
        engine="outetts", version=1, tensors={"speaker_json": np.frombuffer(b'{"x":1}', np.uint8)}
    )
    with pytest.raises(Unprocessable):
        profile_to_speaker(bad)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_match_outetts(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch", reason="outetts' feature code runs on torch")
    pytest.importorskip("loguru", reason="outetts' audio processor imports loguru")
    ap = load("version.v3.audio_processor", monkeypatch)
    ref = ap.Features("cpu")
    audio = speech_like(2.0, seed=seed) * (0.5 + seed)
    for a, b in ((0, SR * 2), (1234, 1234 + 9000), (5000, 5000 + 300), (0, 0)):
        seg = audio[a:b]
        expected = ref.extract_audio_features(torch.from_numpy(seg.copy())[None], SR)
        assert extract_features(seg, SR) == expected


def test_speaker_json_matches_outetts(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch", reason="outetts' audio processor runs on torch")
    pytest.importorskip("loguru", reason="outetts' audio processor imports loguru")
    ap = load("version.v3.audio_processor", monkeypatch)
    audio = speech_like(2.5, seed=4)
    codes = _codes(188)

    class FixedCodec:  # outetts' DAC wrapper, reduced to returning known codes for known audio
        sr = SR

        def load_audio(self, _data: io.BytesIO) -> object:
            return torch.from_numpy(audio.copy())[None, None]

        def encode(self, _x: object, verbose: bool = False) -> object:
            return torch.from_numpy(codes)[None]

    proc = ap.AudioProcessor.__new__(ap.AudioProcessor)
    proc.device = torch.device("cpu")
    proc.features = ap.Features("cpu")
    proc.audio_codec = FixedCodec()
    words = [{"word": w.word, "start": w.start, "end": w.end} for w in WORDS]
    expected = proc.create_speaker_from_dict(
        {"audio": {"bytes": b""}, "text": "The quick brown fox.", "words": words}
    )
    ours = build_speaker(audio=audio, sample_rate=SR, text="The quick brown fox.", words=WORDS, codes=codes)
    assert json.dumps(ours) == json.dumps(expected)
