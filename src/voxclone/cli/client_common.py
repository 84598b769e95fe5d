"""What the client sub-commands share: exit codes, argument types, the SDK client from the
options, and turning errors into a message and an exit code (see :mod:`voxclone.cli.client_cmds`)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voxclone.client import Client

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_CREDITS, EXIT_CONNECTION = range(7)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

EXIT_CODES_HELP = """exit codes:
  0  success                 4  not found (voice, clone)
  1  API or runtime error    5  insufficient credits
  2  usage error             6  cannot reach the server
  3  authentication error (missing, invalid or revoked API key)
  130 interrupted (Ctrl-C)   141 output pipe closed (e.g. | head)"""


SPEED_RANGE = (0.25, 4.0)
"""The server's accepted ``speed`` range (``voxclone.service.speech.SPEED_RANGE``)."""


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return math.nan  # refused by every range check below


def speed_factor(value: str) -> float:
    """``--speed``: a tempo factor in :data:`SPEED_RANGE` (argparse turns errors into exit code 2)."""
    speed = _float(value)
    low, high = SPEED_RANGE
    if not low <= speed <= high:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a tempo factor from {low} to {high} (1.0 is normal)"
        )
    return speed


def positive_int(value: str) -> int:
    """``--limit``: a whole number, 1 or more."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return number


def seconds(value: str) -> float:
    """``--timeout``: a finite number of seconds above 0."""
    seconds = _float(value)
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds above 0")
    return seconds


class _NoAPIKey(Exception):
    """Neither ``--api-key`` nor ``VOXCLONE_API_KEY`` is set (exit code 3)."""


def open_client(args: argparse.Namespace) -> Client:
    from voxclone.client import Client

    if not (args.api_key or os.environ.get("VOXCLONE_API_KEY", "")).strip():
        raise _NoAPIKey("no API key: pass --api-key or set VOXCLONE_API_KEY (voxclone admin create-key)")

    return Client(args.api_key, base_url=args.base_url, timeout=args.timeout)


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run ``command``, turning SDK errors into a message on stderr and a documented exit code."""

    def handler(args: argparse.Namespace) -> int:
        from voxclone import client as sdk

        try:
            return command(args)
        except UsageError as e:
            return _fail(args, EXIT_USAGE, str(e), code="usage_error")
        except sdk.APIStatusError as e:
            status = {401: EXIT_AUTH, 404: EXIT_NOT_FOUND, 402: EXIT_CREDITS}.get(e.status_code, EXIT_ERROR)
            return _fail(args, status, e.message, code=e.code, status=e.status_code, request_id=e.request_id)
        except sdk.APIConnectionError as e:
            where = f" at {e.request.url.scheme}://{e.request.url.netloc.decode()}" if e.request else ""
            message = f"{e.message.rstrip('.')}. Is the server running{where}?"
            return _fail(args, EXIT_CONNECTION, message, code="connection_error")
        except _NoAPIKey as e:
            return _fail(args, EXIT_AUTH, str(e), code="missing_api_key")
        except sdk.VoxcloneError as e:
            return _fail(args, EXIT_ERROR, str(e), code="client_error")
        except BrokenPipeError:
            raise  # stdout's reader went away: ``voxclone.cli.main`` ends quietly
        except OSError as e:
            return _fail(args, EXIT_ERROR, str(e), code="os_error")
        except KeyboardInterrupt:
            print("voxclone: interrupted", file=sys.stderr)  # the streams were closed on the way out
            return EXIT_INTERRUPTED

    return handler


def _fail(
    args: argparse.Namespace,
    exit_code: int,
    message: str,
    *,
    code: str | None,
    status: int | None = None,
    request_id: str | None = None,
) -> int:
    """Report an error on stderr (a JSON object with ``--json``); returns ``exit_code``."""
    if args.json:
        fields = {"message": message, "code": code, "status": status, "request_id": request_id}
        error = {k: v for k, v in fields.items() if v is not None}
        print(json.dumps({"error": error, "exit_code": exit_code}), file=sys.stderr)
        return exit_code
    details = [f"status={status}", f"code={code}"] if status is not None else []
    if request_id:
        details.append(f"request_id={request_id}")
    print(f"voxclone: error: {message}" + (f" ({', '.join(details)})" if details else ""), file=sys.stderr)
    return exit_code


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    print(json.dumps(payload, indent=2, default=str) if args.json else text)
