"""Uploads that weigh little but decode to gigabytes: memory stays bounded, the answer is clear.

Each case runs in a fresh interpreter so its peak RSS (``ru_maxrss``) is its own, and a decoder
that does allocate gigabytes takes down that child, not the test session.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import remux, silent_flac, wav_bytes

import voxclone
from voxclone.audio.decode import decode_audio
from voxclone.errors import Unprocessable

RSS_GROWTH_LIMIT_MB = 400  # the 8-channel 384 kHz FLAC below took ~5 GB before decoding was bounded

_CHILD = r"""
import json, resource, sys
from pathlib import Path

import numpy as np

from voxclone.audio.decode import decode_audio
from voxclone.audio.intake import ReferenceAnalyzer
from voxclone.errors import ServiceError

def peak_mb():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024

analyzer = ReferenceAnalyzer(check_speakers=False)
try:  # load every lazily imported module and model before measuring
    analyzer.prepare(Path(sys.argv[2]).read_bytes(), target_sample_rate=24000)
except ServiceError:
    pass
data = Path(sys.argv[1]).read_bytes()
before = peak_mb()
decoded = decode_audio(data)
result = {
    "duration_s": decoded.duration_s,
    "sample_rate": decoded.sample_rate,
    "truncated_to_cap": decoded.truncated_to_cap,
    "channels": decoded.channels,
}
del decoded
try:
    analyzer.prepare(data, target_sample_rate=24000)
    result["answer"] = "ok"
except ServiceError as e:
    result["answer"] = [e.status, e.code]
result["rss_growth_mb"] = peak_mb() - before
print(json.dumps(result))
"""


def _lying_wav(*, sample_rate: int, channels: int, claimed_s: float, present_bytes: int) -> bytes:
    """16-bit PCM WAV whose header claims ``claimed_s`` seconds but holds ``present_bytes`` of silence."""
    data_size = min(0xFFFFFFFF - 36, int(claimed_s * sample_rate) * channels * 2)
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16)
    head = b"RIFF" + struct.pack("<I", 36 + data_size) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    return head + b"data" + struct.pack("<I", data_size) + b"\0" * present_bytes


def _run_child(tmp_path: Path, data: bytes) -> dict[str, object]:
    upload, warmup = tmp_path / "upload.bin", tmp_path / "warmup.wav"
    upload.write_bytes(data)
    warmup.write_bytes(wav_bytes(np.zeros(2400, np.float32)))
    src = str(Path(voxclone.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(upload), str(warmup)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def huge_flac() -> bytes:
    """~420 KB: 8 channels, 384 kHz, 125 s of silence (48 M frames, 1.5 GB as float32)."""
    return silent_flac(sample_rate=384_000, channels=8, seconds=125)


@pytest.mark.parametrize("variant", ["flac", "ogg-flac", "wav-claiming-125s", "flac-192k-stereo"])
def test_small_upload_claiming_huge_audio_has_bounded_memory(
    variant: str, huge_flac: bytes, tmp_path: Path
) -> None:
    if variant == "flac":
        data = huge_flac  # libsndfile path
    elif variant == "ogg-flac":
        data = remux(huge_flac, "ogg")  # FFmpeg path
    elif variant == "wav-claiming-125s":  # the upload limit's worth (10 MB) under a header claiming 125 s
        data = _lying_wav(sample_rate=384_000, channels=8, claimed_s=125, present_bytes=10 * 1024 * 1024)
    else:  # few channels: the 120 s cap is reached, resampled to 48 kHz on the way
        data = silent_flac(sample_rate=192_000, channels=2, seconds=125)
    result = _run_child(tmp_path, data)
    assert result["answer"] == [422, "no_speech_detected"], result  # silence: a clear 4xx
    assert result["rss_growth_mb"] < RSS_GROWTH_LIMIT_MB, result
    # the decode is mono at <= 48 kHz and stops at its cap (120 s, less for many channels)
    assert result["sample_rate"] == 48_000, result
    assert 0 < float(result["duration_s"]) <= 120.0, result  # type: ignore[arg-type]
    if variant == "flac-192k-stereo":
        assert result["duration_s"] == 120.0 and result["truncated_to_cap"] is True, result
    elif variant != "wav-claiming-125s":
        assert result["channels"] == 8 and result["truncated_to_cap"] is True, result


def test_high_rate_multichannel_speech_is_mixed_and_resampled() -> None:
    """A 96 kHz 4-channel tone decodes to mono 48 kHz with the right pitch, level and length."""
    import io

    import soundfile as sf

    sr, seconds = 96_000, 2.0
    t = np.arange(int(sr * seconds)) / sr
    tone = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, np.stack([tone] * 4, axis=1), sr, format="FLAC", subtype="PCM_24")
    out = decode_audio(buf.getvalue())
    assert (out.sample_rate, out.source_rate, out.channels, out.audio.ndim) == (48_000, sr, 4, 1)
    assert len(out.audio) == 96_000 and not out.truncated_to_cap
    rms = float(np.sqrt(np.mean(out.audio[4800:-4800] ** 2)))
    assert abs(rms - 0.4 / np.sqrt(2)) < 0.01
    spec = np.abs(np.fft.rfft(out.audio * np.hanning(len(out.audio))))
    assert abs(np.argmax(spec) * 48_000 / len(out.audio) - 440) < 2
    assert -8.5 < out.peak_dbfs < -7.5  # 0.4 peak, measured on the source samples


def test_channel_cap_shortens_the_decode_of_many_channel_files() -> None:
    """Work is bounded by channels x frames: 8 channels at 384 kHz decode at most ~15 s."""
    out = decode_audio(silent_flac(sample_rate=384_000, channels=8, seconds=40))
    assert out.truncated_to_cap and 5.0 < out.duration_s < 40.0


@pytest.mark.parametrize("rate", [2000, 1, 1_000_000_000])
def test_sample_rate_out_of_range_is_named(rate: int) -> None:
    data = bytearray(wav_bytes(np.zeros(4000, np.float32), sr=8000))
    data[24:28] = struct.pack("<I", rate)
    data[28:32] = struct.pack("<I", (rate * 2) & 0xFFFFFFFF)
    with pytest.raises(Unprocessable) as e:
        decode_audio(bytes(data))
    assert (e.value.status, e.value.code) == (422, "unsupported_sample_rate")
    assert f"{rate} Hz" in e.value.message and "4000" in e.value.message
    assert e.value.details["sample_rate"] == rate


def test_eight_channel_ogg_decodes_through_ffmpeg() -> None:
    """PyAV's planar frames of 8+ channels crashed the process (SIGSEGV); packed frames do not."""
    import io

    import soundfile as sf

    sr = 48_000
    t = np.arange(sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, np.stack([tone] * 8, axis=1), sr, format="FLAC", subtype="PCM_16")
    out = decode_audio(remux(buf.getvalue(), "ogg"))  # Ogg/FLAC: libsndfile declines, FFmpeg decodes
    assert (out.channels, out.sample_rate, out.codec) == (8, sr, "flac")
    assert abs(out.duration_s - 1.0) < 0.1
    np.testing.assert_allclose(out.audio[: sr // 2], tone[: sr // 2], atol=1e-3)


def test_block_by_block_clipping_matches_the_whole_clip() -> None:
    """The streamed peak/clipping measure equals the whole-array one, also as the peak grows."""
    from voxclone.audio.quality import PeakMeter

    rng = np.random.default_rng(3)
    t = np.arange(48_000) / 24_000
    rising = np.clip(1.4 * np.linspace(0.2, 1.0, t.size) * np.sin(2 * np.pi * 220 * t), -0.9, 0.9)
    cases = [rising, rng.standard_normal(30_000) * 0.1, np.zeros(5000), np.r_[np.zeros(5000), rising]]
    for audio in cases:
        stereo = np.stack([audio, -0.5 * audio]).astype(np.float32)
        meter = PeakMeter()
        for start in range(0, stereo.shape[1], 777):
            meter.add(stereo[:, start : start + 777])
        mag = np.abs(stereo)
        peak = float(mag.max())
        if peak == 0:
            assert meter.result() == (float("-inf"), 0.0)
            continue
        near = int(np.count_nonzero(mag >= 0.97 * peak))
        border = int(np.count_nonzero(np.abs(mag - 0.97 * peak) <= 0.001 * peak))  # bin resolution
        peak_dbfs, ratio = meter.result()
        assert peak_dbfs == pytest.approx(20 * np.log10(peak))
        expected = near / mag.size if near >= 8 else 0.0
        assert abs(ratio - expected) <= border / mag.size
