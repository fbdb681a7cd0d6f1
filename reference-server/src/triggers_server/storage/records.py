"""Stored rows as the ports' records and back, for every backend: both keep the same columns, so reading a row
(`sqlite3.Row` and asyncpg's `Record` are both read by column name) and laying one out are written once here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from triggers_server.clock import isoformat, parse_datetime
from triggers_server.storage.event_rows import ColumnRow
from triggers_server.storage.ports.accounts import AccountRecord, ApiKeyRecord
from triggers_server.storage.ports.deliveries import AttemptRecord, DeliveryRecord
from triggers_server.storage.ports.dlq import DlqRecord
from triggers_server.storage.ports.idempotency import KeyedRequest, Reply, StoredResponse
from triggers_server.storage.ports.replays import ReplayRecord
from triggers_server.storage.ports.schemas import SchemaVersionRecord, SubjectRecord
from triggers_server.storage.ports.subscriptions import SubscriptionRecord


def optional_time(text: str | None) -> datetime | None:
    return parse_datetime(text) if text is not None else None


def optional_json(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def subscription_record(row: ColumnRow) -> SubscriptionRecord:
    expires = row["previous_secret_expires_at"]
    return SubscriptionRecord(
        seq=int(row["seq"]),
        id=row["id"],
        account_id=row["account_id"],
        url=row["url"],
        event_types=json.loads(row["event_types"]),
        filter=json.loads(row["filter"]) if row["filter"] is not None else None,
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        max_rps=row["max_rps"],
        description=row["description"],
        metadata=json.loads(row["metadata"]),
        secret=row["secret"],
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=parse_datetime(expires) if expires is not None else None,
        created_at=parse_datetime(row["created_at"]),
        updated_at=parse_datetime(row["updated_at"]),
    )


def replay_record(row: ColumnRow) -> ReplayRecord:
    return ReplayRecord(
        seq=int(row["seq"]),
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        range_from=parse_datetime(row["range_from"]),
        range_to=parse_datetime(row["range_to"]),
        event_types=json.loads(row["event_types"]),
        filter=optional_json(row["filter"]),
        target=json.loads(row["target"]),
        data_patch=optional_json(row["data_patch"]),
        dry_run=bool(row["dry_run"]),
        status=row["status"],
        matched=row["matched"],
        processed=row["processed"],
        delivered=row["delivered"],
        filtered=row["filtered"],
        error=row["error"],
        cursor_sequence=int(row["cursor_sequence"]),
        created_at=parse_datetime(row["created_at"]),
        started_at=optional_time(row["started_at"]),
        finished_at=optional_time(row["finished_at"]),
    )


def dead_letter_record(row: ColumnRow) -> DlqRecord:
    return DlqRecord(
        seq=int(row["seq"]),
        id=row["id"],
        account_id=row["account_id"],
        origin=row["origin"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        subscription_id=row["subscription_id"],
        delivery_id=row["delivery_id"],
        reason=row["reason"],
        detail=row["detail"],
        attempts=row["attempts"],
        created_at=parse_datetime(row["created_at"]),
    )


def account_record(row: ColumnRow) -> AccountRecord:
    return AccountRecord(
        row["id"], row["name"], row["max_deliveries"], row["created_at"], int(row["purged_through_seq"])
    )


def api_key_record(row: ColumnRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(json.loads(row["scopes"])),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        bootstrap=bool(row["bootstrap"]),
        last_used_at=row["last_used_at"],
    )


def schema_version_record(row: ColumnRow) -> SchemaVersionRecord:
    return SchemaVersionRecord(
        event_type=row["event_type"],
        version=row["version"],
        json_schema=json.loads(row["json_schema"]),
        fingerprint=row["fingerprint"],
        created_at=parse_datetime(row["created_at"]),
        dialect=row["dialect"],
    )


def subject_record(row: ColumnRow) -> SubjectRecord:
    return SubjectRecord(
        event_type=row["event_type"],
        compatibility=row["compatibility"],
        default_dialect=row["default_dialect"],
        latest_version=row["latest_version"],
        versions=int(row["versions"]),
        updated_at=parse_datetime(row["updated_at"]),
    )


def delivery_record(row: ColumnRow) -> DeliveryRecord:
    return DeliveryRecord(
        seq=int(row["seq"]),
        id=row["id"],
        account_id=row["account_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        subscription_id=row["subscription_id"],
        payload=row["payload"],
        status=row["status"],
        attempt_count=row["attempt_count"],
        next_attempt_at=optional_time(row["next_attempt_at"]),
        last_attempt_at=optional_time(row["last_attempt_at"]),
        manual_pending=bool(row["manual_pending"]),
        last_response_status=row["last_response_status"],
        last_error=row["last_error"],
        created_at=parse_datetime(row["created_at"]),
        updated_at=parse_datetime(row["updated_at"]),
        resume_status=row["resume_status"],
    )


def attempt_record(row: ColumnRow) -> AttemptRecord:
    return AttemptRecord(
        id=row["id"],
        delivery_id=row["delivery_id"],
        attempt_number=row["attempt_number"],
        trigger=row["trigger"],
        started_at=parse_datetime(row["started_at"]),
        duration_ms=row["duration_ms"],
        request_url=row["request_url"],
        request_headers=json.loads(row["request_headers"]),
        request_body=row["request_body"],
        response_status=row["response_status"],
        response_headers=json.loads(row["response_headers"]) if row["response_headers"] is not None else None,
        response_body=row["response_body"],
        response_body_truncated=bool(row["response_body_truncated"]),
        error=row["error"],
        outcome=row["outcome"],
        next_attempt_at=optional_time(row["next_attempt_at"]),
    )


def stored_response(row: ColumnRow) -> StoredResponse:
    return StoredResponse(
        fingerprint=row["fingerprint"],
        status_code=row["status_code"],
        headers=tuple((str(k), str(v)) for k, v in json.loads(row["response_headers"])),
        body=bytes(row["response_body"]),
        route=row["route"],
        method=row["method"],
        resource_id=row["resource_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        replay_status=row["replay_status"],
    )


def idempotency_row(keyed: KeyedRequest, reply: Reply) -> tuple[Any, ...]:
    """The `idempotency_keys` columns of a stored reply, in the order both backends' inserts name them."""
    return (
        keyed.account_id,
        keyed.key,
        keyed.method,
        keyed.path,
        keyed.route,
        keyed.fingerprint,
        reply.status_code,
        json.dumps(reply.headers),
        reply.body,
        reply.resource_id,
        isoformat(keyed.created_at),
        keyed.expires_at,
        reply.replay_status,
    )
