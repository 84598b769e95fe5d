"""``voxclone say``: synthesize speech to a file or stdout (optionally with word-timed subtitles)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from voxclone.cli.client_common import EXIT_OK, UsageError, guarded, open_client, speed_factor

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


def register(sub: Any, *, common: argparse.ArgumentParser, doc: dict[str, Any]) -> None:
    """Add ``say`` to the ``voxclone`` parser."""
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
    say.add_argument("--speed", type=speed_factor, default=None, help="tempo factor, 0.25-4.0 (default 1.0)")
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
    say.set_defaults(handler=guarded(_say))


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
    with open_client(args) as client:
        stream = client.speech.stream(**_speech_options(args, text=text, fmt=fmt))
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
    return _report(args, fmt=fmt, size=size, duration=duration, request_id=request_id, started=started)


def _say_with_subtitles(args: argparse.Namespace, text: str, fmt: Any, started: float) -> int:
    """``say --subtitles``: the whole file with word times, then the audio and the subtitles."""
    from voxclone.cli.subtitles import render, subtitle_format

    sub_format = subtitle_format(args.subtitles)
    if sub_format is None:
        raise UsageError(f"--subtitles {args.subtitles}: name a .srt or .vtt file")
    with open_client(args) as client:
        result = client.speech.create_with_timestamps(**_speech_options(args, text=text, fmt=fmt))
    if args.output == "-":
        sys.stdout.buffer.write(result.audio)
        sys.stdout.buffer.flush()
    else:
        _write_whole(Path(args.output), result.audio, fmt=fmt, started=started)
    subtitles = render(result.words, sub_format, text=text)
    _write_whole(Path(args.subtitles), subtitles.encode("utf-8"), fmt=fmt, started=started)
    return _report(
        args,
        fmt=fmt,
        size=len(result.audio),
        duration=result.duration,
        request_id=result.request_id,
        started=started,
        words=len(result.words),
    )


def _speech_options(args: argparse.Namespace, *, text: str, fmt: Any) -> dict[str, Any]:
    """The SDK's keyword arguments for ``say``'s request."""
    return {
        "text": text,
        "voice_id": args.voice,
        "format": fmt,
        "speed": args.speed,
        "language": args.language,
        "model": args.model,
    }


def _report(
    args: argparse.Namespace,
    *,
    fmt: str,
    size: int,
    duration: float | None,
    request_id: str | None,
    started: float,
    words: int | None = None,
) -> int:
    """The end of ``say``: a JSON summary on stdout (``--json``), else a ``wrote …`` line on stderr
    (unless ``--quiet`` or the audio went to stdout). ``words`` is set with ``--subtitles``."""
    subtitled = words is not None
    summary: dict[str, Any] = {"output": args.output}
    if subtitled:
        summary["subtitles"] = args.subtitles
    summary.update(format=fmt, bytes=size, duration_s=duration)
    if subtitled:
        summary["words"] = words
    summary.update(voice_id=args.voice, request_id=request_id, elapsed_s=round(time.monotonic() - started, 3))
    if args.json:
        print(json.dumps(summary))
    elif args.progress is not False and args.output != "-":
        seconds = f"{duration:.1f} s, " if duration is not None else ""
        also = f" and {args.subtitles}" if subtitled else ""
        print(f"wrote {args.output} ({seconds}{size / 1024:.0f} KB){also}", file=sys.stderr)
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


def _write_whole(path: Path, data: bytes, *, fmt: str, started: float) -> None:
    """:func:`_write_atomically` for data already in memory (no progress shown)."""
    _write_atomically(path, iter([data]), _Progress(fmt, enabled=False, started=started))


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
