"""The OpenAPI document tells the truth: schemathesis fuzzes every operation of a live server.

The server (uvicorn, fake engine, SQLite or PostgreSQL) runs in this process; the schemathesis
CLI runs in a subprocess against it with an API key, through its examples, coverage (boundary
values, missing fields, undeclared methods) and fuzzing phases. Bounded: ``MAX_EXAMPLES`` per
operation, a fixed seed (reproducible in CI), no example database, a hard timeout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MAX_EXAMPLES = 10
SEED = 20260328
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "unsupported_method",  # undeclared methods answer 405 with an Allow header
    "allow_header_conformance",  # ... listing every method the path has
]


def test_the_server_matches_its_openapi_document(live_api: tuple[str, str], tmp_path: Path) -> None:
    pytest.importorskip("schemathesis", reason="part of the dev extra: pip install -e '.[dev]'")
    base_url, key = live_api
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert "15 passed" in done.stdout, done.stdout  # every operation was exercised


def test_405_lists_every_method_of_the_path(harness: Any) -> None:
    headers = harness.new_account()
    cases = {
        "/api/v1/voice-clones/vc_01jq8z3m5k7h2d9x4t6b0n1c8e": {"DELETE", "GET"},
        "/api/v1/voice-clones": {"GET", "POST"},
        "/api/v1/tts_stream": {"POST"},
    }
    for path, methods in cases.items():
        for method in ("PUT", "PATCH", "OPTIONS"):
            r = harness.client.request(method, path, headers=headers)
            assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed"), (method, path)
            assert {m.strip() for m in r.headers["allow"].split(",")} == methods, (method, path)


def test_the_schema_declares_what_the_server_refuses(harness: Any) -> None:
    spec = harness.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["TTSCreate"]["properties"]["text"]["minLength"] == 1
    assert schemas["SpeechCreate"]["properties"]["input"]["minLength"] == 1
    upload = spec["paths"]["/api/v1/voice-clones"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["name"]["minLength"] == 1
    assert "HTTPValidationError" not in schemas  # validation errors are ErrorPublic bodies
    clone = spec["paths"]["/api/v1/voice-clones/{voice_id}"]
    assert {"401", "404"} <= set(clone["get"]["responses"]) and {"401", "404"} <= set(
        clone["delete"]["responses"]
    )
    create = spec["paths"]["/api/v1/voice-clones"]["post"]["responses"]
    assert {"400", "401", "402", "409", "413", "415", "422"} <= set(create)
    for path in ("/api/v1/tts_non_stream", "/api/v1/tts_stream", "/v1/audio/speech"):
        assert {"400", "401", "402", "404", "422"} <= set(spec["paths"][path]["post"]["responses"])
    error = spec["paths"]["/v1/audio/speech"]["post"]["responses"]["400"]["content"]["application/json"]
    assert error["schema"]["$ref"].endswith("/OpenAIErrorPublic")
