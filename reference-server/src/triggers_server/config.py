"""Server settings: one frozen object, filled from CLI flags and `TRIGGERS_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
FAST_RETRY_SCHEDULE: tuple[float, ...] = (0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db_path: str = "triggers.db"
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    retry_jitter: float = 0.2
    max_deliveries: int = 5
    rate_limit_per_second: float = 100.0
    rate_limit_burst: int = 200
    max_event_bytes: int = 256 * 1024
    max_batch_bytes: int = 16 * 1024 * 1024
    max_batch_events: int = 1000
    bootstrap_admin_key: str | None = None
    retention_seconds: float = 7 * 24 * 3600
    heartbeat_seconds: float = 15.0
    sse_retry_ms: int = 3000
    idempotency_ttl_seconds: float = 24 * 3600
    log_level: str = "info"
    delivery_worker: bool = True
    webhook_timeout: float = 15.0
    secret_rotation_overlap: float = 24 * 3600
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def parse_schedule(text: str) -> tuple[float, ...]:
    """`0,5,300` → (0.0, 5.0, 300.0); raises ValueError on a negative or non-numeric entry."""
    values = tuple(float(part) for part in text.split(",") if part.strip())
    if not values or any(value < 0 for value in values):
        raise ValueError(f"invalid retry schedule: {text!r}")
    return values


_ENV_PREFIX = "TRIGGERS_"


def settings_from_env(environ: Mapping[str, str] | None = None, base: Settings | None = None) -> Settings:
    """Apply `TRIGGERS_<FIELD>` variables (e.g. TRIGGERS_PORT, TRIGGERS_DB_PATH) on top of `base`."""
    env = os.environ if environ is None else environ
    settings = base or Settings()
    changes: dict[str, Any] = {}
    for item in fields(Settings):
        if item.name == "extra":
            continue
        raw = env.get(_ENV_PREFIX + item.name.upper())
        if raw is None and item.name == "db_path":
            raw = env.get(_ENV_PREFIX + "DB")
        if raw is None:
            continue
        changes[item.name] = _coerce(item.name, raw, getattr(settings, item.name))
    return replace(settings, **changes)


def _coerce(name: str, raw: str, current: Any) -> Any:
    if name == "retry_schedule":
        return parse_schedule(raw)
    if name == "bootstrap_admin_key":
        return raw or None
    if isinstance(current, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    return raw
