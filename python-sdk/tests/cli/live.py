"""A real `triggers-server` process on loopback, for the CLI tests that run the CLI as a process too.

Only these tests wait for real time, and only in bounded polls (``wait_for``) or blocking reads.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

API_KEY = "tk_terminaltest_0123456789abcdefghij"
POLL_TIMEOUT = 20.0
STARTUP_TIMEOUT = 60.0  # a loaded 2-core CI box can take a while to import and open the server


def wait_for(condition: Callable[[], bool], what: str, timeout: float = POLL_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_live_server(tmp_path: Path, *server_args: str) -> Iterator[str]:
    """Start the server over a fresh database, with ``server_args`` as more flags; yields its base URL."""
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "triggers_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "live.db"),
            "--admin-key",
            API_KEY,
            *server_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"

    def healthy() -> bool:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            return httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, "triggers-server to answer /v1/health", timeout=STARTUP_TIMEOUT)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
