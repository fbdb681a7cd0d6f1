"""What the task runner shows a developer: the order `nox -s tests` runs in, and that skipped tests say why.

Run by `nox -s lint`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

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
