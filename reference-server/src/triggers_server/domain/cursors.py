"""Opaque pagination cursors: base64url JSON with a kind tag, so a cursor of one list is refused by another."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, cast

from triggers_server.domain.errors import Malformed
from triggers_server.jsoncodec import loads


def encode_cursor(kind: str, position: dict[str, Any]) -> str:
    raw = json.dumps({"k": kind, **position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> dict[str, Any] | None:
    """The position in `cursor`, None for no cursor, 400 `malformed-request` for anything not ours."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        value = None
    if not isinstance(value, dict):
        raise Malformed("The cursor is malformed or belongs to another list.")
    position = cast("dict[str, Any]", value)
    if position.pop("k", None) != kind:
        raise Malformed("The cursor is malformed or belongs to another list.")
    return position


def int_field(position: dict[str, Any], name: str) -> int:
    value = position.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Malformed("The cursor is malformed or belongs to another list.")
    return value


def str_field(position: dict[str, Any], name: str) -> str:
    value = position.get(name)
    if not isinstance(value, str):
        raise Malformed("The cursor is malformed or belongs to another list.")
    return value
