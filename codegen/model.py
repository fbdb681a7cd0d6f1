"""The intermediate model of the contract: one language-neutral view that every template renders from.

Templates never read openapi.yaml directly, so a contract construct is interpreted once, here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Headers the runtime cores own; generated methods never expose them as parameters.
RUNTIME_HEADERS = {"idempotency-key", "last-event-id"}


def snake(name: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.strip("_").lower()


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake(name).split("_") if part)


def camel(name: str) -> str:
    p = pascal(name)
    return p[:1].lower() + p[1:]


@dataclass
class TypeRef:
    kind: str  # string | integer | number | boolean | object | array | any | ref
    ref: str | None = None
    items: TypeRef | None = None
    nullable: bool = False
    format: str | None = None
    enum_ref: str | None = None
    values: TypeRef | None = None  # map value type for object with additionalProperties schema


@dataclass
class Param:
    name: str
    snake: str
    camel: str
    pascal: str
    required: bool
    description: str
    repeated: bool
    type: TypeRef
    default: Any = None
    location: str = "body"
    example: Any = None  # the contract's first example (parameter `example`, or its schema's `examples`)


@dataclass
class Body:
    schema: str | None
    media_type: str
    required: bool
    is_array: bool
    item_schema: str | None
    fields: list[Param] = field(default_factory=list)
    media_types: list[str] = field(default_factory=list)
    example: Any = None  # the body schema's first example (wire names), if the contract gives one


@dataclass
class Response:
    kind: str  # model | page | empty | stream | text
    schema: str | None
    item_schema: str | None
    status: list[int]


@dataclass
class Operation:
    operation_id: str
    method_name: str
    method_camel: str
    method_pascal: str
    http_method: str
    path: str
    summary: str
    description: str
    tag: str
    scopes: list[str]
    path_params: list[Param]
    query_params: list[Param]
    header_params: list[Param]
    body: Body | None
    response: Response
    idempotent_post: bool
    paginated: bool
    streaming: bool


@dataclass
class Resource:
    name: str
    pascal: str
    camel: str
    description: str
    operations: list[Operation] = field(default_factory=list)


class ContractModel:
    """Builds resources, operations and type references from a parsed OpenAPI 3.1 document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.components = doc.get("components", {})
        self.schemas: dict[str, Any] = self.components.get("schemas", {})
        self.enums = {name: s["enum"] for name, s in self.schemas.items() if "enum" in s}
        self.upgrades: list[Operation] = []
        self.resources = self._resources()

    # ---------------------------------------------------------------- resolution
    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            parts = node["$ref"].removeprefix("#/").split("/")
            target: Any = self.doc
            for part in parts:
                target = target[part]
            node = target
        return node

    @staticmethod
    def _ref_name(node: dict[str, Any]) -> str | None:
        ref = node.get("$ref")
        return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None

    def type_ref(self, schema: dict[str, Any] | None) -> TypeRef:
        if not schema:
            return TypeRef(kind="any")
        name = self._ref_name(schema)
        if name:
            return TypeRef(kind="ref", ref=name, enum_ref=name if name in self.enums else None)
        if "oneOf" in schema:
            branches = schema["oneOf"]
            non_null = [b for b in branches if b.get("type") != "null"]
            if len(non_null) == 1:
                inner = self.type_ref(non_null[0])
                inner.nullable = len(non_null) != len(branches)
                return inner
            return TypeRef(kind="any")
        if "const" in schema:
            return TypeRef(kind="string")
        raw = schema.get("type")
        types = raw if isinstance(raw, list) else [raw] if raw else []
        nullable = "null" in types
        types = [t for t in types if t != "null"]
        if len(types) != 1:
            return TypeRef(kind="any", nullable=nullable)
        kind = types[0]
        if kind == "array":
            return TypeRef(
                kind="array",
                items=self.type_ref(schema.get("items")),
                nullable=nullable,
            )
        if kind == "object":
            addl = schema.get("additionalProperties")
            values = self.type_ref(addl) if isinstance(addl, dict) else None
            return TypeRef(kind="object", nullable=nullable, values=values)
        return TypeRef(kind=kind, nullable=nullable, format=schema.get("format"))

    @staticmethod
    def _example(node: dict[str, Any], schema: dict[str, Any]) -> Any:
        """The first example the contract gives for a parameter, property or schema (`example`, then `examples`)."""
        for holder in (node, schema):
            if "example" in holder:
                return holder["example"]
            examples = holder.get("examples")
            if isinstance(examples, list) and examples:
                return examples[0]
        return None

    # ---------------------------------------------------------------- building
    def _param(self, raw: dict[str, Any]) -> Param:
        p = self._deref(raw)
        schema = p.get("schema", {})
        tref = self.type_ref(schema)
        return Param(
            name=p["name"],
            snake=snake(p["name"]),
            camel=camel(p["name"]),
            pascal=pascal(p["name"]),
            required=bool(p.get("required")),
            description=p.get("description", ""),
            repeated=tref.kind == "array",
            type=tref,
            default=self._deref(schema).get("default") if schema else None,
            location=p["in"],
            example=self._example(p, schema),
        )

    def _fields(self, schema_name: str) -> list[Param]:
        schema = self.schemas[schema_name]
        required = set(schema.get("required", []))
        out = []
        for name, prop in schema.get("properties", {}).items():
            tref = self.type_ref(prop)
            out.append(
                Param(
                    name=name,
                    snake=snake(name),
                    camel=camel(name),
                    pascal=pascal(name),
                    required=name in required,
                    description=prop.get("description", "") or self._deref(prop).get("description", ""),
                    repeated=tref.kind == "array",
                    type=tref,
                    default=prop.get("default"),
                    example=self._example(prop, self._deref(prop)),
                )
            )
        return out

    def _body(self, op: dict[str, Any]) -> Body | None:
        rb = op.get("requestBody")
        if not rb:
            return None
        content = rb.get("content", {})
        media = "application/json" if "application/json" in content else next(iter(content))
        schema = content[media].get("schema", {})
        name = self._ref_name(schema)
        is_array = self._deref(schema).get("type") == "array"
        item = self._ref_name(self._deref(schema).get("items", {})) if is_array else None
        return Body(
            schema=name,
            media_type=media,
            required=bool(rb.get("required")),
            is_array=is_array,
            item_schema=item,
            fields=self._fields(name) if name and not is_array else [],
            media_types=list(content),
            example=self._example(self._deref(schema), {}),
        )

    def _response(self, op: dict[str, Any]) -> Response:
        statuses = sorted(int(code) for code in op["responses"] if code.startswith("2"))
        if "101" in op["responses"]:
            # A WebSocket upgrade: its frames are asyncapi.yaml's (StreamingModel), not an HTTP response body.
            return Response(kind="upgrade", schema=None, item_schema=None, status=[101])
        primary = op["responses"][str(statuses[0])]
        content = self._deref(primary).get("content", {})
        if not content:
            return Response(kind="empty", schema=None, item_schema=None, status=statuses)
        if "text/event-stream" in content:
            return Response(
                kind="stream",
                schema=None,
                item_schema=self._ref_name(content["text/event-stream"]["schema"]),
                status=statuses,
            )
        if "application/json" not in content:
            return Response(kind="text", schema=None, item_schema=None, status=statuses)
        name = self._ref_name(content["application/json"]["schema"])
        props = self.schemas.get(name or "", {}).get("properties", {})
        if name and "next_cursor" in props and "data" in props:
            return Response(
                kind="page",
                schema=name,
                item_schema=self._ref_name(props["data"]["items"]),
                status=statuses,
            )
        return Response(kind="model", schema=name, item_schema=None, status=statuses)

    def _operation(self, path: str, method: str, op: dict[str, Any]) -> Operation:
        params = [self._param(p) for p in op.get("parameters", [])]
        method_name = op["x-sdk-method"]
        response = self._response(op)
        scope = op.get("x-required-scope")
        return Operation(
            operation_id=op["operationId"],
            method_name=method_name,
            method_camel=camel(method_name),
            method_pascal=pascal(method_name),
            http_method=method,
            path=path,
            summary=op.get("summary", ""),
            description=op.get("description", ""),
            tag=op["tags"][0],
            scopes=[scope] if scope else [],
            path_params=[p for p in params if p.location == "path"],
            query_params=[p for p in params if p.location == "query"],
            header_params=[p for p in params if p.location == "header" and p.name.lower() not in RUNTIME_HEADERS],
            body=self._body(op),
            response=response,
            idempotent_post=method == "post" and any(p.name.lower() == "idempotency-key" for p in params),
            paginated=response.kind == "page",
            streaming=response.kind == "stream",
        )

    def _resources(self) -> list[Resource]:
        tags = {t["name"]: t.get("description", "") for t in self.doc.get("tags", [])}
        resources: dict[str, Resource] = {}
        for path, item in self.doc["paths"].items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                name = op["x-sdk-resource"]
                res = resources.setdefault(
                    name,
                    Resource(
                        name=name,
                        pascal=pascal(name),
                        camel=camel(name),
                        description="",
                    ),
                )
                operation = self._operation(path, method, op)
                if operation.response.kind == "upgrade":
                    # SDKs reach a WebSocket through hand-written helpers over the generated frame types.
                    self.upgrades.append(operation)
                    continue
                res.operations.append(operation)
        for res in resources.values():
            res.description = tags.get(self._resource_tag(res), "")
        return list(resources.values())

    @staticmethod
    def _resource_tag(res: Resource) -> str:
        """The tag describing a resource: its namesake tag, else the tag most of its operations carry."""
        op_tags = [op.tag for op in res.operations]
        return res.name if res.name in op_tags else max(set(op_tags), key=op_tags.count)

    def page_limit(self) -> dict[str, int]:
        """Bounds of the shared `limit` query parameter (every paginated list uses it)."""
        schema = self._deref(self.components["parameters"]["Limit"])["schema"]
        return {"minimum": schema["minimum"], "maximum": schema["maximum"], "default": schema["default"]}

    def max_json_depth(self) -> int:
        """How deep a JSON request body may nest (`x-max-json-depth` at the contract's top level)."""
        depth = self.doc["x-max-json-depth"]
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise ValueError(f"x-max-json-depth must be a positive integer, not {depth!r}")
        return depth

    def header_names(self) -> list[str]:
        """Every header the contract names: response headers and header parameters, in contract order."""
        names = list(self.components.get("headers", {}))
        for raw in self.components.get("parameters", {}).values():
            param = self._deref(raw)
            if param.get("in") == "header" and param["name"] not in names:
                names.append(param["name"])
        for item in self.doc["paths"].values():
            for method in HTTP_METHODS:
                for raw in item.get(method, {}).get("parameters", []):
                    param = self._deref(raw)
                    if param.get("in") == "header" and param["name"] not in names:
                        names.append(param["name"])
        return names

    def as_context(self) -> dict[str, Any]:
        return {
            "resources": [asdict(r) for r in self.resources],
            "operations": [asdict(op) for r in self.resources for op in r.operations] + [asdict(op) for op in self.upgrades],
            "upgrades": [asdict(op) for op in self.upgrades],
            "schemas": self.schemas,
            "enums": self.enums,
            "page_limit": self.page_limit(),
            "header_names": self.header_names(),
            "max_json_depth": self.max_json_depth(),
        }


# ---------------------------------------------------------------- streaming (asyncapi.yaml)
_BOUNDS = ("minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems")


@dataclass
class Frame:
    """One WebSocket frame type: its `type` tag, class name, who sends it and its fields (without `type`)."""

    type: str
    name: str  # schema name, e.g. SubscribeFrame
    direction: str  # client | server | both
    description: str
    fields: list[Param] = field(default_factory=list)
    # JSON Schema bounds per field (minimum, maximum, minLength, maxLength, pattern, minItems, maxItems, items'
    # minLength), for the server's validation of client frames; SDKs decode leniently and ignore them.
    constraints: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class CloseCode:
    code: int
    name: str
    description: str
    reconnect: bool


class StreamingModel:
    """The frames and close codes of asyncapi.yaml's WebSocket channel, in the same TypeRef terms as the HTTP model.

    Payload fields referencing `./openapi.yaml#/components/schemas/X` become `ref` X (the SDK's API type);
    asyncapi-local helper schemas (Cursor, FrameId, Receipts) are inlined, so a frame names only API types."""

    def __init__(self, doc: dict[str, Any], contract: ContractModel) -> None:
        self.doc = doc
        self.contract = contract
        self.schemas: dict[str, Any] = doc["components"]["schemas"]
        channel = doc["channels"][self._ws_channel()]
        self.subprotocol: str = channel["x-subprotocol"]
        self.address: str = channel["address"]
        self.close_codes = [
            CloseCode(int(code), spec["name"], " ".join(spec["description"].split()), bool(spec["reconnect"]))
            for code, spec in channel["x-close-codes"].items()
        ]
        self.frames = [self._frame(doc["components"]["messages"][self._local(ref["$ref"])]) for ref in channel["messages"].values()]

    def _ws_channel(self) -> str:
        names = [name for name, ch in self.doc["channels"].items() if "x-subprotocol" in ch]
        if len(names) != 1:
            raise ValueError(f"asyncapi.yaml needs exactly one channel with x-subprotocol, found {names}")
        return names[0]

    @staticmethod
    def _local(ref: str) -> str:
        return ref.rsplit("/", 1)[-1]

    def _inline(self, prop: dict[str, Any]) -> dict[str, Any]:
        """Resolve asyncapi-local refs (`#/components/schemas/...`); openapi.yaml refs stay refs."""
        ref = prop.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            return self._inline(self.schemas[self._local(ref)])
        if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
            return {**prop, "items": self._inline(prop["items"])}
        return prop

    def _frame(self, message: dict[str, Any]) -> Frame:
        name = self._local(message["payload"]["$ref"])
        schema = self.schemas[name]
        tag = schema["properties"]["type"]["const"]
        if tag != message["name"]:
            raise ValueError(f"asyncapi.yaml: message {message['name']!r} carries a {tag!r} frame")
        required = set(schema.get("required", []))
        fields = []
        constraints: dict[str, dict[str, Any]] = {}
        for prop_name, raw in schema["properties"].items():
            if prop_name == "type":
                continue
            prop = self._inline(raw)
            bounds = {key: prop[key] for key in _BOUNDS if key in prop}
            items = prop.get("items")
            if isinstance(items, dict) and "minLength" in items:
                bounds["itemsMinLength"] = items["minLength"]
            if bounds:
                constraints[prop_name] = bounds
            tref = self.contract.type_ref(prop)
            fields.append(
                Param(
                    name=prop_name,
                    snake=snake(prop_name),
                    camel=camel(prop_name),
                    pascal=pascal(prop_name),
                    required=prop_name in required,
                    description=" ".join((prop.get("description") or raw.get("description") or "").split()),
                    repeated=tref.kind == "array",
                    type=tref,
                    default=prop.get("default"),
                )
            )
        return Frame(
            type=tag,
            name=name,
            direction=schema["x-direction"],
            description=" ".join(schema.get("description", "").split()),
            fields=fields,
            constraints=constraints,
        )

    def as_context(self) -> dict[str, Any]:
        return {
            "subprotocol": self.subprotocol,
            "address": self.address,
            "frames": [asdict(f) for f in self.frames],
            "close_codes": [asdict(c) for c in self.close_codes],
        }
