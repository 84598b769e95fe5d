"""``GET /api/v1/health``: liveness plus engine facts (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from voxclone import __version__
from voxclone.api.deps import ServicesDep
from voxclone.api.openapi import error_responses
from voxclone.api.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/api/v1/health", response_model=HealthPublic, responses=error_responses(503))
def read_health(services: ServicesDep) -> HealthPublic:
    consent = {"available": services.consent.available(), "required": services.settings.require_consent}
    return HealthPublic(status="ok", version=__version__, engine=services.engine.info(), consent=consent)
