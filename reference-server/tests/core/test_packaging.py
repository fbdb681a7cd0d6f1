"""The installable wheel carries what a fresh install needs: the contract it serves, the migrations and the
`triggers-server` console script; so does a wheel built from the sdist."""

from __future__ import annotations

import subprocess
import sys
import tarfile
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
        assert "triggers_server/storage/postgres/migrations/0001_schema.sql" in names
        entry_points = next(name for name in names if name.endswith("entry_points.txt"))
        assert "triggers-server = triggers_server.cli:main" in archive.read(entry_points).decode()


@pytest.mark.slow
def test_a_wheel_built_from_the_sdist_alone_carries_the_contract(tmp_path: Path) -> None:
    # Installers build the wheel from the unpacked sdist, away from the repository's ../openapi.yaml.
    def hook(name: str, out: Path, cwd: Path) -> None:
        code = f"import sys; from hatchling.build import {name}; {name}(sys.argv[1])"
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, timeout=300, cwd=cwd)

    hook("build_sdist", tmp_path, PACKAGE)
    [sdist] = tmp_path.glob("triggers_server-*.tar.gz")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    [source] = unpacked.iterdir()
    hook("build_wheel", tmp_path, source)
    [wheel] = tmp_path.glob("triggers_server-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("triggers_server/openapi.yaml") == CONTRACT.read_bytes()
