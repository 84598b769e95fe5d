"""Sub-commands: client_cmds (being written)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add this module's sub-commands to the ``voxclone`` parser."""
    _ = (sub, argparse)
