"""OpenAI-compatible ``GET /v1/models``: the model ids ``/v1/audio/speech`` accepts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.openapi import error_responses

router = APIRouter(tags=["openai"])

ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "outetts_1_pro")
_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z


@router.get("/v1/models", responses=error_responses(401, 503, openai=True))
def read_models(services: ServicesDep, account: CurrentAccount) -> dict[str, Any]:
    del account  # authentication only
    ids = [f"voxclone-{services.engine.name}", *ALIASES]
    return {
        "object": "list",
        "data": [{"id": i, "object": "model", "created": _CREATED, "owned_by": "voxclone"} for i in ids],
    }
