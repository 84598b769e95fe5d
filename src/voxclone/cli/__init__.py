"""The ``voxclone`` command line: ``serve``, ``admin``, and the client commands.

Each sub-module registers its own sub-commands; this module only dispatches.

Exit codes: 0 success, 1 API or runtime error, 2 usage error, 3 authentication error,
4 not found, 5 insufficient credits, 6 connection error, 141 stdout closed by its reader.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from voxclone import __version__

EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
"""141: what a shell reports for a process stopped by SIGPIPE (``voxclone voices | head -1``)."""


def build_parser() -> argparse.ArgumentParser:
    from voxclone.cli import admin, client_cmds, detect, serve

    parser = argparse.ArgumentParser(prog="voxclone", description="Self-hosted voice-cloning speech API")
    parser.add_argument("--version", action="version", version=f"voxclone {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve.register(sub)
    admin.register(sub)
    client_cmds.register(sub)
    detect.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = handler(args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
    except BrokenPipeError:
        return _stdout_closed()
    return code


def _stdout_closed() -> int:
    """Stop quietly, as a process that a SIGPIPE stopped: no message, exit code 141.

    Standard output is pointed at ``/dev/null`` so that the interpreter's final flush of what is
    still buffered does not fail again.
    """
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # no file descriptor (captured, embedded): nothing to redirect
        return EXIT_BROKEN_PIPE
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
