"""Every scenario of tests/contract/scenarios.yaml, through the public SDK surface only."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest

from zapier_triggers import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    SchemaValidationError,
    TriggersClient,
    UnprocessableEntityError,
)
from zapier_triggers.types import Event

pytestmark = pytest.mark.anyio
scenario = pytest.mark.scenario

CATALOGUE = Path(__file__).resolve().parents[3] / "tests" / "contract" / "scenarios.yaml"
PROBLEM = "https://triggers.dev/problems/"
TERMINAL_REPLAY = {"COMPLETED", "FAILED", "CANCELLED"}


# --------------------------------------------------------------------------- helpers
async def _events(client: TriggersClient, event_type: str, count: int, **fields: Any) -> list[Event]:
    return [
        await client.events.create(type=event_type, source="contract", data={"n": i}, **fields)
        for i in range(count)
    ]


async def _latest_sequence(client: TriggersClient, prefix: str) -> str:
    marker = await client.events.create(type=f"{prefix}marker.x", source="contract")
    return str(marker.sequence)


async def _dead_letter(client: TriggersClient, event_type: str) -> Event:
    """Lease + nack an event max_deliveries (5) times; the 6th lease finds it dead-lettered."""
    event = await client.events.create(type=event_type, source="contract")
    for _ in range(5):
        lease = await client.inbox.lease(types=[event_type], wait=0)
        assert len(lease.messages) == 1
        await client.inbox.nack(receipts=[lease.messages[0].receipt], delay=0)
    assert (await client.inbox.lease(types=[event_type], wait=0)).messages == []
    return event


async def _dlq_entry_id(client: TriggersClient, event_type: str) -> str:
    entries = [entry async for entry in client.dlq.list(event_type=event_type)]
    assert len(entries) == 1
    return entries[0].id


# --------------------------------------------------------------------------- events
@scenario("event-create-get")
async def test_event_create_get(client: TriggersClient, prefix: str) -> None:
    created = await client.events.create(
        type=f"{prefix}.order.created",
        source="contract",
        subject="order/1",
        data={"order_id": "1"},
        metadata={"tenant": "acme"},
    )
    assert created.id.startswith("evt_") and created.sequence >= 1 and created.status == "pending"
    fetched = await client.events.get(created.id)
    assert (fetched.id, fetched.type, fetched.data) == (created.id, created.type, {"order_id": "1"})
    assert fetched.subject == "order/1" and fetched.metadata == {"tenant": "acme"}


@scenario("event-create-cloudevents-structured")
async def test_event_create_cloudevents_structured(client: TriggersClient, prefix: str) -> None:
    cloud_event = {
        "specversion": "1.0",
        "id": f"ce-{uuid.uuid4()}",
        "source": "contract/ce",
        "type": f"{prefix}.ce",
        "data": {"hello": "world"},
    }
    created = await client.events.create_cloud_event(cloud_event)
    stored = await client.events.get(created.id)
    assert stored.external_id == cloud_event["id"] and stored.specversion == "1.0"


@scenario("idempotent-retry-returns-original")
async def test_idempotent_retry_returns_original(client: TriggersClient, prefix: str) -> None:
    key = f"contract-{uuid.uuid4()}"
    first = await client.events.create(type=f"{prefix}.x", source="contract", idempotency_key=key)
    again = await client.with_raw_response.events.create(
        type=f"{prefix}.x", source="contract", idempotency_key=key
    )
    assert again.parse().id == first.id
    assert again.idempotent_replayed and again.idempotency_key == key


@scenario("idempotency-key-reuse-different-body")
async def test_idempotency_key_reuse_different_body(client: TriggersClient, prefix: str) -> None:
    key = f"contract-{uuid.uuid4()}"
    await client.events.create(type=f"{prefix}.x", source="contract", idempotency_key=key)
    with pytest.raises(IdempotencyKeyReusedError) as caught:
        await client.events.create(type=f"{prefix}.y", source="contract", idempotency_key=key)
    assert caught.value.status_code == 422
    assert caught.value.type == PROBLEM + "idempotency-key-reuse"
    assert caught.value.request_id


@scenario("idempotency-auto-key")
async def test_idempotency_auto_key(client: TriggersClient, prefix: str) -> None:
    raw = await client.with_raw_response.events.create(type=f"{prefix}.x", source="contract")
    key = raw.idempotency_key
    assert key is not None and uuid.UUID(key).version == 4
    status = await client.idempotency_keys.get(key)
    assert status.status == "completed" and status.route == "/events"
    assert status.response_status == 201 and status.resource_id == raw.parse().id


@scenario("duplicate-source-id-conflict")
async def test_duplicate_source_id_conflict(client: TriggersClient, prefix: str) -> None:
    producer_id = f"order-{uuid.uuid4()}"
    first = await client.events.create(type=f"{prefix}.x", source="contract", id=producer_id)
    with pytest.raises(ConflictError) as caught:
        await client.events.create(type=f"{prefix}.x", source="contract", id=producer_id)
    assert caught.value.status_code == 409
    assert caught.value.extensions["existing_event_id"] == first.id


@scenario("event-batch-mixed-results")
async def test_event_batch_mixed_results(client: TriggersClient, prefix: str) -> None:
    valid = {"type": f"{prefix}.x", "source": "contract", "id": f"b-{uuid.uuid4()}"}
    result = await client.events.create_batch([valid, dict(valid), {"type": "", "source": "contract"}])
    assert [(r.index, r.status) for r in result.results] == [
        (0, "created"),
        (1, "duplicate"),
        (2, "rejected"),
    ]
    assert result.results[2].problem is not None and result.results[0].event is not None
    assert (result.created, result.duplicates, result.rejected) == (1, 1, 1)


@scenario("event-list-type-glob-pagination")
async def test_event_list_type_glob_pagination(client: TriggersClient, prefix: str) -> None:
    created = await _events(client, f"{prefix}.a", 5)
    await _events(client, f"{prefix}.b", 2)
    pages = [page async for page in client.events.list(type=[f"{prefix}.a*"], limit=2).pages()]
    ids = [event.id for page in pages for event in page.data]
    assert sorted(ids) == sorted(e.id for e in created) and len(set(ids)) == 5
    assert len(pages) == 3 and pages[-1].next_cursor is None
    assert len([e async for e in client.events.list(type=[f"{prefix}.a*"], limit=2)]) == 5


@scenario("event-validation-error")
async def test_event_validation_error(client: TriggersClient, prefix: str) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        await client.request("POST", "/events", body={"type": f"{prefix}.x"}, cast_to=Event)
    assert caught.value.type == PROBLEM + "validation"
    assert "/source" in [e.pointer for e in caught.value.errors]


@scenario("correlation-causal-order")
async def test_correlation_causal_order(client: TriggersClient, prefix: str) -> None:
    correlation = f"wf-{uuid.uuid4()}"
    root = await client.events.create(type=f"{prefix}.root", source="contract", correlation_id=correlation)
    child = await client.events.create(
        type=f"{prefix}.child", source="contract", correlation_id=correlation, causation_id=root.id
    )
    grandchild = await client.events.create(
        type=f"{prefix}.grandchild", source="contract", correlation_id=correlation, causation_id=child.id
    )
    result = await client.events.get_correlation(correlation)
    assert [e.id for e in result.events] == [root.id, child.id, grandchild.id]
    assert len(result.roots) == 1 and result.roots[0].event_id == root.id
    assert [c.event_id for c in result.roots[0].children] == [child.id]
    assert [g.event_id for g in result.roots[0].children[0].children] == [grandchild.id]


@scenario("event-not-found")
async def test_event_not_found(client: TriggersClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.events.get("evt_00000000000000000000000000")
    assert caught.value.type == PROBLEM + "not-found" and caught.value.request_id


@scenario("stream-receives-live-events")
async def test_stream_receives_live_events(client: TriggersClient, prefix: str) -> None:
    cursor = await _latest_sequence(client, prefix)
    received: list[Event] = []
    with anyio.fail_after(20):
        async with client.events.stream(types=[f"{prefix}.*"], last_event_id=cursor) as stream:
            await client.events.create(type=f"{prefix}.one", source="contract")
            await client.events.create(type=f"other{prefix}.skip", source="contract")
            await client.events.create(type=f"{prefix}.two", source="contract")
            async for event in stream:
                received.append(event)
                if len(received) == 2:
                    break
    assert [e.type for e in received] == [f"{prefix}.one", f"{prefix}.two"]
    assert received[0].sequence < received[1].sequence


@scenario("stream-resume-last-event-id")
async def test_stream_resume_last_event_id(client: TriggersClient, prefix: str) -> None:
    cursor = await _latest_sequence(client, prefix)
    first = await _events(client, f"{prefix}.s", 2)
    with anyio.fail_after(20):
        async with client.events.stream(types=[f"{prefix}.*"], last_event_id=cursor) as stream:
            seen = []
            async for event in stream:
                seen.append(event.id)
                if len(seen) == 2:
                    break
            last = stream.last_event_id
    assert seen == [e.id for e in first] and last is not None
    later = await _events(client, f"{prefix}.s", 2)
    resumed: list[str] = []
    with anyio.move_on_after(2):  # after the 2 new events, nothing else may arrive
        async with client.events.stream(types=[f"{prefix}.*"], last_event_id=last) as stream:
            async for event in stream:
                resumed.append(event.id)
    assert resumed == [e.id for e in later]


# --------------------------------------------------------------------------- inbox
@scenario("inbox-lease-ack")
async def test_inbox_lease_ack(client: TriggersClient, prefix: str) -> None:
    (event,) = await _events(client, f"{prefix}.inbox", 1)
    lease = await client.inbox.lease(types=[f"{prefix}.inbox"], wait=0)
    assert [(m.event.id, m.delivery_count) for m in lease.messages] == [(event.id, 1)]
    result = await client.inbox.ack([lease.messages[0].receipt])
    assert result.results[0].status == "ok"
    assert (await client.events.get(event.id)).status == "acknowledged"
    assert event.id not in [e.id async for e in client.inbox.list(type=[f"{prefix}.inbox"])]


@scenario("inbox-nack-redelivers")
async def test_inbox_nack_redelivers(client: TriggersClient, prefix: str) -> None:
    (event,) = await _events(client, f"{prefix}.nack", 1)
    first = await client.inbox.lease(types=[f"{prefix}.nack"], wait=0)
    await client.inbox.nack(receipts=[first.messages[0].receipt], delay=0)
    second = await client.inbox.lease(types=[f"{prefix}.nack"], wait=0)
    assert [(m.event.id, m.delivery_count) for m in second.messages] == [(event.id, 2)]


@scenario("inbox-extend")
async def test_inbox_extend(client: TriggersClient, prefix: str) -> None:
    await _events(client, f"{prefix}.ext", 1)
    lease = await client.inbox.lease(types=[f"{prefix}.ext"], visibility_timeout=5, wait=0)
    result = await client.inbox.extend(receipts=[lease.messages[0].receipt], visibility_timeout=600)
    assert result.results[0].status == "ok"
    assert (await client.inbox.lease(types=[f"{prefix}.ext"], wait=0)).messages == []


@scenario("inbox-ack-unknown-receipt")
async def test_inbox_ack_unknown_receipt(client: TriggersClient) -> None:
    result = await client.inbox.ack([f"rcpt_made_up_{uuid.uuid4().hex}"])
    assert result.results[0].status == "not_found"


@scenario("inbox-simple-acknowledge")
async def test_inbox_simple_acknowledge(client: TriggersClient, prefix: str) -> None:
    (event,) = await _events(client, f"{prefix}.ack", 1)
    await client.inbox.acknowledge(event.id)
    assert (await client.events.get(event.id)).status == "acknowledged"
    await client.inbox.acknowledge(event.id)


@scenario("inbox-iterate-helper")
async def test_inbox_iterate_helper(client: TriggersClient, prefix: str) -> None:
    created = await _events(client, f"{prefix}.it", 3)
    seen = []
    with anyio.fail_after(20):
        async for message in client.inbox.iterate(
            batch_size=2, types=[f"{prefix}.it"], wait=0, stop_when_empty=True
        ):
            seen.append(message.event.id)
            await message.ack()
    assert sorted(seen) == sorted(e.id for e in created) and len(seen) == 3
    for event in created:
        assert (await client.events.get(event.id)).status == "acknowledged"


@scenario("inbox-max-deliveries-to-dlq")
async def test_inbox_max_deliveries_to_dlq(client: TriggersClient, prefix: str) -> None:
    event = await _dead_letter(client, f"{prefix}.dlq")
    entries = [e async for e in client.dlq.list(event_type=f"{prefix}.dlq")]
    assert [(e.event_id, e.origin, e.reason) for e in entries] == [
        (event.id, "inbox", "max_deliveries_exceeded")
    ]


# --------------------------------------------------------------------------- dlq
@scenario("dlq-retry-returns-to-inbox")
async def test_dlq_retry_returns_to_inbox(client: TriggersClient, prefix: str) -> None:
    event = await _dead_letter(client, f"{prefix}.dlqr")
    entry_id = await _dlq_entry_id(client, f"{prefix}.dlqr")
    await client.dlq.retry(entry_id)
    with pytest.raises(NotFoundError):
        await client.dlq.get(entry_id)
    assert (await client.events.get(event.id)).status == "pending"
    lease = await client.inbox.lease(types=[f"{prefix}.dlqr"], wait=0)
    assert [(m.event.id, m.delivery_count) for m in lease.messages] == [(event.id, 1)]


@scenario("dlq-dismiss")
async def test_dlq_dismiss(client: TriggersClient, prefix: str) -> None:
    await _dead_letter(client, f"{prefix}.dlqd")
    entry_id = await _dlq_entry_id(client, f"{prefix}.dlqd")
    await client.dlq.dismiss(entry_id)
    with pytest.raises(NotFoundError):
        await client.dlq.get(entry_id)


# --------------------------------------------------------------------------- subscriptions / deliveries
@scenario("subscription-crud")
async def test_subscription_crud(client: TriggersClient, prefix: str) -> None:
    created = await client.subscriptions.create(url="http://127.0.0.1:9/hook", event_types=[f"{prefix}.*"])
    assert created.secret is not None and created.secret.startswith("whsec_")
    fetched = await client.subscriptions.get(created.id)
    assert fetched.secret is None and fetched.event_types == [f"{prefix}.*"]
    updated = await client.subscriptions.update(created.id, enabled=False)
    assert updated.enabled is False and (await client.subscriptions.get(created.id)).enabled is False
    assert created.id in [s.id async for s in client.subscriptions.list()]
    await client.subscriptions.delete(created.id)
    with pytest.raises(NotFoundError):
        await client.subscriptions.get(created.id)


@scenario("subscription-rotate-secret")
async def test_subscription_rotate_secret(client: TriggersClient, prefix: str) -> None:
    created = await client.subscriptions.create(url="http://127.0.0.1:9/hook", event_types=[f"{prefix}.*"])
    rotated = await client.subscriptions.rotate_secret(created.id)
    assert (
        rotated.secret is not None
        and rotated.secret.startswith("whsec_")
        and rotated.secret != created.secret
    )
    await client.subscriptions.delete(created.id)


@scenario("subscription-invalid-filter")
async def test_subscription_invalid_filter(client: TriggersClient) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        await client.subscriptions.create(url="http://127.0.0.1:9/hook", filter={"regex": {"type": ".*"}})
    assert any(e.pointer.startswith("/filter") for e in caught.value.errors)


@scenario("delivery-listed-for-event")
async def test_delivery_listed_for_event(client: TriggersClient, prefix: str) -> None:
    subscription = await client.subscriptions.create(
        url="http://127.0.0.1:9/hook", event_types=[f"{prefix}.*"]
    )
    (event,) = await _events(client, f"{prefix}.d", 1)
    deliveries = [d async for d in client.events.list_deliveries(event.id)]
    assert [d.subscription_id for d in deliveries] == [subscription.id]
    delivery = await client.deliveries.get(deliveries[0].id)
    assert delivery.event_id == event.id and isinstance(delivery.attempts, list)
    await client.subscriptions.delete(subscription.id)


# --------------------------------------------------------------------------- replays
@scenario("replay-dry-run")
async def test_replay_dry_run(client: TriggersClient, prefix: str) -> None:
    excluded = await client.subscriptions.create(
        url="http://127.0.0.1:9/a", event_types=[f"{prefix}.*"], filter={"exact": {"type": f"{prefix}.other"}}
    )
    matching = await client.subscriptions.create(url="http://127.0.0.1:9/b", event_types=[f"{prefix}.*"])
    (event,) = await _events(client, f"{prefix}.r", 1)
    before = len([e async for e in client.events.list(type=[f"{prefix}.*"])])
    result = await client.events.replay(event.id, target={"kind": "all"}, dry_run=True)
    assert result.event is None and result.dry_run
    by_target = {(o.target, o.subscription_id): o for o in result.outcomes}
    assert by_target[("inbox", None)].decision == "would_deliver"
    assert by_target[("subscription", matching.id)].decision == "would_deliver"
    filtered = by_target[("subscription", excluded.id)]
    assert filtered.decision == "filtered" and filtered.trace
    assert len([e async for e in client.events.list(type=[f"{prefix}.*"])]) == before
    for sub in (excluded, matching):
        await client.subscriptions.delete(sub.id)


@scenario("replay-to-inbox-with-patch")
async def test_replay_to_inbox_with_patch(client: TriggersClient, prefix: str) -> None:
    original = await client.events.create(
        type=f"{prefix}.p", source="contract", data={"amount": 1, "currency": "EUR"}
    )
    result = await client.events.replay(original.id, target={"kind": "inbox"}, data_patch={"amount": 99})
    assert result.event is not None
    copy = result.event
    assert copy.id != original.id and copy.replay_of == original.id
    assert copy.data == {"amount": 99, "currency": "EUR"}


async def _replay_job(client: TriggersClient, prefix: str) -> tuple[Any, int]:
    start = datetime.now(timezone.utc) - timedelta(seconds=5)
    created = await _events(client, f"{prefix}.job", 3)
    job = await client.replays.create(
        from_=start,
        to=datetime.now(timezone.utc) + timedelta(seconds=1),
        event_types=[f"{prefix}.job"],
        target={"kind": "inbox"},
    )
    return job, len(created)


@scenario("replay-job-lifecycle")
async def test_replay_job_lifecycle(client: TriggersClient, prefix: str) -> None:
    job, count = await _replay_job(client, prefix)
    with anyio.fail_after(30):
        while job.status not in TERMINAL_REPLAY:
            await anyio.sleep(0.1)
            job = await client.replays.get(job.id)
    assert job.status == "COMPLETED" and job.progress.matched == count


@scenario("replay-job-cancel")
async def test_replay_job_cancel(client: TriggersClient, prefix: str) -> None:
    job, _ = await _replay_job(client, prefix)
    try:
        cancelled = await client.replays.cancel(job.id)
    except ConflictError:
        assert (await client.replays.get(job.id)).status == "COMPLETED"
    else:
        assert cancelled.status in {"CANCELLING", "CANCELLED", "COMPLETED"}


# --------------------------------------------------------------------------- schemas
_ORDER_SCHEMA = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}


@scenario("schema-register-and-validate")
async def test_schema_register_and_validate(client: TriggersClient, prefix: str) -> None:
    event_type = f"{prefix}.order"
    version = await client.schemas.register(event_type, _ORDER_SCHEMA)
    assert version.version == 1
    valid = await client.events.create(type=event_type, source="contract", data={"order_id": "1"})
    assert valid.schema_version == 1
    with pytest.raises(SchemaValidationError) as caught:
        await client.events.create(type=event_type, source="contract", data={"order_id": 1})
    assert caught.value.errors and all(e.pointer.startswith("/data") for e in caught.value.errors)


_AMOUNT_V1 = {"type": "object", "properties": {"amount": {"type": "string"}}}
_AMOUNT_V2 = {"type": "object", "properties": {"amount": {"type": "integer"}}}


@scenario("schema-incompatible-rejected")
async def test_schema_incompatible_rejected(client: TriggersClient, prefix: str) -> None:
    event_type = f"{prefix}.amount"
    await client.schemas.register(event_type, _AMOUNT_V1)
    with pytest.raises(ConflictError) as caught:
        await client.schemas.register(event_type, _AMOUNT_V2)
    assert caught.value.type == PROBLEM + "schema-incompatible"
    assert caught.value.extensions["incompatibilities"]


@scenario("schema-compatibility-check")
async def test_schema_compatibility_check(client: TriggersClient, prefix: str) -> None:
    event_type = f"{prefix}.closed"
    closed = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    await client.schemas.register(event_type, closed)
    candidate = {**closed, "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    result = await client.schemas.check_compatibility(event_type, json_schema=candidate)
    assert result.compatible and result.mode == "BACKWARD" and result.incompatibilities == []
    assert [v.version async for v in client.schemas.list_versions(event_type)] == [1]


@scenario("schema-config-modes")
async def test_schema_config_modes(client: TriggersClient, prefix: str) -> None:
    event_type = f"{prefix}.modes"
    await client.schemas.register(event_type, _AMOUNT_V1)
    await client.schemas.update_config(event_type, compatibility="NONE")
    assert (await client.schemas.get_config(event_type)).compatibility == "NONE"
    assert (await client.schemas.register(event_type, _AMOUNT_V2)).version == 2


# --------------------------------------------------------------------------- filters
@scenario("filter-test-trace")
async def test_filter_test_trace(client: TriggersClient, prefix: str) -> None:
    event_type = f"{prefix}.f"
    result = await client.filters.test(
        filter={"all": [{"exact": {"type": event_type}}, {"prefix": {"data.country": "D"}}]},
        event={"type": event_type, "source": "contract", "data": {"country": "DE"}},
    )
    assert result.matched
    leaves = [entry for entry in result.trace if entry.dialect in ("exact", "prefix")]
    assert len(leaves) >= 2 and all(entry.matched for entry in leaves)


# --------------------------------------------------------------------------- account, keys, auth
@scenario("account-get")
async def test_account_get(client: TriggersClient) -> None:
    account = await client.account.get()
    assert account.limits.max_deliveries == 5
    usage = account.usage
    counts = [usage.events_total, usage.events_today, usage.inbox_depth, usage.dlq_depth, usage.subscriptions]
    assert all(isinstance(n, int) and n >= 0 for n in counts)


@scenario("api-key-scopes-enforced")
async def test_api_key_scopes_enforced(
    client: TriggersClient, make_client: Callable[..., TriggersClient], prefix: str
) -> None:
    key = await client.api_keys.create(name=f"{prefix}-reader", scopes=["events:read"])
    assert key.key is not None
    reader = make_client(api_key=key.key)
    await reader.events.list(limit=1).first_page()
    with pytest.raises(PermissionDeniedError) as caught:
        await reader.events.create(type=f"{prefix}.x", source="contract")
    assert caught.value.type == PROBLEM + "forbidden"


@scenario("auth-invalid-key")
async def test_auth_invalid_key(make_client: Callable[..., TriggersClient]) -> None:
    with pytest.raises(AuthenticationError) as caught:
        await make_client(api_key="tk_made_up_key").account.get()
    assert caught.value.type == PROBLEM + "unauthenticated"


@scenario("tenant-isolation")
async def test_tenant_isolation(
    client: TriggersClient, make_client: Callable[..., TriggersClient], prefix: str
) -> None:
    (event,) = await _events(client, f"{prefix}.mine", 1)
    other = await client.api_keys.create(
        name=f"{prefix}-tenant", scopes=["admin"], new_account=f"{prefix} tenant"
    )
    assert other.key is not None
    with pytest.raises(NotFoundError):
        await make_client(api_key=other.key).events.get(event.id)


# --------------------------------------------------------------------------- ops, runtime
@scenario("rate-limit-retry-after")
async def test_rate_limit_retry_after(
    client: TriggersClient, make_client: Callable[..., TriggersClient], prefix: str
) -> None:
    key = await client.api_keys.create(
        name=f"{prefix}-burst", scopes=["admin"], new_account=f"{prefix} burst"
    )
    assert key.key is not None
    eager = make_client(api_key=key.key, max_retries=0)
    error: RateLimitError | None = None
    with anyio.fail_after(60):
        for _ in range(2000):
            try:
                await eager.account.get()
            except RateLimitError as exc:
                error = exc
                break
    assert error is not None and error.retry_after is not None and error.retry_after > 0
    patient = make_client(api_key=key.key, max_retries=5, retry_policy=RetryPolicy(budget=10.0))
    assert (await patient.account.get()).id


@scenario("health-and-stats")
async def test_health_and_stats(client: TriggersClient) -> None:
    assert (await client.ops.health()).status == "ok"
    latency = (await client.ops.stats()).ingest_latency_ms
    assert latency.p50 <= latency.p99


@scenario("request-id-on-errors")
async def test_request_id_on_errors(client: TriggersClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.subscriptions.get("sub_does_not_exist")
    assert caught.value.request_id and caught.value.request_id == caught.value.headers["X-Request-Id"]


# --------------------------------------------------------------------------- websocket (asyncapi.yaml)
async def _take(subscription: Any, count: int, seconds: float = 20) -> list[Any]:
    got: list[Any] = []
    with anyio.fail_after(seconds):
        async for item in subscription:
            got.append(item)
            if len(got) == count:
                break
    return got


@scenario("ws-subscribe-live-events")
async def test_ws_subscribe_live_events(client: TriggersClient, prefix: str) -> None:
    since = await _latest_sequence(client, prefix)
    async with client.events.subscribe(types=[f"{prefix}.*"], since=since) as subscription:
        a = await client.events.create(type=f"{prefix}.a", source="contract")
        b = await client.events.create(type=f"{prefix}.b", source="contract")
        await client.events.create(type=f"{prefix}x.other", source="contract")
        got = await _take(subscription, 2)
    assert [e.id for e in got] == [a.id, b.id]
    assert isinstance(got[0], Event) and got[0].sequence < got[1].sequence
    assert subscription.cursor == str(b.sequence)


@scenario("ws-subscribe-filter")
async def test_ws_subscribe_filter(client: TriggersClient, prefix: str) -> None:
    since = await _latest_sequence(client, prefix)
    wanted_source = f"{prefix}-b"
    async with client.events.subscribe(
        types=[f"{prefix}.*"], filter={"exact": {"source": wanted_source}}, since=since
    ) as subscription:
        for _ in range(2):
            await client.events.create(type=f"{prefix}.f", source=f"{prefix}-a")
        wanted = await client.events.create(type=f"{prefix}.f", source=wanted_source)
        got = await _take(subscription, 1)
    assert [e.id for e in got] == [wanted.id]


@scenario("ws-resume-without-gap")
async def test_ws_resume_without_gap(client: TriggersClient, prefix: str) -> None:
    since = await _latest_sequence(client, prefix)
    first = await _events(client, f"{prefix}.r", 4)
    async with client.events.subscribe(types=[f"{prefix}.*"], since=since) as subscription:
        head = await _take(subscription, 2)
    later = await _events(client, f"{prefix}.r", 2)
    async with client.events.subscribe(types=[f"{prefix}.*"], since=subscription.cursor) as resumed:
        tail = await _take(resumed, 4)
    assert [e.id for e in head + tail] == [e.id for e in first + later]


@scenario("ws-push-inbox-ack")
async def test_ws_push_inbox_ack(client: TriggersClient, prefix: str) -> None:
    kind = f"{prefix}.p"
    created = await _events(client, kind, 3)
    async with client.inbox.stream(max_in_flight=2, types=[kind]) as stream:
        first, second = await _take(stream, 2)
        assert [(m.event.id, m.delivery_count) for m in (first, second)] == [(e.id, 1) for e in created[:2]]
        visible = await client.inbox.list(type=[kind]).first_page()
        assert [e.id for e in visible.data] == [created[2].id]
        assert (await first.ack()).status == "ok"
        (third,) = await _take(stream, 1)
        assert third.event.id == created[2].id
        await second.ack()
        await third.ack()
    assert (await client.events.get(created[0].id)).status == "acknowledged"


@scenario("ws-push-inbox-nack-extend")
async def test_ws_push_inbox_nack_extend(client: TriggersClient, prefix: str) -> None:
    kind = f"{prefix}.n"
    (event,) = await _events(client, kind, 1)
    async with client.inbox.stream(types=[kind]) as stream:
        (message,) = await _take(stream, 1)
        assert (await message.extend(60)).status == "ok"
        assert (await message.nack(0)).status == "ok"
        (again,) = await _take(stream, 1)
        assert (again.event.id, again.delivery_count) == (event.id, 2)
        assert (await again.ack()).status == "ok"


@scenario("ws-redelivery-after-disconnect")
async def test_ws_redelivery_after_disconnect(client: TriggersClient, prefix: str) -> None:
    kind = f"{prefix}.d"
    (event,) = await _events(client, kind, 1)
    async with client.inbox.stream(visibility_timeout=1, types=[kind]) as stream:
        (message,) = await _take(stream, 1)
    assert message.event.id == event.id and message.delivery_count == 1
    assert (await client.inbox.list(type=[kind]).first_page()).data == []  # still leased after the close
    async with client.inbox.stream(types=[kind]) as stream:
        (again,) = await _take(stream, 1, seconds=10)
        assert (again.event.id, again.delivery_count) == (event.id, 2)
        assert (await again.ack()).status == "ok"


@scenario("ws-auth-failure")
async def test_ws_auth_failure(make_client: Callable[..., TriggersClient]) -> None:
    with pytest.raises(AuthenticationError) as caught:
        async with make_client(api_key="tk_made_up_key").events.subscribe() as subscription:
            await _take(subscription, 1)
    assert caught.value.type == PROBLEM + "unauthenticated"


@scenario("ws-error-frame")
async def test_ws_error_frame(client: TriggersClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        async with client.events.subscribe(filter={"nope": {}}) as subscription:
            await _take(subscription, 1)
    assert caught.value.type == PROBLEM + "malformed-request"
    assert caught.value.request_id


@scenario("ws-scope-missing")
async def test_ws_scope_missing(
    client: TriggersClient, make_client: Callable[..., TriggersClient], prefix: str
) -> None:
    key = await client.api_keys.create(name=f"{prefix}-ws-reader", scopes=["events:read"])
    assert key.key is not None
    with pytest.raises(PermissionDeniedError) as caught:
        async with make_client(api_key=key.key).inbox.stream() as stream:
            await _take(stream, 1)
    assert caught.value.type == PROBLEM + "forbidden"


# --------------------------------------------------------------------------- catalogue coverage
def test_every_catalogue_scenario_has_a_test() -> None:
    if not CATALOGUE.exists():
        pytest.skip(f"scenario catalogue not found at {CATALOGUE}")
    catalogue = set(re.findall(r"^\s*- id: (\S+)", CATALOGUE.read_text(), re.M))
    implemented = {
        mark.args[0]
        for item in globals().values()
        if callable(item)
        for mark in getattr(item, "pytestmark", [])
        if mark.name == "scenario"
    }
    assert catalogue - implemented == set()
