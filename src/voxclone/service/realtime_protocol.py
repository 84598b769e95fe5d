"""The wire vocabulary of real-time sessions: close codes, messages, the channel, authentication.

Kept apart from :mod:`voxclone.service.realtime` (the session state machine) so the WebSocket
route and the session share it without either knowing the other's internals.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from voxclone.errors import AuthenticationFailed, InvalidRequest, ServiceError
from voxclone.service.accounts import AccountRef
from voxclone.service.container import Services

# WebSocket close codes (RFC 6455) the session ends with; the close reason is the error code.
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # authentication, idle timeout, credits exhausted
CLOSE_INTERNAL = 1011
CLOSE_TRY_LATER = 1013  # server_busy, engine_unavailable


class ClientGone(Exception):
    """The client disconnected (raised by a :class:`Channel`)."""


class Channel(Protocol):
    """Carries text frames both ways (the WebSocket route implements it)."""

    async def receive(self) -> str:
        """The next text frame; raises :class:`ClientGone` on disconnect and ``InvalidRequest``
        (``invalid_json``) for a frame that is not text."""
        ...

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message; raises :class:`ClientGone` when the client is gone."""
        ...


class SessionClosed(Exception):
    """Ends the session: send ``error`` (when set), then close with ``close_code``."""

    def __init__(self, error: ServiceError | None, close_code: int):
        super().__init__(error.code if error else "closed")
        self.error = error
        self.close_code = close_code


def error_message(error: ServiceError) -> dict[str, Any]:
    """The ``error`` server message for ``error`` (its details, such as ``retry_after``, included)."""
    return {"type": "error", "code": error.code, "message": error.message, **error.details}


def parse_message(frame: str) -> dict[str, Any]:
    """A client frame as a JSON object; ``invalid_json`` otherwise."""
    try:
        message = json.loads(frame)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise InvalidRequest(
            'each message must be one JSON object, such as {"type": "text", …}', code="invalid_json"
        )
    return message


def authenticate(services: Services, key: object) -> AccountRef:
    """The account of an API key given in a first message (blocking DB call)."""
    if not isinstance(key, str) or not key.strip():
        raise AuthenticationFailed(
            'no API key: send `Authorization: Bearer oute_…` or "api_key" in the first message',
            code="missing_api_key",
        )
    return services.accounts.authenticate(key.strip())
