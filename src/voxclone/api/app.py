"""Application factory: routers, middleware, error handlers and the lifespan that owns services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from voxclone import __version__
from voxclone.api.docs import mount_docs
from voxclone.api.errors import install_error_handlers
from voxclone.api.middleware import RequestIdMiddleware, UploadLimitMiddleware
from voxclone.api.routes import account, health, models, openai_speech, tts, voice_clones, voices
from voxclone.engines.base import Engine
from voxclone.errors import EngineUnavailable
from voxclone.service.container import Services
from voxclone.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION = """Self-hosted voice cloning. OuteAI-compatible routes under `/api/v1`
(errors: `{"code", "message", "request_id"}`), OpenAI-compatible `/v1/audio/speech`.
Authenticate with `Authorization: Bearer oute_…`."""


def _unique_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, services: Services | None = None
) -> FastAPI:
    """Build the ASGI app.

    Parameters
    ----------
    settings : Settings, optional
        Server settings; read from ``VOXCLONE_*`` variables when omitted.
    engine : Engine, optional
        A ready engine (tests, embedding). When omitted the lifespan creates one with
        :func:`voxclone.engines.registry.create_engine` and closes it at shutdown.
    services : Services, optional
        Ready services (``voxclone serve`` builds them before it binds the port); the caller closes
        them and their engine. Overrides ``engine``.

    Startup fails with :class:`~voxclone.errors.EngineUnavailable` when a required capability
    (:mod:`~voxclone.service.capabilities`) does not work.
    """
    settings = settings or (services.settings if services is not None else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            app.state.engine = services.engine
            try:
                yield
            finally:
                app.state.services = None
            return
        own_engine = engine is None
        if engine is None:
            from voxclone.engines.registry import create_engine

            the_engine = await run_in_threadpool(create_engine, settings)
        else:
            the_engine = engine
        try:
            built = await run_in_threadpool(lambda: Services.build(settings=settings, engine=the_engine))
        except BaseException:
            if own_engine:
                the_engine.close()
            raise
        try:
            refuse_missing_capabilities(built)
            app.state.services = built
            app.state.engine = the_engine
            yield
        finally:
            app.state.services = None
            built.close()
            if own_engine:
                the_engine.close()

    app = FastAPI(
        title="voxclone",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_unique_id,
        docs_url=None,  # CDN pages; mount_docs serves the same pages from installed files
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = None
    for module in (health, voices, voice_clones, tts, account, openai_speech, models):
        app.include_router(module.router)
    mount_docs(app)
    install_error_handlers(app)
    app.add_middleware(
        UploadLimitMiddleware, max_bytes=settings.max_upload_bytes, paths=("/api/v1/voice-clones",)
    )
    app.add_middleware(RequestIdMiddleware)
    _mount_playground(app)
    return app


def refuse_missing_capabilities(services: Services) -> None:
    """Raise :class:`EngineUnavailable` (one sentence) when a required capability does not work."""
    missing = services.capabilities.missing_required()
    if missing:
        reasons = "; ".join(f"{c.name} is unavailable: {c.reason}" for c in missing)
        raise EngineUnavailable(f"cannot start: {reasons}")


def _mount_playground(app: FastAPI) -> None:
    try:
        from voxclone.web import mount_playground
    except ImportError:
        log.debug("no web playground in this install")
        return
    mount_playground(app)
