"""``/api/v1/health`` tells the truth about what works, checked at start by running the native parts.

The defect: with ``pyworld`` failing to import (pyworld 0.3.5 imports ``pkg_resources``, gone in
setuptools >= 81), health answered ``ok`` while every clone answered 500 ``missing_dependency``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from voxclone.api import create_app
from voxclone.errors import EngineUnavailable
from voxclone.settings import Settings


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", onnx_threads=1, synthesis_workers=1, **overrides)


@pytest.fixture
def no_pyworld(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import pyworld`` fails in this process, as in a venv where pyworld cannot import."""
    monkeypatch.setitem(sys.modules, "pyworld", None)


def test_health_lists_every_capability_as_available(tmp_path: Path, kokoro_engine: Any) -> None:
    with TestClient(create_app(_settings(tmp_path), engine=kokoro_engine)) as client:
        body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["capabilities"] == {
        "synthesis": {"status": "available", "required": True, "reason": None},
        "cloning": {"status": "available", "required": True, "reason": None},
    }


@pytest.mark.usefixtures("no_pyworld")
def test_without_pyworld_health_is_degraded_and_clones_get_503(
    tmp_path: Path, kokoro_engine: Any, reference_wav: bytes
) -> None:
    app = create_app(_settings(tmp_path, require_cloning=False), engine=kokoro_engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        _, key = app.state.services.accounts.create_key(credits="10")
        headers = {"Authorization": f"Bearer {key}"}
        health = client.get("/api/v1/health").json()
        assert health["status"] == "degraded"
        cloning = health["capabilities"]["cloning"]
        assert cloning["status"] == "unavailable" and cloning["required"] is False
        assert "pyworld" in cloning["reason"]
        assert health["capabilities"]["synthesis"]["status"] == "available"

        r = client.post(
            "/api/v1/voice-clones",
            headers=headers,
            files={"audio": ("me.wav", reference_wav, "audio/wav")},
            data={"name": "me"},
        )
        assert r.status_code == 503 and r.json()["code"] == "cloning_unavailable"
        assert "pyworld" in r.json()["message"]
        balance = client.get("/api/v1/account", headers=headers).json()["data"]["balance"]
        assert float(balance) == 10.0  # nothing charged

        voice = kokoro_engine.builtin_voices()[0].voice_id
        speech = client.post(
            "/api/v1/tts_non_stream", headers=headers, json={"text": "Still speaking.", "voice_id": voice}
        )
        assert speech.status_code == 200
        audio, rate = sf.read(io.BytesIO(speech.content))
        assert rate == kokoro_engine.sample_rate and np.abs(audio).max() > 0.05


@pytest.mark.usefixtures("no_pyworld")
def test_without_pyworld_the_app_refuses_to_start(tmp_path: Path, kokoro_engine: Any) -> None:
    app = create_app(_settings(tmp_path), engine=kokoro_engine)
    with pytest.raises(EngineUnavailable, match=r"cannot start: cloning is unavailable: .*pyworld"):
        TestClient(app).__enter__()
    assert app.state.services is None
