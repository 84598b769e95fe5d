"""``voxclone serve``: run the API server (uvicorn) on the embedded defaults or given flags.

Everything that can fail is done before ``voxclone listening on …`` is printed: the port is bound,
the engine is loaded, every capability is checked by running its native parts
(:mod:`voxclone.service.capabilities`) and the database is opened. A failure prints one line on
stderr and exits with 2 for a usage error (an invalid flag or ``VOXCLONE_*`` value, an unknown
engine, a ``--model-path`` without weights) or 1 otherwise (port taken, database unreachable, a
required capability missing). ``--log-level debug`` adds the traceback.

On a data folder (or database) with no accounts yet, a first account is created and its API key
printed once.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxclone.errors import ServiceError
from voxclone.settings import Settings

if TYPE_CHECKING:
    from voxclone.service.accounts import AccountService

EXIT_ERROR = 1
EXIT_USAGE = 2
# error codes caused by what the user asked for (a flag or VOXCLONE_* value), not by the machine
USAGE_CODES = frozenset({"invalid_request", "model_missing"})


class StartupError(Exception):
    """Why the server cannot start: one line for stderr and the exit code."""

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 0-65535")
    return port


def register(sub: Any) -> None:
    """Add ``serve`` to the ``voxclone`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the API server")
    p.add_argument("--host", help="interface to bind (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=_port, help="TCP port (default 8000; 0 picks a free one)")
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
    from voxclone.service.accounts import AccountService
    from voxclone.store.db import open_database

    db = open_database(settings)
    try:
        return _first_account(AccountService(db=db, settings=settings), settings)
    finally:
        db.close()


def _first_account(accounts: AccountService, settings: Settings) -> str | None:
    """Create the first account (with ``initial_credits``) on an empty deployment; return its key.

    Replicas starting together on one database race for it: one creates it, the others find it.
    """
    from sqlalchemy.exc import IntegrityError

    if accounts.has_accounts():
        return None
    try:
        _, key = accounts.create_key(account="default", credits=settings.initial_credits)
    except IntegrityError:  # another replica created it a moment ago
        return None
    return key


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port``, not yet listening (nothing can connect while the server
    loads; it listens once ready).

    Raises
    ------
    StartupError
        The address is taken, not allowed or not on this machine (the message names ``--port``).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise StartupError(f"cannot listen on {host}:{port}: {e.strerror}; check --host") from e
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: restart over TIME_WAIT
        sock.bind(address)
    except OSError as e:
        sock.close()
        reason = e.strerror or str(e)
        raise StartupError(
            f"cannot listen on {host}:{port}: {reason.lower()}; choose another --port "
            "(or stop the program that uses it)"
        ) from e
    sock.set_inheritable(True)
    return sock


def _load_settings(args: argparse.Namespace) -> Settings:
    from pydantic import ValidationError

    try:
        settings = settings_from_args(args)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise StartupError(
            f"invalid setting {where} (VOXCLONE_{where.upper()}): {first['msg']}", exit_code=EXIT_USAGE
        ) from e
    from voxclone.engines.registry import ENGINES

    if not 0 <= settings.port <= 65535:
        raise StartupError(f"--port {settings.port} is outside 0-65535", exit_code=EXIT_USAGE)
    if settings.engine not in ENGINES:
        raise StartupError(
            f"unknown --engine {settings.engine!r}; choose one of {', '.join(ENGINES)}", exit_code=EXIT_USAGE
        )
    return settings


def _start(settings: Settings) -> Any:
    """Load the engine, check capabilities and open the database: the ready :class:`Services`."""
    from voxclone.api.app import refuse_missing_capabilities
    from voxclone.engines.base import describe_error
    from voxclone.engines.registry import create_engine
    from voxclone.service.container import Services

    try:
        engine = create_engine(settings)
    except ServiceError as e:
        raise StartupError(e.message, exit_code=EXIT_USAGE if e.code in USAGE_CODES else EXIT_ERROR) from e
    except Exception as e:  # a native library or model file that fails to load: one line, not a traceback
        raise StartupError(f"could not load the {settings.engine} engine: {describe_error(e)}") from e
    try:
        services = Services.build(settings=settings, engine=engine)
    except Exception as e:
        engine.close()
        raise StartupError(f"could not open the database: {describe_error(e)}") from e
    try:
        refuse_missing_capabilities(services)
    except ServiceError as e:
        services.close()
        engine.close()
        raise StartupError(e.message) from e
    return services


def run(args: argparse.Namespace) -> int:
    try:
        settings = _load_settings(args)
        sock = bind_socket(settings.host, settings.port)
    except StartupError as e:
        return _fail(e, args)
    try:
        return _serve(settings, sock, args)
    except StartupError as e:
        return _fail(e, args)
    finally:
        sock.close()


def _serve(settings: Settings, sock: socket.socket, args: argparse.Namespace) -> int:
    import uvicorn

    from voxclone.api import create_app

    services = _start(settings)
    try:
        try:
            app = create_app(settings, services=services)  # e.g. the docs' files missing
            key = _first_account(services.accounts, settings)
        except ServiceError as e:
            raise StartupError(e.message) from e
        for capability in services.capabilities.unavailable():
            warning = f"voxclone: warning: {capability.name} is unavailable: {capability.reason}"
            print(warning, file=sys.stderr)
        if key:
            where = "the database" if settings.database_url else str(settings.data_dir)
            print(f"Created the first account in {where} with {settings.initial_credits} credits.")
            print("Its API key (shown only once; keep it):")
            print(key, flush=True)
        config = uvicorn.Config(app, log_level=args.log_level)
        sock.listen(config.backlog)  # connections from here on wait for uvicorn instead of being refused
        port = sock.getsockname()[1]
        print(f"voxclone listening on http://{settings.host}:{port}  (docs: /docs)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after shutting down
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        services.close()
        services.engine.close()
    return 0


def _fail(error: StartupError, args: argparse.Namespace) -> int:
    if str(getattr(args, "log_level", "")).lower() == "debug":
        traceback.print_exception(error)
    print(f"voxclone: {error.message}", file=sys.stderr, flush=True)
    return error.exit_code
