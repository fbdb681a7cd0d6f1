"""The schema registry service: versions per event type, compatibility gate, ingestion validation.

Compiled validators are cached per version (versions are immutable), and the "latest version of this
type" lookup is cached per (account, type) — including "no schema", the common case — and dropped on
every registration, deletion or mode change in this process (the only writer of its database).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

from referencing import Registry

from triggers_server.clock import Clock
from triggers_server.domain.registry.compat import (
    DEFAULT_MODE,
    CompatibilityMode,
    Incompatibility,
    PreviousVersion,
    check_compatibility,
)
from triggers_server.domain.registry.validation import (
    CompiledSchema,
    InvalidSchema,
    SchemaValidationFailed,
    compile_schema,
    document_registry,
    pointer,
)
from triggers_server.problems import ProblemError
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.sqlite import schemas as store
from triggers_server.storage.sqlite.engine import Database

VALIDATOR_CACHE_SIZE = 1024
LATEST_CACHE_SIZE = 100_000
_NO_SCHEMA = 0  # cached "latest version" of a type without schemas (real versions start at 1)
_PINNED_URI = re.compile(r"/schemas/(?P<type>[^/]+)/versions/(?P<version>[1-9][0-9]*|latest)/?$")
_VERSION_NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")


K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A bounded map that forgets the least recently used entry first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        for key in [k for k in self._items if predicate(k)]:
            del self._items[key]


@dataclass(frozen=True)
class CompatibilityReport:
    compatible: bool
    mode: CompatibilityMode
    incompatibilities: list[Incompatibility]

    def to_wire(self) -> dict[str, Any]:
        return {
            "compatible": self.compatible,
            "mode": self.mode.value,
            "incompatibilities": [i.to_dict() for i in self.incompatibilities],
        }


@dataclass(frozen=True)
class Registration:
    record: store.SchemaVersionRecord
    created: bool


@dataclass(frozen=True)
class VersionPin:
    """What an event's ``dataschema`` asks for: a version number, or None for the latest."""

    version: int | None


def parse_version_ref(ref: str) -> int | None:
    """A path's ``{version}``: a number, or ``latest`` (None). 400 for anything else."""
    if ref == "latest":
        return None
    if _VERSION_NUMBER.match(ref):
        return int(ref)
    raise ProblemError(400, "malformed-request", f"version must be a positive integer or `latest`, not {ref!r}")


def parse_dataschema(event_type: str, dataschema: str | None) -> VersionPin | None:
    """The version an event's ``dataschema`` pins, or None when it pins nothing.

    Accepted: a bare version number (``3``) or a URI ending in ``/schemas/{type}/versions/{n|latest}``.
    Any other URI is an external reference the registry does not manage and pins nothing. A URI naming
    another event type is rejected, because the payload would be validated against the wrong subject.
    """
    if dataschema is None:
        return None
    text = dataschema.strip()
    if _VERSION_NUMBER.match(text):
        return VersionPin(int(text))
    match = _PINNED_URI.search(text.split("?", 1)[0].split("#", 1)[0])
    if match is None:
        return None
    named_type = unquote(match.group("type"))
    if named_type != event_type:
        raise ProblemError(
            422,
            "validation",
            f"dataschema names event type {named_type!r} but the event's type is {event_type!r}",
            errors=[
                {
                    "pointer": "/dataschema",
                    "detail": f"schema subject {named_type!r} does not match type {event_type!r}",
                }
            ],
        )
    version = match.group("version")
    return VersionPin(None if version == "latest" else int(version))


class SchemaRegistry:
    """Registry operations for the routes, and ``validate`` for ingestion."""

    def __init__(self, db: Database, clock: Clock, *, documents: Mapping[str, Any] | None = None) -> None:
        self._db = db
        self._clock = clock
        self._documents: Registry[Any] = document_registry(documents)
        self._compiled: LruCache[tuple[str, str, int], CompiledSchema] = LruCache(VALIDATOR_CACHE_SIZE)
        self._latest: LruCache[tuple[str, str], int] = LruCache(LATEST_CACHE_SIZE)
        self._generation = 0

    # -- ingestion --------------------------------------------------------------------------------

    async def validate(self, account_id: str, event_type: str, data: Any, dataschema: str | None) -> int | None:
        """Validate ``data``; return the version used, None when the type has no schema.

        Raises ``SchemaValidationFailed`` (422 schema-validation) or ``ProblemError`` (422 validation)
        when ``dataschema`` pins a version the type does not have.
        """
        pin = parse_dataschema(event_type, dataschema)
        version = pin.version if pin is not None else None
        if version is None:
            version = await self._latest_version(account_id, event_type)
            if version is None:
                if pin is not None:
                    raise _pinned_missing(event_type, "latest")
                return None
        compiled = await self._compiled_version(account_id, event_type, version)
        if compiled is None:
            raise _pinned_missing(event_type, str(version))
        compiled.check(data)
        return compiled.version

    async def _latest_version(self, account_id: str, event_type: str) -> int | None:
        key = (account_id, event_type)
        cached = self._latest.get(key)
        if cached is None:
            generation = self._generation
            record = await self._db.read(lambda conn: store.get_version(conn, account_id, event_type, None))
            cached = record.version if record is not None else _NO_SCHEMA
            if generation == self._generation:
                self._latest.put(key, cached)
        return None if cached == _NO_SCHEMA else cached

    async def _compiled_version(self, account_id: str, event_type: str, version: int) -> CompiledSchema | None:
        key = (account_id, event_type, version)
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        generation = self._generation
        record = await self._db.read(lambda conn: store.get_version(conn, account_id, event_type, version))
        if record is None:
            return None
        compiled = CompiledSchema(record.version, compile_schema(record.json_schema, self._documents))
        if generation == self._generation:
            self._compiled.put(key, compiled)
        return compiled

    def _changed(self, account_id: str, event_type: str) -> None:
        """Forget what this process cached about the subject (it is the database's only writer)."""
        self._generation += 1
        self._latest.discard_where(lambda key: key == (account_id, event_type))
        self._compiled.discard_where(lambda key: key[:2] == (account_id, event_type))

    # -- registry operations ----------------------------------------------------------------------

    def compile(self, json_schema: Any, base: str = "/json_schema") -> CompiledSchema:
        """Check ``json_schema`` is a valid schema; 422 invalid-schema with pointers under ``base``."""
        try:
            return CompiledSchema(0, compile_schema(json_schema, self._documents))
        except InvalidSchema as error:
            errors = [{"pointer": base + item["pointer"], "detail": item["detail"]} for item in error.errors]
            raise ProblemError(
                422,
                "invalid-schema",
                f"json_schema is not a valid JSON Schema: {errors[0]['detail']}",
                errors=errors,
            ) from None

    async def register(self, account_id: str, event_type: str, json_schema: Any) -> Registration:
        """Store ``json_schema`` as the next version; an identical live schema is returned as is."""
        self.compile(json_schema)
        fingerprint = store.fingerprint(json_schema)
        now = self._clock.now()

        def transaction(conn: Any) -> Registration:
            live = store.live_versions(conn, account_id, event_type)
            for record in live:
                if record.fingerprint == fingerprint:
                    return Registration(record, created=False)
            subject = store.get_subject(conn, account_id, event_type)
            mode = mode_of(subject)
            problems = check_compatibility(json_schema, [PreviousVersion(r.version, r.json_schema) for r in live], mode)
            if problems:
                raise _incompatible(event_type, mode, problems)
            return Registration(store.insert_version(conn, account_id, event_type, json_schema, now), created=True)

        registration = await self._db.write(transaction)
        if registration.created:
            self._changed(account_id, event_type)
        return registration

    async def check(
        self, account_id: str, event_type: str, json_schema: Any, mode: CompatibilityMode | None
    ) -> CompatibilityReport:
        """Dry run of ``register``: the verdict under ``mode`` (default: the subject's mode)."""
        self.compile(json_schema)

        def read(conn: Any) -> tuple[store.SubjectRecord | None, list[store.SchemaVersionRecord]]:
            return store.get_subject(conn, account_id, event_type), store.live_versions(conn, account_id, event_type)

        subject, live = await self._db.read(read)
        effective = mode or mode_of(subject)
        problems = check_compatibility(
            json_schema, [PreviousVersion(r.version, r.json_schema) for r in live], effective
        )
        return CompatibilityReport(not problems, effective, problems)

    async def get_version(self, account_id: str, event_type: str, version_ref: str) -> store.SchemaVersionRecord:
        version = parse_version_ref(version_ref)
        record = await self._db.read(lambda conn: store.get_version(conn, account_id, event_type, version))
        if record is None:
            raise _not_found(event_type, version_ref)
        return record

    async def list_versions(
        self, account_id: str, event_type: str, *, limit: int, after_version: int
    ) -> list[store.SchemaVersionRecord]:
        """A page of live versions; 404 when the type has no live version at all."""

        def read(conn: Any) -> list[store.SchemaVersionRecord] | None:
            if store.get_version(conn, account_id, event_type, None) is None:
                return None
            return store.list_versions(conn, account_id, event_type, limit=limit, after_version=after_version)

        page = await self._db.read(read)
        if page is None:
            raise ProblemError(404, "not-found", f"no schema registered for event type {event_type!r}")
        return page

    async def delete_version(self, account_id: str, event_type: str, version_ref: str) -> None:
        version = parse_version_ref(version_ref)
        now = self._clock.now()

        def transaction(conn: Any) -> bool:
            record = store.get_version(conn, account_id, event_type, version)
            return record is not None and store.delete_version(conn, account_id, event_type, record.version, now)

        if not await self._db.write(transaction):
            raise _not_found(event_type, version_ref)
        self._changed(account_id, event_type)

    async def list_subjects(self, account_id: str, *, limit: int, after: str | None) -> list[store.SubjectRecord]:
        return await self._db.read(lambda conn: store.list_subjects(conn, account_id, limit=limit, after=after))

    async def get_mode(self, account_id: str, event_type: str) -> CompatibilityMode:
        subject = await self._db.read(lambda conn: store.get_subject(conn, account_id, event_type))
        return mode_of(subject)

    async def set_mode(self, account_id: str, event_type: str, mode: CompatibilityMode) -> CompatibilityMode:
        now = self._clock.now()
        await self._db.write(lambda conn: store.set_compatibility(conn, account_id, event_type, mode.value, now))
        return mode


def mode_of(subject: store.SubjectRecord | None) -> CompatibilityMode:
    if subject is None or subject.compatibility is None:
        return DEFAULT_MODE
    return CompatibilityMode(subject.compatibility)


def _not_found(event_type: str, version_ref: str) -> ProblemError:
    return ProblemError(404, "not-found", f"event type {event_type!r} has no live schema version {version_ref}")


def _pinned_missing(event_type: str, version_ref: str) -> ProblemError:
    detail = f"event type {event_type!r} has no live schema version {version_ref}"
    return ProblemError(422, "validation", detail, errors=[{"pointer": pointer("", ["dataschema"]), "detail": detail}])


def _incompatible(event_type: str, mode: CompatibilityMode, problems: list[Incompatibility]) -> ProblemError:
    return ProblemError(
        409,
        "schema-incompatible",
        f"the schema is not {mode.value} compatible with the registered versions of {event_type!r}: "
        f"{problems[0].detail}",
        extra={"mode": mode.value, "incompatibilities": [p.to_dict() for p in problems]},
    )


async def apply_schema(registry: SchemaRegistry, account_id: str, draft: EventDraft, *, pointer: str = "") -> None:
    """Validate JSON data against the registry (binary payloads are not validated); records the version."""
    if draft.data_base64 is not None:
        return
    try:
        draft.schema_version = await registry.validate(
            account_id, draft.type, draft.data if draft.has_data else None, draft.dataschema
        )
    except SchemaValidationFailed as failure:
        errors = [{"pointer": pointer + entry["pointer"], "detail": entry["detail"]} for entry in failure.errors]
        detail = "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:3]) or "schema validation failed"
        raise ProblemError(
            422,
            "schema-validation",
            f"`data` does not match the schema of `{draft.type}`: {detail}",
            errors=errors,
        ) from failure
