"""Malformed input and auth: always a 4xx with a stable code, never a 500; x-request-id everywhere."""

from __future__ import annotations

from typing import Any

import pytest

TTS = "/api/v1/tts_non_stream"


def test_health_has_request_id_and_no_auth(harness: Any) -> None:
    r = harness.client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.headers["x-request-id"].startswith("req_")
    r = harness.client.get("/api/v1/health", headers={"x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"


def test_missing_and_invalid_key(harness: Any) -> None:
    r = harness.client.get("/api/v1/voices")
    assert r.status_code == 401
    body = r.json()
    assert body["code"] == "missing_api_key" and body["message"]
    assert body["request_id"] == r.headers["x-request-id"]
    r = harness.client.get("/api/v1/voices", headers={"Authorization": "Bearer oute_" + "x" * 43})
    assert (r.status_code, r.json()["code"]) == (401, "invalid_api_key")
    r = harness.client.get("/api/v1/voices", headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.json()["code"]) == (401, "invalid_api_key")


def test_revoked_key_is_refused(harness: Any) -> None:
    headers = harness.new_account()
    key = headers["Authorization"].split()[1]
    assert harness.client.get("/api/v1/account", headers=headers).status_code == 200
    harness.services.accounts.revoke_key(key=key)
    r = harness.client.get("/api/v1/account", headers=headers)
    assert (r.status_code, r.json()["code"]) == (401, "invalid_api_key")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "invalid_json"),
        ('["a list"]', 422, "invalid_request"),
        ('{"voice_id": "fa_low"}', 400, "missing_field"),
        ('{"text": 5, "voice_id": "fa_low"}', 422, "invalid_request"),
        ('{"text": "hi", "voice_id": "fa_low", "speed": "fast"}', 422, "invalid_request"),
        ('{"text": "   ", "voice_id": "fa_low"}', 400, "empty_text"),
        ('{"text": "hi", "voice_id": "nobody"}', 404, "voice_not_found"),
        ('{"text": "hi", "voice_id": "vc_01j00000000000000000000000"}', 404, "voice_not_found"),
        ('{"text": "hi", "voice_id": "fa_low", "response_format": "ogg"}', 400, "unsupported_format"),
        ('{"text": "hi", "voice_id": "fa_low", "speed": 9}', 400, "invalid_speed"),
        ('{"text": "hi", "voice_id": "fa_low", "language": "tlh"}', 400, "unsupported_language"),
    ],
)
def test_malformed_tts_requests(harness: Any, body: str, status: int, code: str) -> None:
    headers = {**harness.new_account(), "content-type": "application/json"}
    r = harness.client.post(TTS, content=body, headers=headers)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.headers["x-request-id"]
    # the server keeps serving
    assert (
        harness.client.post(
            TTS, json={"text": "still fine", "voice_id": "fa_low"}, headers=headers
        ).status_code
        == 200
    )


def test_text_too_long(harness: Any) -> None:
    headers = harness.new_account()
    r = harness.client.post(TTS, json={"text": "a" * 5001, "voice_id": "fa_low"}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (400, "text_too_long")
    r = harness.client.post(TTS, json={"text": "a " * 2500, "voice_id": "fa_low"}, headers=headers)
    assert r.status_code == 200


def test_unknown_route_and_method(harness: Any) -> None:
    r = harness.client.get("/api/v1/nothing-here")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = harness.client.put("/api/v1/health")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")


def test_openai_error_shape(harness: Any) -> None:
    r = harness.client.post("/v1/audio/speech", json={"model": "tts-1", "input": "hi", "voice": "alloy"})
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == "missing_api_key" and err["message"] and "type" in err and "param" in err
    headers = harness.new_account()
    r = harness.client.post(
        "/v1/audio/speech", json={"model": "tts-1", "input": "hi", "voice": "alloy"}, headers=headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "voice_not_found")
    r = harness.client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "fa_low"}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["param"] == "input"


def test_openapi_and_docs(harness: Any) -> None:
    spec = harness.client.get("/openapi.json").json()
    for path in ("/api/v1/voices", "/api/v1/voice-clones", "/api/v1/tts_stream", "/v1/audio/speech"):
        assert path in spec["paths"]
    assert "multipart/form-data" in spec["paths"]["/api/v1/voice-clones"]["post"]["requestBody"]["content"]
    assert harness.client.get("/docs").status_code == 200


def test_upload_too_large_by_content_length(harness: Any) -> None:
    headers = harness.new_account()
    big = b"\0" * (10 * 1024 * 1024 + 200_000)
    r = harness.client.post(
        "/api/v1/voice-clones",
        files={"audio": ("a.wav", big, "audio/wav")},
        data={"name": "x"},
        headers=headers,
    )
    assert (r.status_code, r.json()["code"]) == (413, "file_too_large")


def test_upload_too_large_chunked(harness: Any) -> None:
    headers = {**harness.new_account(), "content-type": "multipart/form-data; boundary=xyz"}
    sent = 0

    def body() -> Any:
        nonlocal sent
        yield b'--xyz\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'
        for _ in range(200):  # up to 12.8 MB, but the server stops reading after 10 MB
            sent += 65536
            yield b"\0" * 65536
        yield b"\r\n--xyz--\r\n"

    r = harness.client.post("/api/v1/voice-clones", content=body(), headers=headers)
    assert (r.status_code, r.json()["code"]) == (413, "file_too_large")
    assert harness.client.get("/api/v1/health").status_code == 200


def test_clone_upload_validation(harness: Any) -> None:
    headers = harness.new_account()
    r = harness.client.post("/api/v1/voice-clones", json={"name": "x"}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_content_type")
    r = harness.client.post(
        "/api/v1/voice-clones", data={"name": "x"}, files={"other": ("a", b"1")}, headers=headers
    )
    assert (r.status_code, r.json()["code"]) == (400, "missing_audio")
    r = harness.client.post(
        "/api/v1/voice-clones", files={"audio": ("a.wav", b"123", "audio/wav")}, headers=headers
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_name")


def test_unexpected_error_is_a_logged_500_with_request_id(harness: Any) -> None:
    def boom() -> None:
        raise RuntimeError("kaboom")

    harness.client.app.add_api_route("/api/v1/boom", boom)
    r = harness.client.get("/api/v1/boom")
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "internal_error" and "kaboom" not in body["message"]
    assert body["request_id"] == r.headers["x-request-id"]
    assert harness.client.get("/api/v1/health").status_code == 200


@pytest.mark.parametrize("after", ["\x00", "a\x00b", "vc_" + "\x00" * 26, "not-a-cursor", "vc_" + "U" * 26])
def test_malformed_list_cursor_is_a_400_on_every_database(harness: Any, after: str) -> None:
    headers = harness.new_account()
    r = harness.client.get("/api/v1/voice-clones", params={"after": after}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_cursor"), r.text
    r = harness.client.get("/api/v1/voice-clones", params={"after": "vc_" + "0" * 26}, headers=headers)
    assert r.status_code == 200 and r.json()["data"]["voice_clones"] == []
    assert harness.client.get("/api/v1/voice-clones", headers=headers).status_code == 200


@pytest.mark.parametrize("name", ["a\x00b", "a\x1fb", "line\nbreak", "del\x7f", "c1\x85in the middle"])
def test_control_characters_in_a_clone_name_are_refused_before_enrollment(harness: Any, name: str) -> None:
    headers = harness.new_account()
    r = harness.client.post(
        "/api/v1/voice-clones",
        files={"audio": ("a.wav", b"not audio, never decoded", "audio/wav")},
        data={"name": name},
        headers=headers,
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_name"), r.text
    assert harness.client.get("/api/v1/voice-clones", headers=headers).status_code == 200


@pytest.mark.parametrize("key", ["a\x00b", "tab\there", "x" * 256])
def test_malformed_idempotency_key_is_refused_before_enrollment(harness: Any, key: str) -> None:
    headers = {**harness.new_account(), "Idempotency-Key": key}
    r = harness.client.post(
        "/api/v1/voice-clones",
        files={"audio": ("a.wav", b"not audio, never decoded", "audio/wav")},
        data={"name": "ok"},
        headers=headers,
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_idempotency_key"), r.text


@pytest.mark.parametrize("voice_id", ["a%00b", "vc_%00", "vc_" + "%00" * 26, "vc_" + "0" * 25 + "%FF"])
def test_malformed_voice_ids_in_paths_are_a_clean_404(harness: Any, voice_id: str) -> None:
    headers = harness.new_account()
    for method in ("GET", "DELETE"):
        r = harness.client.request(method, f"/api/v1/voice-clones/{voice_id}", headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "voice_not_found"), (method, r.text)
    for voice in ("\x00", "vc_\x00", "vc_" + "\x00" * 26):
        r = harness.client.post(TTS, json={"text": "hi", "voice_id": voice}, headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "voice_not_found"), r.text
        body = {"model": "tts-1", "input": "hi", "voice": voice}
        r = harness.client.post("/v1/audio/speech", json=body, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "voice_not_found"), r.text
    assert harness.client.get("/api/v1/voice-clones", headers=headers).status_code == 200
