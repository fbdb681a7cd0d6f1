"""Run inside a fresh virtual environment holding the built (or clone-installed) packages, outside the repository.

    python release/smoke.py

The SDK, its `[testing]` extra and the reference server import from site-packages, the server carries the contract
in its own package (what it serves at /v1/openapi.yaml), and the SDK talks to it in-process: one event created and
read back.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import anyio
import triggers_server
import zapier_triggers
from zapier_triggers.testing import triggers_server as in_process_server


async def main() -> None:
    for module in (zapier_triggers, triggers_server):
        assert "site-packages" in Path(module.__file__ or "").parts, f"{module.__name__} imported from {module.__file__}"
    contract = resources.files("triggers_server").joinpath("openapi.yaml")
    assert contract.is_file() and contract.read_text(encoding="utf-8").startswith("openapi:"), "contract not packaged"
    async with in_process_server() as client:
        created = await client.events.create(type="release.smoke", source="release", data={"ok": True})
        fetched = await client.events.get(created.id)
        assert fetched.type == "release.smoke", fetched
    print(f"smoke ok: zapier-triggers {zapier_triggers.__version__}, triggers-server, Python {sys.version.split()[0]}")


anyio.run(main)
