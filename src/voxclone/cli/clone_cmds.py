"""``voxclone clone create|list|delete``: the caller's cloned voices."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from voxclone.cli.client_common import EXIT_OK, UsageError, emit, guarded, open_client, positive_int


def register(sub: Any, *, common: argparse.ArgumentParser, doc: dict[str, Any]) -> None:
    """Add ``clone create|list|delete`` to the ``voxclone`` parser."""
    clone = sub.add_parser("clone", help="manage your cloned voices", **doc)
    clone_sub = clone.add_subparsers(dest="clone_command", metavar="ACTION", required=True)
    create = clone_sub.add_parser("create", parents=[common], help="clone a voice from a recording", **doc)
    create.add_argument("audio", type=Path, help="reference recording: 5-30 s of one speaker (WAV, MP3, ...)")
    create.add_argument("--name", required=True, help="a label for the clone")
    create.add_argument(
        "--wait",
        action="store_true",
        help="wait for the similarity self-check, which runs after the clone is created (seconds)",
    )
    create.add_argument(
        "--consent",
        type=Path,
        default=None,
        help="the speaker reading the consent phrase (see `voxclone consent challenge`)",
    )
    create.add_argument(
        "--challenge",
        default=None,
        help="the cc_... challenge the speaker read (default: the last `voxclone consent challenge`)",
    )
    create.set_defaults(handler=guarded(_create))
    listing = clone_sub.add_parser("list", parents=[common], help="list your clones, newest first", **doc)
    listing.add_argument("--limit", type=positive_int, default=None, help="at most this many (default: all)")
    listing.set_defaults(handler=guarded(_list))
    delete = clone_sub.add_parser("delete", parents=[common], help="delete clones by id", **doc)
    delete.add_argument("voice_ids", nargs="+", metavar="VOICE_ID")
    delete.set_defaults(handler=guarded(_delete))


def _create(args: argparse.Namespace) -> int:
    if not args.audio.is_file():
        raise UsageError(f"no such file: {args.audio}")
    if args.consent is not None and not args.consent.is_file():
        raise UsageError(f"no such file: {args.consent}")
    challenge = args.challenge
    if args.consent is not None and challenge is None:
        from voxclone.cli.consent_cmds import last_challenge

        challenge = last_challenge(args.base_url)
        if challenge is None:
            raise UsageError("--consent needs --challenge cc_... (or run `voxclone consent challenge` first)")
    with open_client(args) as client:
        clone = client.voice_clones.create(
            audio=args.audio, name=args.name, consent_challenge_id=challenge, consent_audio=args.consent
        )
        if args.wait and clone.similarity_pending:
            if not args.json:  # the clone is usable already: say so, then wait for the score
                print("\n".join(_clone_report(clone.to_dict())), flush=True)
            clone = client.voice_clones.wait_for_similarity(clone.voice_id)
            if not args.json:
                print("\n".join(_similarity_lines(clone.to_dict())))
                return EXIT_OK
    emit(args, clone.to_dict(), "\n".join(_clone_report(clone.to_dict())))
    return EXIT_OK


def _similarity_lines(clone: dict[str, Any]) -> list[str]:
    """The self-check line(s) of :func:`_clone_report`."""
    similarity, status = clone.get("similarity"), clone.get("similarity_status")
    if isinstance(similarity, (int, float)):
        return [f"similarity: {similarity:.2f} (self-check: 0 = a stranger, 1 = the speaker)"]
    if status == "pending":
        return [
            "similarity: pending (measured in the background; `voxclone clone create --wait` waits for it)"
        ]
    if status == "failed":
        return ["similarity: failed (the self-check could not be run; the clone works)"]
    return ["similarity: not measured"]


def _clone_report(clone: dict[str, Any]) -> list[str]:
    """``voice_id<TAB>name``, then the reference's quality score (0-100), the self-check
    similarity (0-1) and each quality warning with its fix."""
    quality = clone.get("quality") or {}
    lines = [f"{clone['voice_id']}\t{clone.get('name', '')}"]
    if isinstance(quality.get("score"), (int, float)):
        lines.append(f"quality: {quality['score']}/100")
    lines.extend(_similarity_lines(clone))
    for warning in quality.get("warnings") or []:
        code, message, fix = (warning.get(k) or "" for k in ("code", "message", "fix"))
        lines.append(f"warning ({code}): {message}" + (f" Fix: {fix}" if fix else ""))
    return lines


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as client:
        clones = []
        for clone in client.voice_clones.list_all(page_size=min(args.limit or 100, 100)):
            clones.append(clone)
            if args.limit is not None and len(clones) >= args.limit:
                break
    rows = [f"{c.voice_id}\t{c.name}\t{c.created_at or ''}" for c in clones]
    emit(args, [c.to_dict() for c in clones], "\n".join(rows) if rows else "(no clones)")
    return EXIT_OK


def _delete(args: argparse.Namespace) -> int:
    with open_client(args) as client:
        for voice_id in args.voice_ids:
            client.voice_clones.delete(voice_id)
    deleted = [{"voice_id": v, "deleted": True} for v in args.voice_ids]
    emit(args, deleted, "\n".join(f"deleted {v}" for v in args.voice_ids))
    return EXIT_OK
