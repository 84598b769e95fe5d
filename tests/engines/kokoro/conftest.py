"""Kokoro fixtures. ``kokoro_engine`` (one real engine, ONNX threads 1, built by ``create_engine``
as the server builds it) comes from the root ``tests/conftest.py`` so that a full run loads the
model once; this file only adds what the engine tests need on top of it."""

from __future__ import annotations

from typing import Any

import pytest

from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.engines.kokoro.model import KokoroModel


@pytest.fixture(scope="session")
def kokoro_model(kokoro_engine: Any) -> KokoroModel:
    assert isinstance(kokoro_engine, KokoroEngine)
    return kokoro_engine.model
