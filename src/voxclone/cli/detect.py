"""``voxclone detect FILE``: look for voxclone's watermark in a recording, offline (no server).

Prints whether the file is watermarked, the confidence (0–1) and the payload (server id, account
hash); ``--json`` prints the same object as ``POST /api/v1/watermark/detect``'s ``data``.
Exit codes: 0 the file was examined (marked or not), 1 it cannot be read or decoded, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MAX_SECONDS = 60.0


def register(sub: Any) -> None:
    """Add ``detect`` to the ``voxclone`` parser."""
    p: argparse.ArgumentParser = sub.add_parser(
        "detect", help="look for voxclone's watermark in an audio file (offline)"
    )
    p.add_argument(
        "file", type=Path, help="audio file (WAV, MP3, FLAC, OGG/Opus, WebM, M4A/AAC); 3 s or more"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voxclone.audio.decode import decode_audio
    from voxclone.audio.watermark import Detector
    from voxclone.errors import ServiceError

    try:
        data = args.file.read_bytes()
        decoded = decode_audio(data, max_seconds=MAX_SECONDS)
    except OSError as e:
        print(f"voxclone detect: cannot read {args.file}: {e.strerror or e}", file=sys.stderr)
        return 1
    except ServiceError as e:
        print(f"voxclone detect: {args.file}: {e.message} ({e.code})", file=sys.stderr)
        return 1
    found = Detector().detect(decoded.audio, decoded.sample_rate)
    if args.json:
        print(json.dumps(found.to_json()))
        return 0
    if found.watermarked:
        print(f"watermarked (confidence {found.confidence:.4f})")
        if found.payload:
            print(f"server id: {found.payload.server_id}  account hash: {found.payload.account_hash:04x}")
        else:
            print("payload: not recovered (use a longer or cleaner excerpt)")
    else:
        print(f"no voxclone watermark found (confidence {found.confidence:.4f})")
    return 0
