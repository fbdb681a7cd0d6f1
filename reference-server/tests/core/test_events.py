"""Ingestion (native, batch), dedupe, size and media-type limits, listing, lookup, correlations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_harness import Server, assert_problem, event

from triggers_server.models._generated import BatchResult, Correlation, Event, EventList

pytestmark = pytest.mark.anyio


async def test_create_returns_201_with_location_and_a_contract_event(server: Server) -> None:
    response = await server.admin.post(
        "/events",
        json=event(
            id="ext-1",
            subject="order/1",
            correlation_id="wf-1",
            metadata={"tenant": "acme"},
            time="2026-11-25T10:00:00+01:00",
        ),
    )
    assert response.status_code == 201
    body = response.json()
    Event.model_validate(body)
    assert response.headers["location"] == f"/v1/events/{body['id']}"
    assert body["id"].startswith("evt_") and len(body["id"]) == 30
    assert body["external_id"] == "ext-1"
    assert body["time"] == "2026-11-25T09:00:00.000000Z"
    assert body["status"] == "pending" and body["delivery_count"] == 0
    assert body["metadata"] == {"tenant": "acme"}
    assert body["specversion"] == "1.0"
    assert body["schema_version"] is None and body["replay_of"] is None
    fetched = await server.admin.get(f"/events/{body['id']}")
    assert fetched.json() == body


async def test_sequences_are_monotonic(server: Server) -> None:
    sequences = [(await server.admin.post("/events", json=event())).json()["sequence"] for _ in range(5)]
    assert sequences == sorted(sequences) and len(set(sequences)) == 5


async def test_duplicate_source_and_id_is_409_with_existing_id(server: Server) -> None:
    first = (await server.admin.post("/events", json=event(id="same"))).json()
    body = assert_problem(await server.admin.post("/events", json=event(id="same")), 409, "conflict")
    assert body["existing_event_id"] == first["id"]
    other_source = await server.admin.post("/events", json=event(id="same", source="other"))
    assert other_source.status_code == 201


async def test_data_may_be_any_json_or_absent(server: Server) -> None:
    for data in (None, 3, "text", [1, 2], {"nested": {"a": [True]}}):
        body = (await server.admin.post("/events", json=event(data=data))).json()
        assert body["data"] == data
    absent = (await server.admin.post("/events", json={"type": "a", "source": "b"})).json()
    assert absent["data"] is None and absent["datacontenttype"] is None


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"source": "s"}, "/type"),
        ({"type": "", "source": "s"}, "/type"),
        ({"type": 5, "source": "s"}, "/type"),
        ({"type": "a", "source": "s", "unknown": 1}, "/unknown"),
        ({"type": "a", "source": "s", "time": "yesterday"}, "/time"),
        ({"type": "a", "source": "s", "time": 1700000000}, "/time"),
        ({"type": "a", "source": "s", "metadata": {"k": 1}}, "/metadata/k"),
        ({"type": "a", "source": "s", "metadata": {str(i): "v" for i in range(51)}}, "/metadata"),
    ],
)
async def test_invalid_fields_are_422_with_pointers(server: Server, payload: dict[str, Any], pointer: str) -> None:
    body = assert_problem(await server.admin.post("/events", json=payload), 422, "validation")
    assert pointer in [error["pointer"] for error in body["errors"]]


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,", b"\xff\xfe"])
async def test_unparseable_body_is_400(server: Server, raw: bytes) -> None:
    response = await server.admin.post("/events", content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed-request")


async def test_non_object_body_is_422(server: Server) -> None:
    assert_problem(await server.admin.post("/events", json=[1, 2]), 422, "validation")


async def test_oversized_event_is_413(server: Server) -> None:
    big = event(data={"blob": "x" * (256 * 1024)})
    assert_problem(await server.admin.post("/events", json=big), 413, "payload-too-large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/cloudevents+xml", None])
async def test_unsupported_media_type_is_415(server: Server, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await server.admin.post("/events", content=b"{}", headers=headers)
    assert_problem(response, 415, "unsupported-media-type")


async def test_schema_validation_failure_is_422_with_data_pointers(server: Server) -> None:
    schema = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "total": {"type": "number"}},
        "required": ["order_id"],
    }
    registered = await server.admin.post("/schemas/order.created/versions", json={"json_schema": schema})
    assert registered.status_code in (200, 201), registered.text
    ok = await server.admin.post("/events", json=event(data={"order_id": "o-1", "total": 3}))
    assert ok.status_code == 201 and ok.json()["schema_version"] == 1
    bad = await server.admin.post("/events", json=event(data={"total": "three"}))
    body = assert_problem(bad, 422, "schema-validation")
    assert {error["pointer"] for error in body["errors"]} >= {"/data/total"}
    assert all(error["pointer"].startswith("/data") for error in body["errors"])
    listed = (await server.admin.get("/events")).json()["data"]
    assert len(listed) == 1


async def test_batch_reports_created_duplicate_and_rejected(server: Server) -> None:
    await server.admin.post("/events", json=event(id="pre"))
    response = await server.admin.post(
        "/events/batch",
        json={"events": [event(id="a"), {"type": "x"}, event(id="a"), event(id="pre"), event()]},
    )
    assert response.status_code == 200
    result = response.json()
    BatchResult.model_validate(result)
    assert [item["status"] for item in result["results"]] == [
        "created",
        "rejected",
        "duplicate",
        "duplicate",
        "created",
    ]
    assert [item["index"] for item in result["results"]] == [0, 1, 2, 3, 4]
    assert (result["created"], result["duplicates"], result["rejected"]) == (2, 2, 1)
    rejected = result["results"][1]
    assert rejected["event"] is None
    assert rejected["problem"]["type"].endswith("/validation")
    assert {error["pointer"] for error in rejected["problem"]["errors"]} == {"/events/1/source"}
    assert result["results"][2]["event"]["id"] == result["results"][0]["event"]["id"]


async def test_batch_limits(server: Server) -> None:
    too_many = {"events": [event() for _ in range(1001)]}
    assert_problem(await server.admin.post("/events/batch", json=too_many), 422, "validation")
    assert_problem(await server.admin.post("/events/batch", json={"events": []}), 422, "validation")
    assert_problem(await server.admin.post("/events/batch", json=[event()]), 422, "validation")
    huge = {"events": [event(data="x" * 600_000), event(data="y" * 600_000)]}
    assert_problem(await server.admin.post("/events/batch", json=huge), 413, "payload-too-large")
    one_big = {"events": [event(data="x" * 300_000), event()]}
    result = (await server.admin.post("/events/batch", json=one_big)).json()
    assert [item["status"] for item in result["results"]] == ["rejected", "created"]
    assert result["results"][0]["problem"]["type"].endswith("/payload-too-large")
    response = await server.admin.post("/events/batch", content=b"[]", headers={"content-type": "text/csv"})
    assert_problem(response, 415, "unsupported-media-type")


async def _ingest(server: Server, *events: dict[str, Any]) -> list[dict[str, Any]]:
    return [(await server.admin.post("/events", json=body)).json() for body in events]


async def test_list_is_newest_first_with_opaque_cursor_pages(server: Server) -> None:
    created = await _ingest(server, *[event() for _ in range(7)])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await server.admin.get("/events", params=params)).json()
        EventList.model_validate(page)
        seen.extend(item["id"] for item in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["id"] for item in reversed(created)]


async def test_list_filters(server: Server) -> None:
    await _ingest(
        server,
        event("order.created", subject="s1", correlation_id="wf"),
        event("order.shipped", source="warehouse"),
        event("payment.captured.v2", subject="s1"),
        event("user.signup"),
    )

    async def types(**params: Any) -> list[str]:
        response = await server.admin.get("/events", params=params)
        assert response.status_code == 200, response.text
        return sorted(item["type"] for item in response.json()["data"])

    assert await types(type="order.*") == ["order.created", "order.shipped"]
    assert await types(type=["order.created", "payment.*"]) == ["order.created", "payment.captured.v2"]
    assert await types(type="*.v2") == ["payment.captured.v2"]
    assert await types(source="warehouse") == ["order.shipped"]
    assert await types(subject="s1") == ["order.created", "payment.captured.v2"]
    assert await types(correlation_id="wf") == ["order.created"]
    assert len(await types(status="pending")) == 4
    assert await types(status="acknowledged") == []
    server.clock.advance(60)
    await _ingest(server, event("late.one"))
    assert await types(since="2026-11-25T12:00:30Z") == ["late.one"]
    assert len(await types(until="2026-11-25T12:00:30Z")) == 4


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJrIjoiaW5ib3giLCJzIjoxfQ"},  # an inbox cursor
        {"type": "order.[a]"},
        {"type": "order created"},
        {"type": "what?"},
        {"since": "yesterday"},
        {"status": "lost"},
        {"limit": "501"},
    ],
)
async def test_list_bad_input_is_400(server: Server, params: dict[str, str]) -> None:
    assert_problem(await server.admin.get("/events", params=params), 400, "malformed-request")


async def test_get_unknown_event_is_404(server: Server) -> None:
    assert_problem(await server.admin.get("/events/evt_missing"), 404, "not-found")


async def test_correlation_is_causal_with_a_tree(server: Server) -> None:
    root = (await server.admin.post("/events", json=event("order.created", correlation_id="wf", id="r"))).json()
    # an effect may arrive before its cause is known by server id: reference by producer id works too
    pay = (
        await server.admin.post("/events", json=event("payment.captured", correlation_id="wf", causation_id=root["id"]))
    ).json()
    ship = (
        await server.admin.post("/events", json=event("order.shipped", correlation_id="wf", causation_id="r"))
    ).json()
    mail = (
        await server.admin.post("/events", json=event("mail.sent", correlation_id="wf", causation_id=pay["id"]))
    ).json()
    orphan = (
        await server.admin.post(
            "/events", json=event("audit.logged", correlation_id="wf", causation_id="evt_elsewhere")
        )
    ).json()
    response = await server.admin.get("/correlations/wf")
    assert response.status_code == 200
    body = response.json()
    Correlation.model_validate(body)
    order = [item["id"] for item in body["events"]]
    assert order == [root["id"], pay["id"], ship["id"], mail["id"], orphan["id"]]
    tree = json.loads(json.dumps(body["roots"]))
    assert [node["event_id"] for node in tree] == [root["id"], orphan["id"]]
    assert [child["event_id"] for child in tree[0]["children"]] == [pay["id"], ship["id"]]
    assert tree[0]["children"][0]["children"][0]["event_id"] == mail["id"]
    assert_problem(await server.admin.get("/correlations/unknown"), 404, "not-found")


async def test_correlation_shows_the_workflow_as_a_saga_of_done_and_pending_steps(server: Server) -> None:
    first = (await server.admin.post("/events", json=event("saga.started", correlation_id="wf-saga"))).json()
    second = (
        await server.admin.post(
            "/events", json=event("saga.continued", correlation_id="wf-saga", causation_id=first["id"])
        )
    ).json()
    body = (await server.admin.get("/correlations/wf-saga")).json()
    Correlation.model_validate(body)
    assert body["saga"]["state"] == "in_progress"
    assert [(step["position"], step["event_id"], step["state"]) for step in body["saga"]["steps"]] == [
        (1, first["id"], "pending"),
        (2, second["id"], "pending"),
    ]
    lease = (await server.admin.post("/inbox/lease", json={"types": ["saga.started"], "max_events": 1})).json()
    [message] = lease["messages"]
    acked = await server.admin.post("/inbox/ack", json={"receipts": [message["receipt"]]})
    assert acked.status_code == 200, acked.text
    saga = (await server.admin.get("/correlations/wf-saga")).json()["saga"]
    assert (saga["state"], saga["done"], saga["pending"], saga["failed"]) == ("in_progress", 1, 1, 0)
    assert saga["steps"][0] == {
        "position": 1,
        "event_id": first["id"],
        "type": "saga.started",
        "state": "done",
        "inbox_status": "acknowledged",
        "deliveries_succeeded": 0,
        "deliveries_pending": 0,
        "deliveries_failed": 0,
    }
    assert saga["steps"][1]["state"] == "pending" and saga["steps"][1]["inbox_status"] == "pending"


async def test_correlation_orders_effects_after_causes_even_when_ingested_first(server: Server) -> None:
    effect = (
        await server.admin.post("/events", json=event("b.effect", correlation_id="wf2", causation_id="cause-1"))
    ).json()
    cause = (await server.admin.post("/events", json=event("a.cause", correlation_id="wf2", id="cause-1"))).json()
    body = (await server.admin.get("/correlations/wf2")).json()
    assert [item["id"] for item in body["events"]] == [cause["id"], effect["id"]]
    assert body["roots"][0]["children"][0]["event_id"] == effect["id"]


async def test_causation_cycles_do_not_hang(server: Server) -> None:
    await server.admin.post("/events", json=event("x", correlation_id="loop", id="a", causation_id="b"))
    await server.admin.post("/events", json=event("y", correlation_id="loop", id="b", causation_id="a"))
    body = (await server.admin.get("/correlations/loop")).json()
    assert len(body["events"]) == 2
    assert len(body["roots"]) == 1 and len(body["roots"][0]["children"]) == 1


@pytest.mark.parametrize(
    "raw", [b'{"type":"a","source":"s","data":NaN}', b'{"type":"a","source":"s","data":-Infinity}']
)
async def test_non_json_numbers_are_400(server: Server, raw: bytes) -> None:
    response = await server.admin.post("/events", content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed-request")


async def test_huge_integers_round_trip(server: Server) -> None:
    body = (await server.admin.post("/events", json=event(data={"big": 10**40, "neg": -(10**30)}))).json()
    assert body["data"] == {"big": 10**40, "neg": -(10**30)}
    assert (await server.admin.get(f"/events/{body['id']}")).json()["data"]["big"] == 10**40
