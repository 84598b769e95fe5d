"""The browser playground: a static, dependency-free page served by ``voxclone serve``.

The page (``static/index.html``) is plain HTML, CSS and ES modules shipped inside the package,
so it works offline with no build step and no CDN. :func:`mount_playground` serves the page at
``/`` and its assets under ``/playground/``; the page then talks to the public HTTP API with the
API key the user types in (kept in ``sessionStorage`` only).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from voxclone.errors import MissingDependency

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSET_PREFIX = "/playground"

# The page loads only its own files and talks only to its own origin; recorded and generated
# audio are played from blob: URLs, and the waveform canvas needs no external images.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_INDEX_HEADERS = {
    "Content-Security-Policy": _CSP,
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "microphone=(self)",
}


def static_dir() -> Path:
    """Folder holding the playground's files (``index.html``, ``app.css``, ``js/``)."""
    return STATIC_DIR


async def _index(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=_INDEX_HEADERS)


def mount_playground(app: Starlette) -> None:
    """Serve the playground page at ``/`` and its assets at ``/playground/...``.

    Parameters
    ----------
    app : starlette.applications.Starlette
        The server application (a FastAPI app is a Starlette app). The index route is kept out of
        the OpenAPI schema.

    Notes
    -----
    Asset and API URLs in the page are relative, so the playground also works when the server is
    mounted under a path prefix behind a reverse proxy.
    """
    if not (STATIC_DIR / "index.html").is_file():
        raise MissingDependency(
            f"the playground's files are missing from {STATIC_DIR}; reinstall voxclone",
            code="playground_missing",
        )
    app.add_route("/", _index, methods=["GET", "HEAD"], name="playground_index", include_in_schema=False)
    app.mount(ASSET_PREFIX, StaticFiles(directory=STATIC_DIR), name="playground")


__all__ = ["ASSET_PREFIX", "mount_playground", "static_dir"]
