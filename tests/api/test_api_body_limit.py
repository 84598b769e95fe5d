"""Request body limits against a live uvicorn server: JSON bodies over the limit get 413
``request_too_large`` from their ``Content-Length`` or, chunked, while they stream in; the
server never reads them whole and keeps serving."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

LIMIT = 1024 * 1024  # Settings.max_json_bytes default
OFFERED = 32 * 1024 * 1024  # what the client would send if nobody stopped it


def _raw_post(
    base_url: str, path: str, headers: dict[str, str], chunks: Iterator[bytes], *, chunked: bool
) -> tuple[int, dict[str, str], bytes, int]:
    """POST over a plain socket; stop sending as soon as the server answers.

    Returns status, headers, body and how many body bytes were sent.
    """
    url = urlsplit(base_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sent = 0
    with sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            for chunk in chunks:
                if select.select([sock], [], [], 0)[0]:
                    break  # the answer is there: stop sending
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
                sent += len(chunk)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed its side after answering
        raw = b""
        try:
            while part := sock.recv(65536):
                raw += part
        except ConnectionResetError:
            pass
    head_bytes, _, body = raw.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    response_headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(response_headers.get("content-length", len(body)))
    return status, response_headers, body[:length], sent


def _oversized_json(field: str) -> tuple[int, Iterator[bytes]]:
    """Length and chunks of a valid JSON object whose ``field`` holds ``OFFERED`` characters."""
    head = f'{{"voice_id": "fa_low", "voice": "fa_low", "model": "tts-1", "{field}": "'.encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(OFFERED // 65536):
            yield b"a" * 65536
        yield b'"}'

    return len(head) + OFFERED + 2, chunks()


@pytest.mark.parametrize(
    ("path", "field"), [("/api/v1/tts_non_stream", "text"), ("/v1/audio/speech", "input")]
)
@pytest.mark.parametrize("how", ["content-length", "chunked"])
def test_oversized_json_body_is_refused_early(live_harness: Any, path: str, field: str, how: str) -> None:
    headers = {**live_harness.new_account(), "Content-Type": "application/json"}
    length, chunks = _oversized_json(field)
    if how == "content-length":
        headers["Content-Length"] = str(length)
    status, response_headers, body, sent = _raw_post(
        live_harness.base_url, path, headers, chunks, chunked=how == "chunked"
    )
    error = json.loads(body)
    code = error["error"]["code"] if path.startswith("/v1/") else error["code"]
    assert (status, code) == (413, "request_too_large"), body
    assert response_headers.get("connection") == "close"
    assert sent < 16 * 1024 * 1024  # refused long before the 32 MB were read
    assert live_harness.engine.chunks_made == 0
    r = httpx.post(
        live_harness.base_url + "/api/v1/tts_non_stream",
        json={"text": "still serving", "voice_id": "fa_low"},
        headers=live_harness.new_account(),
    )
    assert r.status_code == 200


def test_json_just_under_the_limit_is_read(harness: Any) -> None:
    """The limit never cuts a legal request: 5,000 astral letters escaped as \\uXXXX pairs."""
    body = json.dumps({"text": "\U0001d400" * 5000, "voice_id": "fa_low"})  # ensure_ascii: 60 KB
    r = harness.client.post(
        "/api/v1/tts_non_stream",
        content=body,
        headers={**harness.new_account(), "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    padded = json.dumps({"text": "hi", "voice_id": "fa_low", "pad": "x" * (LIMIT - 100)})
    r = harness.client.post(
        "/api/v1/tts_non_stream",
        content=padded,
        headers={**harness.new_account(), "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    r = harness.client.post(
        "/api/v1/tts_non_stream",
        content=padded + " " * 200,
        headers={**harness.new_account(), "content-type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")


@pytest.mark.parametrize("how", ["content-length", "chunked"])
def test_oversized_upload_is_refused_early(live_harness: Any, how: str) -> None:
    head = b'--xyz\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(OFFERED // 65536):
            yield b"\0" * 65536
        yield b"\r\n--xyz--\r\n"

    headers = {**live_harness.new_account(), "Content-Type": "multipart/form-data; boundary=xyz"}
    if how == "content-length":
        headers["Content-Length"] = str(len(head) + OFFERED + 11)
    status, _, body, sent = _raw_post(
        live_harness.base_url, "/api/v1/voice-clones", headers, chunks(), chunked=how == "chunked"
    )
    assert (status, json.loads(body)["code"]) == (413, "file_too_large")
    assert sent < 24 * 1024 * 1024
