"""Run `triggers-server` as a real process on loopback (for schemathesis and crash tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from backend_harness import server_args

ADMIN = "tk_" + "L" * 32
STARTUP_SECONDS = 90.0  # generous: a loaded 2-core CI box once took more than 20 s to import and bind


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start(db: Path, log: Path, *extra: str, admin_key: str | None = ADMIN, port: int | None = None) -> LiveServer:
    chosen = port or free_port()
    args = [
        sys.executable,
        "-m",
        "triggers_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(chosen),
        *server_args(db),
        "--log-level",
        "warning",
        "--rate-limit-rps",
        "1000000",
        "--rate-limit-burst",
        "1000000",
        *extra,
    ]
    if admin_key:
        args += ["--admin-key", admin_key]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIGGERS_")}
    with log.open("ab") as sink:
        process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=env)
    server = LiveServer(process, chosen, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling a child process's readiness, not waiting on server logic
    server.stop()
    raise RuntimeError(f"server did not become healthy: {log.read_text()}")


@contextmanager
def running(db: Path, log: Path, *extra: str, admin_key: str | None = ADMIN) -> Iterator[LiveServer]:
    server = start(db, log, *extra, admin_key=admin_key)
    try:
        yield server
    finally:
        server.stop()
