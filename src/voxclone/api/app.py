"""Application factory: routers, middleware, error handlers and the lifespan that owns services."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from voxclone import __version__
from voxclone.api.body_limit import BodyLimitMiddleware
from voxclone.api.errors import install_error_handlers
from voxclone.api.middleware import RequestIdMiddleware
from voxclone.api.openapi import install_openapi
from voxclone.api.routes import (
    account,
    health,
    models,
    openai_speech,
    tts,
    voice_clones,
    voices,
    watermark,
)
from voxclone.engines.base import Engine
from voxclone.service.container import Services

if TYPE_CHECKING:
    from voxclone.service.reenroll import ReenrollReport
from voxclone.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION = """Self-hosted voice cloning. OuteAI-compatible routes under `/api/v1`
(errors: `{"code", "message", "request_id"}`), OpenAI-compatible `/v1/audio/speech`.
Authenticate with `Authorization: Bearer oute_…`."""


def _unique_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the ASGI app.

    Parameters
    ----------
    settings : Settings, optional
        Server settings; read from ``VOXCLONE_*`` variables when omitted.
    engine : Engine, optional
        A ready engine (tests, embedding). When omitted the lifespan creates one with
        :func:`voxclone.engines.registry.create_engine` and closes it at shutdown.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        if engine is None:
            from voxclone.engines.registry import create_engine

            the_engine = await run_in_threadpool(create_engine, settings)
        else:
            the_engine = engine
        services = await run_in_threadpool(lambda: Services.build(settings=settings, engine=the_engine))
        # credits held by a server that died are charged for the audio it had delivered
        await run_in_threadpool(lambda: services.holds.sweep(at_start=True))
        upkeep = asyncio.create_task(services.holds.keep(), name="voxclone-credit-holds")
        # clones of an older cloning method are re-created from their recordings, in the background
        stop_reenroll = threading.Event()
        reenroll = asyncio.create_task(_reenroll(services, stop_reenroll), name="voxclone-reenroll")
        app.state.services = services
        app.state.engine = the_engine
        try:
            yield
        finally:
            app.state.services = None
            upkeep.cancel()
            stop_reenroll.set()
            await asyncio.gather(upkeep, reenroll, return_exceptions=True)  # the pass ends at its next clone
            services.close()
            if own_engine:
                the_engine.close()

    app = FastAPI(
        title="voxclone",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_unique_id,
    )
    app.state.settings = settings
    app.state.services = None
    for module in (health, voices, voice_clones, tts, account, openai_speech, models, watermark):
        app.include_router(module.router)
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        BodyLimitMiddleware,
        json_bytes=settings.json_body_limit(),
        upload_bytes=settings.max_upload_bytes,
        upload_paths=("/api/v1/voice-clones", "/api/v1/watermark/detect"),
    )
    app.add_middleware(RequestIdMiddleware)
    _mount_playground(app)
    return app


async def _reenroll(services: Services, stop: threading.Event) -> None:
    """One start-up pass of :func:`~voxclone.service.reenroll.reenroll_outdated` off the event loop."""
    from voxclone.service.reenroll import reenroll_outdated

    def run() -> ReenrollReport:
        return reenroll_outdated(
            db=services.db, clones=services.clones, engine_name=services.engine.name, stop=stop
        )

    try:
        report = await run_in_threadpool(run)
    except Exception:  # logged, never fatal: clones are also re-enrolled on first use
        log.exception("the start-up re-enrollment pass failed")
        return
    if report.reenrolled or report.no_reference or report.failed:
        log.info(
            "re-enrollment: %d re-enrolled, %d outdated without reference audio, %d failed",
            len(report.reenrolled),
            len(report.no_reference),
            len(report.failed),
        )


def _mount_playground(app: FastAPI) -> None:
    try:
        from voxclone.web import mount_playground
    except ImportError:
        log.debug("no web playground in this install")
        return
    mount_playground(app)
