"""HTTP-layer fixtures: a deterministic fake engine (allowed only here) and an app harness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from toy_engine import ToyEngine

from voxclone.api import create_app
from voxclone.service.container import Services
from voxclone.settings import Settings

SR = 24000
# The HTTP tests run on the toy engine: a sine tone per word, whose pitch identifies the voice.
FakeEngine = ToyEngine


@dataclass
class Harness:
    client: TestClient
    services: Services
    engine: FakeEngine
    keys: list[str] = field(default_factory=list)

    def new_account(self, credits: str = "10") -> dict[str, str]:
        """Headers for a fresh account holding ``credits``."""
        _, key = self.services.accounts.create_key(credits=credits)
        return {"Authorization": f"Bearer {key}"}

    def account_id(self, headers: dict[str, str]) -> str:
        return self.services.accounts.authenticate(headers["Authorization"].split()[1]).id


@pytest.fixture
def make_harness(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Harness]]:
    """Build an app around a fake engine; ``make_harness(delay_s=..., **settings)``."""
    clients: list[TestClient] = []

    def make(*, delay_s: float = 0.0, **overrides: Any) -> Harness:
        engine = FakeEngine(delay_s=delay_s)
        app = create_app(make_settings(**overrides), engine=engine)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        engine.reset_counts()  # the start-up capability check spoke a test word
        return Harness(client=client, services=app.state.services, engine=engine)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


@dataclass
class Live:
    """Replicas of the app (one database) served by uvicorn on loopback ports."""

    urls: list[str]
    services: list[Services]
    engines: list[FakeEngine]

    def new_account(self, credits: str = "10") -> tuple[str, dict[str, str]]:
        """``(account_id, headers)`` of a fresh account holding ``credits``."""
        ref, key = self.services[0].accounts.create_key(credits=credits)
        return ref.id, {"Authorization": f"Bearer {key}"}


@pytest.fixture
def make_live(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Live]]:
    """Serve the app over real sockets: ``make_live(replicas=2, delay_s=..., **settings)``.

    Replicas share the database (and, on SQLite, the data folder) like several server processes.
    """
    from live_http import serve_in_thread

    with ExitStack() as stack:

        def make(*, replicas: int = 1, delay_s: float = 0.0, **overrides: Any) -> Live:
            live = Live(urls=[], services=[], engines=[])
            settings = make_settings(**overrides)
            for _ in range(replicas):
                engine = FakeEngine(delay_s=delay_s)
                app = create_app(settings, engine=engine)
                live.urls.append(stack.enter_context(serve_in_thread(app)))
                live.services.append(app.state.services)
                engine.reset_counts()  # the start-up capability check spoke a test word
                live.engines.append(engine)
            return live

        yield make


@pytest.fixture
def live_api(make_live: Callable[..., Live]) -> tuple[str, str]:
    """``(base_url, api_key)`` of a uvicorn server around the fake engine (key with 1,000 credits)."""
    live = make_live()
    _, key = live.services[0].accounts.create_key(credits="1000")
    return live.urls[0], key


@dataclass
class LiveHarness:
    base_url: str
    services: Services
    engine: FakeEngine

    def new_account(self, credits: str = "10") -> dict[str, str]:
        _, key = self.services.accounts.create_key(credits=credits)
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def live_harness(make_live: Callable[..., Live]) -> LiveHarness:
    """The app around a fake engine, served by uvicorn on a free loopback port (real sockets)."""
    live = make_live()
    return LiveHarness(base_url=live.urls[0], services=live.services[0], engine=live.engines[0])
