"""A throwaway PostgreSQL cluster for tests, benchmarks and nox sessions: Debian's server binaries, `initdb`
(as the `postgres` user via `runuser` when running as root: initdb refuses root), `pg_ctl` on a free loopback
port with its socket in the cluster's temp folder, `fsync=off` (tests only: a crash loses nothing we keep).

Standard library only, so the noxfile and the benchmarks load it too (`python tests/pgcluster.py` starts one
and prints its URL until interrupted). No mock and no SQLite standing in: a real server, stopped at the end.

    with running() as cluster:
        url = cluster.url("postgres")
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "postgres"
START_TIMEOUT_SECONDS = 60


class ClusterError(RuntimeError):
    """The cluster could not be started (binaries missing, initdb or pg_ctl failed)."""


def bindir() -> Path:
    """Where `initdb` and `pg_ctl` live: `pg_config --bindir` when it has them, else the newest
    /usr/lib/postgresql/*/bin (Debian keeps the server binaries off PATH)."""
    config = shutil.which("pg_config")
    if config is not None:
        found = Path(subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip())
        if (found / "initdb").exists() and (found / "pg_ctl").exists():
            return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise ClusterError("PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    root: Path  # temp folder: data/ and the socket
    port: int
    bin: Path
    as_user: str | None  # runuser target when started by root

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVICE_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=START_TIMEOUT_SECONDS)

    def start(self) -> None:
        initdb = self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", SERVICE_USER, "-E", "UTF8", "--no-sync")
        if initdb.returncode != 0:
            raise ClusterError(f"initdb failed: {initdb.stderr.strip() or initdb.stdout.strip()}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB"
        )
        started = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        if started.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            raise ClusterError(f"pg_ctl start failed: {started.stderr.strip()} {log.strip()[-500:]}")

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Cluster:
    """Initialise and start a cluster in a fresh temp folder; the caller stops it (`Cluster.stop`)."""
    binaries = bindir()
    as_user: str | None = None
    root = Path(tempfile.mkdtemp(prefix="triggers-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            message = f"running as root needs the {SERVICE_USER!r} user (Debian's postgresql creates it)"
            raise ClusterError(message) from None
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = SERVICE_USER
    cluster = Cluster(root, free_port(), binaries, as_user)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def running() -> Iterator[Cluster]:
    cluster = start()
    try:
        yield cluster
    finally:
        cluster.stop()


if __name__ == "__main__":
    with running() as live:
        print(live.url(), flush=True)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        with contextlib.suppress(KeyboardInterrupt):
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
    sys.exit(0)
