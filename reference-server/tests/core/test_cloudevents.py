"""CloudEvents HTTP binding: the shared conformance requests, and the `cloudevents` PyPI SDK as a sender."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from core_harness import CONFORMANCE, Server, assert_problem

from triggers_server.domain.ingest import parse_rfc3339

pytestmark = pytest.mark.anyio

VECTORS = CONFORMANCE / "cloudevents" / "http-requests.json"
SUITE: dict[str, Any] = json.loads(VECTORS.read_text()) if VECTORS.is_file() else {"requests": [], "samples": {}}
needs_vectors = pytest.mark.skipif(not VECTORS.is_file(), reason=f"conformance vectors not found at {VECTORS}")

_ATTRIBUTE_FIELDS = {
    "id": "external_id",
    "type": "type",
    "source": "source",
    "subject": "subject",
    "datacontenttype": "datacontenttype",
    "dataschema": "dataschema",
    "specversion": "specversion",
}


def _same_instant(left: str, right: str) -> bool:
    return parse_rfc3339(left) == parse_rfc3339(right)


def _check_attributes(stored: dict[str, Any], attributes: dict[str, Any]) -> None:
    for name, expected in attributes.items():
        if name == "time":
            assert _same_instant(stored["time"], expected)
        elif name in _ATTRIBUTE_FIELDS:
            assert stored[_ATTRIBUTE_FIELDS[name]] == expected, name
        elif name == "correlationid":
            assert stored["correlation_id"] == expected
        elif name == "causationid":
            assert stored["causation_id"] == expected
        else:
            assert stored["extensions"][name] == expected, name


def _check_stored(stored: dict[str, Any], expect: dict[str, Any], samples: dict[str, Any]) -> None:
    if "attributes" in expect:
        _check_attributes(stored, expect["attributes"])
    if "data_json" in expect:
        assert stored["data"] == expect["data_json"]
    if "data_text" in expect:
        assert base64.b64decode(stored["data_base64"]).decode() == expect["data_text"]
    if "sample" in expect:
        sample = dict(samples[expect["sample"]])
        data = sample.pop("data", None)
        sample.pop("extbinary_base64", None)
        _check_attributes(stored, sample)
        if data is not None:
            assert stored["data"] == data


def _cases(mode: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in SUITE["requests"] if case["mode"] == mode]


@needs_vectors
@pytest.mark.parametrize("case", _cases("binary") + _cases("structured"))
async def test_single_event_vectors(server: Server, case: dict[str, Any]) -> None:
    headers = {name: value for name, value in case["headers"].items() if name.lower() != "user-agent"}
    response = await server.admin.post("/events", content=case["body"].encode(), headers=headers)
    expect = case["expect"]
    if not expect["accept"]:
        assert 400 <= response.status_code < 500, response.text
        assert (await server.admin.get("/events")).json()["data"] == []
        return
    assert response.status_code == 201, response.text
    stored = (await server.admin.get(f"/events/{response.json()['id']}")).json()
    _check_stored(stored, expect, SUITE["samples"])


@needs_vectors
@pytest.mark.parametrize("case", _cases("batch"))
async def test_batch_vectors(server: Server, case: dict[str, Any]) -> None:
    response = await server.admin.post("/events/batch", content=case["body"].encode(), headers=case["headers"])
    expect = case["expect"]
    if not expect["accept"]:
        assert 400 <= response.status_code < 500, response.text
        assert (await server.admin.get("/events")).json()["data"] == []
        return
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(expect["batch_samples"])
    for result, sample in zip(results, expect["batch_samples"], strict=True):
        assert result["status"] in ("created", "duplicate")
        _check_stored(result["event"], {"sample": sample}, SUITE["samples"])


def _sdk_event(**attributes: Any) -> CloudEvent:
    base = {
        "type": "order.created",
        "source": "/shop",
        "id": "sdk-1",
        "subject": 'Euro € "quoted" 100%',
        "time": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        "correlationid": "wf-9",
        "tenant": "acme",
        "datacontenttype": "application/json",
    }
    base.update(attributes)
    return CloudEvent(attributes=base, data={"order_id": "o-1"})


async def test_cloudevents_sdk_binary_mode(server: Server) -> None:
    message = ce_http.to_binary_event(_sdk_event())
    response = await server.admin.post("/events", content=message.body, headers=message.headers)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["subject"] == 'Euro € "quoted" 100%'
    assert stored["data"] == {"order_id": "o-1"}
    assert stored["correlation_id"] == "wf-9"
    assert stored["extensions"] == {"tenant": "acme"}
    assert stored["time"] == "2026-11-25T10:00:00.000000Z"


async def test_cloudevents_sdk_structured_mode(server: Server) -> None:
    message = ce_http.to_structured_event(_sdk_event(id="sdk-2"))
    response = await server.admin.post("/events", content=message.body, headers=message.headers)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert (stored["external_id"], stored["type"], stored["subject"]) == (
        "sdk-2",
        "order.created",
        'Euro € "quoted" 100%',
    )
    assert stored["extensions"] == {"tenant": "acme"}


async def test_cloudevents_sdk_binary_payload(server: Server) -> None:
    event = CloudEvent(
        attributes={
            "type": "blob.stored",
            "source": "/s",
            "id": "b-1",
            "datacontenttype": "application/octet-stream",
        },
        data=b"\x00\x01\xff",
    )
    message = ce_http.to_binary_event(event)
    response = await server.admin.post("/events", content=message.body, headers=message.headers)
    assert response.status_code == 201, response.text
    assert base64.b64decode(response.json()["data_base64"]) == b"\x00\x01\xff"
    assert response.json()["data"] is None


async def test_cloudevents_duplicates_are_409(server: Server) -> None:
    message = ce_http.to_structured_event(_sdk_event(id="dup"))
    assert (await server.admin.post("/events", content=message.body, headers=message.headers)).status_code == 201
    again = await server.admin.post("/events", content=message.body, headers=message.headers)
    assert_problem(again, 409, "conflict")


async def test_binary_mode_with_invalid_json_body_is_400(server: Server) -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "content-type": "application/json",
    }
    assert_problem(await server.admin.post("/events", content=b"{nope", headers=headers), 400, "malformed-request")


async def test_binary_mode_missing_required_header_is_400(server: Server) -> None:
    headers = {"ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t", "content-type": "text/plain"}
    body = assert_problem(await server.admin.post("/events", content=b"x", headers=headers), 400, "malformed-request")
    assert body["errors"][0]["pointer"] == "/id"


@pytest.mark.parametrize(
    ("content_type", "body", "pointer"),
    [
        (
            "application/cloudevents+json",
            {"specversion": "1.0", "id": "1", "source": "s", "type": "t", "data_base64": None},
            "/data_base64",
        ),
        (
            "application/cloudevents-batch+json",
            [
                {"specversion": "1.0", "id": "1", "source": "s", "type": "t"},
                {"specversion": "1.0", "id": "2", "source": "s", "type": "t", "data": 1, "data_base64": None},
            ],
            "/1/data_base64",
        ),
    ],
)
async def test_null_data_base64_breaks_the_schema_and_is_422(
    server: Server, content_type: str, body: Any, pointer: str
) -> None:
    path = "/events/batch" if content_type.endswith("batch+json") else "/events"
    response = await server.admin.post(path, content=json.dumps(body), headers={"content-type": content_type})
    problem = assert_problem(response, 422, "validation")
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert (await server.admin.get("/events")).json()["data"] == []
