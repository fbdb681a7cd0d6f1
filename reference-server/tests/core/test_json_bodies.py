"""Request JSON the API refuses, on every JSON route: nesting past the contract's `x-max-json-depth`, lone
surrogate escapes and numbers outside the double range (issue 10 §2 defects 1-3). None of them may 500 or be
stored changed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from core_harness import Server, assert_problem

from triggers_server.contract_facts import MAX_JSON_DEPTH

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}
CONTRACT = Path(__file__).resolve().parents[3] / "openapi.yaml"

# Every route that reads a JSON body (`{id}` is filled with an existing event).
JSON_ROUTES = [
    ("POST", "/events"),
    ("POST", "/events/batch"),
    ("POST", "/filters/test"),
    ("POST", "/subscriptions"),
    ("PATCH", "/subscriptions/sub_missing"),
    ("POST", "/inbox/lease"),
    ("POST", "/inbox/ack"),
    ("POST", "/inbox/nack"),
    ("POST", "/inbox/extend"),
    ("POST", "/replays"),
    ("POST", "/events/{id}/replay"),
    ("POST", "/dlq/retry"),
    ("POST", "/api-keys"),
    ("POST", "/schemas/order.created/versions"),
    ("POST", "/schemas/order.created/compatibility"),
    ("PUT", "/schemas/order.created/config"),
]


def nested(levels: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * levels + leaf + b"}" * levels


def test_the_limit_is_the_contracts() -> None:
    contract = yaml.safe_load(CONTRACT.read_text())
    assert contract["x-max-json-depth"] == MAX_JSON_DEPTH == 128


async def _event_id(server: Server) -> str:
    response = await server.admin.post("/events", json={"type": "order.created", "source": "shop"})
    assert response.status_code == 201
    return str(response.json()["id"])


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 5000])
async def test_too_deep_bodies_are_400_on_every_json_route(server: Server, method: str, path: str, levels: int) -> None:
    path = path.replace("{id}", await _event_id(server))
    response = await server.admin.request(method, path, content=nested(levels), headers=JSON)
    body = assert_problem(response, 400, "malformed-request")
    assert f"deeper than {MAX_JSON_DEPTH} levels" in body["detail"]


async def test_the_limit_counts_the_whole_body(server: Server) -> None:
    # The body is level 1 and `data` level 2: data may nest MAX_JSON_DEPTH - 1 objects, not one more.
    for levels, status in ((MAX_JSON_DEPTH - 1, 201), (MAX_JSON_DEPTH, 400)):
        content = b'{"type":"deep","source":"shop","data":' + nested(levels - 1, b"{}") + b"}"
        response = await server.admin.post("/events", content=content, headers=JSON)
        assert response.status_code == status, response.text
    stored = (await server.admin.get("/events", params={"type": "deep"})).json()["data"]
    assert len(stored) == 1


async def test_a_too_deep_cursor_is_400(server: Server) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
    assert_problem(await server.admin.get("/events", params={"cursor": cursor}), 400, "malformed-request")


@pytest.mark.parametrize(
    ("path", "content", "pointer"),
    [
        ("/events", b'{"type":"t","source":"s","data":{"name":"\\ud800"}}', "/data/name"),
        ("/events", b'{"type":"t","source":"s","data":{"\\udfff":1}}', "/data/\\udfff"),
        ("/events/batch", b'{"events":[{"type":"t","source":"s","data":["ok","x\\ud83d"]}]}', "/events/0/data/1"),
    ],
)
async def test_lone_surrogates_are_400(server: Server, path: str, content: bytes, pointer: str) -> None:
    body = assert_problem(await server.admin.post(path, content=content, headers=JSON), 400, "malformed-request")
    assert body["errors"][0]["pointer"] == pointer
    assert (await server.admin.get("/events")).json()["data"] == []


async def test_surrogate_pairs_and_escaped_backslashes_are_kept(server: Server) -> None:
    content = b'{"type":"t","source":"s","data":{"smile":"\\ud83d\\ude00","text":"\\\\ud800"}}'
    response = await server.admin.post("/events", content=content, headers=JSON)
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {"smile": "\U0001f600", "text": "\\ud800"}


@pytest.mark.parametrize(
    ("path", "headers", "content", "pointer"),
    [
        ("/events", JSON, b'{"type":"t","source":"s","data":{"n":1e400}}', "/data/n"),
        ("/events", JSON, b'{"type":"t","source":"s","data":{"n":[0,-1e999999]}}', "/data/n/1"),
        ("/events/batch", JSON, b'{"events":[{"type":"t","source":"s","data":{"n":2e308}}]}', "/events/0/data/n"),
        (
            "/events",
            {"content-type": "application/cloudevents+json"},
            b'{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"n":1e400}}',
            "/data/n",
        ),
        (
            "/events",
            {
                "content-type": "application/json",
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "t",
            },
            b'{"n":1e400}',
            "/n",
        ),
        ("/filters/test", JSON, b'{"event":{"type":"t","source":"s","data":{"n":1e400}}}', "/event/data/n"),
    ],
)
async def test_numbers_outside_the_double_range_are_422_with_a_pointer(
    server: Server, path: str, headers: dict[str, str], content: bytes, pointer: str
) -> None:
    body = assert_problem(await server.admin.post(path, content=content, headers=headers), 422, "validation")
    assert [error["pointer"] for error in body["errors"]] == [pointer]
    assert (await server.admin.get("/events")).json()["data"] == []


async def test_large_numbers_inside_the_range_are_kept_exactly(server: Server) -> None:
    content = b'{"type":"t","source":"s","data":{"max":1.7976931348623157e308,"big":123456789012345678901234567890}}'
    response = await server.admin.post("/events", content=content, headers=JSON)
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {"max": 1.7976931348623157e308, "big": 123456789012345678901234567890}
