"""Events: the draft the domain hands a backend to store (the events area's port grows here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class EventDraft:
    """An event as accepted from any encoding, before the server assigns id, sequence and times."""

    type: str
    source: str
    external_id: str | None = None
    subject: str | None = None
    time: datetime | None = None
    has_data: bool = False
    data: Any = None
    data_base64: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict[str, str])
    extensions: dict[str, Any] = field(default_factory=dict[str, Any])
    schema_version: int | None = None
    replay_of: str | None = None
