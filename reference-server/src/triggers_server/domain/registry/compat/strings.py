"""String keywords: length limits, and ``pattern``/``format``/``content*``, which must stay exactly as written."""

from __future__ import annotations

import json
from typing import Any

from triggers_server.domain.registry.compat.counts import check_counts
from triggers_server.domain.registry.compat.findings import Incompatibility, pointer
from triggers_server.domain.registry.compat.nodes import Node, keywords
from triggers_server.domain.registry.compat.values import canonical

_KEYWORD_KINDS = {
    "pattern": "pattern_changed",
    "format": "format_changed",
    "contentEncoding": "content_encoding_changed",
    "contentMediaType": "content_media_type_changed",
    "contentSchema": "content_schema_changed",
}


def check_strings(writer: list[Node], reader: dict[str, Any], path: str) -> list[Incompatibility]:
    problems = check_counts(writer, reader, "minLength", "maxLength", "string_length_narrowed", path)
    for keyword, kind in _KEYWORD_KINDS.items():
        if keyword not in reader:
            continue
        value = reader[keyword]
        if not any(keyword in keywords(w) and canonical(keywords(w)[keyword]) == canonical(value) for w in writer):
            problems.append(
                Incompatibility(pointer(path, keyword), kind, f"{keyword} {json.dumps(value)[:120]} added or changed")
            )
    return problems
