"""`triggers-server`: run the reference server. Every flag also reads an environment variable."""

from __future__ import annotations

import argparse
import fcntl
import gc
import importlib.util
import os
import socket
import sys
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
from triggers_server.storage.ports.accounts import BootstrapOutcome

GC_GEN0_THRESHOLD = 20_000


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
    parser = argparse.ArgumentParser(prog="triggers-server", description="Triggers API reference server.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _flag(parser, "--host", "TRIGGERS_HOST", str, defaults.host, "interface to bind")
    _flag(parser, "--port", "TRIGGERS_PORT", int, defaults.port, "TCP port")
    _flag(parser, "--db", "TRIGGERS_DB", str, defaults.db_path, "SQLite file, or :memory:")
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
    parser.add_argument("--no-delivery-worker", action="store_true", help="do not send webhooks")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host,
        port=args.port,
        db_path=args.db,
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


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before start-up runs, so a taken port fails before any key is created or printed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}", 1) from error
    sock.set_inheritable(True)
    return sock


def serving_line(settings: Settings, port: int) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"triggers-server {__version__} serving http://{host}:{port}{API_PREFIX} (database {settings.db_path})"


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


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    configure_logging(settings.log_level)
    try:
        check_db_folder(settings.db_path)
        lock_database(settings.db_path)
        sock = bind_socket(settings.host, settings.port)
    except StartupError as error:
        print(f"triggers-server: {error}", file=sys.stderr, flush=True)
        sys.exit(error.code)
    lines = [serving_line(settings, int(sock.getsockname()[1]))]
    port = int(sock.getsockname()[1])
    app = create_app(
        settings,
        announce=lambda outcome: lines.append(bootstrap_line(outcome)),
        announce_sign_in=lambda code: lines.append(sign_in_line(settings, port, code)),
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
