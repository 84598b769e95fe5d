"""Fixtures: the real server in a thread, from ``tests/client/sdk_live_server.py``."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _load_helper() -> Any:
    name = "voxclone_sdk_live_server"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "client" / "sdk_live_server.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


helper = _load_helper()


@pytest.fixture(scope="session")
def server(kokoro_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real app on a free port with a funded API key (``server.api_key``)."""
    data_dir = tmp_path_factory.mktemp("client") / "data"
    with helper.live_server(engine=kokoro_engine, data_dir=data_dir) as live:
        yield live


@pytest.fixture
def needs_cloning() -> None:
    """Skip a test that enrolls a voice while this build cannot enroll one (cloning unfinished)."""
    problem = helper.cloning_problem()
    if problem is not None:
        pytest.skip(f"voice cloning does not work in this build: {problem}")
