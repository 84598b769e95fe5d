"""The SDK's error hierarchy: one root, one class per HTTP status, connection errors apart.

::

    VoxcloneError
    ├── APIError
    │   ├── APIStatusError               (status_code, code, message, request_id, body)
    │   │   ├── BadRequestError          400
    │   │   ├── AuthenticationError      401
    │   │   ├── InsufficientCreditsError 402
    │   │   ├── PermissionDeniedError    403
    │   │   ├── NotFoundError            404
    │   │   ├── ConflictError            409
    │   │   ├── PayloadTooLargeError     413
    │   │   ├── UnsupportedMediaTypeError 415
    │   │   ├── UnprocessableEntityError 422
    │   │   ├── RateLimitError           429
    │   │   └── InternalServerError      5xx
    │   └── APIConnectionError
    │       └── APITimeoutError
    └── (client-side validation errors are VoxcloneError / ValueError)
"""

from __future__ import annotations

import json
from typing import Any

import httpx


class VoxcloneError(Exception):
    """Root of every error the SDK raises."""


class APIError(VoxcloneError):
    """A request to the API failed.

    Attributes
    ----------
    message : str
        Human-readable explanation.
    request : httpx.Request or None
        The request that failed, when known.
    """

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status.

    Attributes
    ----------
    status_code : int
        HTTP status of the answer.
    code : str or None
        The server's stable snake_case error code (``"insufficient_credits"``, ...).
    request_id : str or None
        ``x-request-id`` of the answer (quote it when reporting a problem).
    body : object
        The decoded JSON error body, or the raw text when it was not JSON.
    payload : dict
        ``body`` when it is a JSON object, else ``{}`` (the ``outeai`` SDK's attribute name).
    response : httpx.Response
        The answer itself (already closed).
    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.code = code
        self.request_id = request_id
        self.body = body
        self.payload: dict[str, Any] = body if isinstance(body, dict) else {}

    def __str__(self) -> str:
        details = [f"status={self.status_code}"]
        if self.code:
            details.append(f"code={self.code}")
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        return f"{self.message} ({', '.join(details)})"


class BadRequestError(APIStatusError):
    """400: the request was malformed (bad JSON, empty text, unknown format, ...)."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, invalid or revoked."""


class InsufficientCreditsError(APIStatusError):
    """402: the account's balance cannot cover the request; nothing was charged."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such voice, clone or route for this account."""


class ConflictError(APIStatusError):
    """409: e.g. ``clone_limit_reached`` or an idempotency key reused with another body."""


class PayloadTooLargeError(APIStatusError):
    """413: the upload or body is over the server's limit."""


class UnsupportedMediaTypeError(APIStatusError):
    """415: the reference audio's format is not supported."""


class UnprocessableEntityError(APIStatusError):
    """422: the input is well-formed but unusable (reference too short, no speech, ...)."""


class RateLimitError(APIStatusError):
    """429: too many requests; the SDK already retried, honouring ``Retry-After``."""


class InternalServerError(APIStatusError):
    """5xx: the server failed or is overloaded; the SDK already retried."""


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


def make_status_error(response: httpx.Response, content: bytes) -> APIStatusError:
    """Build the error for a failed answer from its (already read) body.

    Reads both error shapes the server speaks: OuteAI's ``{"code", "message"}`` at the top level
    and OpenAI's ``{"error": {"code", "message"}}``.
    """
    body: Any
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = content.decode("utf-8", errors="replace")
    fields: dict[str, Any] = {}
    if isinstance(body, dict):
        inner = body.get("error")
        fields = inner if isinstance(inner, dict) else body
    message = str(fields.get("message") or "").strip()
    if not message:
        text = body.strip() if isinstance(body, str) else ""
        message = text or f"Request failed with status {response.status_code}."
    code = fields.get("code")
    request_id = response.headers.get("x-request-id") or fields.get("request_id")
    if request_id is None and isinstance(body, dict):
        request_id = body.get("request_id")
    cls = status_error_class(response.status_code)
    return cls(
        message,
        response=response,
        code=str(code) if code is not None else None,
        request_id=str(request_id) if request_id is not None else None,
        body=body,
    )
