"""Pure-ASGI middleware: request ids on every response, and the upload size limit.

The upload limit is enforced while the body streams in: a ``Content-Length`` over the limit is
refused before reading anything, and a body that grows past it (chunked uploads) is cut off by a
counting ``receive`` wrapper, so an oversized upload is never buffered whole.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxclone.errors import PayloadTooLarge

REQUEST_ID_HEADER = "x-request-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MULTIPART_SLACK_BYTES = 64 * 1024


def request_id_of(scope: Scope) -> str:
    """The id assigned to this request by :class:`RequestIdMiddleware` (``""`` before it)."""
    state: dict[str, Any] = scope.get("state") or {}
    return str(state.get("request_id", ""))


class RequestIdMiddleware:
    """Reuse a sane incoming ``x-request-id`` or make one, and echo it on the response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
        rid = incoming if _VALID_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


class UploadLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` (+ multipart overhead) on ``paths`` with 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, paths: tuple[str, ...]):
        self.app = app
        self.limit = max_bytes + MULTIPART_SLACK_BYTES
        self.max_bytes = max_bytes
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        length = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is not None and length > self.limit:
            await self._refuse(scope, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise PayloadTooLarge(self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return f"the upload is larger than {self.max_bytes // (1024 * 1024)} MB; send a shorter recording"

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {"code": "file_too_large", "message": self._message(), "request_id": request_id_of(scope)}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
