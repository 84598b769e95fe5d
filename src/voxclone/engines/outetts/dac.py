"""Descript Audio Codec (DAC) in plain torch, loadable from the IBM ``DAC.speech.v1.0`` checkpoint.

Same module layout and parameter names as ``descript-audio-codec`` (``dac.model.dac.DAC``), so its
state dicts load directly, without the ``descript-audiotools`` dependency chain. Weight norm is
kept as ``weight_g``/``weight_v`` pairs and folded once after loading.

Imports torch at module import: import this module lazily.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class WNConv1d(nn.Module):
    """``Conv1d`` (or transposed) with weight normalisation over dim 0, as torch's ``weight_norm``."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        transposed: bool = False,
    ):
        super().__init__()
        shape = (cin, cout, kernel_size) if transposed else (cout, cin, kernel_size)
        self.weight_v = nn.Parameter(torch.randn(shape) * 0.02)
        self.weight_g = nn.Parameter(torch.ones(shape[0], 1, 1))  # unit-norm filters: signal survives depth
        self.bias = nn.Parameter(torch.zeros(cout))
        self.stride, self.padding, self.dilation, self.transposed = stride, padding, dilation, transposed
        self._folded: torch.Tensor | None = None

    def weight(self) -> torch.Tensor:
        if self._folded is not None:
            return self._folded
        v = self.weight_v
        return self.weight_g * v / v.flatten(1).norm(dim=1).reshape(-1, 1, 1)

    def fold(self) -> None:
        """Cache the normalised weight (call after loading, before inference)."""
        with torch.no_grad():
            self._folded = None
            self._folded = self.weight().detach().clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.transposed:
            return F.conv_transpose1d(x, self.weight(), self.bias, self.stride, self.padding)
        return F.conv1d(x, self.weight(), self.bias, self.stride, self.padding, self.dilation)


class Snake1d(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (self.alpha + 1e-9).reciprocal() * torch.sin(self.alpha * x).pow(2)


class ResidualUnit(nn.Module):
    def __init__(self, dim: int, dilation: int):
        super().__init__()
        pad = ((7 - 1) * dilation) // 2
        self.block = nn.Sequential(
            Snake1d(dim),
            WNConv1d(dim, dim, 7, dilation=dilation, padding=pad),
            Snake1d(dim),
            WNConv1d(dim, dim, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        pad = (x.shape[-1] - y.shape[-1]) // 2
        if pad > 0:
            x = x[..., pad:-pad]
        return x + y


class _Block(nn.Module):
    """A module whose only child is ``block`` (keeps descript-audio-codec's parameter names)."""

    def __init__(self, *layers: nn.Module, name: str = "block"):
        super().__init__()
        self.name = name
        self.add_module(name, nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = getattr(self, self.name)(x)
        return out


def _encoder(d_model: int, strides: list[int], d_latent: int) -> _Block:
    layers: list[nn.Module] = [WNConv1d(1, d_model, 7, padding=3)]
    for s in strides:
        d_model *= 2
        layers.append(
            _Block(
                ResidualUnit(d_model // 2, 1),
                ResidualUnit(d_model // 2, 3),
                ResidualUnit(d_model // 2, 9),
                Snake1d(d_model // 2),
                WNConv1d(d_model // 2, d_model, 2 * s, stride=s, padding=math.ceil(s / 2)),
            )
        )
    layers += [Snake1d(d_model), WNConv1d(d_model, d_latent, 3, padding=1)]
    return _Block(*layers)


def _decoder(cin: int, channels: int, rates: list[int]) -> _Block:
    layers: list[nn.Module] = [WNConv1d(cin, channels, 7, padding=3)]
    out = channels
    for i, s in enumerate(rates):
        inp, out = channels // 2**i, channels // 2 ** (i + 1)
        layers.append(
            _Block(
                Snake1d(inp),
                WNConv1d(inp, out, 2 * s, stride=s, padding=math.ceil(s / 2), transposed=True),
                ResidualUnit(out, 1),
                ResidualUnit(out, 3),
                ResidualUnit(out, 9),
            )
        )
    layers += [Snake1d(out), WNConv1d(out, 1, 7, padding=3), nn.Tanh()]
    return _Block(*layers, name="model")


class VectorQuantize(nn.Module):
    def __init__(self, input_dim: int, codebook_size: int, codebook_dim: int):
        super().__init__()
        self.in_proj = WNConv1d(input_dim, codebook_dim, 1)
        self.out_proj = WNConv1d(codebook_dim, input_dim, 1)
        self.codebook = nn.Embedding(codebook_size, codebook_dim)

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Residual in ``[B, D, T]`` → (quantised contribution, indices ``[B, T]``)."""
        z_e = self.in_proj(z)
        enc = F.normalize(z_e.transpose(1, 2).reshape(-1, z_e.shape[1]))
        cb = F.normalize(self.codebook.weight)
        dist = enc.pow(2).sum(1, keepdim=True) - 2 * enc @ cb.t() + cb.pow(2).sum(1, keepdim=True).t()
        idx = (-dist).max(1)[1].reshape(z.shape[0], -1)
        return self.out_proj(self.codebook(idx).transpose(1, 2)), idx


class ResidualVectorQuantize(nn.Module):
    def __init__(self, input_dim: int, n_codebooks: int, codebook_size: int, codebook_dim: int):
        super().__init__()
        self.quantizers = nn.ModuleList(
            [VectorQuantize(input_dim, codebook_size, codebook_dim) for _ in range(n_codebooks)]
        )

    def from_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes ``[B, N, T]`` → latent ``[B, D, T]``."""
        parts = []
        for i in range(codes.shape[1]):
            q = cast(VectorQuantize, self.quantizers[i])
            parts.append(q.out_proj(q.codebook(codes[:, i, :]).transpose(1, 2)))
        return torch.stack(parts).sum(0)


class DAC(nn.Module):
    """DAC codec. Defaults are the IBM speech model: 24 kHz, hop 320 (75 frames/s), 2 codebooks of 1024."""

    def __init__(
        self,
        *,
        encoder_dim: int = 64,
        encoder_rates: list[int] | None = None,
        latent_dim: int | None = None,
        decoder_dim: int = 1536,
        decoder_rates: list[int] | None = None,
        n_codebooks: int = 2,
        codebook_size: int = 1024,
        codebook_dim: int = 8,
        sample_rate: int = 24000,
        **_: Any,
    ):
        super().__init__()
        encoder_rates = list(encoder_rates or [2, 4, 5, 8])
        decoder_rates = list(decoder_rates or [8, 5, 4, 2])
        latent_dim = latent_dim or encoder_dim * 2 ** len(encoder_rates)
        self.sample_rate = sample_rate
        self.hop_length = int(np.prod(encoder_rates))
        self.encoder = _encoder(encoder_dim, encoder_rates, latent_dim)
        self.quantizer = ResidualVectorQuantize(latent_dim, n_codebooks, codebook_size, codebook_dim)
        self.decoder = _decoder(latent_dim, decoder_dim, decoder_rates)

    def fold(self) -> DAC:
        """Fold weight norm for inference; returns self in eval mode."""
        for m in self.modules():
            if isinstance(m, WNConv1d):
                m.fold()
        return self.eval()

    def _precise(self) -> contextlib.AbstractContextManager[Any]:
        # cuDNN convolutions default to TF32 on NVIDIA GPUs; that error grows through DAC's deep
        # decoder (measured: windowed and whole decodes then disagree), so run the codec in FP32.
        if self._device().type == "cuda":
            return torch.backends.cudnn.flags(
                enabled=True, benchmark=False, deterministic=False, allow_tf32=False
            )
        return contextlib.nullcontext()

    @torch.no_grad()
    def encode(self, audio: np.ndarray, *, window_s: float = 5.0) -> np.ndarray:
        """Float mono samples at :attr:`sample_rate` → codes ``[n_codebooks, frames]`` (int64).

        Like OuteTTS, the audio is encoded in independent ``window_s`` windows (rounded up to whole
        frames), each zero-padded to a whole number of frames.
        """
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        step = math.ceil(window_s * self.sample_rate / self.hop_length) * self.hop_length
        with self._precise():
            parts = [self._encode_window(x[i : i + step]) for i in range(0, max(1, x.size), step)]
        return np.concatenate(parts, axis=1)

    def _encode_window(self, x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(x.reshape(1, 1, -1)).to(self._device())
        pad = math.ceil(t.shape[-1] / self.hop_length) * self.hop_length - t.shape[-1]
        residual = self.encoder(F.pad(t, (0, pad)))
        codes = []
        for q in self.quantizer.quantizers:
            zq, idx = cast(VectorQuantize, q).quantize(residual)
            residual = residual - zq
            codes.append(idx)
        return torch.stack(codes, dim=1)[0].cpu().numpy()

    @torch.no_grad()
    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Codes ``[n_codebooks, frames]`` → float32 mono audio, ``frames * hop_length`` samples."""
        c = torch.from_numpy(np.asarray(codes, dtype=np.int64))[None].to(self._device())
        with self._precise():
            return self.decoder(self.quantizer.from_codes(c))[0, 0].float().cpu().numpy()

    def _device(self) -> torch.device:
        return cast(VectorQuantize, self.quantizer.quantizers[0]).codebook.weight.device


def load_dac(path: Path, *, device: str = "cpu") -> DAC:
    """Load a descript-audio-codec checkpoint (``{"state_dict", "metadata": {"kwargs"}}``).

    ``device``: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when torch sees a GPU).
    """
    import pickle

    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # audiotools checkpoints may pickle extra metadata; the file comes from the operator's
        # own model folder, so a full load is acceptable here.
        ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    kwargs = dict(ckpt.get("metadata", {}).get("kwargs", {}))
    model = DAC(**kwargs)
    model.load_state_dict(ckpt["state_dict"], strict=True)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return model.to(device).fold()


def save_dac(model: DAC, path: Path, *, kwargs: dict[str, Any]) -> None:
    """Write a checkpoint in descript-audio-codec's layout (used to build test codecs)."""
    torch.save({"state_dict": model.state_dict(), "metadata": {"kwargs": kwargs}}, str(path))
