"""FastAPI dependencies as ``Annotated`` aliases (``ServicesDep``, ``CurrentAccount``), and the
multipart upload helpers that the upload routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import FormData, UploadFile

from voxclone.errors import AuthenticationFailed, EngineUnavailable, InvalidRequest, PayloadTooLarge
from voxclone.service.accounts import AccountRef
from voxclone.service.container import Services


async def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise EngineUnavailable("the server is still starting; retry in a moment")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


# Declared for the OpenAPI document (security schemes); the headers are parsed below.
_BEARER = HTTPBearer(auto_error=False, bearerFormat="oute_…", description="`Authorization: Bearer oute_…`")
_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="The key alone, `oute_…`")


def get_current_account(
    services: ServicesDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None,
    _api_key: Annotated[str | None, Security(_API_KEY)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> AccountRef:
    """The caller, from ``Authorization: Bearer oute_…`` (or ``X-API-Key``)."""
    key = ""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else authorization.strip()
    elif x_api_key:
        key = x_api_key.strip()
    if not key:
        raise AuthenticationFailed(
            "no API key: send `Authorization: Bearer oute_…` (create one with `voxclone admin create-key`)",
            code="missing_api_key",
        )
    return services.accounts.authenticate(key)


CurrentAccount = Annotated[AccountRef, Depends(get_current_account)]


def require_multipart(request: Request, *, fields: str) -> None:
    """400 ``invalid_content_type`` unless the body is ``multipart/form-data``; ``fields`` names
    what to upload ("fields audio and name")."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest(
            f"send the recording as multipart/form-data with {fields}", code="invalid_content_type"
        )


def audio_upload(form: FormData) -> UploadFile:
    """The form's ``audio`` file (or ``file``, its alias); 400 ``missing_audio`` without one."""
    upload = form.get("audio") or form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("the multipart field `audio` (a file) is required", code="missing_audio")
    return upload


async def read_upload(upload: UploadFile, *, limit: int) -> bytes:
    """The file's bytes; 413 ``file_too_large`` past ``limit`` (reads at most one byte more)."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the upload is larger than {limit // (1024 * 1024)} MB")
    return data
