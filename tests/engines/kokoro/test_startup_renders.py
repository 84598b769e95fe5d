"""Start-up speaks its test word once: the warm-up's render serves the capability check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voxclone.engines.kokoro import engine as engine_module
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.settings import Settings


def _count_renders(monkeypatch: pytest.MonkeyPatch, model: Any) -> list[str]:
    """Record each model inference (both entry points) on ``model``."""
    calls: list[str] = []
    for name in ("infer", "infer_timed"):
        real = getattr(model, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(model, name, counted)
    return calls


def test_start_up_renders_the_test_word_once(
    kokoro_engine: KokoroEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server's start-up: KokoroEngine.from_settings (with its warm-up), then Engine.check().
    # The model and cloner are the session's, so nothing is loaded again.
    monkeypatch.setattr(engine_module.KokoroModel, "from_cache", lambda *a, **k: kokoro_engine.model)
    monkeypatch.setattr(engine_module.SpeakerEncoder, "from_package", lambda *a, **k: None)
    monkeypatch.setattr(engine_module.KokoroCloner, "from_package", lambda *a, **k: kokoro_engine.cloner)
    renders = _count_renders(monkeypatch, kokoro_engine.model)

    engine = KokoroEngine.from_settings(Settings(onnx_threads=1))
    assert len(renders) == 1  # the warm-up
    report = engine.check()

    assert report == {"synthesis": None, "cloning": None}
    assert len(renders) == 1  # the check reused the warm-up's render


def test_check_speaks_again_once_the_warm_up_is_used(kokoro_engine: KokoroEngine) -> None:
    engine = KokoroEngine(kokoro_engine.model, frontend=kokoro_engine.frontend, cloner=kokoro_engine.cloner)
    engine.warm_up()
    first = engine.speak_test_word()
    again = engine.speak_test_word()  # a fresh render: the same deterministic audio
    assert first.size > 0
    np.testing.assert_array_equal(first, again)
