"""The JSON-Schema-Test-Suite (draft 2020-12, required tests) through the HTTP API.

For every test group the schema is registered for its own event type (`POST /schemas/{type}/versions`)
and all the group's instances are posted as events of that type in one `POST /events/batch`; a valid
instance must come back `created`, an invalid one `rejected` with a `schema-validation` problem. The
`remotes/` the suite references are preloaded into the registry at `http://localhost:1234/...`; nothing
is fetched from the network. One app serves the whole suite (~1,300 cases).

The contract's `json_schema` is an object, so a boolean root schema `b` is registered as the equivalent
`{"allOf": [b]}`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry_harness import ADMIN_KEY, START

from triggers_server.clock import ManualClock
from triggers_server.config import Settings
from triggers_server.domain.events import EventService
from triggers_server.domain.registry.service import SchemaRegistry, apply_schema
from triggers_server.http.app import create_app
from triggers_server.http.services import Services

SUITE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "json-schema-test-suite"
TESTS = SUITE / "tests" / "draft2020-12"
REMOTES = SUITE / "remotes"
REMOTE_BASE = "http://localhost:1234/"
SCHEMA_VALIDATION = "https://triggers.dev/problems/schema-validation"

_FORMAT_REASON = (
    "the server asserts `format` by design (date-time, email, uri, ... payloads are checked with the "
    "jsonschema library's format checkers); the suite's required tests assume the annotation-only default"
)
_VOCABULARY_REASON = (
    "library: jsonschema does not honour `$vocabulary` of custom metaschemas; keywords of an absent "
    "validation vocabulary are still asserted"
)
# (file, group description, test description) -> why our verdict differs from the suite's.
EXCEPTIONS: dict[tuple[str, str, str], str] = {
    **{
        (
            "format.json",
            f"{name} format",
            f"invalid {name} string is only an annotation by default",
        ): _FORMAT_REASON
        for name in (
            "email",
            "idn-email",
            "regex",
            "ipv4",
            "ipv6",
            "idn-hostname",
            "hostname",
            "date",
            "date-time",
            "time",
            "json-pointer",
            "relative-json-pointer",
            "iri",
            "iri-reference",
            "uri",
            "uri-reference",
            "uri-template",
            "uuid",
            "duration",
        )
    },
    (
        "vocabulary.json",
        "schema that uses custom metaschema with with no validation vocabulary",
        "no validation: invalid number, but it still validates",
    ): _VOCABULARY_REASON,
}


def _files() -> list[Any]:
    if not TESTS.is_dir():
        return [
            pytest.param(
                "absent", [], id="absent", marks=pytest.mark.skip(reason=f"JSON-Schema-Test-Suite absent: {SUITE}")
            )
        ]
    return [
        pytest.param(path.name, json.loads(path.read_text(encoding="utf-8")), id=path.name)
        for path in sorted(TESTS.glob("*.json"))
    ]


def _remotes() -> dict[str, Any]:
    return {
        REMOTE_BASE + path.relative_to(REMOTES).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in REMOTES.rglob("*.json")
    }


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def suite_client() -> AsyncIterator[httpx.AsyncClient]:
    if not TESTS.is_dir():
        pytest.skip(f"JSON-Schema-Test-Suite absent: {SUITE}")
    clock = ManualClock(START)
    settings = Settings(
        db_path=":memory:",
        bootstrap_admin_key=ADMIN_KEY,
        delivery_worker=False,
        rate_limit_per_second=1e9,
        rate_limit_burst=10**9,
        max_batch_bytes=64 * 1024 * 1024,
    )
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        services.registry = SchemaRegistry(services.stores.schemas, clock, documents=_remotes())
        services.events = EventService(
            services.stores.events,
            check_schema=partial(apply_schema, services.registry),
            listener=services.delivery,
            hub=services.hub,
            metrics=services.metrics,
            clock=clock,
        )
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test/v1", headers=headers
        ) as client:
            yield client


async def _verdicts(client: httpx.AsyncClient, event_type: str, group: dict[str, Any]) -> list[bool | str]:
    """Per test: True (created), False (rejected by the schema), or a string saying what else happened."""
    schema: Any = group["schema"]
    wrapped: Any = {"allOf": [schema]} if isinstance(schema, bool) else schema
    registered = await client.post(f"/schemas/{event_type}/versions", json={"json_schema": wrapped})
    if registered.status_code != 201:
        return [f"schema not registered: {registered.status_code} {registered.text[:200]}"] * len(group["tests"])
    events = [{"type": event_type, "source": "/json-schema-test-suite", "data": t["data"]} for t in group["tests"]]
    answer = await client.post("/events/batch", json={"events": events})
    assert answer.status_code == 200, answer.text
    verdicts: list[bool | str] = []
    for result in sorted(answer.json()["results"], key=lambda r: r["index"]):
        if result["status"] == "created":
            verdicts.append(True)
        elif result["status"] == "rejected" and result["problem"]["type"] == SCHEMA_VALIDATION:
            assert result["problem"]["errors"], result
            # batch pointers are relative to the request body: /events/<index>/data/...
            prefix = f"/events/{result['index']}/data"
            assert all(e["pointer"].startswith(prefix) for e in result["problem"]["errors"]), result
            verdicts.append(False)
        else:
            verdicts.append(f"unexpected result {result}")
    return verdicts


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "groups"), _files())
async def test_draft2020_12_file(suite_client: httpx.AsyncClient, name: str, groups: list[dict[str, Any]]) -> None:
    mismatches: dict[tuple[str, str, str], str] = {}
    for index, group in enumerate(groups):
        verdicts = await _verdicts(suite_client, f"suite.{name.removesuffix('.json')}.{index}", group)
        for test, verdict in zip(group["tests"], verdicts, strict=True):
            if verdict is not test["valid"]:
                mismatches[(name, group["description"], test["description"])] = str(verdict)
    expected = {key for key in EXCEPTIONS if key[0] == name}
    assert set(mismatches) == expected, {
        "unexpected failures": {k: v for k, v in mismatches.items() if k not in expected},
        "listed exceptions that now pass": sorted(expected - set(mismatches)),
    }
