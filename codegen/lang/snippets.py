"""Jinja filters for the SDK snippets of the API reference (codegen/templates/docs/): one runnable program per
contract operation in each SDK's own syntax (Python, TypeScript, Go), built from `x-sdk-resource` / `x-sdk-method`
and the contract's examples.

Inputs are the contract's examples: each path parameter's `example`, the request body schema's first example
(wire names) or, without one, every required field's example; query parameters are left at their defaults. The
key is never in a snippet: every SDK client reads `TRIGGERS_API_KEY` and `TRIGGERS_BASE_URL` by default. Every
program prints what the call returned as JSON (one line per item for lists and streams), so a test can run it.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Callable
from typing import Any

# codegen/ is on sys.path (generate.py), so the other language modules import as `lang.*`.
from lang.go import go_ident, go_singular, go_string
from lang.typescript import ts_fields, ts_key

ENV_NOTE = "TRIGGERS_API_KEY / TRIGGERS_BASE_URL"


class SnippetError(ValueError):
    """The contract lacks an example a snippet needs."""


def _path_args(op: dict[str, Any]) -> list[Any]:
    values = []
    for p in op["path_params"]:
        if p["example"] is None:
            raise SnippetError(f"{op['operation_id']}: path parameter {p['name']} has no example")
        values.append(p["example"])
    return values


def snippet_body(op: dict[str, Any]) -> dict[str, Any] | None:
    """The request body a snippet sends (wire names), or None when the operation takes none."""
    body = op["body"]
    if body is None:
        return None
    if isinstance(body["example"], dict):
        return dict(body["example"])
    values = {}
    for f in body["fields"]:
        if f["required"]:
            if f["example"] is None:
                raise SnippetError(f"{op['operation_id']}: required body field {f['name']} has no example")
            values[f["name"]] = f["example"]
    return values


def _body_items(op: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """(field, value) for each body member the snippet sends, in the schema's field order."""
    body = snippet_body(op) or {}
    fields = {f["name"]: f for f in (op["body"] or {}).get("fields", [])}
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise SnippetError(f"{op['operation_id']}: the body example has members the schema lacks: {unknown}")
    return [(fields[name], body[name]) for name in fields if name in body]


# ---------------------------------------------------------------- Python


def _py(value: Any, indent: str) -> str:
    """A JSON value as a Python literal, nested objects and arrays one member a line past 88 columns."""
    flat = _py_flat(value)
    if len(indent) + len(flat) <= 80 or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = indent + "    "
    if isinstance(value, list):
        return "[\n" + "".join(f"{inner}{_py(v, inner)},\n" for v in value) + indent + "]"
    return "{\n" + "".join(f"{inner}{json.dumps(k)}: {_py(v, inner)},\n" for k, v in value.items()) + indent + "}"


def _py_flat(value: Any) -> str:
    if value is None:
        return "None"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, (int, float, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_py_flat(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_py_flat(v)}" for k, v in value.items()) + "}"


def _py_name(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) else name


def python_snippet(op: dict[str, Any], resource: dict[str, Any]) -> str:
    """A runnable Python program calling the operation with the sync client and printing the result as JSON."""
    items = _body_items(op)
    call = f"client.{resource['name']}.{op['method_name']}"
    flat = [_py_flat(v) for v in _path_args(op)] + [f"{_py_name(f['snake'])}={_py_flat(v)}" for f, v in items]
    invocation = f"{call}({', '.join(flat)})"
    if len(invocation) > 72:
        args = [_py(v, "    ") for v in _path_args(op)]
        args += [f"{_py_name(f['snake'])}={_py(v, '    ')}" for f, v in items]
        invocation = f"{call}(\n" + "".join(f"    {a},\n" for a in args) + ")"
    kind = op["response"]["kind"]
    lines = []
    if kind in ("model", "page", "stream"):
        lines += ["import json", ""]
    lines += ["from zapier_triggers import SyncTriggersClient", "", f"client = SyncTriggersClient()  # {ENV_NOTE}"]
    if kind == "model":
        lines += [f"result = {invocation}", "print(json.dumps(result.to_dict()))"]
    elif kind == "page":
        lines += [f"for item in {invocation}:", "    print(json.dumps(item.to_dict()))"]
    elif kind == "stream":
        lines += [f"with {invocation} as stream:", "    for event in stream:", "        print(json.dumps(event.to_dict()))"]
    elif kind == "text":
        lines += [f"print({invocation})"]
    else:
        lines += [invocation]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- TypeScript


def _ts(value: Any, indent: str) -> str:
    """A JSON value as a TypeScript literal (object keys bare where they can be)."""
    flat = _ts_flat(value)
    if len(indent) + len(flat) <= 80 or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, list):
        return "[\n" + "".join(f"{inner}{_ts(v, inner)},\n" for v in value) + indent + "]"
    return "{\n" + "".join(f"{inner}{ts_key(k)}: {_ts(v, inner)},\n" for k, v in value.items()) + indent + "}"


def _ts_flat(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_ts_flat(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{ts_key(k)}: {_ts_flat(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


def typescript_snippet(op: dict[str, Any], resource: dict[str, Any]) -> str:
    """A runnable ES module calling the operation and printing the result as JSON."""
    args = [_ts(v, "  ") for v in _path_args(op)]
    camel = {f["wire"]: f["camel"] for f in ts_fields(op) if f["location"] == "body"}
    members = [(camel[f["name"]], v) for f, v in _body_items(op)]
    call = f"client.{resource['camel']}.{op['method_camel']}"
    flat = [_ts_flat(v) for v in _path_args(op)]
    if members:
        flat.append("{ " + ", ".join(f"{ts_key(k)}: {_ts_flat(v)}" for k, v in members) + " }")
    invocation = f"{call}({', '.join(flat)})"
    if len(invocation) > 72 and members:
        spread = "{\n" + "".join(f"  {ts_key(k)}: {_ts(v, '  ')},\n" for k, v in members) + "}"
        invocation = f"{call}({', '.join([*args, spread])})"
    kind = op["response"]["kind"]
    lines = ['import { TriggersClient } from "@zapier-triggers/sdk";', "", f"const client = new TriggersClient(); // {ENV_NOTE}"]
    if kind == "model":
        lines += [f"const result = await {invocation};", "console.log(JSON.stringify(result));"]
    elif kind in ("page", "stream"):
        lines += [f"for await (const item of {invocation}) {{", "  console.log(JSON.stringify(item));", "}"]
    elif kind == "text":
        lines += [f"console.log(await {invocation});"]
    else:
        lines += [f"await {invocation};"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- Go


def _go_raw(text: str) -> str:
    """A Go raw string literal when the text allows one, else an interpreted one."""
    return f"`{text}`" if "`" not in text else go_string(text)


def go_snippet(op: dict[str, Any], resource: dict[str, Any]) -> str:
    """A runnable Go program (package main) calling the operation and printing the result as JSON.

    The request body is decoded from the contract's example JSON into the method's params type, so the program
    holds exactly the wire body the other snippets send, whatever Go types the model generator chose.
    """
    service = f"client.{go_ident(resource['name'])}"
    method = go_ident(op["method_name"])
    base = go_singular(resource["name"]) + method
    body = snippet_body(op)
    args = ["ctx"] + [go_string(v) for v in _path_args(op)]
    decode: list[str] = []
    if op["body"] is not None:
        if body:
            decode = [
                f"\tvar params triggers.{base}Params",
                f"\tif err := json.Unmarshal([]byte({_go_raw(json.dumps(body, ensure_ascii=False))}), &params); err != nil {{",
                "\t\tlog.Fatal(err)",
                "\t}",
            ]
            args.append("params")
        else:
            args.append(f"triggers.{base}Params{{}}")
    if op["query_params"] and not op["streaming"]:
        args.append(f"triggers.{base}{'Query' if op['body'] else 'Params'}{{}}")
    elif op["streaming"]:
        args.append("triggers.StreamParams{}")
    invocation = f"{service}.{method}({', '.join(args)})"
    kind = op["response"]["kind"]
    imports = {"context", "log"}
    if decode:
        imports.add("encoding/json")
    lines: list[str] = []
    if kind == "model":
        imports |= {"encoding/json", "fmt"}
        lines += [
            f"\tresult, err := {invocation}",
            "\tif err != nil {",
            "\t\tlog.Fatal(err)",
            "\t}",
            "\tout, err := json.Marshal(result)",
            "\tif err != nil {",
            "\t\tlog.Fatal(err)",
            "\t}",
            "\tfmt.Println(string(out))",
        ]
    elif kind == "page":
        imports |= {"encoding/json", "fmt"}
        lines += [
            f"\tfor item, err := range {invocation} {{",
            "\t\tif err != nil {",
            "\t\t\tlog.Fatal(err)",
            "\t\t}",
            "\t\tout, err := json.Marshal(item)",
            "\t\tif err != nil {",
            "\t\t\tlog.Fatal(err)",
            "\t\t}",
            "\t\tfmt.Println(string(out))",
            "\t}",
        ]
    elif kind == "stream":
        imports |= {"encoding/json", "fmt"}
        lines += [
            f"\tstream := {invocation}",
            "\tdefer stream.Close()",
            "\tfor stream.Next() {",
            "\t\tout, err := json.Marshal(stream.Current())",
            "\t\tif err != nil {",
            "\t\t\tlog.Fatal(err)",
            "\t\t}",
            "\t\tfmt.Println(string(out))",
            "\t}",
            "\tif err := stream.Err(); err != nil {",
            "\t\tlog.Fatal(err)",
            "\t}",
        ]
    elif kind == "text":
        imports.add("fmt")
        lines += [f"\ttext, err := {invocation}", "\tif err != nil {", "\t\tlog.Fatal(err)", "\t}", "\tfmt.Println(text)"]
    else:
        lines += [f"\tif err := {invocation}; err != nil {{", "\t\tlog.Fatal(err)", "\t}"]
    header = ["package main", "", "import ("]
    header += [f'\t"{name}"' for name in sorted(imports)]
    header += ["", '\ttriggers "github.com/zapier/triggers-sdk-go"', ")", "", "func main() {", "\tctx := context.Background()"]
    header += [f"\tclient := triggers.NewClient() // {ENV_NOTE}"]
    return "\n".join(header + decode + lines + ["}"]) + "\n"


def filters() -> dict[str, Callable[..., Any]]:
    return {
        "python_snippet": python_snippet,
        "typescript_snippet": typescript_snippet,
        "go_snippet": go_snippet,
        "snippet_body": snippet_body,
    }
