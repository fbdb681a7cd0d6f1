"""The saga view of a workflow (domain/sagas.py): each step's state from its inbox status and its deliveries."""

from __future__ import annotations

from typing import Any

import pytest

from triggers_server.domain.sagas import saga_of, saga_step


def _event(event_id: str, status: str) -> dict[str, Any]:
    return {"id": event_id, "type": f"t.{event_id}", "status": status}


@pytest.mark.parametrize(
    ("inbox", "deliveries", "state"),
    [
        ("acknowledged", [], "done"),
        ("acknowledged", ["succeeded", "discarded"], "done"),
        ("pending", [], "pending"),
        ("leased", ["succeeded"], "pending"),
        ("acknowledged", ["succeeded", "failed"], "pending"),  # a retry is scheduled
        ("acknowledged", ["pending"], "pending"),
        ("dead_lettered", ["succeeded"], "failed"),
        ("acknowledged", ["dead_lettered", "pending"], "failed"),
    ],
)
def test_a_step_is_done_pending_or_failed_by_what_is_left_to_do(inbox: str, deliveries: list[str], state: str) -> None:
    step = saga_step(3, _event("e", inbox), deliveries)
    assert step["state"] == state
    assert step["position"] == 3 and step["inbox_status"] == inbox
    assert step["deliveries_succeeded"] == deliveries.count("succeeded")
    assert step["deliveries_pending"] == deliveries.count("pending") + deliveries.count("failed")
    assert step["deliveries_failed"] == deliveries.count("dead_lettered")


def test_the_saga_is_completed_in_progress_or_failed() -> None:
    done = [_event("a", "acknowledged"), _event("b", "acknowledged")]
    assert saga_of(done, {"a": ["succeeded"]})["state"] == "completed"
    waiting = [*done, _event("c", "pending")]
    saga = saga_of(waiting, {})
    assert (saga["state"], saga["done"], saga["pending"], saga["failed"]) == ("in_progress", 2, 1, 0)
    assert [step["position"] for step in saga["steps"]] == [1, 2, 3]
    broken = [*waiting, _event("d", "dead_lettered")]
    assert saga_of(broken, {})["state"] == "failed"
