"""Client sub-commands of ``voxclone``: ``clone create|list|delete``, ``say``, ``voices``, ``account``
(and ``consent``, in :mod:`voxclone.cli.consent_cmds`).

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
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voxclone.client import Client

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_CREDITS, EXIT_CONNECTION = range(7)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

FORMATS = ("wav", "mp3", "flac", "opus", "aac", "pcm")
_EXTENSIONS = {
    ".wav": "wav",
    ".mp3": "mp3",
    ".flac": "flac",
    ".opus": "opus",
    ".ogg": "opus",
    ".aac": "aac",
    ".pcm": "pcm",
    ".raw": "pcm",
}
_BYTES_PER_SECOND = 24000 * 2  # 24 kHz mono 16-bit (wav and pcm)
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


def _speed(value: str) -> float:
    """``--speed``: a tempo factor in :data:`SPEED_RANGE` (argparse turns errors into exit code 2)."""
    speed = _float(value)
    low, high = SPEED_RANGE
    if not low <= speed <= high:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a tempo factor from {low} to {high} (1.0 is normal)"
        )
    return speed


def _positive_int(value: str) -> int:
    """``--limit``: a whole number, 1 or more."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return number


def _seconds(value: str) -> float:
    """``--timeout``: a finite number of seconds above 0."""
    seconds = _float(value)
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds above 0")
    return seconds


def register(sub: Any) -> None:
    """Add ``clone``, ``say``, ``voices`` and ``account`` to the ``voxclone`` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-key", help="API key (default: $VOXCLONE_API_KEY)")
    common.add_argument(
        "--base-url", help="server URL (default: $VOXCLONE_BASE_URL or http://127.0.0.1:8000)"
    )
    common.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    common.add_argument("--timeout", type=_seconds, default=None, help="seconds per request (default 600)")

    doc: dict[str, Any] = {"epilog": EXIT_CODES_HELP, "formatter_class": argparse.RawDescriptionHelpFormatter}
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
    create.set_defaults(handler=_guarded(_clone_create))
    listing = clone_sub.add_parser("list", parents=[common], help="list your clones, newest first", **doc)
    listing.add_argument("--limit", type=_positive_int, default=None, help="at most this many (default: all)")
    listing.set_defaults(handler=_guarded(_clone_list))
    delete = clone_sub.add_parser("delete", parents=[common], help="delete clones by id", **doc)
    delete.add_argument("voice_ids", nargs="+", metavar="VOICE_ID")
    delete.set_defaults(handler=_guarded(_clone_delete))

    say = sub.add_parser(
        "say",
        parents=[common],
        help="synthesize speech to a file or stdout",
        description="Synthesize TEXT ('-' reads stdin) with a voice, streaming to OUTPUT.",
        **doc,
    )
    say.add_argument("text", help="text to speak, or - to read it from stdin")
    say.add_argument("--voice", required=True, help="voice id (see `voxclone voices`)")
    say.add_argument("-o", "--output", required=True, help="output file, or - for stdout")
    say.add_argument("--format", choices=FORMATS, help="audio format (default: from the extension, else wav)")
    say.add_argument("--speed", type=_speed, default=None, help="tempo factor, 0.25-4.0 (default 1.0)")
    say.add_argument("--language", default=None, help="language code, e.g. en-us (default: detected)")
    say.add_argument("--model", default=None, help="server model name (default: the server's engine)")
    say.add_argument(
        "--subtitles",
        metavar="PATH",
        default=None,
        help="also write word-timed subtitles, SubRip (.srt) or WebVTT (.vtt) by the extension "
        "(renders the whole file first; needs an engine with timestamps)",
    )
    progress = say.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show progress on stderr",
    )
    progress.add_argument(
        "--quiet", "-q", dest="progress", action="store_false", help="no progress or summary on stderr"
    )
    say.set_defaults(handler=_guarded(_say))

    voices = sub.add_parser("voices", parents=[common], help="list the voices you can use", **doc)
    voices.set_defaults(handler=_guarded(_voices))
    account = sub.add_parser("account", parents=[common], help="show your credit balance and usage", **doc)
    account.set_defaults(handler=_guarded(_account))

    from voxclone.cli import consent_cmds

    consent_cmds.register(sub, common=common, doc=doc, guarded=_guarded, client=_client, emit=_emit)


class _NoAPIKey(Exception):
    """Neither ``--api-key`` nor ``VOXCLONE_API_KEY`` is set (exit code 3)."""


def _client(args: argparse.Namespace) -> Client:
    from voxclone.client import Client

    if not (args.api_key or os.environ.get("VOXCLONE_API_KEY", "")).strip():
        raise _NoAPIKey("no API key: pass --api-key or set VOXCLONE_API_KEY (voxclone admin create-key)")

    return Client(args.api_key, base_url=args.base_url, timeout=args.timeout)


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
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


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    print(json.dumps(payload, indent=2, default=str) if args.json else text)


# clone ------------------------------------------------------------------------------------------


def _clone_create(args: argparse.Namespace) -> int:
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
    with _client(args) as client:
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
    _emit(args, clone.to_dict(), "\n".join(_clone_report(clone.to_dict())))
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


def _clone_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        clones = []
        for clone in client.voice_clones.list_all(page_size=min(args.limit or 100, 100)):
            clones.append(clone)
            if args.limit is not None and len(clones) >= args.limit:
                break
    rows = [f"{c.voice_id}\t{c.name}\t{c.created_at or ''}" for c in clones]
    _emit(args, [c.to_dict() for c in clones], "\n".join(rows) if rows else "(no clones)")
    return EXIT_OK


def _clone_delete(args: argparse.Namespace) -> int:
    with _client(args) as client:
        for voice_id in args.voice_ids:
            client.voice_clones.delete(voice_id)
    deleted = [{"voice_id": v, "deleted": True} for v in args.voice_ids]
    _emit(args, deleted, "\n".join(f"deleted {v}" for v in args.voice_ids))
    return EXIT_OK


# voices, account --------------------------------------------------------------------------------


def _voices(args: argparse.Namespace) -> int:
    with _client(args) as client:
        voices = client.voices.list()
    rows = [f"{v.voice_id}\t{v.type}\t{v.language or ''}\t{v.name}\t{','.join(v.aliases)}" for v in voices]
    _emit(args, [v.to_dict() for v in voices], "\n".join(rows))
    return EXIT_OK


def _account(args: argparse.Namespace) -> int:
    with _client(args) as client:
        account = client.account.retrieve()
    usage = account.get("usage") or {}
    text = "\n".join(
        [
            f"balance: {account.balance} credits",
            f"seconds generated: {usage.get('seconds_generated', 0)}",
            f"clones held: {usage.get('clones_held', 0)}",
        ]
    )
    _emit(args, account.to_dict(), text)
    return EXIT_OK


# say --------------------------------------------------------------------------------------------


def _say(args: argparse.Namespace) -> int:
    to_stdout = args.output == "-"
    if to_stdout and args.json:
        raise UsageError("--json prints to stdout; write the audio to a file with -o PATH")
    by_extension = None if to_stdout else _EXTENSIONS.get(Path(args.output).suffix.lower())
    fmt: Any = args.format or by_extension or "wav"
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("the text is empty")
    show = sys.stderr.isatty() if args.progress is None else args.progress
    started = time.monotonic()
    if args.subtitles is not None:
        return _say_with_subtitles(args, text, fmt, started)
    with _client(args) as client:
        stream = client.speech.stream(
            text=text,
            voice_id=args.voice,
            format=fmt,
            speed=args.speed,
            language=args.language,
            model=args.model,
        )
        with stream:
            progress = _Progress(fmt, enabled=show, started=started)
            if to_stdout:
                size = _copy(stream.iter_bytes(), sys.stdout.buffer, progress, complete=os.name == "posix")
                sys.stdout.buffer.flush()
            else:
                size = _write_atomically(Path(args.output), stream.iter_bytes(), progress)
            request_id = stream.request_id
    progress.done()
    duration = _duration(None if to_stdout else Path(args.output), fmt, size)
    elapsed = round(time.monotonic() - started, 3)
    summary = {
        "output": args.output,
        "format": fmt,
        "bytes": size,
        "duration_s": duration,
        "voice_id": args.voice,
        "request_id": request_id,
        "elapsed_s": elapsed,
    }
    if args.json:
        print(json.dumps(summary))
    elif args.progress is not False and not to_stdout:
        seconds = f"{duration:.1f} s, " if duration is not None else ""
        print(f"wrote {args.output} ({seconds}{size / 1024:.0f} KB)", file=sys.stderr)
    return EXIT_OK


def _say_with_subtitles(args: argparse.Namespace, text: str, fmt: Any, started: float) -> int:
    """``say --subtitles``: the whole file with word times, then the audio and the subtitles."""
    from voxclone.cli.subtitles import render, subtitle_format

    sub_format = subtitle_format(args.subtitles)
    if sub_format is None:
        raise UsageError(f"--subtitles {args.subtitles}: name a .srt or .vtt file")
    with _client(args) as client:
        result = client.speech.create_with_timestamps(
            text=text,
            voice_id=args.voice,
            format=fmt,
            speed=args.speed,
            language=args.language,
            model=args.model,
        )
    if args.output == "-":
        sys.stdout.buffer.write(result.audio)
        sys.stdout.buffer.flush()
    else:
        _write_atomically(
            Path(args.output), iter([result.audio]), _Progress(fmt, enabled=False, started=started)
        )
    subtitles = render(result.words, sub_format, text=text)
    _write_atomically(
        Path(args.subtitles),
        iter([subtitles.encode("utf-8")]),
        _Progress(fmt, enabled=False, started=started),
    )
    duration = result.duration
    summary = {
        "output": args.output,
        "subtitles": args.subtitles,
        "format": fmt,
        "bytes": len(result.audio),
        "duration_s": duration,
        "words": len(result.words),
        "voice_id": args.voice,
        "request_id": result.request_id,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
    if args.json:
        print(json.dumps(summary))
    elif args.progress is not False and args.output != "-":
        seconds = f"{duration:.1f} s, " if duration is not None else ""
        print(
            f"wrote {args.output} ({seconds}{len(result.audio) / 1024:.0f} KB) and {args.subtitles}",
            file=sys.stderr,
        )
    return EXIT_OK


class _Progress:
    """A one-line, self-overwriting progress display on stderr, shown only after 1 s."""

    def __init__(self, fmt: str, *, enabled: bool, started: float) -> None:
        self.fmt = fmt
        self.enabled = enabled
        self.started = started
        self.shown = False
        self.last = 0.0

    def update(self, size: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < 1.0 or now - self.last < 0.2:
            return
        self.last = now
        audio = f"{size / _BYTES_PER_SECOND:6.1f} s of audio, " if self.fmt in ("wav", "pcm") else ""
        sys.stderr.write(f"\rgenerating… {audio}{size / 1024:7.0f} KB, {now - self.started:5.1f} s elapsed")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _copy(chunks: Any, out: IO[bytes], progress: _Progress, *, complete: bool = True) -> int:
    """Write ``chunks`` to ``out``; a WAV then gets its real sizes if ``out`` is a seekable file
    (not a pipe, not opened for appending) and ``complete`` is set. Returns the bytes written."""
    from voxclone.client._wavfile import WavSizes

    try:
        start = out.tell() if complete and out.seekable() else 0
    except OSError:
        start = 0
    sizes = WavSizes()
    for chunk in chunks:
        out.write(chunk)
        sizes.feed(chunk)
        progress.update(sizes.size)
    if complete:
        sizes.patch(out, start=start)
    return sizes.size


def _write_atomically(path: Path, chunks: Any, progress: _Progress) -> int:
    """Stream into ``PATH.part`` and rename on success, so a failure leaves no truncated file."""
    part = path.with_name(path.name + ".part")
    try:
        with part.open("wb") as out:
            size = _copy(chunks, out, progress)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return size


def _duration(path: Path | None, fmt: str, size: int) -> float | None:
    if fmt == "pcm":
        return round(size / _BYTES_PER_SECOND, 3)
    if path is None:
        return None
    try:
        import soundfile as sf

        info = sf.info(str(path))
    except (ImportError, RuntimeError, ValueError):
        return None
    return round(float(info.frames) / float(info.samplerate), 3)
