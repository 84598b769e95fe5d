"""``voxclone serve``: run the API server (uvicorn) on the embedded defaults or given flags.

On a data folder (or database) with no accounts yet, a first account is created and its API key
printed once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from voxclone.settings import Settings


def register(sub: Any) -> None:
    """Add ``serve`` to the ``voxclone`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the API server")
    p.add_argument("--host", help="interface to bind (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, help="TCP port (default 8000)")
    p.add_argument(
        "--data-dir", type=Path, help="SQLite database, blobs and model cache (default ./voxclone-data)"
    )
    p.add_argument("--workers", type=int, help="parallel synthesis jobs (default: one per two cores)")
    p.add_argument("--engine", help="speech engine: kokoro (default) or outetts")
    p.add_argument("--model-path", type=Path, help="weights folder for engines that need one")
    p.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    p.set_defaults(handler=run)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """``VOXCLONE_*`` settings overridden by the flags that were given."""
    overrides: dict[str, Any] = {}
    for flag, field in (
        ("host", "host"),
        ("port", "port"),
        ("data_dir", "data_dir"),
        ("workers", "synthesis_workers"),
        ("engine", "engine"),
        ("model_path", "model_path"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[field] = value
    return Settings(**overrides)


def ensure_first_account(settings: Settings) -> str | None:
    """Create the first account (with ``initial_credits``) on an empty deployment; return its key.

    Replicas starting together on one database race for it: one creates it, the others find it.
    """
    from sqlalchemy.exc import IntegrityError

    from voxclone.service.accounts import AccountService
    from voxclone.store.db import open_database

    db = open_database(settings)
    try:
        accounts = AccountService(db=db, settings=settings)
        if accounts.has_accounts():
            return None
        try:
            _, key = accounts.create_key(account="default", credits=settings.initial_credits)
        except IntegrityError:  # another replica created it a moment ago
            return None
        return key
    finally:
        db.close()


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from voxclone.api import create_app
    from voxclone.errors import ServiceError

    settings = settings_from_args(args)
    try:
        key = ensure_first_account(settings)
    except ServiceError as e:
        print(f"voxclone: {e.message}", file=sys.stderr)
        return 1
    if key:
        where = "the database" if settings.database_url else str(settings.data_dir)
        print(f"Created the first account in {where} with {settings.initial_credits} credits.")
        print("Its API key (shown only once; keep it):")
        print(key, flush=True)
    print(f"voxclone listening on http://{settings.host}:{settings.port}  (docs: /docs)", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=args.log_level)
    return 0
