"""Jinja filters for the Go SDK templates (codegen/templates/go/).

Identifiers follow oapi-codegen's `ToCamelCaseWithInitialisms` normaliser (with the extra initialisms
listed in codegen/templates/go/oapi-codegen.yaml), so a name rendered here always matches the model
type oapi-codegen generated for the same schema. Durations are written with their unit, so a seconds
value from policy.yaml never becomes a bare integer (the Svix Go SDK's "50 µs backoff" bug).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# oapi-codegen v2.8.0 pkg/codegen/utils.go initialismsList, plus our additional-initialisms.
_OAPI_INITIALISMS = [
    "ACL",
    "API",
    "ASCII",
    "CPU",
    "CSS",
    "DNS",
    "EOF",
    "GUID",
    "HTML",
    "HTTP",
    "HTTPS",
    "ID",
    "IP",
    "JSON",
    "QPS",
    "RAM",
    "RPC",
    "SLA",
    "SMTP",
    "SQL",
    "SSH",
    "TCP",
    "TLS",
    "TTL",
    "UDP",
    "UI",
    "GID",
    "UID",
    "UUID",
    "URI",
    "URL",
    "UTF8",
    "VM",
    "XML",
    "XMPP",
    "XSRF",
    "XSS",
    "SIP",
    "RTP",
    "AMQP",
    "DB",
    "TS",
]
ADDITIONAL_INITIALISMS = ["DLQ", "SDK", "SSE", "MS"]
_INITIALISMS = {word.lower(): word for word in _OAPI_INITIALISMS + ADDITIONAL_INITIALISMS}
_PARTS = re.compile(r"[A-Z0-9]+(?:[a-z0-9]+|$)")
# Go keywords and predeclared names a parameter must not shadow.
_RESERVED = {
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
    "ctx",
    "opts",
    "params",
    "query",
    "path",
    "url",
    "string",
    "error",
    "len",
}
# Resource names that are already singular (or uncountable) when naming a params type.
_SINGULAR = {"inbox", "account", "ops", "dlq"}


def _camel_with_digits(value: str) -> str:
    """oapi-codegen ToCamelCaseWithDigits: non-alphanumerics split words; keep existing capitals."""
    out = []
    cap_next = True
    for ch in value:
        if ch.isupper():
            out.append(ch)
            cap_next = False
        elif ch.isdigit():
            out.append(ch)
            cap_next = True
        elif ch.islower():
            out.append(ch.upper() if cap_next else ch)
            cap_next = False
        else:
            cap_next = True
    return "".join(out)


def go_ident(value: str) -> str:
    """Exported Go identifier, the way oapi-codegen names it: ``event_id`` -> ``EventID``, ``ApiKey`` -> ``APIKey``."""
    parts = _PARTS.findall(_camel_with_digits(value))
    ident = "".join(_INITIALISMS.get(p.lower(), p) for p in parts)
    return ident if ident and not ident[0].isdigit() else "X" + ident


def go_private(value: str) -> str:
    """Unexported Go identifier for a local variable or argument: ``event_id`` -> ``eventID``."""
    parts = _PARTS.findall(_camel_with_digits(value))
    words = [_INITIALISMS.get(p.lower(), p) for p in parts]
    if not words:
        return "value"
    ident = words[0].lower() + "".join(words[1:])
    return ident + "Arg" if ident in _RESERVED else ident


def go_singular(resource: str) -> str:
    """``events`` -> ``Event``, ``deliveries`` -> ``Delivery``, ``api_keys`` -> ``APIKey``, ``inbox`` -> ``Inbox``."""
    name = resource
    if name not in _SINGULAR:
        if name.endswith("ies"):
            name = name[:-3] + "y"
        elif name.endswith("s") and not name.endswith("ss"):
            name = name[:-1]
    return go_ident(name)


def go_type(ref: dict[str, Any]) -> str:
    """The Go type of a TypeRef (model.py), naming schemas as oapi-codegen does."""
    kind = ref["kind"]
    if kind == "ref":
        return go_ident(ref["ref"])
    if kind == "array":
        return "[]" + go_type(ref["items"]) if ref.get("items") else "[]any"
    if kind == "string":
        return "time.Time" if ref.get("format") == "date-time" else "string"
    if kind == "integer":
        return "int64" if ref.get("format") == "int64" else "int"
    if kind == "number":
        return "float64"
    if kind == "boolean":
        return "*bool"
    if kind == "object":
        values = ref.get("values")
        return "map[string]" + (go_type(values) if values else "any")
    return "any"


def go_path(path: str, params: list[dict[str, Any]]) -> str:
    """A Go expression building the relative request path with escaped path parameters.

    ``/events/{event_id}/replay`` -> ``"events/" + url.PathEscape(eventID) + "/replay"``.
    """
    by_name = {p["name"]: p for p in params}
    pieces: list[str] = []
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", path.lstrip("/")):
        if literal:
            pieces.append(go_string(literal))
        if name:
            param = by_name[name]
            arg = go_private(name)
            if param["type"]["kind"] == "integer":
                arg = f"strconv.FormatInt(int64({arg}), 10)"
            pieces.append(f"url.PathEscape({arg})")
    return " + ".join(pieces) if pieces else '""'


def go_arg_type(param: dict[str, Any]) -> str:
    """The Go type of a path parameter argument (strings stay strings; integers become int)."""
    return "int" if param["type"]["kind"] == "integer" else "string"


def go_duration(seconds: float) -> str:
    """A Go constant expression for a duration given in seconds, exact to the millisecond."""
    millis = round(float(seconds) * 1000)
    if millis % 1000 == 0:
        return f"{millis // 1000} * time.Second"
    return f"{millis} * time.Millisecond"


def go_string(value: Any) -> str:
    """A Go interpreted string literal."""
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def go_comment(text: str, indent: str = "") -> str:
    """Text as Go line comments (one ``//`` per line), for doc comments."""
    lines = (text or "").strip().splitlines() or [""]
    return "\n".join(f"{indent}//" + (" " + line if line.strip() else "") for line in lines)


def go_unsupported(value: Any, what: str) -> str:
    """Fail generation loudly for a contract construct the Go templates do not render yet."""
    if value:
        raise ValueError(f"Go templates: unsupported {what}: {value!r}")
    return ""


def filters() -> dict[str, Callable[..., Any]]:
    return {
        "go_ident": go_ident,
        "go_private": go_private,
        "go_singular": go_singular,
        "go_type": go_type,
        "go_path": go_path,
        "go_arg_type": go_arg_type,
        "go_duration": go_duration,
        "go_string": go_string,
        "go_comment": go_comment,
        "go_unsupported": go_unsupported,
    }
