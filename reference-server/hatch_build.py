"""Ship the contract inside the server: the wheel carries it as triggers_server/openapi.yaml (served at /v1/openapi.yaml).

Built from a clone, the file is the repository's own ../openapi.yaml; the sdist carries that copy at its root, so a
wheel built from the unpacked sdist (what installers do) finds it there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ContractHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        sdist_copy = root / "openapi.yaml"
        source = sdist_copy if sdist_copy.is_file() else root.parent / "openapi.yaml"
        target = "openapi.yaml" if self.target_name == "sdist" else "triggers_server/openapi.yaml"
        build_data["force_include"][str(source)] = target
