"""``voxclone clone|say|voices|account`` against the real server, run in process."""

from __future__ import annotations

import io
import json
import socket
import sys
import time
import wave
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from voxclone.cli import main
from voxclone.cli.client_cmds import (
    EXIT_AUTH,
    EXIT_CONNECTION,
    EXIT_CREDITS,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    _Progress,
)

VOICE = "en-female-1"


def run(server: Any, *argv: str, key: str | None = None) -> int:
    return main([*argv, "--api-key", key or server.api_key, "--base-url", server.base_url])


def test_voices_and_account(server: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(server, "voices", "--json") == EXIT_OK
    voices = json.loads(capsys.readouterr().out)
    assert VOICE in {v["voice_id"] for v in voices}
    assert run(server, "voices") == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{VOICE}\tbuiltin") for line in lines)
    assert "en-female-5\tbuiltin\ten-us\tHana\talloy" in lines  # the OpenAI names it answers to
    assert run(server, "account", "--json") == EXIT_OK
    assert float(json.loads(capsys.readouterr().out)["balance"]) > 0
    assert run(server, "account") == EXIT_OK
    assert capsys.readouterr().out.startswith("balance: ")


def test_say_writes_the_file_named_format(
    server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hello.wav"
    assert run(server, "say", "Hello there.", "--voice", VOICE, "-o", str(out)) == EXIT_OK
    info = sf.info(str(out))
    assert info.samplerate == 24000 and info.frames > 12000
    with wave.open(str(out)) as w:  # a complete file: the stream's open sizes were filled in
        assert w.getnframes() == info.frames == (out.stat().st_size - 44) // 2
    assert f"wrote {out}" in capsys.readouterr().err
    mp3 = tmp_path / "hello.mp3"
    argv = ["say", "Hello there.", "--voice", VOICE, "-o", str(mp3), "--json", "--speed", "1.2"]
    assert run(server, *argv) == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "mp3" and summary["bytes"] == mp3.stat().st_size > 0
    assert mp3.read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert not list(tmp_path.glob("*.part"))


def test_say_to_stdout_from_stdin(
    server: Any, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Text read from standard input."))
    assert run(server, "say", "-", "--voice", VOICE, "-o", "-", "--format", "pcm") == EXIT_OK
    captured = capsysbinary.readouterr()
    assert len(captured.out) > 24000 and len(captured.out) % 2 == 0 and captured.err == b""


@pytest.mark.parametrize("mode", ["wb", "ab"])
def test_say_to_stdout_redirected_to_a_file(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """``voxclone say ... -o - > out.wav`` completes the header; ``>>`` (append) cannot seek, so not."""
    out = tmp_path / "redirected.wav"
    with out.open(mode) as handle:
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(handle, write_through=True))
        assert run(server, "say", "Hello there.", "--voice", VOICE, "-o", "-", "--format", "wav") == EXIT_OK
        sys.stdout.flush()
        sys.stdout.detach()
    data = out.read_bytes()
    data_size = int.from_bytes(data[40:44], "little")
    assert data_size == (len(data) - 44 if mode == "wb" else 0xFFFFFFFF)


def test_exit_codes(server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(server, "voices", key="oute_wrong") == EXIT_AUTH
    assert "invalid_api_key" in capsys.readouterr().err
    assert run(server, "clone", "delete", "vc_" + "0" * 26, "--json") == EXIT_NOT_FOUND
    error = json.loads(capsys.readouterr().err)
    assert error["error"]["code"] == "voice_not_found" and error["exit_code"] == EXIT_NOT_FOUND
    broke = server.new_key(credits="0")
    out = tmp_path / "never.wav"
    assert run(server, "say", "Hi.", "--voice", VOICE, "-o", str(out), key=broke) == EXIT_CREDITS
    assert not out.exists() and not list(tmp_path.iterdir())
    assert run(server, "say", "Hi.", "--voice", VOICE, "-o", "-", "--json") == EXIT_USAGE
    assert run(server, "clone", "create", str(tmp_path / "missing.wav"), "--name", "x") == EXIT_USAGE
    with pytest.raises(SystemExit) as usage:
        main(["say", "Hi."])  # no --voice / -o: argparse's own usage error
    assert usage.value.code == EXIT_USAGE


def test_missing_key_and_unreachable_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VOXCLONE_API_KEY", raising=False)
    assert main(["voices"]) == EXIT_AUTH
    assert "VOXCLONE_API_KEY" in capsys.readouterr().err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        code = main(["voices", "--api-key", "oute_x", "--base-url", f"http://127.0.0.1:{port}"])
    assert code == EXIT_CONNECTION
    assert "Is the server running" in capsys.readouterr().err


def test_progress_line_for_long_generations(capsys: pytest.CaptureFixture[str]) -> None:
    progress = _Progress("wav", enabled=True, started=time.monotonic() - 5)
    progress.update(48000 * 3)
    progress.done()
    err = capsys.readouterr().err
    assert "generating…" in err and "3.0 s of audio" in err and err.endswith("\n")
    quiet = _Progress("wav", enabled=True, started=time.monotonic())
    quiet.update(48000)  # under a second in: nothing shown
    assert capsys.readouterr().err == ""


def test_clone_create_list_delete(
    server: Any, needs_cloning: None, capsys: pytest.CaptureFixture[str]
) -> None:
    key = server.new_key(credits="1")
    assert run(server, "clone", "create", str(server.reference_wav), "--name", "cli", "--json", key=key) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["voice_id"].startswith("vc_") and created["name"] == "cli"
    assert run(server, "clone", "list", key=key) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"{created['voice_id']}\tcli\t")
    assert run(server, "clone", "delete", created["voice_id"], key=key) == EXIT_OK
    assert capsys.readouterr().out == f"deleted {created['voice_id']}\n"
    assert run(server, "clone", "list", "--json", key=key) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("suffix", [".srt", ".vtt"])
def test_say_writes_subtitles_timed_from_the_engine(
    server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    out, subs = tmp_path / "hi.wav", tmp_path / f"hi{suffix}"
    argv = ["say", "Hello there. It costs $42.", "--voice", VOICE, "-o", str(out), "--subtitles", str(subs)]
    assert run(server, *argv, "--json") == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    assert summary["words"] == 5 and summary["subtitles"] == str(subs)
    assert sf.info(str(out)).frames > 24000
    text = subs.read_text(encoding="utf-8")
    assert ("Hello there" in text) and ("It costs $42" in text)
    assert text.startswith("WEBVTT\n") if suffix == ".vtt" else text.startswith("1\n00:00:00,")
    assert not list(tmp_path.glob("*.part"))


def test_say_refuses_an_unknown_subtitle_extension(server: Any, tmp_path: Path) -> None:
    argv = [
        "say",
        "Hi.",
        "--voice",
        VOICE,
        "-o",
        str(tmp_path / "a.wav"),
        "--subtitles",
        str(tmp_path / "a.txt"),
    ]
    assert run(server, *argv) == EXIT_USAGE
    assert not (tmp_path / "a.wav").exists()
