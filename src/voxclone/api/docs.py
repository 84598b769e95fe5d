"""``/docs`` (Swagger UI) and ``/redoc`` served from installed files, so they work offline.

FastAPI's default pages load Swagger UI and ReDoc from a CDN; a server without internet access then
shows a blank page. The JavaScript and CSS come from the ``fastapi-offline`` package (a dependency;
it ships the Swagger UI 5 and ReDoc 2 bundles) and are served under :data:`ASSET_PREFIX`.
"""

from __future__ import annotations

import importlib.resources as res
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from voxclone.errors import MissingDependency

ASSET_PREFIX = "/docs-assets"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def assets_dir() -> Path:
    """Folder holding the Swagger UI / ReDoc bundles (``fastapi_offline/static``).

    Raises
    ------
    MissingDependency
        ``fastapi-offline`` is not installed or lacks one of :data:`ASSETS`.
    """
    try:
        folder = Path(str(res.files("fastapi_offline") / "static"))
    except ModuleNotFoundError as e:
        raise MissingDependency(
            "the API docs' Swagger UI files need fastapi-offline; "
            "install it with: pip install fastapi-offline"
        ) from e
    missing = [name for name in ASSETS if not (folder / name).is_file()]
    if missing:
        raise MissingDependency(
            f"fastapi-offline lacks {', '.join(missing)} in {folder}; reinstall it: "
            "pip install --force-reinstall fastapi-offline"
        )
    return folder


def mount_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs``, ReDoc at ``/redoc`` and their assets at :data:`ASSET_PREFIX`.

    Build ``app`` with ``docs_url=None, redoc_url=None`` so that FastAPI's CDN pages are not added.
    URLs honour the ASGI ``root_path`` (a server mounted under a prefix behind a proxy).
    """
    app.mount(ASSET_PREFIX, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_url = app.swagger_ui_oauth2_redirect_url

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_url}" if oauth2_url else None,
            swagger_js_url=f"{root}{ASSET_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSET_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSET_PREFIX}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSET_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSET_PREFIX}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    if oauth2_url:
        app.add_route(oauth2_url, oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)


__all__ = ["ASSETS", "ASSET_PREFIX", "assets_dir", "mount_docs"]
