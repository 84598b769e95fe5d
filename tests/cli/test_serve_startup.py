"""``voxclone serve`` fails before it announces itself: one line on stderr, no traceback, no
"listening", a non-zero exit code (2 for usage errors). Real subprocesses, a real taken port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import voxclone

SRC = Path(voxclone.__file__).resolve().parents[1]


def _serve(
    *args: str, tmp_path: Path, extra_path: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``voxclone serve ARGS`` with this checkout's package; fail the test after 300 s."""
    paths = [str(p) for p in (extra_path, SRC) if p is not None]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VOXCLONE_")}
    environ["PYTHONPATH"] = os.pathsep.join([*paths, environ.get("PYTHONPATH", "")])
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "voxclone.cli", "serve", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], *, code: int, names: str) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "listening" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("voxclone: ") and names in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program is listening on for the test's duration."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_a_taken_port_fails_in_one_line(tmp_path: Path, taken_port: int) -> None:
    result = _serve("--port", str(taken_port), tmp_path=tmp_path)
    line = _assert_one_line_failure(result, code=1, names="--port")
    assert str(taken_port) in line and "in use" in line
    assert not (tmp_path / "data").exists()  # nothing was created before the port was known to work


def test_outetts_without_weights_fails_in_one_line(tmp_path: Path) -> None:
    result = _serve("--port", "0", "--engine", "outetts", "--model-path", "/nonexistent", tmp_path=tmp_path)
    line = _assert_one_line_failure(result, code=2, names="--model-path")
    assert "/nonexistent" in line


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (("--port", "0", "--engine", "nope"), {}, "--engine"),
        (("--port", "0"), {"VOXCLONE_SYNTHESIS_WORKERS": "many"}, "VOXCLONE_SYNTHESIS_WORKERS"),
    ],
)
def test_usage_errors_exit_2_in_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], names: str
) -> None:
    _assert_one_line_failure(_serve(*args, tmp_path=tmp_path, **env), code=2, names=names)


def test_a_broken_required_part_stops_the_start(tmp_path: Path, kokoro_cache: Path) -> None:
    """pyworld that fails to import as 0.3.5 does on setuptools >= 81: the server must not start
    (it used to start, say ``ok`` and answer every clone with 500)."""
    shadow = tmp_path / "shadow"
    (shadow / "pyworld").mkdir(parents=True)
    (shadow / "pyworld" / "__init__.py").write_text("import pkg_resources\n")  # as pyworld 0.3.5
    (shadow / "pkg_resources.py").write_text(  # what setuptools >= 81 leaves: no pkg_resources
        "raise ModuleNotFoundError(\"No module named 'pkg_resources'\", name='pkg_resources')\n"
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cache").symlink_to(kokoro_cache)  # the assembled model
    result = _serve("--port", "0", tmp_path=tmp_path, extra_path=shadow, VOXCLONE_ONNX_THREADS="1")
    line = _assert_one_line_failure(result, code=1, names="cloning is unavailable")
    assert "pyworld" in line and "pkg_resources" in line


def test_missing_docs_assets_stop_the_start_in_one_line(tmp_path: Path, kokoro_cache: Path) -> None:
    """``/docs`` is served from fastapi-offline's files: without them the server must not start
    (it used to print the new API key, then a traceback)."""
    shadow = tmp_path / "shadow"
    (shadow / "fastapi_offline").mkdir(parents=True)
    (shadow / "fastapi_offline" / "__init__.py").write_text("")  # installed, but no static files
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cache").symlink_to(kokoro_cache)
    result = _serve("--port", "0", tmp_path=tmp_path, extra_path=shadow, VOXCLONE_ONNX_THREADS="1")
    line = _assert_one_line_failure(result, code=1, names="fastapi-offline")
    assert "swagger-ui-bundle.js" in line
    assert "oute_" not in result.stdout  # no account was created before the failure


def test_a_good_start_announces_the_bound_port_and_serves(tmp_path: Path, kokoro_cache: Path) -> None:
    """The success path: key, then "listening" with the port actually bound (``--port 0``), then health."""
    import httpx

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cache").symlink_to(kokoro_cache)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VOXCLONE_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(SRC), environ.get("PYTHONPATH", "")])
    environ["VOXCLONE_ONNX_THREADS"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxclone.cli", "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=environ,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]  # created, "Its API key", key, listening
        assert lines[2].startswith("oute_"), lines
        assert lines[3].startswith("voxclone listening on http://127.0.0.1:"), lines
        url = lines[3].split()[3]
        assert not url.endswith(":0")
        health = httpx.get(f"{url}/api/v1/health", timeout=30).json()
        assert health["status"] == "ok"
        assert {c["status"] for c in health["capabilities"].values()} == {"available"}
    finally:
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
