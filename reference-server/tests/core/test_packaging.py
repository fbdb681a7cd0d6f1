"""The installable wheel carries what a fresh install needs: the contract it serves, the migrations and the
`triggers-server` console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
CONTRACT = PACKAGE.parent / "openapi.yaml"


@pytest.mark.slow
def test_wheel_contains_contract_migrations_and_script(tmp_path: Path) -> None:
    # The PEP 517 hook of the pinned build backend itself (no pip needed: uv-made venvs have none).
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from hatchling.build import build_wheel; build_wheel(sys.argv[1])",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
        cwd=PACKAGE,
    )
    [wheel] = tmp_path.glob("triggers_server-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert archive.read("triggers_server/openapi.yaml") == CONTRACT.read_bytes()
        assert "triggers_server/storage/sqlite/migrations/0001_core.sql" in names
        entry_points = next(name for name in names if name.endswith("entry_points.txt"))
        assert "triggers-server = triggers_server.cli:main" in archive.read(entry_points).decode()
