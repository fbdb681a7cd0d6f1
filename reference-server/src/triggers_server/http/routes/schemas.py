"""Schema registry routes: subjects, versions, compatibility dry runs and per-type modes."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel

from triggers_server.clock import isoformat
from triggers_server.contract_facts import PAGE_LIMIT_DEFAULT
from triggers_server.domain.cursors import decode_cursor, encode_cursor, int_field, str_field
from triggers_server.domain.principal import Principal
from triggers_server.domain.registry.compat import CompatibilityMode
from triggers_server.domain.registry.dialect import Dialect
from triggers_server.domain.registry.service import SchemaRegistry, mode_of
from triggers_server.http.auth import require_scope
from triggers_server.http.contract_schemas import parse_contract_model
from triggers_server.http.responses import json_response
from triggers_server.http.routes.params import PageCursor, PageLimit
from triggers_server.http.services import services_of
from triggers_server.models._generated import (
    CompatibilityCheckRequest,
    CompatibilityResult,
    SchemaConfig,
    SchemaConfigUpdate,
    SchemaSubject,
    SchemaSubjectList,
    SchemaVersion,
    SchemaVersionCreate,
    SchemaVersionList,
)
from triggers_server.storage.ports.schemas import SchemaVersionRecord

router = APIRouter()

EventType = Annotated[str, Path(min_length=1, max_length=255, description="Event type (the schema subject).")]
VersionRef = Annotated[str, Path(min_length=1, max_length=255, description="A version number or `latest`.")]
Reader = Annotated[Principal, Depends(require_scope("events:read"))]
Manager = Annotated[Principal, Depends(require_scope("schemas:manage"))]

_SUBJECTS_CURSOR = "schema-subjects"
_VERSIONS_CURSOR = "schema-versions"


def _registry(request: Request) -> SchemaRegistry:
    return services_of(request).registry


def _json(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response(model.model_dump(mode="json"), status=status_code, headers=headers)


def _version(record: SchemaVersionRecord) -> SchemaVersion:
    return SchemaVersion.model_validate(
        {
            "event_type": record.event_type,
            "version": record.version,
            "json_schema": record.json_schema,
            "fingerprint": record.fingerprint,
            "created_at": isoformat(record.created_at),
            "dialect": record.dialect,
        }
    )


def _location(event_type: str, version: int) -> str:
    return f"/v1/schemas/{quote(event_type, safe='')}/versions/{version}"


@router.get("/schemas")
async def list_schemas(
    request: Request, principal: Reader, limit: PageLimit = PAGE_LIMIT_DEFAULT, cursor: PageCursor = None
) -> Response:
    position = decode_cursor(_SUBJECTS_CURSOR, cursor)
    after = str_field(position, "after") if position is not None else None
    subjects = await _registry(request).list_subjects(principal.account_id, limit=limit + 1, after=after)
    page = subjects[:limit]
    next_cursor = encode_cursor(_SUBJECTS_CURSOR, {"after": page[-1].event_type}) if len(subjects) > limit else None
    data = [
        SchemaSubject.model_validate(
            {
                "event_type": s.event_type,
                "latest_version": s.latest_version,
                "versions": s.versions,
                "compatibility": mode_of(s).value,
                "updated_at": s.updated_at,
            }
        )
        for s in page
    ]
    return _json(SchemaSubjectList(data=data, next_cursor=next_cursor))


@router.get("/schemas/{event_type}/versions")
async def list_schema_versions(
    request: Request,
    event_type: EventType,
    principal: Reader,
    limit: PageLimit = PAGE_LIMIT_DEFAULT,
    cursor: PageCursor = None,
) -> Response:
    position = decode_cursor(_VERSIONS_CURSOR, cursor)
    after = int_field(position, "after") if position is not None else 0
    records = await _registry(request).list_versions(
        principal.account_id, event_type, limit=limit + 1, after_version=after
    )
    page = records[:limit]
    next_cursor = encode_cursor(_VERSIONS_CURSOR, {"after": page[-1].version}) if len(records) > limit else None
    return _json(SchemaVersionList(data=[_version(r) for r in page], next_cursor=next_cursor))


@router.post("/schemas/{event_type}/versions")
async def register_schema_version(request: Request, event_type: EventType, principal: Manager) -> Response:
    body = await parse_contract_model(request, SchemaVersionCreate)
    registration = await _registry(request).register(principal.account_id, event_type, body.json_schema)
    record = registration.record
    if registration.created:
        return _json(_version(record), 201, {"Location": _location(event_type, record.version)})
    return _json(_version(record))


@router.get("/schemas/{event_type}/versions/{version}")
async def get_schema_version(
    request: Request, event_type: EventType, version: VersionRef, principal: Reader
) -> Response:
    record = await _registry(request).get_version(principal.account_id, event_type, version)
    return _json(_version(record))


@router.delete("/schemas/{event_type}/versions/{version}", status_code=204)
async def delete_schema_version(
    request: Request, event_type: EventType, version: VersionRef, principal: Manager
) -> Response:
    await _registry(request).delete_version(principal.account_id, event_type, version)
    return Response(status_code=204)


@router.post("/schemas/{event_type}/compatibility")
async def check_schema_compatibility(request: Request, event_type: EventType, principal: Manager) -> Response:
    body = await parse_contract_model(request, CompatibilityCheckRequest)
    mode = CompatibilityMode(body.mode.value) if body.mode is not None else None
    report = await _registry(request).check(principal.account_id, event_type, body.json_schema, mode)
    return _json(CompatibilityResult.model_validate(report.to_wire()))


@router.get("/schemas/{event_type}/config")
async def get_schema_config(request: Request, event_type: EventType, principal: Reader) -> Response:
    config = await _registry(request).get_config(principal.account_id, event_type)
    return _json(SchemaConfig.model_validate(config.to_wire()))


@router.put("/schemas/{event_type}/config")
async def update_schema_config(request: Request, event_type: EventType, principal: Manager) -> Response:
    body = await parse_contract_model(request, SchemaConfigUpdate)
    mode = CompatibilityMode(body.compatibility.value)
    dialect = Dialect(body.default_dialect.value) if body.default_dialect is not None else None
    config = await _registry(request).set_config(principal.account_id, event_type, mode, dialect)
    return _json(SchemaConfig.model_validate(config.to_wire()))
