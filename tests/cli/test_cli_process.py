"""``voxclone`` run as a real process (``python -m voxclone.cli``) against the live test server:
a closed stdout pipe, range errors caught by the argument parser, the clone report on stdout."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

import voxclone

SRC = str(Path(voxclone.__file__).resolve().parents[1])
VOICE = "en-female-1"
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # what a shell reports for a process a SIGPIPE stopped


def _env(server: Any, key: str | None) -> dict[str, str]:
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "VOXCLONE_API_KEY": key or server.api_key,
        "VOXCLONE_BASE_URL": server.base_url,
    }


def cli(server: Any, *argv: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxclone.cli", *argv],
        env=_env(server, key),
        capture_output=True,
        text=True,
        timeout=300,
    )


def closed_stdout(server: Any, *argv: str) -> tuple[int, bytes]:
    """Run with stdout a pipe whose reader is gone before the command writes (``| head -0``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxclone.cli", *argv],
        env=_env(server, None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before the interpreter has even started
    err = proc.stderr.read()
    proc.stderr.close()
    return proc.wait(timeout=300), err


def test_a_closed_stdout_pipe_ends_quietly(server: Any) -> None:
    for argv in (
        ("voices", "--json"),
        ("voices",),
        ("say", "Nobody is listening to this.", "--voice", VOICE, "-o", "-", "--format", "pcm"),
    ):
        code, err = closed_stdout(server, *argv)
        assert (code, err) == (EXIT_BROKEN_PIPE, b""), (argv, err.decode())


def test_out_of_range_options_are_usage_errors(server: Any, tmp_path: Path) -> None:
    sent = len(server.requests("POST", "/api/v1/tts_stream"))
    out = tmp_path / "x.wav"
    for option, value in (("--speed", "9"), ("--speed", "0.1"), ("--speed", "fast"), ("--speed", "nan")):
        result = cli(server, "say", "Hi.", "--voice", VOICE, "-o", str(out), option, value)
        assert result.returncode == EXIT_USAGE, (value, result.stderr)
        assert "argument --speed" in result.stderr and "0.25" in result.stderr, result.stderr
    assert cli(server, "say", "Hi.", "--voice", VOICE, "-o", str(out), "--speed", "4").returncode == 0
    assert len(server.requests("POST", "/api/v1/tts_stream")) == sent + 1  # only the valid one was sent
    for argv in (("clone", "list", "--limit", "0"), ("voices", "--timeout", "-1")):
        result = cli(server, *argv)
        assert result.returncode == EXIT_USAGE and "argument --" in result.stderr, (argv, result.stderr)


def test_clone_create_prints_quality_warnings_and_similarity(
    server: Any, needs_cloning: None, tmp_path: Path
) -> None:
    audio, rate = sf.read(str(server.reference_wav), dtype="float32")
    short = tmp_path / "short.wav"  # about 4 s of speech: a short_reference warning
    sf.write(short, np.asarray(audio[: int(4.5 * rate)]), rate, subtype="PCM_16")
    key = server.new_key(credits="1")
    result = cli(server, "clone", "create", str(short), "--name", "cli text", "--wait", key=key)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    voice_id, name = lines[0].split("\t")
    assert voice_id.startswith("vc_") and name == "cli text"
    with voxclone.Client(key, base_url=server.base_url) as client:
        clone = client.voice_clones.retrieve(voice_id)
    score, similarity = clone["quality"]["score"], clone["similarity"]
    warnings = clone["quality"]["warnings"]
    assert "short_reference" in {w["code"] for w in warnings}
    assert f"quality: {score}/100" in lines
    # the clone is reported at once with its self-check pending, then the score when it is ready
    assert clone["similarity_status"] == "done", clone.to_dict()
    pending = lines.index(next(x for x in lines if x.startswith("similarity: pending")))
    assert re.match(rf"similarity: {similarity:.2f} \(", lines[-1]) and pending < len(lines) - 1, (
        result.stdout
    )
    for w in warnings:
        assert f"warning ({w['code']}): {w['message']} Fix: {w['fix']}" in lines, result.stdout
