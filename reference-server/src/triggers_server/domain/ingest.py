"""Turning request bodies into `EventDraft`s: the native envelope, CloudEvents structured and binary
modes, and both batch forms. Everything here is pure (no I/O) so every rule is unit-testable.

Errors are `ProblemError`s: 400 for bodies that are not parseable or not a valid CloudEvent, 415 for
media types no mode accepts, 413 above the size limits, 422 `validation` for native fields.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast
from urllib.parse import unquote_to_bytes

from pydantic import ValidationError

from triggers_server.domain.errors import FieldError, Invalid
from triggers_server.jsoncodec import NumberOutOfRange, dumps, loads
from triggers_server.models._generated import EventCreate
from triggers_server.problems import ProblemError, validation_problem
from triggers_server.storage.ports.events import EventDraft

CE_STRUCTURED = "application/cloudevents+json"
CE_BATCH = "application/cloudevents-batch+json"
JSON = "application/json"
MAX_METADATA_KEYS = 50

_CORE_ATTRIBUTES = {"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time"}
_EXTENSION_NAME = re.compile(r"^[a-z0-9]+$")
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")
_MEDIA_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(\"[^\"]*\"|[A-Za-z0-9!#$&^_.+-]+))*\s*$"
)
_INT32 = (-(2**31), 2**31 - 1)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_media_type(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind == JSON or kind.endswith("+json") or kind == "text/json"


def parse_rfc3339(value: str) -> datetime:
    """Strict RFC 3339 date-time (seconds required, offset required and within ±23:59)."""
    match = _RFC3339.match(value)
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = match.group(8)
    if zone in ("Z", "z"):
        tz = UTC
    else:
        offset_hours, offset_minutes = int(match.group(9)), int(match.group(10))
        if offset_hours > 23 or offset_minutes > 59:
            raise ValueError(f"offset out of range in {value!r}")
        sign = -1 if zone.startswith("-") else 1
        tz = timezone(sign * timedelta(hours=offset_hours, minutes=offset_minutes))
    second = min(second, 59)  # a leap second is kept as :59
    return datetime(year, month, day, hour, minute, second, micros, tzinfo=tz).astimezone(UTC)


# -- native envelope ---------------------------------------------------------------------------------


def native_draft(raw: Any, *, pointer: str = "") -> EventDraft:
    """Validate one `EventCreate` object (422 `validation` with pointers under `pointer`)."""
    if not isinstance(raw, dict):
        raise ProblemError(
            422,
            "validation",
            "An event must be a JSON object.",
            errors=[{"pointer": pointer or "/", "detail": "must be an object"}],
        )
    item = cast("dict[str, Any]", raw)
    if "time" in item and not isinstance(item["time"], str):
        raise ProblemError(
            422,
            "validation",
            "`time` must be an RFC 3339 date-time string.",
            errors=[{"pointer": f"{pointer}/time", "detail": "must be an RFC 3339 date-time string"}],
        )
    try:
        model = EventCreate.model_validate(item)
    except ValidationError as error:
        problem = validation_problem(error.errors())
        if problem.errors is not None:
            for entry in problem.errors:
                entry["pointer"] = pointer + entry["pointer"]
        raise problem from error
    occurred = None
    if model.time is not None:
        try:
            occurred = parse_rfc3339(item["time"])
        except ValueError as error:
            raise ProblemError(
                422,
                "validation",
                str(error),
                errors=[{"pointer": f"{pointer}/time", "detail": "must be an RFC 3339 date-time"}],
            ) from error
    metadata = dict(model.metadata or {})
    if len(metadata) > MAX_METADATA_KEYS:
        raise ProblemError(
            422,
            "validation",
            f"`metadata` holds more than {MAX_METADATA_KEYS} keys.",
            errors=[{"pointer": f"{pointer}/metadata", "detail": f"at most {MAX_METADATA_KEYS} keys"}],
        )
    return EventDraft(
        type=model.type,
        source=model.source,
        external_id=model.id,
        subject=model.subject,
        time=occurred,
        has_data="data" in item,
        data=item.get("data"),
        datacontenttype="application/json" if "data" in item else None,
        dataschema=model.dataschema,
        correlation_id=model.correlation_id,
        causation_id=model.causation_id,
        metadata=metadata,
    )


# -- CloudEvents ---------------------------------------------------------------------------------------


class InvalidCloudEvent(ValueError):
    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(detail)
        self.pointer = pointer
        self.detail = detail


def _non_empty_string(attributes: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = attributes.get(name)
    if value is None:
        if required:
            raise InvalidCloudEvent(f"/{name}", f"the required attribute `{name}` is missing")
        return None
    if not isinstance(value, str) or not value:
        raise InvalidCloudEvent(f"/{name}", f"`{name}` must be a non-empty string")
    return value


def _extension_value(name: str, value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        if not _INT32[0] <= value <= _INT32[1]:
            raise InvalidCloudEvent(f"/{name}", f"extension `{name}` is outside the int32 range")
        return value
    raise InvalidCloudEvent(f"/{name}", f"extension `{name}` must be a string, an integer or a boolean")


def _draft_from_attributes(
    attributes: Mapping[str, Any], *, has_data: bool, data: Any, data_base64: str | None
) -> EventDraft:
    specversion = attributes.get("specversion")
    if specversion is None:
        raise InvalidCloudEvent("/specversion", "the required attribute `specversion` is missing")
    if specversion != "1.0":
        raise InvalidCloudEvent("/specversion", f'unsupported specversion {specversion!r}; only "1.0"')
    external_id = _non_empty_string(attributes, "id", required=True)
    source = _non_empty_string(attributes, "source", required=True)
    event_type = _non_empty_string(attributes, "type", required=True)
    subject = _non_empty_string(attributes, "subject", required=False)
    dataschema = _non_empty_string(attributes, "dataschema", required=False)
    datacontenttype = _non_empty_string(attributes, "datacontenttype", required=False)
    if datacontenttype is not None and not _MEDIA_TYPE.match(datacontenttype):
        raise InvalidCloudEvent("/datacontenttype", "`datacontenttype` must be an RFC 2046 media type")
    raw_time = _non_empty_string(attributes, "time", required=False)
    occurred = None
    if raw_time is not None:
        try:
            occurred = parse_rfc3339(raw_time)
        except ValueError as error:
            raise InvalidCloudEvent("/time", str(error)) from error
    extensions: dict[str, Any] = {}
    for name, value in attributes.items():
        if name in _CORE_ATTRIBUTES or value is None:
            continue
        if not _EXTENSION_NAME.match(name):
            raise InvalidCloudEvent(f"/{name}", f"attribute name {name!r} must be lower-case a-z and 0-9 only")
        extensions[name] = _extension_value(name, value)
    correlation_id = extensions.pop("correlationid", None)
    causation_id = extensions.pop("causationid", None)
    for name, value in (("correlationid", correlation_id), ("causationid", causation_id)):
        if value is not None and (not isinstance(value, str) or not value):
            raise InvalidCloudEvent(f"/{name}", f"`{name}` must be a non-empty string")
    assert external_id is not None and source is not None and event_type is not None
    return EventDraft(
        type=event_type,
        source=source,
        external_id=external_id,
        subject=subject,
        time=occurred,
        has_data=has_data,
        data=data,
        data_base64=data_base64,
        datacontenttype=datacontenttype,
        dataschema=dataschema,
        correlation_id=correlation_id,
        causation_id=causation_id,
        extensions=extensions,
    )


def structured_draft(raw: Any) -> EventDraft:
    """One CloudEvent in JSON format; raises InvalidCloudEvent."""
    if not isinstance(raw, dict):
        raise InvalidCloudEvent("", "a CloudEvent must be a JSON object")
    item = cast("dict[str, Any]", raw)
    attributes = {k: v for k, v in item.items() if k not in ("data", "data_base64")}
    if "data_base64" in item and item["data_base64"] is None:  # the contract's CloudEvent: a string, or absent
        raise Invalid(
            "/data_base64: must be a base64 string when present.",
            errors=[FieldError("/data_base64", "must be a base64 string when present, not null")],
        )
    has_data = item.get("data") is not None
    data_base64 = item.get("data_base64")
    if has_data and data_base64 is not None:
        raise InvalidCloudEvent("/data_base64", "`data` and `data_base64` are mutually exclusive")
    if data_base64 is not None:
        if not isinstance(data_base64, str):
            raise InvalidCloudEvent("/data_base64", "`data_base64` must be a base64 string")
        try:
            base64.b64decode(data_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidCloudEvent("/data_base64", "`data_base64` is not valid base64") from error
    return _draft_from_attributes(
        attributes, has_data=has_data, data=item.get("data") if has_data else None, data_base64=data_base64
    )


def decode_header_value(raw: str) -> str:
    """CloudEvents HTTP binding §3.1.3.2: unquote an RFC 7230 quoted-string, then percent-decode as
    strict UTF-8 (invalid or overlong sequences are rejected)."""
    value = raw.strip()
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    try:
        return unquote_to_bytes(value).decode("utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise InvalidCloudEvent("", "a ce- header value is not valid UTF-8 after percent-decoding") from error


def binary_draft(headers: Sequence[tuple[str, str]], content_type: str | None, body: bytes) -> EventDraft:
    """CloudEvents binary mode: attributes in `ce-*` headers, the body is the data."""
    attributes: dict[str, Any] = {}
    for name, value in headers:
        lowered = name.lower()
        if not lowered.startswith("ce-"):
            continue
        attribute = lowered[3:]
        if attribute == "datacontenttype":
            continue  # the binding forbids it; Content-Type carries the media type
        try:
            attributes[attribute] = decode_header_value(value)
        except InvalidCloudEvent as error:
            raise InvalidCloudEvent(f"/{attribute}", error.detail) from error
    if content_type:
        attributes["datacontenttype"] = content_type
    if not body:
        return _draft_from_attributes(attributes, has_data=False, data=None, data_base64=None)
    if is_json_media_type(content_type):
        try:
            data = loads(body)
        except NumberOutOfRange as error:
            raise Invalid(
                f"{error.pointer or '/'}: {error.detail}.",
                errors=[FieldError(error.pointer or "", error.detail)],
            ) from error
        except ValueError as error:  # not JSON, too deep, a lone surrogate (UnicodeDecodeError included)
            raise InvalidCloudEvent("", f"the body is declared JSON but is refused: {error}") from error
        return _draft_from_attributes(attributes, has_data=True, data=data, data_base64=None)
    if not content_type:  # no media type: JSON if it parses (as the JSON format assumes), else bytes (exact)
        try:
            data = loads(body)
        except ValueError:
            pass
        else:
            return _draft_from_attributes(attributes, has_data=True, data=data, data_base64=None)
    return _draft_from_attributes(
        attributes, has_data=False, data=None, data_base64=base64.b64encode(body).decode("ascii")
    )


def invalid_cloudevent_problem(error: InvalidCloudEvent, *, prefix: str = "") -> ProblemError:
    return ProblemError(
        400,
        "malformed-request",
        f"Invalid CloudEvent: {error.detail}.",
        errors=[{"pointer": prefix + error.pointer, "detail": error.detail}],
    )


# -- batches -------------------------------------------------------------------------------------------


@dataclass
class BatchItem:
    """A batch entry: its draft, or the problem that rejects it."""

    draft: EventDraft | None
    problem: ProblemError | None


def cloudevents_batch(payload: Any, *, max_events: int) -> list[BatchItem]:
    """A CloudEvents batch is one message: any invalid member makes the whole body malformed (400)."""
    if not isinstance(payload, list):
        raise ProblemError(400, "malformed-request", "A CloudEvents batch must be a JSON array.")
    members = list(cast("Iterable[Any]", payload))
    if len(members) > max_events:
        raise ProblemError(
            422,
            "validation",
            f"A batch holds at most {max_events} events.",
            errors=[{"pointer": "", "detail": f"at most {max_events} items"}],
        )
    items: list[BatchItem] = []
    for index, entry in enumerate(members):
        try:
            items.append(BatchItem(structured_draft(entry), None))
        except InvalidCloudEvent as error:
            raise invalid_cloudevent_problem(error, prefix=f"/{index}") from error
        except Invalid as error:
            errors = [FieldError(f"/{index}{e.pointer}", e.detail) for e in error.errors or ()]
            raise Invalid(f"/{index}{error.detail}", errors=errors) from error
    return items


def native_batch(payload: Any, *, max_events: int, max_event_bytes: int, body_bytes: int) -> list[BatchItem]:
    """`{events: [...]}`: each item is validated on its own; invalid ones are `rejected`."""
    body = cast("dict[str, Any]", payload) if isinstance(payload, dict) else None
    if body is None or set(body) - {"events"}:
        raise ProblemError(
            422,
            "validation",
            "The body must be an object with only an `events` array.",
            errors=[{"pointer": "", "detail": 'expected {"events": [...]}'}],
        )
    raw_events = body.get("events")
    events = list(cast("Iterable[Any]", raw_events)) if isinstance(raw_events, list) else []
    if not events:
        raise ProblemError(
            422,
            "validation",
            "`events` must be a non-empty array.",
            errors=[{"pointer": "/events", "detail": "must be a non-empty array"}],
        )
    if len(events) > max_events:
        raise ProblemError(
            422,
            "validation",
            f"A batch holds at most {max_events} events.",
            errors=[{"pointer": "/events", "detail": f"at most {max_events} items"}],
        )
    items: list[BatchItem] = []
    measure = body_bytes > max_event_bytes  # no item can exceed the limit when the whole body does not
    for index, entry in enumerate(events):
        try:
            if measure and len(dumps(entry)) > max_event_bytes:
                raise ProblemError(413, "payload-too-large", f"This event exceeds {max_event_bytes} bytes.")
            items.append(BatchItem(native_draft(entry, pointer=f"/events/{index}"), None))
        except ProblemError as problem:
            items.append(BatchItem(None, problem))
    return items
