"""Compatibility verdicts against Apicurio Registry's JSON Schema compatibility vectors.

Each vector gives an original and an updated schema and whether the update is backward compatible
only, compatible both ways, or neither ("backward" there means backward and *not* forward). Every one of
the 145 vectors must match, except the two below where Apicurio's verdict is unsound: it compares a
``oneOf`` with overlapping branches as a union, and the payload given in the reason is valid under the
original schema but matches two branches of the updated one, so the updated schema rejects it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triggers_server.domain.registry.compat import find_incompatibilities

VECTORS = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "conformance"
    / "json-schema-compat"
    / "apicurio"
    / "compatibility-test-data.json"
)
# Vectors whose expected verdict we knowingly do not reproduce, with the reason.
EXCEPTIONS: dict[int, str] = {
    117: 'unsound "backward": "abcdef" is valid under oneOf [string, maxLength 5] and matches both'
    " branches of oneOf [string, maxLength 10]",
    119: 'unsound "backward": "ab" is valid under oneOf [string] and matches both branches of'
    " oneOf [string, maxLength 5]",
}
_VERDICTS = {
    (True, True): "both",
    (True, False): "backward",
    (False, True): "forward",
    (False, False): "none",
}


def _cases() -> list[Any]:
    if not VECTORS.is_file():
        return [
            pytest.param(None, id="absent", marks=pytest.mark.skip(reason=f"conformance vectors absent: {VECTORS}"))
        ]
    tests = json.loads(VECTORS.read_text(encoding="utf-8"))["tests"]
    return [
        pytest.param(
            case,
            id=f"{index}-{case['id']}",
            marks=[pytest.mark.xfail(reason=EXCEPTIONS[index], strict=True)] if index in EXCEPTIONS else [],
        )
        for index, case in enumerate(tests)
        if case.get("enabled", True)
    ]


@pytest.mark.parametrize("case", _cases())
def test_apicurio_verdict(case: dict[str, Any]) -> None:
    backward = find_incompatibilities(case["original"], case["updated"])
    forward = find_incompatibilities(case["updated"], case["original"])
    verdict = _VERDICTS[(not backward, not forward)]
    assert verdict == case["compatibility"], {"backward": backward, "forward": forward}
