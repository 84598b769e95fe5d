"""The playground's files are served, self-contained and consistent (no browser needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from voxclone.web import ASSET_PREFIX, mount_playground, static_dir

STATIC = static_dir()
JS_FILES = sorted((STATIC / "js").glob("*.js"))


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    mount_playground(app)
    return TestClient(app)


def test_index_served_at_root_with_strict_csp(client: TestClient) -> None:
    res = client.get("/")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "<title>voxclone playground</title>" in res.text
    assert client.head("/").status_code == 200


def test_index_is_not_in_openapi(client: TestClient) -> None:
    assert "/" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("path", "mime"),
    [("app.css", "text/css"), ("js/main.js", "javascript"), ("favicon.svg", "image/svg+xml")],
)
def test_assets_served_with_their_types(client: TestClient, path: str, mime: str) -> None:
    res = client.get(f"{ASSET_PREFIX}/{path}")
    assert res.status_code == 200
    assert mime in res.headers["content-type"]


def test_missing_asset_is_404(client: TestClient) -> None:
    assert client.get(f"{ASSET_PREFIX}/js/nope.js").status_code == 404
    assert client.get(f"{ASSET_PREFIX}/../__init__.py").status_code == 404


def test_every_asset_the_page_references_exists(client: TestClient) -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="(playground/[^"]+)"', html)
    assert {"playground/app.css", "playground/js/main.js"} <= set(refs)
    for ref in refs:
        assert client.get("/" + ref).status_code == 200, ref


@pytest.mark.parametrize("js", JS_FILES, ids=lambda p: p.name)
def test_module_imports_resolve(js: Path) -> None:
    source = js.read_text(encoding="utf-8")
    for target in re.findall(r'^import .*? from "(\./[^"]+)";', source, flags=re.M):
        assert (js.parent / target).is_file(), f"{js.name} imports missing {target}"


def test_ids_used_by_scripts_exist_in_page() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    used = set()
    for js in JS_FILES:
        used |= set(re.findall(r'\$\("([a-z0-9-]+)"\)', js.read_text(encoding="utf-8")))
    assert used, "scripts look up no elements?"
    assert used <= ids, f"scripts use ids missing from index.html: {sorted(used - ids)}"


def test_works_offline_no_external_urls() -> None:
    for path in STATIC.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), f"{path.name} refers to an external URL"


def test_every_form_control_has_a_label() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    for tag, attrs in re.findall(r"<(input|select|textarea|meter)\b([^>]*)>", html):
        control_id = re.search(r'\bid="([^"]+)"', attrs)
        assert control_id, f"<{tag}> without id"
        has_aria = "aria-label" in attrs
        assert control_id.group(1) in labelled or has_aria, f"#{control_id.group(1)} has no label"


def test_served_by_the_real_app_factory(tmp_path: Path) -> None:
    """create_app mounts the playground (no lifespan needed for static files)."""
    from voxclone.api import create_app
    from voxclone.settings import Settings

    app = create_app(Settings(data_dir=tmp_path))
    client = TestClient(app)  # not entered as a context manager: the engine is never loaded
    assert client.get("/").status_code == 200
    assert client.get(f"{ASSET_PREFIX}/js/api.js").status_code == 200


def test_scripted_aria_labels_contain_their_visible_text() -> None:
    """WCAG 2.5.3 (label in name): a button's accessible name starts with the words it shows,
    so a speech-input user who says "click Play sample" reaches it."""
    found = 0
    for js in JS_FILES:
        source = js.read_text(encoding="utf-8")
        for label, visible in re.findall(r'"aria-label":\s*`([^`]*)`[^}]*\}\s*,\s*"([^"]+)"\)', source):
            found += 1
            assert label.lower().startswith(visible.lower()), f"{js.name}: {label!r} for {visible!r}"
    assert found >= 4, "no labelled buttons found: has the markup changed?"
