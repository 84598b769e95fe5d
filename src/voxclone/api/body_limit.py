"""Pure-ASGI request body limit: uploads and JSON bodies are refused with 413 as they stream in.

A ``Content-Length`` over the limit is refused before anything is read; a body that grows past
it (chunked transfer) is cut off by a counting ``receive`` wrapper, so an oversized body is never
buffered whole. Clone uploads (``POST`` on ``upload_paths``) get ``file_too_large`` at
``max_upload_bytes`` plus multipart overhead; every other request gets ``request_too_large`` at
the JSON limit. The 413 is written by this middleware, in the route's error shape (OuteAI or
OpenAI), with ``Connection: close`` since the rest of the body is never read.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxclone.api.errors import error_response

MULTIPART_SLACK_BYTES = 64 * 1024


@dataclass(frozen=True)
class _Limit:
    max_bytes: int
    code: str
    message: str


class _BodyTooLarge(Exception):
    """Raised into the app by the counting ``receive``; this middleware answers 413."""


class BodyLimitMiddleware:
    """Refuse request bodies over their limit (bytes) with 413, before or while reading them.

    Parameters
    ----------
    app : ASGIApp
        The wrapped application.
    json_bytes : int
        Limit for every request except uploads (JSON routes), in bytes.
    upload_bytes : int
        Limit for the file in an upload, in bytes (multipart overhead is allowed on top).
    upload_paths : tuple of str
        Paths whose ``POST`` is a multipart upload.
    """

    def __init__(self, app: ASGIApp, *, json_bytes: int, upload_bytes: int, upload_paths: tuple[str, ...]):
        self.app = app
        self.upload_paths = upload_paths
        self.upload = _Limit(
            upload_bytes + MULTIPART_SLACK_BYTES,
            "file_too_large",
            f"the upload is larger than {upload_bytes // (1024 * 1024)} MB; send a shorter recording",
        )
        self.json = _Limit(
            json_bytes,
            "request_too_large",
            f"the request body is larger than {json_bytes:,} bytes; split long text into several requests",
        )

    def limit_for(self, scope: Scope) -> _Limit:
        """The limit that applies to this request."""
        if scope.get("method") == "POST" and scope.get("path") in self.upload_paths:
            return self.upload
        return self.json

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        length = _content_length(scope)
        if length is not None and length > limit.max_bytes:
            await _refuse(scope, receive, send, limit)
            return
        seen = 0
        exceeded = False
        app_started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # once the body overflowed, whatever the app makes of the error is replaced by the 413
            nonlocal app_started, refused
            if exceeded and not app_started:
                if not refused:
                    refused = True
                    await _refuse(scope, receive, send, limit)
                return
            app_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if app_started:
                raise
            if not refused:
                refused = True
                await _refuse(scope, receive, send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: _Limit) -> None:
    response = error_response(Request(scope), status=413, code=limit.code, message=limit.message)
    response.headers["connection"] = "close"
    await response(scope, receive, send)
