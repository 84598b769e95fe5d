"""Map errors to responses.

OuteAI routes answer ``{"code", "message", "request_id"}`` at the top level (the official SDK
reads ``code`` and ``message``); the OpenAI route (paths under ``/v1/``) answers
``{"error": {"message", "type", "code", "param"}}``. Codes are listed in ``docs/errors.md``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from voxclone.api.middleware import request_id_of
from voxclone.api.openapi import allowed_methods
from voxclone.errors import Overloaded, ServiceError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "invalid_request",
    401: "missing_api_key",
    404: "not_found",
    405: "method_not_allowed",
    413: "file_too_large",
    415: "unsupported_media_type",
}
_OPENAI_TYPES = {
    401: "authentication_error",
    402: "insufficient_quota",
    404: "invalid_request_error",
    429: "rate_limit_error",
    503: "server_error",
}


def _is_openai(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def error_response(
    request: Request,
    *,
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> JSONResponse:
    rid = request_id_of(request.scope)
    hdrs = {"x-request-id": rid, **(headers or {})}
    if _is_openai(request):
        etype = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        body: dict[str, Any] = {"error": {"message": message, "type": etype, "code": code, "param": param}}
    else:
        body = {"code": code, "message": message, "request_id": rid}
        if param:
            body["param"] = param
        for key, value in (details or {}).items():
            body.setdefault(key, value)
    return JSONResponse(body, status_code=status, headers=hdrs)


async def handle_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)  # registered for ServiceError only
    headers = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Overloaded):  # load shedding, the answer working as designed: not an error
        log.info("request %s refused: %s (%s)", request_id_of(request.scope), exc.message, exc.code)
    elif exc.status >= 500:
        log.error("request %s failed: %s (%s)", request_id_of(request.scope), exc.message, exc.code)
    return error_response(
        request, status=exc.status, code=exc.code, message=exc.message, headers=headers, details=exc.details
    )


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "header", "path")]
    param = ".".join(loc) or None
    if first.get("type") == "json_invalid":
        return error_response(request, status=400, code="invalid_json", message="the body is not valid JSON")
    if first.get("type") == "missing":
        message = f"{param or 'a field'} is required"
        return error_response(request, status=400, code="missing_field", message=message, param=param)
    detail = first.get("msg", "invalid request")
    message = f"{param}: {detail}" if param else str(detail)
    return error_response(request, status=422, code="invalid_request", message=message, param=param)


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = str(exc.detail) if exc.detail else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        # Starlette names only the first matching route's methods; list every route's at this path
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(request, status=exc.status_code, code=code, message=message, headers=headers)


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error in request %s", request_id_of(request.scope), exc_info=exc)
    return error_response(
        request,
        status=500,
        code="internal_error",
        message="the server hit an unexpected error; it was logged",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, handle_service_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected)
