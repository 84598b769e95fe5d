"""OuteTTS through Hugging Face transformers (safetensors checkpoints; CPU or CUDA via torch).

Same :class:`~voxclone.engines.outetts.backend.LMBackend` protocol as the llama.cpp backend: it
returns next-token logits, keeps a KV cache for the longest shared prefix, and sampling stays in
voxclone. Imports torch and transformers when constructed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.deps_optional import require
from voxclone.errors import EngineUnavailable


class TransformersBackend:
    """A causal LM folder (``config.json``, tokenizer, safetensors) such as ``OuteAI/OuteTTS-1.0-0.6B``.

    Parameters
    ----------
    model_dir : Path
        Folder written by ``save_pretrained`` (model and tokenizer).
    context_length : int
        Tokens of context allowed (OuteTTS 1.0: 8,192).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available).
    """

    def __init__(self, *, model_dir: Path, context_length: int = 8192, device: str = "auto"):
        torch = require("torch", extra="outetts")
        transformers = require("transformers", extra="outetts")
        self._torch = torch
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
            dtype = torch.bfloat16 if device == "cuda" else torch.float32
            model = transformers.AutoModelForCausalLM.from_pretrained(str(model_dir), torch_dtype=dtype)
        except (OSError, ValueError) as e:
            raise EngineUnavailable(
                f"transformers could not load {model_dir}: {e}", code="model_load_failed"
            ) from e
        self.model = model.to(device).eval()
        self.device = device
        self.context_length = context_length
        self.lock = threading.Lock()
        self._ids: list[int] = []
        self._cache: Any = None
        self._last_logits: np.ndarray | None = None

    def tokenize(self, text: str) -> list[int]:
        return [int(t) for t in self.tokenizer.encode(text, add_special_tokens=False)]

    def token_id(self, token: str) -> int | None:
        ids = self.tokenize(token)
        return ids[0] if len(ids) == 1 else None

    def next_logits(self, tokens: Sequence[int]) -> np.ndarray:
        torch = self._torch
        tokens = list(tokens)
        prefix = 0
        for a, b in zip(self._ids, tokens, strict=False):
            if a != b:
                break
            prefix += 1
        prefix = min(prefix, len(tokens) - 1)
        if self._cache is not None and prefix > 0:
            self._cache.crop(prefix)
        else:
            self._cache, prefix = None, 0
        new = torch.tensor([tokens[prefix:]], dtype=torch.long, device=self.device)
        with torch.inference_mode():
            out = self.model(input_ids=new, past_key_values=self._cache, use_cache=True)
        self._cache = out.past_key_values
        self._ids = tokens
        return out.logits[0, -1].float().cpu().numpy()

    def close(self) -> None:
        self._cache = None
