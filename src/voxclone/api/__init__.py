"""The HTTP layer: an OuteAI-compatible API plus OpenAI's ``/v1/audio/speech``.

Build the app with :func:`voxclone.api.app.create_app`; it only translates HTTP to
:mod:`voxclone.service` calls and service errors back to HTTP.
"""

from voxclone.api.app import create_app

__all__ = ["create_app"]
