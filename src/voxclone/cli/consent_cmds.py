"""``voxclone consent challenge|show``: a speaker's spoken consent before cloning.

``voxclone consent challenge`` asks the server for a phrase, prints it, and remembers it (per
server URL) in ``$XDG_STATE_HOME/voxclone/consent-challenge.json`` (default ``~/.local/state``), so
that ``voxclone clone create me.wav --name Me --consent consent.wav`` can name it without
``--challenge``. ``voxclone consent show VOICE_ID`` prints the evidence kept with a clone.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def state_file() -> Path:
    """Where the last challenge per server is remembered."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "voxclone" / "consent-challenge.json"


def _server_key(base_url: str | None) -> str:
    return (base_url or os.environ.get("VOXCLONE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")


def remember(base_url: str | None, challenge: dict[str, Any]) -> None:
    """Keep ``challenge`` as the last one made for this server."""
    path = state_file()
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    known[_server_key(base_url)] = challenge
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=2), encoding="utf-8")
    tmp.replace(path)


def last_challenge(base_url: str | None) -> str | None:
    """The id of the last challenge made for this server with ``voxclone consent challenge``."""
    try:
        known = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = known.get(_server_key(base_url)) if isinstance(known, dict) else None
    return str(entry["challenge_id"]) if isinstance(entry, dict) and "challenge_id" in entry else None


def register(
    sub: Any,
    *,
    common: argparse.ArgumentParser,
    doc: dict[str, Any],
    guarded: Callable[[Handler], Handler],
    client: Callable[[argparse.Namespace], Any],
    emit: Callable[[argparse.Namespace, Any, str], None],
) -> None:
    """Add ``consent challenge`` and ``consent show`` to the ``voxclone`` parser."""
    consent = sub.add_parser("consent", help="spoken consent before cloning a voice", **doc)
    consent_sub = consent.add_subparsers(dest="consent_command", metavar="ACTION", required=True)

    def challenge(args: argparse.Namespace) -> int:
        with client(args) as c:
            made = c.consent.create_challenge(language=args.language, speaker_name=args.speaker_name)
        payload = dict(made.raw)
        remember(args.base_url, {"challenge_id": made.challenge_id, "expires_at": made.expires_at})
        text = (
            f"{made.challenge_id}\t(valid until {made.expires_at})\n\n"
            f"Have the speaker read aloud, whole:\n\n  {made.phrase}\n\n"
            "then: voxclone clone create REFERENCE.wav --name NAME --consent CONSENT.wav"
        )
        emit(args, payload, text)
        return 0

    p = consent_sub.add_parser(
        "challenge", parents=[common], help="get a phrase for the speaker to read aloud", **doc
    )
    p.add_argument("--language", default=None, help="only en for now")
    p.add_argument("--speaker-name", default=None, help="said at the start of the phrase")
    p.set_defaults(handler=guarded(challenge))

    def show(args: argparse.Namespace) -> int:
        with client(args) as c:
            evidence = c.voice_clones.retrieve_consent(args.voice_id)
        raw = evidence.raw
        speaker = raw.get("speaker_score")
        text = "\n".join(
            [
                f"{evidence.voice_id}\tchallenge {evidence.challenge_id}\t{raw.get('created_at', '')}",
                f"phrase: {raw.get('phrase', '')}",
                f"heard: {evidence.transcript}",
                f"words: {evidence.word_score:.2f}",
                "speaker: "
                + (
                    f"{speaker:.2f} (at least {raw.get('speaker_threshold')})"
                    if isinstance(speaker, (int, float))
                    else "the reference itself holds the phrase"
                ),
                f"audio sha256: {raw.get('audio_sha256', '')}",
            ]
        )
        emit(args, raw, text)
        return 0

    p = consent_sub.add_parser("show", parents=[common], help="the consent evidence kept with a clone", **doc)
    p.add_argument("voice_id", metavar="VOICE_ID")
    p.set_defaults(handler=guarded(show))
