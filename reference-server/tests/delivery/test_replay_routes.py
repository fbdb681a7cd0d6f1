"""Single-event replay (merge patch, time override, dry run, targets) and time-range replay jobs."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from delivery_harness import START, Server
from test_subscription_routes import create, problem_of

from triggers_server.clock import isoformat
from triggers_server.domain.replay import merge_patch
from triggers_server.models._generated import EventReplayResult, Replay, ReplayList

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_rfc7386_examples(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


async def test_dry_run_reports_verdicts_and_stores_nothing(server: Server) -> None:
    headers = await server.key()
    de = await create(server, headers, filter={"exact": {"data.country": "DE"}})
    fr = await create(server, headers, filter={"exact": {"data.country": "FR"}})
    original = await server.ingest(headers, data={"country": "FR", "amount": 10})
    await server.run_due()
    sent_before = len(server.receiver.requests)
    response = await server.client.post(
        f"/events/{original['id']}/replay",
        json={"target": {"kind": "all"}, "data_patch": {"country": "DE"}, "dry_run": True},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    result = EventReplayResult.model_validate(response.json())
    assert result.dry_run and result.event is None
    decisions = {(o.target, o.subscription_id): o.decision.value for o in result.outcomes}
    assert decisions == {
        ("inbox", None): "would_deliver",
        ("subscription", de["id"]): "would_deliver",
        ("subscription", fr["id"]): "filtered",
    }
    fr_trace = next(o.trace for o in result.outcomes if o.subscription_id == fr["id"])
    assert fr_trace[0].actual == "DE" and fr_trace[0].expected == "FR"
    assert await server.run_due() == 0 and len(server.receiver.requests) == sent_before
    events = (await server.client.get("/events", headers=headers)).json()["data"]
    assert [event["id"] for event in events] == [original["id"]]


async def test_replay_to_all_creates_linked_copy(server: Server) -> None:
    headers = await server.key()
    subscription = await create(server, headers, filter={"exact": {"data.country": "DE"}})
    original = await server.ingest(headers, data={"country": "FR", "amount": 10, "note": "x"}, external_id="A-1")
    assert await server.run_due() == 0
    override = START + timedelta(days=1)
    response = await server.client.post(
        f"/events/{original['id']}/replay",
        json={
            "target": {"kind": "all"},
            "data_patch": {"country": "DE", "note": None},
            "time_override": isoformat(override),
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    copy = result["event"]
    assert copy["replay_of"] == original["id"] and copy["id"] != original["id"]
    assert copy["data"] == {"country": "DE", "amount": 10} and copy["external_id"] == "A-1"
    assert copy["time"].startswith("2026-11-26T12:00:00")
    delivered = next(o for o in result["outcomes"] if o["target"] == "subscription")
    assert delivered["decision"] == "delivered" and delivered["subscription_id"] == subscription["id"]
    inbox = next(o for o in result["outcomes"] if o["target"] == "inbox")
    assert inbox["decision"] == "queued" and copy["status"] == "pending"
    assert await server.run_due() == 1
    body = json.loads(server.receiver.requests[-1].content)
    assert body["data"]["replay_of"] == original["id"]
    stored_original = (await server.client.get(f"/events/{original['id']}", headers=headers)).json()
    assert stored_original["data"] == {"country": "FR", "amount": 10, "note": "x"}


async def test_replay_to_one_subscription_only(server: Server) -> None:
    headers = await server.key()
    chosen = await create(server, headers)
    await create(server, headers)
    original = await server.ingest(headers, data={"n": 1})
    await server.run_due()
    response = await server.client.post(
        f"/events/{original['id']}/replay",
        json={"target": {"kind": "subscription", "subscription_id": chosen["id"]}},
        headers=headers,
    )
    result = response.json()
    assert [(o["target"], o["subscription_id"], o["decision"]) for o in result["outcomes"]] == [
        ("subscription", chosen["id"], "delivered")
    ]
    assert result["event"]["status"] == "acknowledged"
    assert await server.run_due() == 1
    inbox_only = await server.client.post(
        f"/events/{original['id']}/replay", json={"target": {"kind": "inbox"}}, headers=headers
    )
    assert [o["decision"] for o in inbox_only.json()["outcomes"]] == ["queued"]
    assert await server.run_due() == 0


async def test_replay_errors(server: Server) -> None:
    headers = await server.key()
    original = await server.ingest(headers, data={"n": 1})
    path = f"/events/{original['id']}/replay"
    problem_of(
        await server.client.post("/events/evt_nope/replay", json={"target": {"kind": "all"}}, headers=headers),
        404,
        "not-found",
    )
    problem_of(
        await server.client.post(
            path, json={"target": {"kind": "subscription", "subscription_id": "sub_x"}}, headers=headers
        ),
        404,
        "not-found",
    )
    problem_of(
        await server.client.post(path, json={"target": {"kind": "elsewhere"}}, headers=headers),
        422,
        "validation",
    )
    problem_of(await server.client.post(path, json={}, headers=headers), 422, "validation")
    problem_of(
        await server.client.post(path, json={"target": {"kind": "all"}, "data_patch": [1]}, headers=headers),
        422,
        "validation",
    )
    problem_of(
        await server.client.post(path, json={"target": {"kind": "all"}}, headers=await server.key("events:read")),
        403,
        "forbidden",
    )
    disabled = await create(server, headers, enabled=False)
    problem_of(
        await server.client.post(
            path,
            json={"target": {"kind": "subscription", "subscription_id": disabled["id"]}},
            headers=headers,
        ),
        409,
        "conflict",
    )


async def test_patched_payload_is_schema_validated(server: Server) -> None:
    headers = await server.key("events:write", "events:read", "schemas:manage", "subscriptions:manage")
    schema = {"type": "object", "properties": {"amount": {"type": "number"}}, "required": ["amount"]}
    created = await server.client.post("/schemas/order.created/versions", json={"json_schema": schema}, headers=headers)
    assert created.status_code == 201, created.text
    original = await server.ingest(headers, data={"amount": 5})
    path = f"/events/{original['id']}/replay"
    problem = problem_of(
        await server.client.post(
            path, json={"target": {"kind": "inbox"}, "data_patch": {"amount": "x"}}, headers=headers
        ),
        422,
        "schema-validation",
    )
    assert [error["pointer"] for error in problem["errors"]] == ["/data_patch/amount"], "points into the request"
    ok = await server.client.post(
        path, json={"target": {"kind": "inbox"}, "data_patch": {"amount": 7}}, headers=headers
    )
    assert ok.status_code == 200 and ok.json()["event"]["schema_version"] == 1


async def seed_range(server: Server, headers: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n, event_type in enumerate(["order.created", "order.updated", "invoice.paid", "order.created"]):
        events.append(await server.ingest(headers, type=event_type, data={"n": n, "big": n >= 2}))
        server.clock.advance(60)
    return events


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "backfill",
        "from": isoformat(START),
        "to": isoformat(START + timedelta(hours=1)),
        "event_types": ["order.*"],
        "target": {"kind": "inbox"},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


async def test_replay_job_runs_to_completion(server: Server) -> None:
    headers = await server.key()
    events = await seed_range(server, headers)
    response = await server.client.post(
        "/replays", json=job_body(filter={"exact": {"data.big": "false"}}), headers=headers
    )
    assert response.status_code == 201, response.text
    job = Replay.model_validate(response.json())
    assert job.status.value == "STARTING" and response.headers["location"] == f"/v1/replays/{job.id}"
    assert job.progress.processed == 0 and job.started_at is None
    assert await server.services.replays.run_pending() == 1
    done = (await server.client.get(f"/replays/{job.id}", headers=headers)).json()
    assert done["status"] == "COMPLETED" and done["finished_at"] is not None and done["started_at"] is not None
    assert done["progress"] == {"matched": 2, "processed": 4, "delivered": 2, "filtered": 2}
    listed = (await server.client.get("/events", headers=headers)).json()["data"]
    copies = [event for event in listed if event["replay_of"] is not None]
    assert sorted(copy["replay_of"] for copy in copies) == sorted([events[0]["id"], events[1]["id"]])
    again = await server.client.post("/replays", json=job_body(), headers=headers)
    await server.services.replays.run_pending()
    second = (await server.client.get(f"/replays/{again.json()['id']}", headers=headers)).json()
    assert second["progress"]["matched"] == 3, "replays of replays are never originals"


async def test_dry_run_job_counts_only(server: Server) -> None:
    headers = await server.key()
    subscription = await create(server, headers, filter={"exact": {"data.n": "0"}})
    await seed_range(server, headers)
    await server.run_due()
    target = {"kind": "subscription", "subscription_id": subscription["id"]}
    response = await server.client.post("/replays", json=job_body(dry_run=True, target=target), headers=headers)
    await server.services.replays.run_pending()
    done = (await server.client.get(f"/replays/{response.json()['id']}", headers=headers)).json()
    assert done["status"] == "COMPLETED"
    assert done["progress"] == {"matched": 3, "processed": 4, "delivered": 1, "filtered": 1}
    assert await server.run_due() == 0
    wet = await server.client.post("/replays", json=job_body(target=target), headers=headers)
    await server.services.replays.run_pending()
    assert (await server.client.get(f"/replays/{wet.json()['id']}", headers=headers)).json()["progress"][
        "delivered"
    ] == 1
    assert await server.run_due() == 1
    events = (await server.client.get("/events", headers=headers)).json()["data"]
    assert len([event for event in events if event["replay_of"]]) == 1, "unrouted copies are not stored"


async def test_cancel_mid_run_and_conflicts(server: Server) -> None:
    headers = await server.key()
    await seed_range(server, headers)
    created = (await server.client.post("/replays", json=job_body(event_types=None), headers=headers)).json()
    jobs = server.services.replays
    account_id = await server.account_of(headers)
    partial = await jobs.run(account_id, created["id"], max_events=2)
    assert partial.status == "RUNNING" and partial.processed == 2
    cancel = await server.client.post(f"/replays/{created['id']}/cancel", headers=headers)
    assert cancel.status_code == 202 and cancel.json()["status"] == "CANCELLING"
    finished = await jobs.run(account_id, created["id"])
    assert finished.status == "CANCELLED" and finished.processed == 2 and finished.finished_at is not None
    again = await server.client.post(f"/replays/{created['id']}/cancel", headers=headers)
    assert again.status_code == 202 and again.json()["status"] == "CANCELLED"
    complete = (await server.client.post("/replays", json=job_body(), headers=headers)).json()
    await jobs.run_pending()
    problem_of(await server.client.post(f"/replays/{complete['id']}/cancel", headers=headers), 409, "conflict")
    starting = (await server.client.post("/replays", json=job_body(), headers=headers)).json()
    assert (await server.client.post(f"/replays/{starting['id']}/cancel", headers=headers)).json()[
        "status"
    ] == "CANCELLING"
    await jobs.run_pending()
    assert (await server.client.get(f"/replays/{starting['id']}", headers=headers)).json()["status"] == "CANCELLED"


async def test_job_fails_when_patch_breaks_schema(server: Server) -> None:
    headers = await server.key("events:write", "events:read", "schemas:manage")
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    await server.client.post("/schemas/order.created/versions", json={"json_schema": schema}, headers=headers)
    await seed_range(server, headers)
    created = (await server.client.post("/replays", json=job_body(data_patch={"n": "text"}), headers=headers)).json()
    await server.services.replays.run_pending()
    failed = (await server.client.get(f"/replays/{created['id']}", headers=headers)).json()
    assert failed["status"] == "FAILED" and "schema" in failed["error"] and failed["finished_at"] is not None


async def test_job_validation_listing_and_isolation(server: Server) -> None:
    headers = await server.key()
    for body, pointer in (
        (job_body(to=isoformat(START - timedelta(hours=1))), "/to"),
        (job_body(event_types=["a b"]), "/event_types/0"),
        (job_body(filter={"sql": "x"}), "/filter/sql"),
        ({"from": isoformat(START)}, "/to"),
        (job_body(**{"from": "yesterday"}), "/from"),
    ):
        problem = problem_of(await server.client.post("/replays", json=body, headers=headers), 422, "validation")
        assert pointer in [error["pointer"] for error in problem["errors"]], problem
    problem_of(
        await server.client.post(
            "/replays",
            json=job_body(target={"kind": "subscription", "subscription_id": "x"}),
            headers=headers,
        ),
        404,
        "not-found",
    )
    ids = [
        (await server.client.post("/replays", json=job_body(name=f"j{n}"), headers=headers)).json()["id"]
        for n in range(3)
    ]
    page = ReplayList.model_validate((await server.client.get("/replays", params={"limit": 2}, headers=headers)).json())
    assert [job.id for job in page.data] == ids[::-1][:2] and page.next_cursor
    rest = (await server.client.get("/replays", params={"cursor": page.next_cursor}, headers=headers)).json()
    assert [job["id"] for job in rest["data"]] == [ids[0]]
    await server.client.post(f"/replays/{ids[0]}/cancel", headers=headers)
    cancelling = (await server.client.get("/replays", params={"status": "CANCELLING"}, headers=headers)).json()["data"]
    assert [job["id"] for job in cancelling] == [ids[0]]
    problem_of(
        await server.client.get("/replays", params={"status": "DONE"}, headers=headers),
        400,
        "malformed-request",
    )
    problem_of(await server.client.get("/replays/rpl_nope", headers=headers), 404, "not-found")
    intruder = await server.key()
    for method, path in (("GET", f"/replays/{ids[1]}"), ("POST", f"/replays/{ids[1]}/cancel")):
        problem_of(await server.client.request(method, path, headers=intruder), 404, "not-found")
    assert (await server.client.get("/replays", headers=intruder)).json()["data"] == []
    problem_of(
        await server.client.post(
            f"/events/{(await server.ingest(headers, data={}))['id']}/replay",
            json={"target": {"kind": "all"}},
            headers=intruder,
        ),
        404,
        "not-found",
    )


async def test_one_runner_per_job_and_range_snapshot(server: Server) -> None:
    """Two runners racing on one job copy each original once; originals created after the job are out."""
    headers = await server.key()
    originals = await seed_range(server, headers)
    body = job_body(event_types=None, to=isoformat(START + timedelta(days=1)))
    created = (await server.client.post("/replays", json=body, headers=headers)).json()
    server.clock.advance(1)
    late = await server.ingest(headers, type="order.created", data={"late": True})
    jobs = server.services.replays
    account_id = await server.account_of(headers)
    first, second = await asyncio.gather(jobs.run(account_id, created["id"]), jobs.run(account_id, created["id"]))
    assert "COMPLETED" in {first.status, second.status}
    await jobs.run_pending()
    done = (await server.client.get(f"/replays/{created['id']}", headers=headers)).json()
    assert done["status"] == "COMPLETED"
    assert done["progress"] == {"matched": 4, "processed": 4, "delivered": 4, "filtered": 0}
    events = (await server.client.get("/events", params={"limit": 100}, headers=headers)).json()["data"]
    copies = sorted(event["replay_of"] for event in events if event["replay_of"])
    assert copies == sorted(event["id"] for event in originals)
    assert late["id"] not in copies
