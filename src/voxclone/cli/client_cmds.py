"""Client sub-commands of ``voxclone``: ``clone create|list|delete`` (:mod:`voxclone.cli.clone_cmds`),
``say`` (:mod:`voxclone.cli.speech_cmds`), ``voices``, ``account`` and ``consent``
(:mod:`voxclone.cli.consent_cmds`); what they share is in :mod:`voxclone.cli.client_common`.

They talk to a running server through :class:`voxclone.Client`. Every command takes
``--api-key`` (else ``VOXCLONE_API_KEY``), ``--base-url`` (else ``VOXCLONE_BASE_URL``, default
``http://127.0.0.1:8000``) and ``--json`` (machine-readable output on stdout; errors as a JSON
object on stderr).

Exit codes: 0 success, 1 API or runtime error, 2 usage error (also an option out of range,
caught by the argument parser), 3 authentication error, 4 not found, 5 insufficient credits,
6 connection error, 130 interrupted, 141 stdout closed by its reader (``| head``; quietly).
"""

from __future__ import annotations

import argparse
from typing import Any

from voxclone.cli import clone_cmds, consent_cmds, speech_cmds
from voxclone.cli.client_common import (
    EXIT_AUTH,
    EXIT_CODES_HELP,
    EXIT_CONNECTION,
    EXIT_CREDITS,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    emit,
    guarded,
    open_client,
    seconds,
)
from voxclone.cli.speech_cmds import _Progress

# Re-exported: the exit codes (and the progress line) as the tests and callers know them here.
__all__ = [
    "EXIT_AUTH",
    "EXIT_CONNECTION",
    "EXIT_CREDITS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "_Progress",
    "register",
]


def register(sub: Any) -> None:
    """Add ``clone``, ``say``, ``voices``, ``account`` and ``consent`` to the ``voxclone`` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-key", help="API key (default: $VOXCLONE_API_KEY)")
    common.add_argument(
        "--base-url", help="server URL (default: $VOXCLONE_BASE_URL or http://127.0.0.1:8000)"
    )
    common.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    common.add_argument("--timeout", type=seconds, default=None, help="seconds per request (default 600)")

    doc: dict[str, Any] = {"epilog": EXIT_CODES_HELP, "formatter_class": argparse.RawDescriptionHelpFormatter}
    clone_cmds.register(sub, common=common, doc=doc)
    speech_cmds.register(sub, common=common, doc=doc)

    voices = sub.add_parser("voices", parents=[common], help="list the voices you can use", **doc)
    voices.set_defaults(handler=guarded(_voices))
    account = sub.add_parser("account", parents=[common], help="show your credit balance and usage", **doc)
    account.set_defaults(handler=guarded(_account))

    consent_cmds.register(sub, common=common, doc=doc, guarded=guarded, client=open_client, emit=emit)


# voices, account --------------------------------------------------------------------------------


def _voices(args: argparse.Namespace) -> int:
    with open_client(args) as client:
        voices = client.voices.list()
    rows = [f"{v.voice_id}\t{v.type}\t{v.language or ''}\t{v.name}\t{','.join(v.aliases)}" for v in voices]
    emit(args, [v.to_dict() for v in voices], "\n".join(rows))
    return EXIT_OK


def _account(args: argparse.Namespace) -> int:
    with open_client(args) as client:
        account = client.account.retrieve()
    usage = account.get("usage") or {}
    text = "\n".join(
        [
            f"balance: {account.balance} credits",
            f"seconds generated: {usage.get('seconds_generated', 0)}",
            f"clones held: {usage.get('clones_held', 0)}",
        ]
    )
    emit(args, account.to_dict(), text)
    return EXIT_OK
