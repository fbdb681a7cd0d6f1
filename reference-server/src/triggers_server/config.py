"""Server settings: one frozen object, filled from CLI flags and `TRIGGERS_*` environment variables."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
FAST_RETRY_SCHEDULE: tuple[float, ...] = (0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db_path: str = "triggers.db"
    database_url: str | None = None  # postgresql://…: the PostgreSQL backend instead of SQLite at db_path
    pool_size: int = 10  # PostgreSQL connections per server process
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    retry_jitter: float = 0.2
    max_deliveries: int = 5
    rate_limit_per_second: float = 100.0
    rate_limit_burst: int = 200
    max_event_bytes: int = 256 * 1024
    max_batch_bytes: int = 1024 * 1024
    max_batch_events: int = 1000
    bootstrap_admin_key: str | None = None
    retention_seconds: float = 7 * 24 * 3600
    heartbeat_seconds: float = 15.0
    sse_retry_ms: int = 3000
    # The WebSocket (`GET /events/ws`): the largest client frame, frames queued per connection before it counts
    # as a slow consumer, and how long a connection without `Authorization` has to send `hello`.
    ws_max_frame_bytes: int = 64 * 1024
    ws_send_queue: int = 1000
    ws_hello_timeout_seconds: float = 10.0
    idempotency_ttl_seconds: float = 24 * 3600
    idempotency_lease_seconds: float = 60.0  # a keyed POST's in-flight claim; a crashed instance's expires then
    log_level: str = "info"
    delivery_worker: bool = True
    webhook_timeout: float = 15.0  # one attempt; a claimed batch's lease is a few of these (see LEASE_TIMEOUTS)
    delivery_poll_seconds: float = 1.0  # shared database only: how often an idle worker looks for others' work
    replay_lease_seconds: float = 30.0  # a replay job's runner lease; another instance adopts it after
    workers: int = 1  # server processes on this machine (PostgreSQL only)
    secret_rotation_overlap: float = 24 * 3600
    sign_in_code_ttl_seconds: float = 10 * 60

    @property
    def shared_database(self) -> bool:
        """Other server instances may use the same database (PostgreSQL): no process may trust its own memory
        for what another could change."""
        return self.database_url is not None


def parse_schedule(text: str) -> tuple[float, ...]:
    """`0,5,300` → (0.0, 5.0, 300.0); raises ValueError on a negative or non-numeric entry."""
    values = tuple(float(part) for part in text.split(",") if part.strip())
    if not values or any(value < 0 for value in values):
        raise ValueError(f"invalid retry schedule: {text!r}")
    return values
