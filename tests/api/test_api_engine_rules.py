"""The engine's rules reach every speech route unchanged, and its errors come before any header.

The service passes language, speed and text to the engine as sent (no rule of its own); whatever
the engine refuses, at ``prepare`` or in its first chunk, is answered with the error's own status
and JSON body on every route, streamed ones and server-sent events included, never a 200 with an
error after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from voxclone.errors import Unprocessable

OUTEAI = ("/api/v1/tts_non_stream", "/api/v1/tts_stream", "/api/v1/tts_with_timestamps")
OPENAI = {
    "whole": {"response_format": "wav"},
    "stream": {"response_format": "pcm"},
    "sse": {"stream_format": "sse"},
}
ROUTES = [*OUTEAI, *(f"openai-{kind}" for kind in OPENAI)]


def _post(harness: Any, route: str, headers: dict[str, str], **fields: Any) -> Any:
    """POST ``fields`` (OuteAI names: text, voice_id, speed, language) to ``route``."""
    if route in OUTEAI:
        return harness.client.post(route, json={"voice_id": "fa_low", **fields}, headers=headers)
    body = {"model": "tts-1", "input": fields.pop("text"), "voice": "fa_low", **OPENAI[route[7:]], **fields}
    return harness.client.post("/v1/audio/speech", json=body, headers=headers)


def _error(r: Any) -> str:
    """The error code of a JSON error answer, in either shape."""
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    return str(body["error"]["code"] if "error" in body else body["code"])


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"text": "?!… --- ***"}, 400, "empty_text"),
        ({"text": "hello there", "speed": 0.2}, 400, "invalid_speed"),
        ({"text": "hello there", "speed": 4.5}, 400, "invalid_speed"),
    ],
)
def test_engine_refusals_are_answered_before_any_header(
    harness: Any, route: str, fields: dict[str, Any], status: int, code: str
) -> None:
    headers = harness.new_account("1")
    r = _post(harness, route, headers, **fields)
    assert (r.status_code, _error(r)) == (status, code)
    assert harness.services.pool.in_flight == 0


@pytest.mark.parametrize("route", OUTEAI)
@pytest.mark.parametrize("tag", ["es-MX", "ES_mx", "en", "EN-us", "en-US-x-private"])
def test_regional_tags_and_aliases_are_the_engines_to_resolve(harness: Any, route: str, tag: str) -> None:
    r = _post(harness, route, harness.new_account("1"), text="hola amigos", language=tag)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("route", OUTEAI)
def test_a_language_the_engine_does_not_speak_is_refused_with_its_list(harness: Any, route: str) -> None:
    r = _post(harness, route, harness.new_account("1"), text="hello", language="fr-FR")
    assert (r.status_code, _error(r)) == (400, "unsupported_language")
    assert r.json()["supported"] == ["en-us", "es"]


@pytest.mark.parametrize("route", ROUTES)
def test_an_engine_failure_in_the_first_chunk_keeps_its_status(
    harness: Any, route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(utterance: Any) -> Iterator[Any]:
        raise Unprocessable("this voice cannot say that", code="invalid_profile")
        yield  # a generator, failing at its first chunk

    monkeypatch.setattr(harness.engine, "_word_chunks", broken)
    headers = harness.new_account("1")
    r = _post(harness, route, headers, text="hello there")
    assert (r.status_code, _error(r)) == (422, "invalid_profile")
    assert harness.services.pool.in_flight == 0
    account = harness.client.get("/api/v1/account", headers=headers).json()["data"]
    assert (account["held"], account["balance"]) == ("0.000000", "1.000000")
