"""Start a real `triggers-server` process and hand back its URL, admin key and pid.

The one launcher for everything that needs a live server outside the test suites: the benchmarks
(rate limits lifted, so the limiter is not what gets measured) and the noxfile's contract and demo sessions.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_SECONDS = 90.0  # generous: a loaded 2-core CI box once took more than 20 s to import and bind
UNLIMITED = ("--rate-limit-rps", "1000000", "--rate-limit-burst", "1000000")


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    admin_key: str
    pid: int
    db_path: Path
    log_path: Path | None = None

    def output(self) -> str:
        """What the server printed so far (its start-up lines, then logs)."""
        return "" if self.log_path is None else self.log_path.read_text(errors="replace")

    def rss_mib(self) -> float:
        """Resident set size of the server process, from /proc (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("VmRSS not found")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"triggers-server exited with {proc.returncode}; see {log_path}")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(base_url + "/health", timeout=1),
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"triggers-server did not become healthy in {STARTUP_SECONDS:.0f} s; see {log_path}")


@contextlib.contextmanager
def _serving(command: list[str], log_path: Path, base_url: str, **popen: Any) -> Iterator[int]:
    """Start `command` with its output in `log_path`, wait until `base_url` is healthy, yield its pid, stop it."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            _wait_healthy(proc, base_url, log_path)
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def running_server(
    *extra: str,
    executable: str | None = None,
    db_path: Path | None = None,
    admin_key: str | None = None,
    log_level: str = "warning",
) -> Iterator[RunningServer]:
    """Run triggers-server on a free loopback port until the block ends.

    `executable` defaults to the one on PATH; `db_path` to a temporary SQLite file; `admin_key` to a fresh
    random key; `extra` are more flags.
    """
    exe = executable or shutil.which("triggers-server")
    if exe is None:
        raise RuntimeError("triggers-server is not installed in this environment (nox -s bench installs it)")
    port = _free_port()
    key = admin_key or "tk_" + secrets.token_urlsafe(24)
    base_url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryDirectory(prefix="triggers-server-") as tmp:
        db = db_path or Path(tmp) / "server.db"
        log_path = Path(tmp) / "server.log"
        command = [exe, "--host", "127.0.0.1", "--port", str(port), "--db", str(db), "--admin-key", key, "--log-level", log_level]
        with _serving([*command, *extra], log_path, base_url) as pid:
            yield RunningServer(base_url, key, pid, db, log_path)


@contextlib.contextmanager
def running_baseline(mode: str) -> Iterator[RunningServer]:
    """Run bench/_baseline_app.py (`bare` or `sqlite`) on uvicorn + httptools + uvloop, like triggers-server."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryDirectory(prefix="baseline-") as tmp:
        db = Path(tmp) / "baseline.db"
        log_path = Path(tmp) / "baseline.log"
        env = {**os.environ, "BASELINE_MODE": mode, "BASELINE_DB": str(db)}
        command = [sys.executable, "-m", "uvicorn", "_baseline_app:app", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
        with _serving(command, log_path, base_url, env=env, cwd=Path(__file__).parent) as pid:
            yield RunningServer(base_url, "baseline", pid, db)
