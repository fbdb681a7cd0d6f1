"""A workflow (the events of one correlation id) as a saga: every event is a step, in causal order, and a step is
done, pending or failed by what is left to do with it (contract `Saga`, `SagaStep`).

A step is `failed` when its event was dead-lettered from the inbox or one of its webhook deliveries exhausted its
retries; `pending` when it still waits in the inbox (pending or leased) or a delivery is scheduled or retrying;
`done` otherwise (acknowledged, every delivery succeeded or was discarded). The saga is `failed` when a step failed,
`completed` when every step is done, `in_progress` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from triggers_server.storage.ports.deliveries import DEAD_LETTERED, FAILED, PENDING, SUCCEEDED

STEP_DONE: Final = "done"
STEP_PENDING: Final = "pending"
STEP_FAILED: Final = "failed"
SAGA_IN_PROGRESS: Final = "in_progress"
SAGA_COMPLETED: Final = "completed"
SAGA_FAILED: Final = "failed"
INBOX_WAITING: Final = ("pending", "leased")
INBOX_DEAD: Final = "dead_lettered"


def saga_step(position: int, event: Mapping[str, Any], delivery_statuses: Sequence[str]) -> dict[str, Any]:
    """One step (contract `SagaStep`) from the event's inbox status and its deliveries' statuses."""
    succeeded = sum(1 for status in delivery_statuses if status == SUCCEEDED)
    waiting = sum(1 for status in delivery_statuses if status in (PENDING, FAILED))
    exhausted = sum(1 for status in delivery_statuses if status == DEAD_LETTERED)
    inbox = str(event["status"])
    if inbox == INBOX_DEAD or exhausted:
        state = STEP_FAILED
    elif inbox in INBOX_WAITING or waiting:
        state = STEP_PENDING
    else:
        state = STEP_DONE
    return {
        "position": position,
        "event_id": event["id"],
        "type": event["type"],
        "state": state,
        "inbox_status": inbox,
        "deliveries_succeeded": succeeded,
        "deliveries_pending": waiting,
        "deliveries_failed": exhausted,
    }


def saga_of(ordered: Sequence[Mapping[str, Any]], delivery_statuses: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The saga (contract `Saga`) of a workflow's events in causal order."""
    steps = [saga_step(index, event, delivery_statuses.get(event["id"], ())) for index, event in enumerate(ordered, 1)]
    states = (STEP_DONE, STEP_PENDING, STEP_FAILED)
    counts = {state: sum(1 for step in steps if step["state"] == state) for state in states}
    if counts[STEP_FAILED]:
        state = SAGA_FAILED
    elif counts[STEP_PENDING]:
        state = SAGA_IN_PROGRESS
    else:
        state = SAGA_COMPLETED
    return {
        "state": state,
        "done": counts[STEP_DONE],
        "pending": counts[STEP_PENDING],
        "failed": counts[STEP_FAILED],
        "steps": steps,
    }
