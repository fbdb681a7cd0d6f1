"""Contract scenarios (tests/contract/scenarios.yaml) against a live reference server.

Target: ``TRIGGERS_BASE_URL`` + ``TRIGGERS_API_KEY`` (admin key) when set; otherwise the reference
server in-process (``zapier_triggers.testing``) if it is installed; otherwise every scenario skips.
With ``TRIGGERS_CONTRACT_REPORT=<path>`` the per-scenario results are written there as JSON.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from zapier_triggers import TriggersClient

LIVE = bool(os.environ.get("TRIGGERS_BASE_URL") and os.environ.get("TRIGGERS_API_KEY"))
_RESULTS: dict[str, list[str]] = {}


@pytest.fixture
def anyio_backend() -> str:
    # The reference server (in-process mode) is asyncio-only; the unit suite covers trio.
    return "asyncio"


@pytest.fixture
def prefix() -> str:
    """A unique event-type prefix so scenarios never see each other's data."""
    return "ct" + uuid.uuid4().hex[:10]


@pytest.fixture
async def client() -> AsyncIterator[TriggersClient]:
    async with AsyncExitStack() as stack:
        if LIVE:
            yield await stack.enter_async_context(TriggersClient())
            return
        try:
            from zapier_triggers.testing import triggers_server
        except ImportError as exc:  # pragma: no cover - depends on the environment
            pytest.skip(f"no TRIGGERS_BASE_URL and the in-process server is unavailable: {exc}")
        yield await stack.enter_async_context(triggers_server())


@pytest.fixture
def make_client(client: TriggersClient) -> Callable[..., TriggersClient]:
    """A second client against the same server (other key, other retry settings)."""

    def build(**kwargs: Any) -> TriggersClient:
        kwargs.setdefault("api_key", client._api.core.api_key)
        return TriggersClient(base_url=client.base_url, http_client=client._api.http, **kwargs)

    return build


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    scenario = _scenario_of(report)
    if scenario is None:
        return
    if report.when == "call" or report.outcome != "passed":
        outcome = "pass" if report.passed else "skip" if report.skipped else "fail"
        _RESULTS.setdefault(scenario, []).append(outcome)


def _scenario_of(report: pytest.TestReport) -> str | None:
    for name, args in getattr(report, "scenario_marks", []):
        if name == "scenario":
            return str(args[0])
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    report.scenario_marks = [(m.name, m.args) for m in item.iter_markers("scenario")]
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("TRIGGERS_CONTRACT_REPORT")
    if not target:
        return
    results = {}
    for scenario, outcomes in sorted(_RESULTS.items()):
        if "fail" in outcomes:
            results[scenario] = "fail"
        elif all(o == "skip" for o in outcomes):
            results[scenario] = "skip"
        else:
            results[scenario] = "pass"
    Path(target).write_text(json.dumps({"language": "python", "results": results}, indent=2) + "\n")
