"""What the task runner shows a developer: the order `nox -s tests` runs in, and that skipped tests say why.

Run by `nox -s lint`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, cast

import noxfile

ROOT = Path(__file__).resolve().parents[1]


def test_tests_session_runs_every_ci_session_before_it_reports() -> None:
    # Selecting `tests` alone must queue every CI session as its prerequisite (nox runs those first and skips
    # `tests` if one fails), not leave them to be notified after `tests` has already been reported successful.
    listing = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "--list", "--json", "-s", "tests"],
        capture_output=True,
        text=True,
        check=True,
    )
    selected = {entry["session"] for entry in json.loads(listing.stdout)}
    assert selected == {*noxfile.CI_SESSIONS, "tests"}
    assert {"lint", "codegen_check", "server", "python", "typescript", "go", "contract"} <= selected


def test_go_test_command_prints_each_skip_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.test/skips\n\ngo 1.23\n")
    (tmp_path / "skip_test.go").write_text(
        textwrap.dedent(
            """\
            package skips

            import "testing"

            func TestNeedsVectors(t *testing.T) { t.Skip("conformance vectors absent here") }

            func TestRuns(t *testing.T) {}
            """
        )
    )
    run = subprocess.run([*noxfile.GO_TEST, "-count=1", "./..."], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "TestNeedsVectors" in run.stdout
    assert "conformance vectors absent here" in run.stdout


def test_server_suite_prints_skip_reasons(tmp_path: Path) -> None:
    # The reference server's pytest settings (its pyproject.toml) carry -ra: the summary names every skip's reason.
    (tmp_path / "test_skip.py").write_text('import pytest\n\n\ndef test_absent() -> None:\n    pytest.skip("shared folder absent")\n')
    settings = ROOT / "reference-server" / "pyproject.toml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-c", str(settings), "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.search(r"^SKIPPED \[1\] \S*test_skip\.py:5: shared folder absent$", run.stdout, flags=re.MULTILINE)


def test_npm_ci_reinstalls_when_the_lock_file_changed_since_the_last_install(tmp_path: Path) -> None:
    # A pulled dependency change (e.g. the console gaining @scalar/api-reference) must reach an existing node_modules.
    ran: list[tuple[str, ...]] = []

    class Session:
        def chdir(self, folder: Path) -> Any:
            return contextlib.nullcontext()

        def run(self, *args: str, **kwargs: Any) -> None:
            ran.append(args)

    session = cast(Any, Session())
    lock, installed = tmp_path / "package-lock.json", tmp_path / "node_modules" / ".package-lock.json"
    lock.write_text("{}")
    noxfile._npm_ci(session, tmp_path)  # nothing installed yet
    assert len(ran) == 1 and ran[0][:2] == ("npm", "ci")
    installed.parent.mkdir()
    installed.write_text("{}")
    os.utime(lock, (1_000, 1_000))
    os.utime(installed, (2_000, 2_000))
    noxfile._npm_ci(session, tmp_path)  # up to date: no reinstall
    assert len(ran) == 1
    os.utime(lock, (3_000, 3_000))
    noxfile._npm_ci(session, tmp_path)  # the lock file moved on
    assert len(ran) == 2
