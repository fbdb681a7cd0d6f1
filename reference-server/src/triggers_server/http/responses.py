"""The one way a route writes a JSON response: `json_response` (a value through `jsoncodec.dumps`, or bytes a
route already serialised, e.g. inside its write transaction for the idempotency record); `contract_json`
checks the payload against its generated contract model first (a mismatch is a server bug and surfaces as a
500 problem), then sends it as built, so every timestamp keeps the server's one fixed-width RFC 3339 format.
Problems are written by `problems.problem_response` / `middleware.send_problem`."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from triggers_server.jsoncodec import dumps


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = payload if isinstance(payload, bytes) else dumps(payload)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def contract_json(
    model: type[BaseModel], payload: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    model.model_validate(payload)
    return json_response(payload, status, headers)
