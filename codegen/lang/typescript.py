"""Jinja filters for the TypeScript SDK templates (codegen/templates/typescript/).

Wire types come from openapi-typescript (src/generated/schema.ts) and are re-exported by name from
src/generated/types.ts, which resource modules import as `T`; so a contract type renders as `T.Name`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "any": "unknown"}
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_PATH_PARAM = re.compile(r"\{([^}]+)\}")
# The stream's resume cursor is a runtime concern (Last-Event-ID), not a query parameter users set by hand.
_STREAM_CURSOR = "last_event_id"


def ts_type(tref: dict[str, Any]) -> str:
    """A contract TypeRef as a TypeScript type; named schemas render as `T.Name`."""
    kind = tref["kind"]
    if kind == "ref":
        text = f"T.{tref['ref']}"
    elif kind == "array":
        inner = ts_type(tref["items"]) if tref.get("items") else "unknown"
        text = f"Array<{inner}>"
    elif kind == "object":
        text = f"Record<string, {ts_type(tref['values'])}>" if tref.get("values") else "Record<string, unknown>"
    else:
        text = _SCALARS[kind]
    return f"{text} | null" if tref.get("nullable") and text != "unknown" else text


def ts_ms(seconds: float) -> str:
    """A policy duration (seconds) as an integer millisecond literal, the TS SDK's unit."""
    return str(round(float(seconds) * 1000))


def ts_key(name: str) -> str:
    """An object key: bare when it is a valid identifier, quoted otherwise."""
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def ts_doc(text: str | None, indent: int = 2) -> str:
    """A description as a JSDoc block (empty when there is nothing to say)."""
    if not text or not text.strip():
        return ""
    pad = " " * indent
    lines = [line.rstrip().replace("*/", "*\\/") for line in text.strip().splitlines()]
    body = "\n".join(f"{pad} * {line}".rstrip() for line in lines)
    return f"{pad}/**\n{body}\n{pad} */\n"


def ts_path(op: dict[str, Any]) -> str:
    """The operation path as a template literal with encoded parameters."""
    by_name = {p["name"]: p["camel"] for p in op["path_params"]}
    return "`" + _PATH_PARAM.sub(lambda m: "${pathParam(" + by_name[m.group(1)] + ")}", op["path"]) + "`"


def ts_params_name(op: dict[str, Any], resource: dict[str, Any]) -> str:
    return f"{resource['pascal']}{op['method_pascal']}Params"


def ts_fields(op: dict[str, Any]) -> list[dict[str, Any]]:
    """Every caller-facing parameter that is not in the path: camelCase name, wire name, type, where it goes."""
    fields: list[dict[str, Any]] = []
    for p in op["query_params"]:
        if op["streaming"] and p["name"] == _STREAM_CURSOR:
            continue
        if p["repeated"] and p["type"].get("items"):
            # Repeated query parameters also take a single value: list({ type: "order.*" }).
            item = ts_type(p["type"]["items"])
            type_text = f"{item} | readonly {item}[]" if " " not in item else f"({item}) | readonly ({item})[]"
        else:
            type_text = ts_type(p["type"])
        fields.append(_field(p, "query", type_text))
    for p in op["header_params"]:
        fields.append(_field(p, "header", "string"))
    body = op["body"]
    if body and body["fields"]:
        for p in body["fields"]:
            fields.append(_field(p, "body", f"T.{body['schema']}[{json.dumps(p['name'])}]"))
    return fields


def _field(p: dict[str, Any], location: str, type_text: str) -> dict[str, Any]:
    return {
        "camel": p["camel"],
        "wire": p["name"],
        "required": p["required"],
        "description": p["description"],
        "location": location,
        "type": type_text,
    }


def ts_params_required(op: dict[str, Any]) -> bool:
    """Whether the params object must be passed (some field is required, or the body is a bare schema)."""
    body = op["body"]
    if body and not body["fields"] and body["required"]:
        return True
    return any(f["required"] for f in ts_fields(op))


def ts_signature(op: dict[str, Any], resource: dict[str, Any]) -> str:
    """The method's parameter list: path parameters, then the params object (if any), then options."""
    args = [f"{p['camel']}: string" for p in op["path_params"]]
    if ts_fields(op):
        name = ts_params_name(op, resource)
        args.append(f"params: {name}" if ts_params_required(op) else f"params: {name} = {{}}")
    args.append("options?: StreamOptions" if op["streaming"] else "options?: RequestOptions")
    return ", ".join(args)


def ts_result(op: dict[str, Any]) -> str:
    """The resolved value type of an operation's method."""
    response = op["response"]
    kind = response["kind"]
    if kind == "model":
        return f"T.{response['schema']}" if response["schema"] else "unknown"
    if kind in ("page", "stream"):
        return f"T.{response['item_schema']}" if response["item_schema"] else "unknown"
    if kind == "text":
        return "string"
    return "void"


def _shape(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """What strict mode checks of one schema: declared properties, enum values, element and variant shapes.

    None means "nothing to check" (scalars, free-form JSON).
    """
    if not schema:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return {"ref": ref.rsplit("/", 1)[-1]}
    if "oneOf" in schema:
        branches = [b for b in schema["oneOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            return _shape(branches[0])
        discriminator = schema.get("discriminator") or {}
        mapping = {value: target.rsplit("/", 1)[-1] for value, target in (discriminator.get("mapping") or {}).items()}
        return {"oneOf": mapping, "discriminator": discriminator["propertyName"]} if mapping else None
    if "enum" in schema:
        return {"enum": [v for v in schema["enum"] if v is not None]}
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        items = _shape(schema.get("items"))
        return {"array": items} if items else None
    if "properties" in schema:
        props = {name: _shape(prop) for name, prop in schema["properties"].items()}
        return {"object": props}
    additional = schema.get("additionalProperties")
    values = _shape(additional) if isinstance(additional, dict) else None
    return {"map": values} if values else None


def ts_shapes(schemas: dict[str, Any]) -> str:
    """Every named schema's strict-mode shape, as a JSON object literal."""
    shapes = {name: _shape(schema) for name, schema in schemas.items()}
    lines = [f"  {json.dumps(name)}: {json.dumps(shape)}," for name, shape in shapes.items() if shape is not None]
    return "{\n" + "\n".join(lines) + "\n}"


def ts_response_schema(op: dict[str, Any]) -> str | None:
    """The schema a strict client checks the operation's decoded response (or stream items) against."""
    response = op["response"]
    if response["kind"] in ("model", "page"):
        return response["schema"]
    if response["kind"] == "stream":
        return response["item_schema"]
    return None


def filters() -> dict[str, Callable[..., Any]]:
    return {
        "ts_type": ts_type,
        "ts_ms": ts_ms,
        "ts_key": ts_key,
        "ts_doc": ts_doc,
        "ts_path": ts_path,
        "ts_params_name": ts_params_name,
        "ts_fields": ts_fields,
        "ts_params_required": ts_params_required,
        "ts_result": ts_result,
        "ts_signature": ts_signature,
        "ts_shapes": ts_shapes,
        "ts_response_schema": ts_response_schema,
    }
