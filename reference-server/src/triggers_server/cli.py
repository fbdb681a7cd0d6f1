"""`triggers-server`: run the reference server. Every flag also reads an environment variable."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import fcntl
import gc
import importlib.util
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from triggers_server import __version__
from triggers_server.config import FAST_RETRY_SCHEDULE, Settings, parse_schedule
from triggers_server.contract_facts import API_PREFIX
from triggers_server.http.app import create_app
from triggers_server.http.protocol import RelaxedHeaderValuesProtocol
from triggers_server.logs import configure_logging
from triggers_server.metrics import MULTIPROC_ENV
from triggers_server.storage.backends import BackendUnavailable, migrate, probe, redact
from triggers_server.storage.ports.accounts import BootstrapOutcome

GC_GEN0_THRESHOLD = 20_000
WORKER_INDEX_ENV = "TRIGGERS_WORKER_INDEX"  # set by the `--workers` supervisor in each worker process
WORKER_COUNT_ENV = "TRIGGERS_WORKER_COUNT"
WORKER_EARLY_EXIT_SECONDS = 30.0  # a worker exiting this soon after its start is a start-up failure, not a crash
SUPERVISOR_POLL_SECONDS = 0.2


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _flag(
    parser: argparse.ArgumentParser,
    flag: str,
    env: str,
    convert: Callable[[str], Any],
    default: Any,
    text: str,
) -> None:
    raw = _env(env)
    try:
        value = convert(raw) if raw is not None else default
    except ValueError as error:
        parser.error(f"{env}={raw!r}: {error}")
    parser.add_argument(flag, type=convert, default=value, help=f"{text} (env {env}; default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="triggers-server",
        description="Triggers API reference server, on SQLite (--db, the default) or PostgreSQL (--database-url).",
        epilog="commands: `triggers-server migrate [--db FILE | --database-url URL]` applies the database's "
        "pending migrations and exits (serving applies them too; a schema newer than this server is refused).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _flag(parser, "--host", "TRIGGERS_HOST", str, defaults.host, "interface to bind")
    _flag(parser, "--port", "TRIGGERS_PORT", int, defaults.port, "TCP port")
    _flag(parser, "--db", "TRIGGERS_DB", str, defaults.db_path, "SQLite file, or :memory:")
    _flag(
        parser,
        "--database-url",
        "TRIGGERS_DATABASE_URL",
        str,
        defaults.database_url,
        "postgresql://user[:password]@host[:port]/database: the PostgreSQL backend instead of --db",
    )
    _flag(parser, "--pool-size", "TRIGGERS_POOL_SIZE", int, defaults.pool_size, "PostgreSQL connections per process")
    _flag(
        parser,
        "--admin-key",
        "TRIGGERS_ADMIN_KEY",
        str,
        None,
        "bootstrap admin API key (tk_...); generated and printed once on first start when absent",
    )
    _flag(
        parser,
        "--retry-schedule",
        "TRIGGERS_RETRY_SCHEDULE",
        parse_schedule,
        defaults.retry_schedule,
        "webhook retry delays in seconds, comma-separated",
    )
    parser.add_argument(
        "--fast-retries",
        action="store_true",
        default=_env("TRIGGERS_FAST_RETRIES") == "1",
        help=f"use the test schedule {','.join(f'{v:g}' for v in FAST_RETRY_SCHEDULE)} (env TRIGGERS_FAST_RETRIES=1)",
    )
    _flag(
        parser,
        "--retry-jitter",
        "TRIGGERS_RETRY_JITTER",
        float,
        defaults.retry_jitter,
        "retry jitter fraction",
    )
    _flag(
        parser,
        "--max-deliveries",
        "TRIGGERS_MAX_DELIVERIES",
        int,
        defaults.max_deliveries,
        "inbox leases without ack before dead-lettering",
    )
    _flag(
        parser,
        "--rate-limit-rps",
        "TRIGGERS_RATE_LIMIT_RPS",
        float,
        defaults.rate_limit_per_second,
        "token-bucket refill per API key (requests/s)",
    )
    _flag(
        parser,
        "--rate-limit-burst",
        "TRIGGERS_RATE_LIMIT_BURST",
        int,
        defaults.rate_limit_burst,
        "token-bucket size per API key",
    )
    _flag(
        parser,
        "--max-event-bytes",
        "TRIGGERS_MAX_EVENT_BYTES",
        int,
        defaults.max_event_bytes,
        "largest event body",
    )
    _flag(
        parser,
        "--retention-days",
        "TRIGGERS_RETENTION_DAYS",
        float,
        defaults.retention_seconds / 86400,
        "how long events are kept",
    )
    _flag(
        parser,
        "--heartbeat",
        "TRIGGERS_HEARTBEAT",
        float,
        defaults.heartbeat_seconds,
        "SSE ping interval (s)",
    )
    _flag(parser, "--log-level", "TRIGGERS_LOG_LEVEL", str, defaults.log_level, "debug, info, warning or error")
    _flag(
        parser,
        "--workers",
        "TRIGGERS_WORKERS",
        int,
        defaults.workers,
        "server processes on this machine sharing the port (SO_REUSEPORT); PostgreSQL only",
    )
    _flag(
        parser,
        "--webhook-timeout",
        "TRIGGERS_WEBHOOK_TIMEOUT",
        float,
        defaults.webhook_timeout,
        "seconds one webhook attempt may take; a claimed batch is leased for a few of these",
    )
    _flag(
        parser,
        "--delivery-poll",
        "TRIGGERS_DELIVERY_POLL",
        float,
        defaults.delivery_poll_seconds,
        "PostgreSQL: seconds between an idle delivery worker's looks for other instances' work",
    )
    _flag(
        parser,
        "--replay-lease",
        "TRIGGERS_REPLAY_LEASE",
        float,
        defaults.replay_lease_seconds,
        "seconds a replay job's runner lease lasts; another instance adopts the job after",
    )
    _flag(
        parser,
        "--idempotency-lease",
        "TRIGGERS_IDEMPOTENCY_LEASE",
        float,
        defaults.idempotency_lease_seconds,
        "seconds a keyed POST's in-flight claim lasts if its instance dies",
    )
    parser.add_argument("--no-delivery-worker", action="store_true", help="do not send webhooks")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host,
        port=args.port,
        db_path=args.db,
        database_url=args.database_url,
        pool_size=args.pool_size,
        bootstrap_admin_key=args.admin_key,
        retry_schedule=FAST_RETRY_SCHEDULE if args.fast_retries else tuple(args.retry_schedule),
        retry_jitter=args.retry_jitter,
        max_deliveries=args.max_deliveries,
        rate_limit_per_second=args.rate_limit_rps,
        rate_limit_burst=args.rate_limit_burst,
        max_event_bytes=args.max_event_bytes,
        retention_seconds=args.retention_days * 86400,
        heartbeat_seconds=args.heartbeat,
        log_level=args.log_level,
        delivery_worker=not args.no_delivery_worker,
        workers=args.workers,
        webhook_timeout=args.webhook_timeout,
        delivery_poll_seconds=args.delivery_poll,
        replay_lease_seconds=args.replay_lease,
        idempotency_lease_seconds=args.idempotency_lease,
    )


def bootstrap_line(outcome: BootstrapOutcome) -> str:
    """The one line start-up prints about the operator's admin key (a generated key is stored only hashed)."""
    if outcome.generated_key is not None:
        return f"Bootstrap admin API key (shown once, store it now): {outcome.generated_key}"
    if outcome.attached:
        return f"--admin-key added to the existing account {outcome.account_id} (admin scope)"
    return f"--admin-key is the admin key of the new account {outcome.account_id}"


class StartupError(Exception):
    """A start-up failure the operator fixes: one line on stderr, then exit with `code`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def check_db_folder(db_path: str) -> None:
    if db_path == ":memory:":
        return
    folder = Path(db_path).resolve().parent
    if not folder.is_dir():
        raise StartupError(f"--db {db_path}: the folder {folder} does not exist", 2)


def lock_database(db_path: str) -> int | None:
    """Hold an exclusive OS lock on `<db>.lock` for the life of the process (the descriptor stays open): a
    second server on the same SQLite file would not see the first one's stream and long-poll wake-ups."""
    if db_path == ":memory:":
        return None
    lock_path = f"{Path(db_path).resolve()}.lock"
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode(errors="replace").strip() or "another process"
        os.close(descriptor)
        raise StartupError(
            f"--db {db_path} is in use by another triggers-server (pid {holder}); "
            "one server per SQLite file (the PostgreSQL backend is the multi-instance path)",
            1,
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode())
    return descriptor


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind before start-up runs, so a taken port fails before any key is created or printed. `reuse_port`:
    the `--workers` processes each bind the same port (SO_REUSEPORT) and the kernel spreads connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}", 1) from error
    sock.set_inheritable(True)
    return sock


def database_label(settings: Settings) -> str:
    if settings.database_url is not None:
        return f"PostgreSQL {redact(settings.database_url)}"
    return settings.db_path


def serving_line(settings: Settings, port: int, workers: int = 1) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    label = database_label(settings) + (f", {workers} workers" if workers > 1 else "")
    return f"triggers-server {__version__} serving http://{host}:{port}{API_PREFIX} (database {label})"


def check_backend(settings: Settings) -> None:
    """Before binding: the selected database is reachable and not newer than this server."""
    try:
        asyncio.run(probe(settings))
    except BackendUnavailable as error:
        raise StartupError(str(error), 1) from None


def run_migrate(argv: Sequence[str]) -> None:
    """`triggers-server migrate`: apply pending migrations to the selected database; one line either way."""
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    try:
        if settings.database_url is None:
            check_db_folder(settings.db_path)
        applied = asyncio.run(migrate(settings))
    except (BackendUnavailable, StartupError) as error:
        print(f"triggers-server migrate: {error}", file=sys.stderr, flush=True)
        sys.exit(error.code if isinstance(error, StartupError) else 1)
    target = database_label(settings)
    if applied:
        print(f"applied {len(applied)} migration(s) to {target}: {', '.join(applied)}", flush=True)
    else:
        print(f"{target} is up to date", flush=True)


class AnnouncingServer(uvicorn.Server):
    """Prints what start-up has to say only once the server is really serving."""

    def __init__(self, config: uvicorn.Config, lines: list[str]) -> None:
        super().__init__(config)
        self.lines = lines

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            for line in self.lines:
                print(line, flush=True)


def browser_host(host: str) -> str:
    """The host a browser on this machine reaches a server bound to `host` at (a wildcard bind is loopback)."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def sign_in_line(settings: Settings, port: int, code: str) -> str:
    """The console's one-click sign-in link; the code rides in the fragment, which no request carries."""
    minutes = max(1, round(settings.sign_in_code_ttl_seconds / 60))
    base = f"http://{browser_host(settings.host)}:{port}"
    return f"Console sign-in link (works once, for {minutes} min): {base}/console/#code={code}"


def tune_gc() -> None:
    """Full (gen-2) collections walk every live object and stalled all in-flight requests for 100-350 ms
    under load (measured with bench/server_ingest.py). Freezing the startup heap and collecting the
    young generation less often keeps each pause short and rare."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 20, 100)


def worker_argv(given: Sequence[str], settings: Settings, port: int) -> list[str]:
    """A `--workers` process's flags: the operator's, then one process on the shared port with its share of the
    rate limit (each of N processes refills at rps/N with a bucket of burst/N, so the machine never admits more
    than the configured rate per key; see deploy/README.md)."""
    workers = settings.workers
    return [
        *given,
        "--workers",
        "1",
        "--port",
        str(port),
        "--rate-limit-rps",
        repr(settings.rate_limit_per_second / workers),
        "--rate-limit-burst",
        str(max(1, math.floor(settings.rate_limit_burst / workers))),
    ]


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a worker, before exec: Linux sends it SIGTERM when the supervisor dies (even by `kill -9`), so no
    orphaned worker keeps serving the port."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def supervise(given: Sequence[str], settings: Settings) -> None:
    """`--workers N`: N `triggers-server` processes, each binding the port with SO_REUSEPORT (the kernel
    balances connections between their event loops, which one shared accept socket does not), each running
    its own delivery worker, replay adopter and janitor (all of them claim work in the database). A worker
    that crashes later is restarted; one that fails while starting stops them all with its exit code."""
    if settings.database_url is None:
        raise StartupError(
            f"--workers {settings.workers} needs the PostgreSQL backend (--database-url); "
            "SQLite serves from one process per file",
            2,
        )
    check_backend(settings)
    holder = bind_socket(settings.host, settings.port, reuse_port=True)  # reserves the port (never listens)
    port = int(holder.getsockname()[1])
    argv = worker_argv(given, settings, port)
    stopping = False
    metrics_dir = tempfile.TemporaryDirectory(prefix="triggers-metrics-")  # the workers' shared metric files

    def spawn(index: int) -> tuple[subprocess.Popen[bytes], float]:
        env = {
            **os.environ,
            WORKER_INDEX_ENV: str(index),
            WORKER_COUNT_ENV: str(settings.workers),
            MULTIPROC_ENV: metrics_dir.name,
        }
        command = [sys.executable, "-m", "triggers_server", *argv]
        return subprocess.Popen(command, env=env, preexec_fn=die_with_parent), time.monotonic()

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process, _ in children:
            if process.poll() is None:
                process.send_signal(signum)

    children = [spawn(index) for index in range(settings.workers)]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while not stopping:
        time.sleep(SUPERVISOR_POLL_SECONDS)
        for index, (process, started) in enumerate(children):
            returned = process.poll()
            if returned is None or stopping:
                continue
            if time.monotonic() - started < WORKER_EARLY_EXIT_SECONDS:
                code = returned or 1
                stop(signal.SIGTERM, None)
                break
            print(f"triggers-server: worker {index} exited with {returned}; restarting it", file=sys.stderr, flush=True)
            children[index] = spawn(index)
    for process, _ in children:
        process.wait()
    holder.close()
    metrics_dir.cleanup()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["migrate"]:
        run_migrate(given[1:])
        return
    args = build_parser().parse_args(given)
    settings = settings_from_args(args)
    configure_logging(settings.log_level)
    worker_index = int(os.environ.get(WORKER_INDEX_ENV) or 0)
    worker_count = int(os.environ.get(WORKER_COUNT_ENV) or 1)
    try:
        if settings.workers < 1:
            raise StartupError(f"--workers {settings.workers}: expected 1 or more", 2)
        if settings.workers > 1:
            supervise(given, settings)
            return
        if settings.database_url is None:
            check_db_folder(settings.db_path)
            lock_database(settings.db_path)
        check_backend(settings)
        sock = bind_socket(settings.host, settings.port, reuse_port=worker_count > 1)
    except StartupError as error:
        print(f"triggers-server: {error}", file=sys.stderr, flush=True)
        sys.exit(error.code)
    port = int(sock.getsockname()[1])
    first = worker_index == 0  # with --workers, the first worker speaks for the machine
    lines = [serving_line(settings, port, worker_count)] if first else []
    app = create_app(
        settings,
        announce=lambda outcome: lines.append(bootstrap_line(outcome)),
        announce_sign_in=(lambda code: lines.append(sign_in_line(settings, port, code))) if first else None,
    )
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop=loop,
        http=RelaxedHeaderValuesProtocol,
        # No permessage-deflate: triggers.v1 frames are small JSON, and compressing every fan-out frame once per
        # connection (a zlib context each) cost more server CPU than the bytes it saves (bench/server_websocket.py).
        ws_per_message_deflate=False,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = AnnouncingServer(config, lines)
    tune_gc()
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(1)


if __name__ == "__main__":
    main()
