"""The watermark on real speech (Kokoro voices rendered by the fixtures): embedded chunk by chunk,
found in 3 s excerpts after an MP3 round trip and 8 kHz resampling, payload recovered, and no
false alarm on unmarked speech or noise."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.signal import resample_poly

from voxclone.audio.decode import decode_audio
from voxclone.audio.encode import encode_all
from voxclone.audio.watermark import Detector, Marker, Payload, account_hash
from voxclone.audio.watermark.coding import CODED_BITS, decode, encode
from voxclone.service.watermarking import mark_chunks

SR = 24000
PAYLOAD = Payload(server_id=4321, account_hash=account_hash("acct_test"))


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def _mark(audio: np.ndarray, payload: Payload = PAYLOAD, seed: int = 0) -> np.ndarray:
    """Mark ``audio`` in chunks of random sizes, as the service does."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.integers(1, audio.size, size=audio.size // 6000))
    marker = Marker(sample_rate=SR, payload=payload)
    return np.concatenate(list(mark_chunks(np.split(audio, cuts), marker)))


def test_payload_code_corrects_errors_and_crc_rejects_noise() -> None:
    coded = encode(PAYLOAD)
    assert coded.size == CODED_BITS
    soft = 1.0 - 2.0 * coded
    soft[[3, 17, 40, 77]] *= -1  # four wrong coded bits
    assert decode(soft) == PAYLOAD
    rng = np.random.default_rng(0)
    assert sum(decode(rng.standard_normal(CODED_BITS)) is not None for _ in range(200)) == 0


def test_mark_is_quiet_and_shaped_by_the_speech(speech: np.ndarray) -> None:
    marked = _mark(speech)
    mark = marked - speech
    snr_db = 10 * np.log10(np.sum(speech**2) / np.sum(mark**2))
    assert 18 < snr_db < 35
    # in the middle of pauses (0.2 s or more of silence) there is no mark to hear
    quiet = np.abs(speech) < 1e-5
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = [(a + 1, b + 1) for a, b in itertools.pairwise(edges) if quiet[a + 1]]
    pauses = [(a, b) for a, b in runs if b - a > 0.2 * SR]
    assert pauses
    for a, b in pauses:
        middle = mark[(a + b) // 2 - int(0.025 * SR) : (a + b) // 2 + int(0.025 * SR)]
        assert np.max(np.abs(middle)) < 1e-4


def test_detected_with_payload_after_mp3_round_trip(speech: np.ndarray, detector: Detector) -> None:
    for audio, expected in ((_mark(speech), True), (speech, False)):
        decoded = decode_audio(encode_all(audio, SR, "mp3"))
        excerpt = decoded.audio[int(2.0 * decoded.sample_rate) : int(5.0 * decoded.sample_rate)]
        found = detector.detect(excerpt, decoded.sample_rate)
        assert found.watermarked is expected, found
        assert found.payload == (PAYLOAD if expected else None)


def test_detected_with_payload_after_8k_resampling(voices: dict[str, np.ndarray], detector: Detector) -> None:
    male = voices["jm_kumo"]
    marked = _mark(male, seed=1)
    for audio, expected in ((marked, True), (male, False)):
        low = resample_poly(audio, 1, 3)[int(1.3 * 8000) : int(4.3 * 8000)]
        found = detector.detect(low, 8000)
        assert found.watermarked is expected, found
        assert found.payload == (PAYLOAD if expected else None)


def test_trimmed_excerpt_at_any_offset_with_gain(speech: np.ndarray, detector: Detector) -> None:
    marked = _mark(speech, seed=2)
    for start_s, gain in ((0.37, 0.316), (3.11, 2.5), (5.5, 1.0)):
        start = int(start_s * SR)
        found = detector.detect(np.clip(marked[start : start + 3 * SR] * gain, -1, 1), SR)
        assert found.watermarked and found.payload == PAYLOAD


def test_no_false_positives_on_unmarked_speech_and_noise(
    voices: dict[str, np.ndarray], detector: Detector
) -> None:
    """150 excerpts of unmarked Kokoro speech (2-3.5 s, any offset, half after MP3) and 50 of noise:
    the corrected p-value stays far above the threshold (the bench checks 1,000+ LibriSpeech ones)."""
    rng = np.random.default_rng(7)
    sources = [voices["jf_alpha"], voices["jm_kumo"]]
    sources += [decode_audio(encode_all(v, SR, "mp3")).audio for v in list(sources)]
    p_values = []
    for i in range(150):
        audio = sources[i % len(sources)]
        n = int(rng.uniform(2.0, 3.5) * SR)
        start = int(rng.integers(0, audio.size - n))
        found = detector.detect(audio[start : start + n], SR)
        assert not found.watermarked and found.payload is None
        p_values.append(found.p_value)
    for i in range(50):
        noise = rng.standard_normal(3 * SR) * (0.01 if i % 2 else 0.3)
        if i % 3 == 0:
            noise = np.cumsum(noise) / 30  # brown noise
        found = detector.detect(noise, SR)
        assert not found.watermarked
        p_values.append(found.p_value)
    assert min(p_values) > 1e-4
