"""Start a real `triggers-server` process for a benchmark and hand back its URL, admin key and pid.

Benchmarks measure the server as users run it (uvicorn, SQLite file in WAL mode), with rate limits lifted
so the limiter is not what gets measured.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    admin_key: str
    pid: int
    db_path: Path

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


@contextlib.contextmanager
def running_server(*extra: str) -> Iterator[RunningServer]:
    exe = shutil.which("triggers-server")
    if exe is None:
        raise SystemExit("triggers-server is not installed in this environment (nox -s bench installs it)")
    port = _free_port()
    key = "tk_" + secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="triggers-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        command = [
            exe,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(db),
            "--admin-key",
            key,
            "--rate-limit-rps",
            "1000000",
            "--rate-limit-burst",
            "1000000",
            "--log-level",
            "warning",
            *extra,
        ]
        with (Path(tmp) / "server.log").open("w") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                base_url = f"http://127.0.0.1:{port}/v1"
                deadline = time.monotonic() + 30
                while True:
                    if proc.poll() is not None:
                        raise SystemExit(f"triggers-server exited with {proc.returncode}")
                    with (
                        contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                        urllib.request.urlopen(base_url + "/health", timeout=1),
                    ):
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit("triggers-server did not become healthy")
                    time.sleep(0.1)
                yield RunningServer(base_url, key, proc.pid, db)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
