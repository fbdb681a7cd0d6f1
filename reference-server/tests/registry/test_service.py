"""SchemaRegistry.validate: the ingestion path (pins, latest, caching, error pointers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from backend_harness import open_test_backend
from registry_harness import START

from triggers_server.clock import ManualClock
from triggers_server.domain.errors import DomainError, FieldError, Invalid, InvalidSchemaDocument, Malformed
from triggers_server.domain.registry import SchemaValidationFailed
from triggers_server.domain.registry.compat import CompatibilityMode
from triggers_server.domain.registry.dialect import Dialect
from triggers_server.domain.registry.service import (
    LruCache,
    SchemaRegistry,
    VersionPin,
    parse_dataschema,
    parse_version_ref,
)

pytestmark = pytest.mark.anyio
ACCOUNT = "acct_a"
ORDER = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "total": {"type": "number"}},
    "required": ["id"],
}


@pytest.fixture
async def registry() -> AsyncIterator[SchemaRegistry]:
    db = await open_test_backend()
    try:
        yield SchemaRegistry(db.stores.schemas, ManualClock(START))
    finally:
        await db.close()


def failed(error: pytest.ExceptionInfo[SchemaValidationFailed]) -> list[dict[str, str]]:
    return error.value.errors


async def test_type_without_schema_is_not_validated(registry: SchemaRegistry) -> None:
    assert await registry.validate(ACCOUNT, "order.created", {"anything": True}, None) is None
    assert await registry.validate(ACCOUNT, "order.created", None, "https://example.com/ext.json") is None


async def test_latest_version_validates_and_reports_pointers(registry: SchemaRegistry) -> None:
    await registry.register(ACCOUNT, "order.created", ORDER)
    assert await registry.validate(ACCOUNT, "order.created", {"id": "o1", "total": 3}, None) == 1
    with pytest.raises(SchemaValidationFailed) as error:
        await registry.validate(ACCOUNT, "order.created", {"total": "x"}, None)
    assert failed(error) == [
        {"pointer": "/data", "detail": "'id' is a required property"},
        {"pointer": "/data/total", "detail": "'x' is not of type 'number'"},
    ]
    with pytest.raises(SchemaValidationFailed) as error:
        await registry.validate(ACCOUNT, "order.created", None, None)
    assert failed(error)[0]["pointer"] == "/data"


async def test_pointer_tokens_are_escaped(registry: SchemaRegistry) -> None:
    schema = {"type": "object", "properties": {"a/b~c": {"type": "integer"}}}
    await registry.register(ACCOUNT, "t", schema)
    with pytest.raises(SchemaValidationFailed) as error:
        await registry.validate(ACCOUNT, "t", {"a/b~c": "no"}, None)
    assert failed(error)[0]["pointer"] == "/data/a~1b~0c"


async def test_formats_are_asserted(registry: SchemaRegistry) -> None:
    await registry.register(ACCOUNT, "t", {"type": "object", "properties": {"at": {"format": "date-time"}}})
    assert await registry.validate(ACCOUNT, "t", {"at": "2026-11-25T10:15:00Z"}, None) == 1
    with pytest.raises(SchemaValidationFailed) as error:
        await registry.validate(ACCOUNT, "t", {"at": "yesterday"}, None)
    assert failed(error) == [{"pointer": "/data/at", "detail": "'yesterday' is not a 'date-time'"}]


async def test_new_version_and_deletion_invalidate_the_cache(registry: SchemaRegistry) -> None:
    await registry.register(ACCOUNT, "t", {"type": "integer", "maximum": 5})
    assert await registry.validate(ACCOUNT, "t", 5, None) == 1
    await registry.register(ACCOUNT, "t", {"type": "integer", "maximum": 10})
    assert await registry.validate(ACCOUNT, "t", 9, None) == 2
    await registry.delete_version(ACCOUNT, "t", "2")
    with pytest.raises(SchemaValidationFailed):
        await registry.validate(ACCOUNT, "t", 9, None)
    await registry.delete_version(ACCOUNT, "t", "1")
    assert await registry.validate(ACCOUNT, "t", 9, None) is None


@pytest.mark.parametrize(
    "dataschema",
    [
        "1",
        " 1 ",
        "https://api.example/v1/schemas/order.created/versions/1",
        "/schemas/order.created/versions/1/",
    ],
)
async def test_dataschema_pins_a_version(registry: SchemaRegistry, dataschema: str) -> None:
    await registry.register(ACCOUNT, "order.created", ORDER)
    await registry.register(ACCOUNT, "order.created", {"type": "object"})
    assert await registry.validate(ACCOUNT, "order.created", {}, None) == 2
    with pytest.raises(SchemaValidationFailed):
        await registry.validate(ACCOUNT, "order.created", {}, dataschema)
    assert await registry.validate(ACCOUNT, "order.created", {"id": "x"}, dataschema) == 1


async def test_pins_to_missing_versions_are_422(registry: SchemaRegistry) -> None:
    with pytest.raises(Invalid) as error:
        await registry.validate(ACCOUNT, "t", {}, "3")
    assert error.value.errors == (FieldError("/dataschema", "event type 't' has no live schema version 3"),)
    with pytest.raises(Invalid):
        await registry.validate(ACCOUNT, "t", {}, "https://x/schemas/t/versions/latest")
    await registry.register(ACCOUNT, "t", {"type": "object"})
    await registry.delete_version(ACCOUNT, "t", "1")
    await registry.register(ACCOUNT, "t", {"type": "object", "maxProperties": 9})
    with pytest.raises(Invalid):
        await registry.validate(ACCOUNT, "t", {}, "1")
    assert await registry.validate(ACCOUNT, "t", {}, "https://x/schemas/t/versions/latest") == 2


def test_parse_dataschema_forms() -> None:
    assert parse_dataschema("a.b", None) is None
    assert parse_dataschema("a.b", "7") == VersionPin(7)
    assert parse_dataschema("a.b", "https://h/v1/schemas/a.b/versions/7?x=1") == VersionPin(7)
    assert parse_dataschema("a b", "https://h/v1/schemas/a%20b/versions/latest") == VersionPin(None)
    assert parse_dataschema("a.b", "https://schemas.example.com/order.json") is None
    assert parse_dataschema("a.b", "0") is None
    with pytest.raises(Invalid) as error:
        parse_dataschema("a.b", "https://h/v1/schemas/other/versions/1")
    assert error.value.errors is not None and error.value.errors[0].pointer == "/dataschema"


def test_parse_version_ref() -> None:
    assert parse_version_ref("latest") is None
    assert parse_version_ref("12") == 12
    for bad in ("0", "-1", "01", "v1", "9" * 30):
        with pytest.raises(Malformed):
            parse_version_ref(bad)


async def test_unresolvable_reference_is_an_invalid_schema(registry: SchemaRegistry) -> None:
    with pytest.raises(InvalidSchemaDocument) as error:
        await registry.register(ACCOUNT, "t", {"properties": {"a": {"$ref": "#/$defs/missing"}}})
    assert error.value.errors is not None and "#/$defs/missing" in error.value.errors[0].detail


async def test_preloaded_documents_resolve_without_network() -> None:
    db = await open_test_backend()
    try:
        documents: dict[str, Any] = {"https://schemas.example/money.json": {"type": "number", "minimum": 0}}
        registry = SchemaRegistry(db.stores.schemas, ManualClock(START), documents=documents)
        await registry.register(ACCOUNT, "t", {"properties": {"total": {"$ref": "https://schemas.example/money.json"}}})
        assert await registry.validate(ACCOUNT, "t", {"total": 1}, None) == 1
        with pytest.raises(SchemaValidationFailed):
            await registry.validate(ACCOUNT, "t", {"total": -1}, None)
    finally:
        await db.close()


async def test_modes_default_and_persist(registry: SchemaRegistry) -> None:
    assert (await registry.get_config(ACCOUNT, "t")).compatibility is CompatibilityMode.BACKWARD
    await registry.set_config(ACCOUNT, "t", CompatibilityMode.FULL_TRANSITIVE)
    assert (await registry.get_config(ACCOUNT, "t")).compatibility is CompatibilityMode.FULL_TRANSITIVE
    assert (await registry.get_config("acct_other", "t")).compatibility is CompatibilityMode.BACKWARD


async def test_default_dialect_persists_and_a_mode_change_keeps_it(registry: SchemaRegistry) -> None:
    assert (await registry.get_config(ACCOUNT, "t")).default_dialect is Dialect.DRAFT_2020_12
    await registry.set_config(ACCOUNT, "t", CompatibilityMode.BACKWARD, Dialect.DRAFT_07)
    config = await registry.set_config(ACCOUNT, "t", CompatibilityMode.FULL)
    assert (config.compatibility, config.default_dialect) == (CompatibilityMode.FULL, Dialect.DRAFT_07)
    assert (await registry.get_config("acct_other", "t")).default_dialect is Dialect.DRAFT_2020_12


async def test_deeply_nested_schema_is_invalid_not_a_crash(registry: SchemaRegistry) -> None:
    deep: Any = {"type": "object"}
    for _ in range(5000):
        deep = {"properties": {"x": deep}}
    with pytest.raises(DomainError) as error:
        await registry.register(ACCOUNT, "t", deep)
    assert error.value.slug == "invalid-schema"


def test_lru_forgets_the_least_recently_used() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.discard_where(lambda key: key == "a")
    assert cache.get("a") is None
