"""Shared fixtures: database backends (SQLite and PostgreSQL) and the real Kokoro engine.

PostgreSQL: a fresh database ``voxclone_test_<random>`` is created on the server at
``VOXCLONE_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``) for the test
session and dropped afterwards. When it is unreachable the PostgreSQL half is skipped locally,
but fails loudly when the ``CI`` environment variable is set.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from voxclone.settings import Settings

# The suite runs Kokoro on ONNX Runtime whatever the CPU (servers in subprocesses inherit this):
# ``auto`` would take OpenVINO on CPUs with AMX, as the dev extra installs it. That runtime has its own
# tests (tests/engines/kokoro/test_openvino.py).
os.environ.setdefault("VOXCLONE_RUNTIME", "onnxruntime")

POSTGRES_ADMIN_URL = os.environ.get("VOXCLONE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this session (dropped at the end)."""
    import psycopg

    name = f"voxclone_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is required in CI but unreachable: {e}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {e}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(POSTGRES_ADMIN_URL, name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def make_settings(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Settings]:
    """Settings for the current backend; keyword overrides are passed to ``Settings``."""
    database_url = request.getfixturevalue("postgres_url") if db_backend == "postgres" else None

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "onnx_threads": 1,
            "synthesis_workers": 2,
        }
        values.update(overrides)
        return Settings(**values)

    return make


def engine_cache_dir() -> Path:
    """Where the assembled Kokoro model is kept between test sessions (outside the repo)."""
    return Path(os.environ.get("VOXCLONE_TEST_CACHE", Path(tempfile.gettempdir()) / "voxclone-test-cache"))


@pytest.fixture(scope="session")
def kokoro_engine() -> Iterator[Any]:
    """The real embedded engine, one ONNX thread, shared by the whole session."""
    from voxclone.engines.registry import create_engine

    engine = create_engine(Settings(data_dir=engine_cache_dir(), onnx_threads=1))
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="session")
def kokoro_cache(kokoro_engine: Any) -> Path:
    """The folder holding ``kokoro_engine``'s assembled model, for servers started in subprocesses."""
    return Settings(data_dir=engine_cache_dir()).cache_dir()


@pytest.fixture(scope="session")
def reference_wav(kokoro_engine: Any) -> bytes:
    """About 6 s of one speaker (a built-in Kokoro voice) as 24 kHz 16-bit WAV bytes.

    Tests build their own reference audio so that they never depend on ``../shared``.
    """
    import io

    import numpy as np
    import soundfile as sf

    voice = kokoro_engine.builtin_voices()[0].voice_id
    text = (
        "Good morning. This is a short recording of my own voice, read slowly and clearly, "
        "so that the service can learn how I sound."
    )
    audio = kokoro_engine.generate(text, kokoro_engine.builtin_profile(voice))
    pad = np.zeros(int(0.3 * kokoro_engine.sample_rate), np.float32)
    buf = io.BytesIO()
    sf.write(
        buf, np.concatenate([pad, audio, pad]), kokoro_engine.sample_rate, format="WAV", subtype="PCM_16"
    )
    return buf.getvalue()
