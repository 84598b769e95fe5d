"""The ``voxclone`` command line: ``serve``, ``admin``, and the client commands.

Each sub-module registers its own sub-commands; this module only dispatches.

Exit codes: 0 success, 1 API or runtime error, 2 usage error, 3 authentication error,
4 not found, 5 insufficient credits, 6 connection error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from voxclone import __version__


def build_parser() -> argparse.ArgumentParser:
    from voxclone.cli import admin, client_cmds, serve

    parser = argparse.ArgumentParser(prog="voxclone", description="Self-hosted voice-cloning speech API")
    parser.add_argument("--version", action="version", version=f"voxclone {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve.register(sub)
    admin.register(sub)
    client_cmds.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    code: int = handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
