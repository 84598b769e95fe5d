"""Application factory: routers, middleware, error handlers and the lifespan that owns services."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from voxclone import __version__
from voxclone.api.body_limit import BodyLimitMiddleware
from voxclone.api.docs import mount_docs
from voxclone.api.errors import install_error_handlers
from voxclone.api.middleware import RequestIdMiddleware
from voxclone.api.openapi import install_openapi
from voxclone.api.routes import (
    account,
    consent,
    health,
    models,
    openai_speech,
    tts,
    tts_websocket,
    voice_clones,
    voices,
    watermark,
)
from voxclone.consent.asr import ConsentUnavailable
from voxclone.engines.base import Engine
from voxclone.errors import EngineUnavailable
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
        async with _running(settings, engine=engine, services=services) as running:
            app.state.services = running
            app.state.engine = running.engine
            try:
                yield
            finally:
                app.state.services = None

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
    for module in (
        health,
        voices,
        voice_clones,
        consent,
        tts,
        tts_websocket,
        account,
        openai_speech,
        models,
        watermark,
    ):
        app.include_router(module.router)
    mount_docs(app)
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
    _build_routes(app)
    return app


def _build_routes(app: FastAPI) -> None:
    """Build every route's validators now, on the thread that creates the app.

    FastAPI otherwise builds an included router's routes on the first request that reaches them,
    inside ``warnings.catch_warnings()``, which is not thread-safe: two apps serving in one process
    (replicas in tests, embedding) could race there and turn an ignored pydantic warning into a 500.
    Building the OpenAPI document builds them all (and the document is cached for ``/openapi.json``).
    """
    app.openapi()


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


@asynccontextmanager
async def _running(
    settings: Settings, *, engine: Engine | None, services: Services | None
) -> AsyncIterator[Services]:
    """The services for one server's lifetime, with their background upkeep.

    Builds the engine and services unless given (``voxclone serve`` builds them before binding its
    port, and closes them itself), refuses to start when a required capability does not work,
    settles credit holds left by dead servers, purges long-expired consent challenges, keeps this
    server's holds refreshed, and runs one re-enrollment pass in the background; all of it is
    stopped and awaited at shutdown.
    """
    async with AsyncExitStack() as stack:
        if services is None:
            if engine is None:
                from voxclone.engines.registry import create_engine

                the_engine = await run_in_threadpool(create_engine, settings)
                stack.callback(the_engine.close)
            else:
                the_engine = engine
            built = await run_in_threadpool(lambda: Services.build(settings=settings, engine=the_engine))
            stack.callback(built.close)
        else:
            built = services
        await run_in_threadpool(refuse_missing_capabilities, built)
        # credits held by a server that died are charged for the audio it had delivered
        await run_in_threadpool(lambda: built.holds.sweep(at_start=True))
        # consent challenges that expired long ago (creating a challenge purges them too)
        await run_in_threadpool(built.consent.purge_expired)
        upkeep = asyncio.create_task(built.holds.keep(), name="voxclone-credit-holds")
        # clones of an older cloning method are re-created from their recordings, in the background
        stop_reenroll = threading.Event()
        reenroll = asyncio.create_task(_reenroll(built, stop_reenroll), name="voxclone-reenroll")
        # clone self-checks left pending (here, by another replica or by a crash) run in the background
        built.checks.start()
        try:
            yield built
        finally:
            upkeep.cancel()
            stop_reenroll.set()  # the pass ends at its next clone
            await asyncio.gather(upkeep, reenroll, return_exceptions=True)
            await run_in_threadpool(built.checks.close)  # waits for a self-check in progress


def refuse_missing_capabilities(services: Services) -> None:
    """Raise :class:`EngineUnavailable` (one sentence) when a required capability does not work, or
    when spoken consent is required and its recogniser cannot be loaded (this loads it; blocking)."""
    missing = services.capabilities.missing_required()
    if missing:
        reasons = "; ".join(f"{c.name} is unavailable: {c.reason}" for c in missing)
        raise EngineUnavailable(f"cannot start: {reasons}")
    if services.settings.require_consent:  # every clone would be refused: say so now, not per request
        try:
            services.consent.require_ready()
        except ConsentUnavailable as e:
            raise EngineUnavailable(f"cannot start: VOXCLONE_REQUIRE_CONSENT is on but {e.message}") from e


def _mount_playground(app: FastAPI) -> None:
    try:
        from voxclone.web import mount_playground
    except ImportError:
        log.debug("no web playground in this install")
        return
    mount_playground(app)
