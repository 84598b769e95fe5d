"""Fixtures: the real server in a thread, from ``tests/client/sdk_live_server.py``."""

from sdk_live_server import needs_cloning_fixture, server_fixture

server = server_fixture("compat")
needs_cloning = needs_cloning_fixture()
