"""The shared retry cases (tests/contract/retry-cases.json), run through this SDK's real retry loop.

The TypeScript and Go SDKs check the same file, so the one behaviour written three times stays one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from zapier_triggers import APIStatusError

from ..conftest import REPO_ROOT
from .fakes import FakeClock, async_client, problem, sync_client

pytestmark = pytest.mark.anyio

CASES: list[dict[str, Any]] = json.loads((REPO_ROOT / "tests" / "contract" / "retry-cases.json").read_text())[
    "cases"
]
# Jitter draws at both ends of [0, 1): the delay bounds must hold for any of them.
JITTER = [0.0, 0.999]


def _case_answer(case: dict[str, Any]) -> httpx.Response:
    if case.get("problem_type"):
        answer = problem(case["status"], case["problem_type"])
        return httpx.Response(
            case["status"], headers={**answer.headers, **case["headers"]}, content=answer.content
        )
    return httpx.Response(case["status"], headers=case["headers"])


class _Script:
    """``attempt - 1`` plain 503s, the case's answer, then a success; records every request."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.answers = [httpx.Response(503) for _ in range(case["attempt"] - 1)]
        self.answers += [_case_answer(case), httpx.Response(200, json={})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers[len(self.requests) - 1]


def _check(case: dict[str, Any], script: _Script, clock: FakeClock, succeeded: bool) -> None:
    attempt = case["attempt"]
    assert succeeded is case["retry"]
    assert len(script.requests) == (attempt + 1 if case["retry"] else attempt)
    if case["retry"]:
        delay = clock.sleeps[attempt - 1]
        bounds = case["delay_seconds"]
        assert bounds["min"] - 1e-9 <= delay <= bounds["max"] + 1e-9
    else:
        assert len(clock.sleeps) == attempt - 1


@contextmanager
def _checked(case: dict[str, Any], jitter: float) -> Iterator[tuple[_Script, FakeClock]]:
    """Run the body's request against the case's script; then check what it sent and slept."""
    script, clock = _Script(case), FakeClock(jitter=jitter)
    succeeded = True
    try:
        yield script, clock
    except APIStatusError as error:
        assert error.status_code == case["status"]
        succeeded = False
    _check(case, script, clock, succeeded)


@pytest.mark.parametrize("jitter", JITTER)
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_async_client_follows_the_shared_retry_case(case: dict[str, Any], jitter: float) -> None:
    with _checked(case, jitter) as (script, clock):
        await async_client(script, clock).request(case["method"], "/events/evt_1")


@pytest.mark.parametrize("jitter", JITTER)
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_sync_client_follows_the_shared_retry_case(case: dict[str, Any], jitter: float) -> None:
    with _checked(case, jitter) as (script, clock):
        sync_client(script, clock).request(case["method"], "/events/evt_1")
