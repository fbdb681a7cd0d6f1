"""The schema registry service: versions per event type, compatibility gate, ingestion validation.

Compiled validators are cached per version (versions are immutable), and the "latest version of this
type" lookup is cached per (account, type) — including "no schema", the common case — and dropped on
every registration, deletion or mode change in this process (the only writer of its database).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

from referencing import Registry

from triggers_server.clock import Clock
from triggers_server.domain.errors import (
    FieldError,
    Invalid,
    InvalidSchemaDocument,
    Malformed,
    NotFound,
    SchemaIncompatible,
    SchemaMismatch,
)
from triggers_server.domain.registry.compat import (
    DEFAULT_MODE,
    CompatibilityMode,
    Incompatibility,
    PreviousVersion,
    check_compatibility,
)
from triggers_server.domain.registry.dialect import DEFAULT_DIALECT, Dialect, dialect_of
from triggers_server.domain.registry.validation import (
    CompiledSchema,
    InvalidSchema,
    SchemaValidationFailed,
    compile_schema,
    document_registry,
    pointer,
)
from triggers_server.storage.ports.events import EventDraft
from triggers_server.storage.ports.schemas import NewVersion, SchemaStore, SchemaVersionRecord, SubjectRecord

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
class SubjectConfig:
    """An event type's compatibility mode and the dialect of its schemas without ``$schema``."""

    compatibility: CompatibilityMode
    default_dialect: Dialect

    def to_wire(self) -> dict[str, Any]:
        return {"compatibility": self.compatibility.value, "default_dialect": self.default_dialect.value}


@dataclass(frozen=True)
class Registration:
    record: SchemaVersionRecord
    created: bool


def fingerprint(schema: Any) -> str:
    """SHA-256 of the key-sorted compact JSON: identical schemas have identical fingerprints."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


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
    raise Malformed(f"version must be a positive integer or `latest`, not {ref!r}")


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
        raise Invalid(
            f"dataschema names event type {named_type!r} but the event's type is {event_type!r}",
            errors=[FieldError("/dataschema", f"schema subject {named_type!r} does not match type {event_type!r}")],
        )
    version = match.group("version")
    return VersionPin(None if version == "latest" else int(version))


class SchemaRegistry:
    """Registry operations for the routes, and ``validate`` for ingestion."""

    def __init__(self, store: SchemaStore, clock: Clock, *, documents: Mapping[str, Any] | None = None) -> None:
        self._store = store
        self._clock = clock
        self._documents: Registry[Any] = document_registry(documents)
        self._compiled: LruCache[tuple[str, str, int], CompiledSchema] = LruCache(VALIDATOR_CACHE_SIZE)
        self._latest: LruCache[tuple[str, str], int] = LruCache(LATEST_CACHE_SIZE)
        self._generation = 0

    # -- ingestion --------------------------------------------------------------------------------

    async def validate(self, account_id: str, event_type: str, data: Any, dataschema: str | None) -> int | None:
        """Validate ``data``; return the version used, None when the type has no schema.

        Raises ``SchemaValidationFailed`` when ``data`` does not match, ``Invalid`` when ``dataschema``
        pins a version the type does not have.
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
            record = await self._store.get_version(account_id, event_type, None)
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
        record = await self._store.get_version(account_id, event_type, version)
        if record is None:
            return None
        validator = compile_schema(record.json_schema, self._documents, Dialect(record.dialect))
        compiled = CompiledSchema(record.version, validator)
        if generation == self._generation:
            self._compiled.put(key, compiled)
        return compiled

    def _changed(self, account_id: str, event_type: str) -> None:
        """Forget what this process cached about the subject (it is the database's only writer)."""
        self._generation += 1
        self._latest.discard_where(lambda key: key == (account_id, event_type))
        self._compiled.discard_where(lambda key: key[:2] == (account_id, event_type))

    # -- registry operations ----------------------------------------------------------------------

    def compile(self, json_schema: Any, dialect: Dialect, base: str = "/json_schema") -> CompiledSchema:
        """Check ``json_schema`` is valid in ``dialect``; else ``InvalidSchemaDocument``, pointers under ``base``."""
        try:
            return CompiledSchema(0, compile_schema(json_schema, self._documents, dialect))
        except InvalidSchema as error:
            errors = [FieldError(base + item["pointer"], item["detail"]) for item in error.errors]
            raise InvalidSchemaDocument(
                f"json_schema is not a valid JSON Schema ({dialect.value}): {errors[0].detail}", errors=errors
            ) from None

    async def register(self, account_id: str, event_type: str, json_schema: Any) -> Registration:
        """Store ``json_schema`` as the next version; an identical live schema is returned as is.

        The schema is read in the dialect its ``$schema`` names, else in the subject's default dialect (as
        configured when the registration starts; it is compiled before the write transaction).
        """
        configured = await self._store.get_subject(account_id, event_type)
        dialect = dialect_of(json_schema, default_dialect_of(configured))
        self.compile(json_schema, dialect)

        def admit(subject: SubjectRecord | None, live: list[SchemaVersionRecord]) -> None:
            mode = mode_of(subject)
            problems = check_compatibility(json_schema, _previous(live), mode, dialect)
            if problems:
                raise _incompatible(event_type, mode, problems)

        new = NewVersion(json_schema, fingerprint(json_schema), dialect.value, admit)
        stored = await self._store.add_version(account_id, event_type, new, self._clock.now())
        registration = Registration(stored.record, stored.created)
        if registration.created:
            self._changed(account_id, event_type)
        return registration

    async def check(
        self, account_id: str, event_type: str, json_schema: Any, mode: CompatibilityMode | None
    ) -> CompatibilityReport:
        """Dry run of ``register``: the verdict under ``mode`` (default: the subject's mode)."""
        subject, live = await self._store.subject_and_live_versions(account_id, event_type)
        dialect = dialect_of(json_schema, default_dialect_of(subject))
        self.compile(json_schema, dialect)
        effective = mode or mode_of(subject)
        problems = check_compatibility(json_schema, _previous(live), effective, dialect)
        return CompatibilityReport(not problems, effective, problems)

    async def get_version(self, account_id: str, event_type: str, version_ref: str) -> SchemaVersionRecord:
        version = parse_version_ref(version_ref)
        record = await self._store.get_version(account_id, event_type, version)
        if record is None:
            raise _not_found(event_type, version_ref)
        return record

    async def list_versions(
        self, account_id: str, event_type: str, *, limit: int, after_version: int
    ) -> list[SchemaVersionRecord]:
        """A page of live versions; ``NotFound`` when the type has no live version at all."""
        page = await self._store.list_versions(account_id, event_type, limit=limit, after_version=after_version)
        if page is None:
            raise NotFound(f"no schema registered for event type {event_type!r}")
        return page

    async def delete_version(self, account_id: str, event_type: str, version_ref: str) -> None:
        version = parse_version_ref(version_ref)
        if not await self._store.delete_version(account_id, event_type, version, self._clock.now()):
            raise _not_found(event_type, version_ref)
        self._changed(account_id, event_type)

    async def list_subjects(self, account_id: str, *, limit: int, after: str | None) -> list[SubjectRecord]:
        return await self._store.list_subjects(account_id, limit=limit, after=after)

    async def get_config(self, account_id: str, event_type: str) -> SubjectConfig:
        subject = await self._store.get_subject(account_id, event_type)
        return SubjectConfig(mode_of(subject), default_dialect_of(subject))

    async def set_config(
        self, account_id: str, event_type: str, mode: CompatibilityMode, default_dialect: Dialect | None = None
    ) -> SubjectConfig:
        """Set the mode, and the default dialect unless it is None (then it stays as it was)."""
        dialect = default_dialect.value if default_dialect is not None else None
        subject = await self._store.set_config(account_id, event_type, mode.value, dialect, self._clock.now())
        return SubjectConfig(mode_of(subject), default_dialect_of(subject))


def mode_of(subject: SubjectRecord | None) -> CompatibilityMode:
    if subject is None or subject.compatibility is None:
        return DEFAULT_MODE
    return CompatibilityMode(subject.compatibility)


def default_dialect_of(subject: SubjectRecord | None) -> Dialect:
    if subject is None or subject.default_dialect is None:
        return DEFAULT_DIALECT
    return Dialect(subject.default_dialect)


def _previous(live: list[SchemaVersionRecord]) -> list[PreviousVersion]:
    return [PreviousVersion(r.version, r.json_schema, Dialect(r.dialect)) for r in live]


def _not_found(event_type: str, version_ref: str) -> NotFound:
    return NotFound(f"event type {event_type!r} has no live schema version {version_ref}")


def _pinned_missing(event_type: str, version_ref: str) -> Invalid:
    detail = f"event type {event_type!r} has no live schema version {version_ref}"
    return Invalid(detail, errors=[FieldError(pointer("", ["dataschema"]), detail)])


def _incompatible(event_type: str, mode: CompatibilityMode, problems: list[Incompatibility]) -> SchemaIncompatible:
    return SchemaIncompatible(
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
        errors = [FieldError(pointer + entry["pointer"], entry["detail"]) for entry in failure.errors]
        detail = "; ".join(f"{e.pointer}: {e.detail}" for e in errors[:3]) or "schema validation failed"
        raise SchemaMismatch(
            f"`data` does not match the schema of `{draft.type}`: {detail}", errors=errors
        ) from failure
