"""OpenAI-compatible ``GET /v1/models``: exactly the model ids ``/v1/audio/speech`` accepts.

Every id selects the one engine the server runs (``voxclone-<engine>`` names it); OpenAI's own
speech model ids are accepted so that OpenAI clients' defaults work, and ``outetts_1_pro`` is the
official ``outeai`` SDK's model name. Any other ``model`` answers 404 ``model_not_found``, as
OpenAI does. (The OuteAI routes' ``model_name`` is accepted and ignored.)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from voxclone.api.deps import CurrentAccount, ServicesDep
from voxclone.api.openapi import error_responses
from voxclone.errors import NotFound

router = APIRouter(tags=["openai"])

OPENAI_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
"""OpenAI's speech model ids (the ``openai`` SDK's ``SpeechModel``)."""
_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z


def model_ids(engine_name: str) -> tuple[str, ...]:
    """The model ids accepted (and listed) when the server runs engine ``engine_name``."""
    return ("voxclone", f"voxclone-{engine_name}", *OPENAI_MODELS, "outetts_1_pro")


def check_model(model: str, *, engine_name: str) -> None:
    """Raise 404 ``model_not_found`` unless ``model`` is one of :func:`model_ids` (exact match)."""
    accepted = model_ids(engine_name)
    if model not in accepted:
        raise NotFound(
            f"model {model!r} does not exist; GET /v1/models lists the accepted ids: {', '.join(accepted)}",
            code="model_not_found",
        )


@router.get("/v1/models", responses=error_responses(401, 503, openai=True))
def read_models(services: ServicesDep, account: CurrentAccount) -> dict[str, Any]:
    del account  # authentication only
    return {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": _CREATED, "owned_by": "voxclone"}
            for i in model_ids(services.engine.name)
        ],
    }
