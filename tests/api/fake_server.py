"""Serve the API around the tests' fake engine in its own process, for kill -9 tests.

Usage: ``python tests/api/fake_server.py PORT_FILE DELAY_S`` with the server's settings in
``VOXCLONE_*`` variables. The port (bound before serving) is written to ``PORT_FILE`` once the
server accepts connections.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import uvicorn

from voxclone.api import create_app
from voxclone.settings import Settings

sys.path.insert(1, str(Path(__file__).parents[1] / "support"))
from toy_engine import ToyEngine  # the tests' support folder is not a package


async def _serve(port_file: Path, delay_s: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    app = create_app(Settings(), engine=ToyEngine(delay_s=delay_s))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            return
        await asyncio.sleep(0.02)
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(sock.getsockname()[1]))
    tmp.rename(port_file)
    await task


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1]), float(sys.argv[2])))
