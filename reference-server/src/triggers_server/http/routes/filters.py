"""`POST /filters/test`: evaluate type globs and a filter on a sample event, with a per-clause trace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from triggers_server.domain.filters import raise_for_errors, subscription_matches, validate_filter, validate_type_globs
from triggers_server.domain.principal import Principal
from triggers_server.http.auth import require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import json_response
from triggers_server.models._generated import FilterTestRequest

router = APIRouter()

Reader = Annotated[Principal, Depends(require_scope("events:read"))]


def sample_event(event: dict[str, Any]) -> dict[str, Any]:
    """An ``EventCreate`` seen as a stored ``Event``: its ``id`` is the producer's ``external_id``."""
    return {
        "external_id": event.get("id"),
        "type": event["type"],
        "source": event["source"],
        "subject": event.get("subject"),
        "time": event.get("time"),
        "data": event.get("data"),
        "dataschema": event.get("dataschema"),
        "specversion": "1.0",
        "correlation_id": event.get("correlation_id"),
        "causation_id": event.get("causation_id"),
        "metadata": event.get("metadata") or {},
        "extensions": {},
    }


@router.post("/filters/test")
async def test_filter(request: Request, principal: Reader) -> Response:
    body = await parse_contract_model(request, FilterTestRequest)
    raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    errors = validate_type_globs(raw.get("event_types"), "/event_types")
    if raw.get("filter") is not None:
        errors.extend(validate_filter(raw["filter"]))
    raise_for_errors(errors)
    result = subscription_matches(raw.get("event_types"), raw.get("filter"), sample_event(raw["event"]))
    return json_response({"matched": result.matched, "trace": [entry.as_dict() for entry in result.trace]})
