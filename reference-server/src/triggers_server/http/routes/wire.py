"""The contract's shapes of the webhook-side records (subscriptions, deliveries and attempts, dead letters,
replays), rendered for responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triggers_server.clock import isoformat
from triggers_server.domain.dlq import DeadLetter
from triggers_server.storage.ports.deliveries import SUCCEEDED, AttemptRecord, DeliveryRecord
from triggers_server.storage.ports.replays import ReplayRecord
from triggers_server.storage.ports.subscriptions import SubscriptionRecord


def subscription_wire(record: SubscriptionRecord, *, include_secret: bool = False) -> dict[str, Any]:
    """`Subscription`; `secret` only right after create and rotate."""
    return {
        "id": record.id,
        "url": record.url,
        "event_types": list(record.event_types),
        "filter": record.filter,
        "enabled": record.enabled,
        "disabled_reason": record.disabled_reason,
        "max_rps": int(record.max_rps) if record.max_rps is not None else None,
        "description": record.description,
        "metadata": dict(record.metadata),
        "created_at": isoformat(record.created_at),
        "updated_at": isoformat(record.updated_at),
        "secret": record.secret if include_secret else None,
    }


def attempt_wire(attempt: AttemptRecord) -> dict[str, Any]:
    """`DeliveryAttempt`."""
    return {
        "attempt_number": attempt.attempt_number,
        "started_at": isoformat(attempt.started_at),
        "duration_ms": round(attempt.duration_ms),
        "request_url": attempt.request_url,
        "request_headers": attempt.request_headers,
        "request_body": attempt.request_body,
        "response_status": attempt.response_status,
        "response_headers": attempt.response_headers or {},
        "response_body": attempt.response_body,
        "response_body_truncated": attempt.response_body_truncated,
        "error": attempt.error,
        "succeeded": attempt.outcome == SUCCEEDED,
    }


def delivery_wire(record: DeliveryRecord, attempts: Iterable[AttemptRecord] = ()) -> dict[str, Any]:
    """`Delivery` (`attempts` only on the single-delivery read)."""
    return {
        "id": record.id,
        "event_id": record.event_id,
        "subscription_id": record.subscription_id,
        "status": record.status,
        "attempt_count": record.attempt_count,
        "next_attempt_at": isoformat(record.next_attempt_at) if record.next_attempt_at else None,
        "last_attempt_at": isoformat(record.last_attempt_at) if record.last_attempt_at else None,
        "last_response_status": record.last_response_status,
        "created_at": isoformat(record.created_at),
        "updated_at": isoformat(record.updated_at),
        "attempts": [attempt_wire(attempt) for attempt in attempts],
    }


def dead_letter_wire(letter: DeadLetter) -> dict[str, Any]:
    """`DlqEntry`, with its event."""
    entry = letter.entry
    return {
        "id": entry.id,
        "origin": entry.origin,
        "event_id": entry.event_id,
        "event_type": entry.event_type,
        "subscription_id": entry.subscription_id,
        "delivery_id": entry.delivery_id,
        "reason": entry.reason,
        "detail": entry.detail,
        "attempts": entry.attempts,
        "created_at": isoformat(entry.created_at),
        "event": letter.event,
    }


def replay_wire(record: ReplayRecord) -> dict[str, Any]:
    """`Replay`."""
    return {
        "id": record.id,
        "name": record.name,
        "status": record.status,
        "from": isoformat(record.range_from),
        "to": isoformat(record.range_to),
        "event_types": list(record.event_types),
        "filter": record.filter,
        "target": record.target,
        "data_patch": record.data_patch,
        "dry_run": record.dry_run,
        "progress": {
            "matched": record.matched,
            "processed": record.processed,
            "delivered": record.delivered,
            "filtered": record.filtered,
        },
        "error": record.error,
        "created_at": isoformat(record.created_at),
        "started_at": isoformat(record.started_at) if record.started_at else None,
        "finished_at": isoformat(record.finished_at) if record.finished_at else None,
    }
