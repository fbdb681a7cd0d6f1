"""JSON responses checked against the generated contract models before they leave.

The payload is validated by the model (a mismatch is a server bug and surfaces as a 500 problem), then
sent as built, so every timestamp keeps the server's one fixed-width RFC 3339 format."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from triggers_server.jsoncodec import dumps


def contract_json(
    model: type[BaseModel], payload: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    model.model_validate(payload)
    return Response(dumps(payload), status_code=status, media_type="application/json", headers=headers)
