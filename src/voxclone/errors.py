"""Domain errors shared by the service, engine and audio layers.

Every error a user can cause carries a stable machine-readable ``code`` (snake_case) and an
actionable ``message``. The HTTP layer maps them to responses through ``status``; nothing below
the HTTP layer imports FastAPI.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Root of every error voxclone reports to a caller.

    Parameters
    ----------
    message : str
        One sentence a user can act on.
    code : str, optional
        Stable snake_case code; defaults to the class's ``code``.
    details : dict, optional
        Extra JSON-serialisable fields returned with the error.
    """

    code: str = "internal_error"
    status: int = 500

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class InvalidRequest(ServiceError):
    code = "invalid_request"
    status = 400


class AuthenticationFailed(ServiceError):
    code = "invalid_api_key"
    status = 401


class InsufficientCredits(ServiceError):
    code = "insufficient_credits"
    status = 402


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class PayloadTooLarge(ServiceError):
    code = "file_too_large"
    status = 413


class UnsupportedMediaType(ServiceError):
    code = "unsupported_audio_format"
    status = 415


class Unprocessable(ServiceError):
    code = "unprocessable"
    status = 422


class Overloaded(ServiceError):
    """The synthesis queue is full; ``retry_after`` says when to try again (seconds)."""

    code = "server_busy"
    status = 503

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None):
        super().__init__(message, code=code, details={"retry_after": retry_after})
        self.retry_after = retry_after


class EngineUnavailable(ServiceError):
    code = "engine_unavailable"
    status = 503


class MissingDependency(ServiceError):
    """An optional dependency is not installed; the message names the extra to install."""

    code = "missing_dependency"
    status = 500


class ProfileOutdated(Conflict):
    """A stored voice profile written by an older version of its engine's profile format.

    The engine no longer reads it (it keeps no rendering code for retired methods); re-enroll the
    voice from its kept reference audio, or ask the user to re-create it.

    Attributes
    ----------
    engine : str
        The engine the profile is for.
    found : int
        The profile's version.
    current : int
        The version the engine writes and reads.
    """

    code = "voice_outdated"

    def __init__(self, message: str, *, engine: str, found: int, current: int):
        super().__init__(
            message, details={"engine": engine, "profile_version": found, "current_version": current}
        )
        self.engine = engine
        self.found = found
        self.current = current
