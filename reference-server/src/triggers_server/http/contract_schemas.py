"""Request bodies checked against the contract's own JSON Schemas (draft 2020-12).

The generated pydantic models validate in lax mode, which takes ``0`` for a boolean and ``false`` for an
integer; strict mode would in turn refuse ``284.0`` for an integer, which JSON Schema accepts. Checking the
parsed body against ``components/schemas/<Model>`` of openapi.yaml gives exactly the contract's verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any, Final, TypeVar

import yaml
from fastapi import Request
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from triggers_server.contract import contract_text
from triggers_server.http.bodies import ABSENT, read_json, validate_model
from triggers_server.problems import ProblemError

M = TypeVar("M", bound=BaseModel)

CONTRACT_URI: Final = "urn:triggers:openapi"
MAX_DETAIL: Final = 200


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    document = yaml.safe_load(contract_text())
    resource: Resource[Any] = Resource.from_contents(document, default_specification=DRAFT202012)
    empty: Registry[Any] = Registry()
    registry: Registry[Any] = empty.with_resource(CONTRACT_URI, resource)
    return registry


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    reference = {"$ref": f"{CONTRACT_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(reference, registry=_registry())


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def contract_errors(schema_name: str, payload: Any) -> list[dict[str, str]]:
    """Every way ``payload`` breaks ``components/schemas/<schema_name>``, as ``{pointer, detail}``."""
    validator: Any = _validator(schema_name)
    errors = sorted(validator.iter_errors(payload), key=lambda error: list(map(str, error.path)))
    return [{"pointer": _pointer(error.absolute_path), "detail": error.message[:MAX_DETAIL]} for error in errors]


async def parse_contract_model(request: Request, model: type[M], *, optional: bool = False) -> M:
    """``bodies.read_json`` (413/415/400/422) and the generated model, plus the contract's own schema verdict
    (422 ``validation``); an empty body is the model's defaults when ``optional``."""
    payload = await read_json(request, optional=optional)
    if payload is ABSENT:
        return model()
    parsed = validate_model(model, payload)
    errors = contract_errors(model.__name__, payload)
    if errors:
        detail = "; ".join(f"{error['pointer'] or '/'}: {error['detail']}" for error in errors[:5])
        raise ProblemError(422, "validation", detail, errors=errors)
    return parsed
