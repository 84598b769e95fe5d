"""``/docs`` and ``/redoc`` work offline: every script, style sheet and image they load is served
by voxclone itself (FastAPI's defaults load Swagger UI and ReDoc from a CDN: a blank page offline)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from voxclone.api import create_app
from voxclone.settings import Settings

# src="...", href="...", url(...) and the JavaScript string literals Swagger UI's page builds
URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)|["'](https?://[^"']+)["']""")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    # No lifespan (no engine, no database): the documentation pages need neither.
    return TestClient(create_app(Settings(data_dir=tmp_path / "data")))


def _urls(html: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in URL.finditer(html)]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("/docs", {"application/javascript", "text/css", "image/png"}),
        ("/redoc", {"application/javascript", "image/png"}),
    ],
)
def test_docs_pages_load_only_local_assets(client: TestClient, page: str, expected: set[str]) -> None:
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    urls = _urls(r.text)
    assert urls, r.text
    remote = [u for u in urls if not u.startswith("/")]
    assert remote == [], f"{page} loads {remote}"
    types = set()
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        content_type = asset.headers["content-type"].split(";")[0]
        if url == "/openapi.json":
            assert content_type == "application/json"
            continue
        types.add("application/javascript" if content_type == "text/javascript" else content_type)
        assert len(asset.content) > 1000, url  # a real bundle, not an empty placeholder
    assert types == expected


def test_swagger_page_points_at_the_schema_and_its_bundle(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "url: '/openapi.json'" in html
    bundle = client.get("/docs-assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle


def test_docs_honour_the_root_path(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    html = TestClient(app, root_path="/voice").get("/docs").text
    assert all(u.startswith("/voice/") for u in _urls(html)), _urls(html)
