"""Language-model backends for OuteTTS: a token-level interface and its llama.cpp implementation.

A backend only tokenises and returns next-token logits; sampling (with OuteTTS's 64-token
repetition window) happens in :mod:`voxclone.engines.outetts.sampler`, so every backend samples the
same way. The llama.cpp context is not thread-safe: callers hold :attr:`LlamaCppBackend.lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voxclone.deps_optional import require
from voxclone.engines.outetts.sampler import SamplerConfig, sample_token
from voxclone.errors import EngineUnavailable


class LMBackend(Protocol):
    """What the OuteTTS engine needs from a language model."""

    lock: threading.Lock
    context_length: int

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` with special tokens parsed, no BOS added."""
        ...

    def token_id(self, token: str) -> int | None:
        """Id of a single special token string, ``None`` if the vocabulary lacks it."""
        ...

    def next_logits(self, tokens: Sequence[int]) -> np.ndarray:
        """Logits ``[n_vocab]`` for the token after ``tokens`` (reusing any cached prefix)."""
        ...


class LlamaCppBackend:
    """OuteTTS GGUF through llama-cpp-python (CPU, or GPU with ``n_gpu_layers``).

    Parameters
    ----------
    model_path : Path
        The ``.gguf`` file.
    context_length : int
        Context window in tokens (OuteTTS 1.0: 8,192).
    threads : int
        CPU threads (0 = llama.cpp's default).
    n_gpu_layers : int
        Layers offloaded to the GPU (-1 = all; 0 = CPU only).
    """

    def __init__(
        self, *, model_path: Path, context_length: int = 8192, threads: int = 0, n_gpu_layers: int = 0
    ):
        llama_cpp = require("llama_cpp", extra="outetts", package="llama-cpp-python")
        self._llama_cpp = llama_cpp
        kwargs: dict[str, Any] = {"n_ctx": context_length, "n_gpu_layers": n_gpu_layers, "verbose": False}
        if threads > 0:
            kwargs["n_threads"] = threads
        try:
            self.llm = llama_cpp.Llama(model_path=str(model_path), **kwargs)
        except (ValueError, RuntimeError) as e:
            raise EngineUnavailable(
                f"llama.cpp could not load {model_path}: {e}; check that it is an OuteTTS-1.0 GGUF file",
                code="model_load_failed",
            ) from e
        self.context_length = context_length
        self.n_vocab = int(self.llm.n_vocab())
        self.lock = threading.Lock()

    def tokenize(self, text: str) -> list[int]:
        return [int(t) for t in self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)]

    def token_id(self, token: str) -> int | None:
        ids = self.tokenize(token)
        return ids[0] if len(ids) == 1 else None

    def next_logits(self, tokens: Sequence[int]) -> np.ndarray:
        llm = self.llm
        n = min(int(llm.n_tokens), len(tokens))
        same = llm.input_ids[:n] == np.asarray(tokens[:n], dtype=llm.input_ids.dtype)
        prefix = n if bool(same.all()) else int(np.argmin(same))
        llm.n_tokens = min(prefix, len(tokens) - 1)
        llm.eval(list(tokens[llm.n_tokens :]))
        ptr = self._llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()

    def close(self) -> None:
        self.llm.close()


def generate_tokens(
    backend: LMBackend,
    *,
    prompt: Sequence[int],
    max_new_tokens: int,
    stop: set[int],
    sampler: SamplerConfig,
    seed: int,
) -> Iterator[int]:
    """Sample up to ``max_new_tokens`` after ``prompt``; stops after a token in ``stop`` (not yielded).

    The caller must hold ``backend.lock`` for the whole iteration.
    """
    rng = np.random.default_rng(seed)
    tokens = list(prompt)
    for _ in range(max_new_tokens):
        tok = sample_token(backend.next_logits(tokens), history=tokens, config=sampler, rng=rng)
        if tok in stop:
            return
        tokens.append(tok)
        yield tok
