"""``GET /api/v1/tts_websocket``: real-time speech over a WebSocket (text in, audio out).

This module is the wire only: accept the upgrade, authenticate (``Authorization: Bearer oute_…``
or ``"api_key"`` in the first message, for browsers), run a
:class:`~voxclone.service.realtime.RealtimeSession` and close with its code. The protocol is in
the README ("Real-time WebSocket") and the error codes in ``docs/errors.md``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from fastapi.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from voxclone.errors import AuthenticationFailed, EngineUnavailable, InvalidRequest, ServiceError
from voxclone.service.accounts import AccountRef
from voxclone.service.container import Services
from voxclone.service.realtime import RealtimeSession
from voxclone.service.realtime_protocol import (
    CLOSE_POLICY,
    CLOSE_TRY_LATER,
    ClientGone,
    authenticate,
    error_message,
    parse_message,
)

router = APIRouter(tags=["tts"])
log = logging.getLogger(__name__)
PATH = "/api/v1/tts_websocket"


class _WebSocketChannel:
    """:class:`~voxclone.service.realtime.Channel` over a Starlette WebSocket."""

    def __init__(self, websocket: WebSocket):
        self._ws = websocket

    async def receive(self) -> str:
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            raise ClientGone
        text = message.get("text")
        if text is None:
            raise InvalidRequest("send JSON text frames, not binary ones", code="invalid_json")
        return str(text)

    async def send(self, message: dict[str, Any]) -> None:
        if self._ws.client_state != WebSocketState.CONNECTED:
            raise ClientGone
        try:
            await self._ws.send_json(message)
        except (WebSocketDisconnect, OSError, RuntimeError) as e:  # closed under us
            raise ClientGone from e

    async def close(self, code: int, reason: str = "") -> None:
        if self._ws.client_state == WebSocketState.CONNECTED:
            try:
                await self._ws.close(code=code, reason=reason[:120])
            except (WebSocketDisconnect, OSError, RuntimeError):
                log.debug("the client closed first")


def _header_key(websocket: WebSocket) -> str | None:
    """The key of an ``Authorization`` (``Bearer``) or ``X-API-Key`` header; ``None`` without one."""
    authorization = websocket.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else authorization.strip()
    key = websocket.headers.get("x-api-key")
    return key.strip() if key else None


async def _account(
    services: Services, websocket: WebSocket, channel: _WebSocketChannel
) -> tuple[AccountRef, dict[str, Any] | None]:
    """The caller, and the first message when it carried the key (to be handled next)."""
    key = _header_key(websocket)
    if key is not None:
        return await run_in_threadpool(authenticate, services, key), None
    idle = services.settings.ws_idle_timeout_s
    try:
        first = parse_message(await asyncio.wait_for(channel.receive(), timeout=idle))
    except TimeoutError as e:
        raise AuthenticationFailed(
            f'no API key within {idle:g} s: send "api_key" in the first message', code="missing_api_key"
        ) from e
    account = await run_in_threadpool(authenticate, services, first.pop("api_key", None))
    return account, first


class _UpgradeRequired(InvalidRequest):
    status = 426


@router.get(PATH, include_in_schema=False)
async def tts_websocket_plain_http() -> None:
    """A plain HTTP request to the WebSocket route: 426 with a hint instead of a bare 404."""
    raise _UpgradeRequired(
        "this route speaks the WebSocket protocol: connect with ws:// (or wss://) and an Upgrade "
        'request; see the README\'s "Real-time WebSocket"',
        code="websocket_required",
    )


@router.websocket(PATH)
async def tts_websocket(websocket: WebSocket) -> None:
    """Stream text in and audio out; see the README's "Real-time WebSocket" section."""
    await websocket.accept()
    channel = _WebSocketChannel(websocket)
    services: Services | None = getattr(websocket.app.state, "services", None)
    try:
        if services is None:
            raise EngineUnavailable("the server is still starting; retry in a moment")
        account, first = await _account(services, websocket, channel)
    except ClientGone:
        return
    except ServiceError as e:
        await _refuse(channel, e)
        return
    session = RealtimeSession(
        services=services,
        account=account,
        channel=channel,
        idle_timeout_s=services.settings.ws_idle_timeout_s,
    )
    code = await session.run(first)
    await channel.close(code, session.close_reason)


async def _refuse(channel: _WebSocketChannel, error: ServiceError) -> None:
    try:
        await channel.send(error_message(error))
    except ClientGone:
        return
    code = CLOSE_TRY_LATER if isinstance(error, EngineUnavailable) else CLOSE_POLICY
    await channel.close(code, error.code)
