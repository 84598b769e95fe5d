"""docs/errors.md documents every error code voxclone raises, and its examples are what is sent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from voxclone.api.errors import _HTTP_CODES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "errors.md"
# code="…" arguments and `code = "…"` / `code: str = "…"` class attributes anywhere in the package
_RAISED = re.compile(r"""\bcode\s*(?::\s*str\s*)?=\s*["']([a-z][a-z0-9_]*)["']""")
# a code put together at run time (code=f"invalid_{name}") is invisible to the scan
_BUILT = re.compile(r"""\bcode\s*=\s*f["']""")
HTTP_FALLBACK = "http_error"  # handle_http_error's code for a status without its own


def raised_codes() -> dict[str, list[str]]:
    """Every error code in ``src/voxclone`` → the files that raise it."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "src" / "voxclone").rglob("*.py")):
        for code in _RAISED.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, []).append(str(path.relative_to(ROOT)))
    for code in [*_HTTP_CODES.values(), HTTP_FALLBACK]:
        found.setdefault(code, []).append("src/voxclone/api/errors.py")
    return found


def test_every_code_is_a_literal_the_scan_can_see() -> None:
    built = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "src" / "voxclone").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _BUILT.search(line)
    ]
    assert not built, f"error codes built with f-strings (write each code out): {built}"


def test_the_scan_sees_the_codes() -> None:
    codes = raised_codes()
    assert {"voice_not_found", "invalid_name", "server_busy", "internal_error", "usage_error"} <= set(codes)
    assert len(codes) > 40


def test_every_raised_code_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    missing = {code: files for code, files in raised_codes().items() if f"`{code}`" not in docs}
    assert not missing, f"codes missing from docs/errors.md: {missing}"


def test_the_voice_not_found_example_is_what_the_clone_routes_send(harness: Any) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    example = json.loads(re.search(r'^\{"code": "voice_not_found".*\}$', docs, re.MULTILINE)[0])  # type: ignore[index]
    voice_id = re.search(r"vc_[0-9a-z]{26}", example["message"])[0]  # type: ignore[index]
    headers = harness.new_account()
    for method in ("GET", "DELETE"):
        r = harness.client.request(method, f"/api/v1/voice-clones/{voice_id}", headers=headers)
        body = r.json()
        assert r.status_code == 404 and body["request_id"].startswith("req_")
        assert {k: body[k] for k in ("code", "message")} == {k: example[k] for k in ("code", "message")}
    r = harness.client.post(
        "/api/v1/tts_non_stream", json={"text": "hi", "voice_id": voice_id}, headers=headers
    )
    assert {k: r.json()[k] for k in ("code", "message")} == {k: example[k] for k in ("code", "message")}


def test_health_fields_the_docs_name_exist(harness: Any) -> None:
    """Every "`GET /api/v1/health` shows `a.b.c`" in the README and docs/ names a field health has."""
    health = harness.client.get("/api/v1/health").json()
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {
        (path.name, field)
        for path in texts
        for field in re.findall(r"`GET /api/v1/health` shows `([a-z_.]+)`", path.read_text(encoding="utf-8"))
    }
    assert named, "the scan found no health field named in the docs"
    missing = []
    for name, field in sorted(named):
        node: Any = health
        for part in field.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            missing.append(f"{name}: {field}")
    assert not missing, f"health has no such field: {missing}"
