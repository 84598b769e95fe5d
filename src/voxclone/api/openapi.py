"""What the OpenAPI document says beyond the route signatures: error responses and ``Allow``.

Routes list the error statuses they can answer with :func:`error_responses`; every error body is
:class:`~voxclone.api.schemas.ErrorPublic` (``/api/v1``) or
:class:`~voxclone.api.schemas.OpenAIErrorPublic` (``/v1``). The codes behind each status are in
``docs/errors.md``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.routing import Match

from voxclone.api.schemas import ErrorPublic, OpenAIErrorPublic

_DESCRIPTIONS = {
    400: "Malformed request: `invalid_json`, `missing_field`, `empty_text`, `invalid_name`, … "
    "(the `code` says which; see docs/errors.md)",
    401: "No API key (`missing_api_key`), or an unknown or revoked one (`invalid_api_key`)",
    402: "The balance cannot cover the request (`insufficient_credits`); nothing is charged",
    403: "The account's policy requires a spoken consent and none was sent (`consent_required`)",
    404: "No such voice for this account (`voice_not_found`), or consent challenge "
    "(`consent_challenge_not_found`), or no consent kept (`consent_not_found`)",
    409: "`clone_limit_reached`, `voice_engine_mismatch` or `consent_challenge_used`",
    410: "The consent challenge expired (`consent_challenge_expired`); create a new one",
    413: "The body is too large (`file_too_large` for uploads)",
    415: "The upload is not a readable audio format (`unsupported_audio_format`)",
    422: "A field has the wrong type or is out of range (`invalid_request`), or the recording cannot "
    "be cloned (`no_speech_detected`, `reference_too_short`, `multiple_speakers`, …), or the spoken "
    "consent failed (`consent_phrase_mismatch`, `consent_speaker_mismatch`, `consent_language_unsupported`)",
    503: "Every worker is busy (`server_busy`, with `Retry-After`) or the engine is not ready "
    "(`engine_unavailable`), or the consent recogniser is not installed (`consent_unavailable`)",
}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
AUDIO_TYPES = ("audio/wav", "audio/mpeg", "audio/ogg", "audio/aac", "audio/flac", "audio/pcm")


def error_responses(*statuses: int, openai: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for these error statuses (``openai``: OpenAI's error shape)."""
    model = OpenAIErrorPublic if openai else ErrorPublic
    return {status: {"model": model, "description": _DESCRIPTIONS[status]} for status in statuses}


def audio_response(description: str, *, extra_types: tuple[str, ...] = ()) -> dict[int | str, dict[str, Any]]:
    """A 200 response of audio bytes in any of the served formats."""
    content = {media: {"schema": {"type": "string", "format": "binary"}} for media in AUDIO_TYPES}
    content.update({media: {"schema": {"type": "string"}} for media in extra_types})
    return {200: {"description": description, "content": content}}


def multipart_body(*, required: tuple[str, ...], properties: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra=`` of a route that reads a ``multipart/form-data`` upload itself."""
    schema = {"type": "object", "required": list(required), "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def file_field(description: str) -> dict[str, Any]:
    """A file field of :func:`multipart_body`."""
    return {"type": "string", "format": "binary", "description": description}


def allowed_methods(request: Request) -> list[str]:
    """Every method the router serves at this request's path (Starlette's 405 names one route's).

    Asks each top-level route whether it would fully match the request made with each method.
    """
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, without FastAPI's default 422 body, which this API never sends.

    Validation errors answer :class:`ErrorPublic` (``invalid_request``); routes that can fail
    validation declare that 422 themselves.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    responses = operation.get("responses", {})
                    if "HTTPValidationError" in str(responses.get("422", "")):
                        del responses["422"]
            components = schema.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
