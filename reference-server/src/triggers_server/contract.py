"""The contract file served at /v1/openapi.yaml: packaged inside the wheel, or the repository's own copy."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def contract_text() -> str:
    packaged = resources.files("triggers_server").joinpath("openapi.yaml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "openapi.yaml"
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError("openapi.yaml is neither packaged nor in a parent folder of the server")
