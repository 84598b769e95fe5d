"""A real voxclone server in a background thread, for the SDK, CLI and compatibility suites.

Loaded by path from the ``conftest.py`` of ``tests/client``, ``tests/cli`` and ``tests/compat``
(tests have no packages). The app is the real one (:func:`voxclone.api.create_app`, real
Kokoro engine, SQLite in a temp folder), wrapped in :class:`FaultInjector`, an ASGI layer that
can answer the next matching request(s) with a scripted error, optionally after letting the app
handle the request (the client then never sees the real answer, like a lost response).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from live_http import serve_in_thread

from voxclone.settings import Settings

REFERENCE_TEXT = (
    "The quick brown fox jumps over the lazy dog near the riverbank. "
    "Every morning she walks to the market and buys fresh bread, apples and cheese."
)


@dataclass
class Fault:
    """Answer the next request whose method and path match with ``status``."""

    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    after_app: bool = False
    """Run the real app first (its side effects happen), then answer with the fault instead."""


class FaultInjector:
    """ASGI wrapper: scripted failures in front of the real app; records request paths."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.faults: list[Fault] = []
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.method == method and fault.path == path:
                    return self.faults.pop(i)
        return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            self.seen.append((scope["method"], scope["path"], headers))
        fault = self._take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.after_app:

            async def swallow(message: dict[str, Any]) -> None:
                return None

            await self.app(scope, receive, swallow)
        body = json.dumps({"code": "injected_fault", "message": f"injected {fault.status}"}).encode()
        raw_headers = [(b"content-type", b"application/json"), (b"x-request-id", b"req_injected")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in fault.headers.items()]
        await send({"type": "http.response.start", "status": fault.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


_REFERENCE: dict[str, Path] = {}
"""The rendered reference recording, shared by every server of the session."""


@dataclass
class LiveServer:
    base_url: str
    api_key: str
    app: Any
    faults: FaultInjector
    engine: Any
    reference_path: Path

    @property
    def reference_wav(self) -> Path:
        """A ≥ 6 s speech recording for clone tests, rendered once per test session."""
        if "wav" not in _REFERENCE:
            _REFERENCE["wav"] = render_reference(self.engine, self.reference_path)
        return _REFERENCE["wav"]

    @property
    def services(self) -> Any:
        return self.app.state.services

    def inject(self, method: str, path: str, status: int, **kwargs: Any) -> None:
        """Answer the next ``method path`` request with ``status`` (see :class:`Fault`)."""
        self.faults.inject(Fault(method, path, status, **kwargs))

    def requests(self, method: str, path: str) -> list[dict[str, str]]:
        """Headers of the ``method path`` requests received so far, oldest first."""
        return [headers for m, p, headers in self.faults.seen if (m, p) == (method, path)]

    def new_key(self, *, credits: str = "100", account: str | None = None) -> str:
        """An API key of a fresh (or named) account holding ``credits``."""
        _, key = self.services.accounts.create_key(account=account, credits=credits)
        return str(key)


def render_reference(engine: Any, path: Path) -> Path:
    """≥ 6 s of real speech from the Kokoro engine, as a 16-bit WAV."""
    voice = engine.builtin_profile("en-male-1")
    audio = engine.generate(REFERENCE_TEXT, voice, language="en-us")
    if len(audio) < 6 * engine.sample_rate:
        raise RuntimeError(f"reference too short: {len(audio) / engine.sample_rate:.1f} s")
    sf.write(path, np.asarray(audio, np.float32), engine.sample_rate, subtype="PCM_16")
    return path


@contextmanager
def live_server(*, engine: Any, data_dir: Path) -> Iterator[LiveServer]:
    """Start the real app on a free 127.0.0.1 port; stop it (and wait for its thread) on exit."""
    from voxclone.api import create_app

    settings = Settings(data_dir=data_dir, onnx_threads=1, synthesis_workers=2)
    app = create_app(settings, engine=engine)
    faults = FaultInjector(app)
    with serve_in_thread(faults) as base_url:
        _, key = app.state.services.accounts.create_key(account="sdk-tests", credits="1000")
        yield LiveServer(
            base_url=base_url,
            api_key=str(key),
            app=app,
            faults=faults,
            engine=engine,
            reference_path=data_dir.parent / "reference.wav",
        )


def cloning_problem() -> str | None:
    """Why this build cannot enroll voices (``None`` when it has the pipeline).

    Only an absent pipeline skips the clone tests; a present but broken one makes them fail.
    """
    import importlib

    try:
        importlib.import_module("voxclone.audio.intake")
        cloning = importlib.import_module("voxclone.engines.kokoro.cloning")
    except ImportError as e:
        return f"{type(e).__name__}: {e}"
    if not callable(getattr(getattr(cloning, "KokoroCloner", None), "enroll", None)):
        return "voxclone.engines.kokoro.cloning has no KokoroCloner.enroll() yet"
    return None


def server_fixture(label: str) -> Any:
    """A session fixture ``server``: the real app on a free port with a funded API key
    (``server.api_key``), its data in a temp folder named after ``label``."""
    import pytest

    @pytest.fixture(scope="session")
    def server(kokoro_engine: Any, tmp_path_factory: Any) -> Iterator[LiveServer]:
        data_dir = tmp_path_factory.mktemp(label) / "data"
        with live_server(engine=kokoro_engine, data_dir=data_dir) as live:
            yield live

    return server


def _needs_cloning() -> None:
    """Skip a test that enrolls a voice while this build cannot enroll one (cloning unfinished)."""
    import pytest

    problem = cloning_problem()
    if problem is not None:
        pytest.skip(f"voice cloning does not work in this build: {problem}")


def needs_cloning_fixture() -> Any:
    import pytest

    return pytest.fixture(name="needs_cloning")(_needs_cloning)
