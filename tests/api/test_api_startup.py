"""The app is whole once built: no request builds part of it on the serving thread."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter


def test_first_requests_build_no_validators(
    harness: Any, reference_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI would build an included router's validators on the first request to reach it, inside
    ``warnings.catch_warnings()``, which is not thread-safe: with two replicas serving in one process,
    a first request could race another and answer 500 (seen in CI). ``create_app`` builds them all."""
    built: list[object] = []
    original = TypeAdapter.__init__

    def counting(self: TypeAdapter[Any], *args: Any, **kwargs: Any) -> None:
        built.append(args[0] if args else kwargs.get("type"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "__init__", counting)
    headers = harness.new_account()
    client = harness.client
    assert (
        client.post(
            "/api/v1/tts_non_stream", json={"text": "Hi there.", "voice_id": "fa_low"}, headers=headers
        ).status_code
        == 200
    )
    assert client.get("/api/v1/voice-clones", headers=headers).status_code == 200
    assert client.get("/api/v1/voices", headers=headers).status_code == 200
    created = client.post(
        "/api/v1/voice-clones",
        data={"name": "me"},
        files={"audio": ("me.wav", reference_wav, "audio/wav")},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert (
        client.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "input": "Hi there.", "voice": "fa_low"},
            headers=headers,
        ).status_code
        == 200
    )
    assert client.get("/api/v1/account", headers=headers).status_code in (200, 404)
    assert built == []
