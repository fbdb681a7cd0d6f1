"""The import rule (pyproject's `[tool.importlinter]` contracts) holds, and it bites: a deliberately added
reverse import makes `lint-imports` fail and name the broken contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import triggers_server

SERVER = Path(__file__).resolve().parents[2]
PACKAGE = Path(triggers_server.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(project: Path, package_parent: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=project, env=environment, capture_output=True, text=True, check=False
    )


def _copy(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, to break without touching the real one."""
    shutil.copy(SERVER / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(PACKAGE, tmp_path / "src" / "triggers_server", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "src" / "triggers_server"


def _inject(module: Path, line: str) -> None:
    source = module.read_text(encoding="utf-8")
    head, marker, rest = source.partition("from __future__ import annotations\n")
    assert marker, module
    module.write_text(head + marker + line + "\n" + rest, encoding="utf-8")


def test_the_contracts_hold() -> None:
    result = _lint_imports(SERVER, PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_reverse_import_from_storage_breaks_the_contracts(tmp_path: Path) -> None:
    package = _copy(tmp_path)
    reverse = "from triggers_server.http.routes import events as _reverse  # noqa: F401"
    _inject(package / "storage" / "sqlite" / "events.py", reverse)
    result = _lint_imports(tmp_path, package.parent)
    assert result.returncode != 0
    assert "Storage imports neither the HTTP layer nor the domain BROKEN" in result.stdout
    assert "triggers_server.storage.sqlite.events -> triggers_server.http.routes.events" in result.stdout


def test_a_type_checking_circle_breaks_the_contracts(tmp_path: Path) -> None:
    package = _copy(tmp_path)
    _inject(
        package / "domain" / "streaming.py",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
        "    from triggers_server.http.services import Services  # noqa: F401",
    )
    result = _lint_imports(tmp_path, package.parent)
    assert result.returncode != 0
    assert "No import cycles anywhere in the server BROKEN" in result.stdout
