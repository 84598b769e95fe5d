"""``GET /api/v1/health``: liveness, engine facts and what works here (no key needed).

``capabilities`` are checked once at start by running their native parts
(:mod:`voxclone.service.capabilities`); ``status`` is ``degraded`` when one is unavailable.
"""

from __future__ import annotations

from fastapi import APIRouter

from voxclone import __version__
from voxclone.api.deps import ServicesDep
from voxclone.api.openapi import error_responses
from voxclone.api.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/api/v1/health", response_model=HealthPublic, responses=error_responses(503))
def read_health(services: ServicesDep) -> HealthPublic:
    capabilities = services.capabilities
    consent = {"available": services.consent.available(), "required": services.settings.require_consent}
    return HealthPublic.model_validate(
        {
            "status": capabilities.status,
            "version": __version__,
            "engine": services.engine.info(),
            "capabilities": capabilities.public(),
            "consent": consent,
        }
    )
