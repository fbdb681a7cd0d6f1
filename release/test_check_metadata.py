"""release/check_metadata.py: what `nox -s release` prints and exits with for good and unpublishable artifacts."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

SCRIPT = Path(__file__).with_name("check_metadata.py")


def _metadata(*requires: str) -> str:
    lines = ["Metadata-Version: 2.4", "Name: zapier-triggers", "Version: 0.1.0", *(f"Requires-Dist: {r}" for r in requires)]
    return "\n".join(lines) + "\n\nlong description\n"


def _wheel(folder: Path, *requires: str) -> Path:
    path = folder / "zapier_triggers-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("zapier_triggers/__init__.py", "")
        wheel.writestr("zapier_triggers-0.1.0.dist-info/METADATA", _metadata(*requires))
    return path


def _sdist(folder: Path, *requires: str) -> Path:
    path = folder / "zapier_triggers-0.1.0.tar.gz"
    with tarfile.open(path, "w:gz") as sdist:
        data = _metadata(*requires).encode()
        member = tarfile.TarInfo("zapier_triggers-0.1.0/PKG-INFO")
        member.size = len(data)
        sdist.addfile(member, io.BytesIO(data))
    return path


def _check(*artifacts: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, artifacts)], capture_output=True, text=True, check=False)


def test_artifacts_naming_dependencies_by_version_pass(tmp_path: Path) -> None:
    requires = ["httpx<0.29,>=0.27", "triggers-server; extra == 'testing'"]
    run = _check(_wheel(tmp_path, *requires), _sdist(tmp_path, *requires))
    assert run.returncode == 0, run.stderr
    assert "zapier_triggers-0.1.0-py3-none-any.whl: zapier-triggers 0.1.0, 2 requirements, ok" in run.stdout
    assert "zapier_triggers-0.1.0.tar.gz: zapier-triggers 0.1.0, 2 requirements, ok" in run.stdout


def test_a_direct_url_reference_in_a_wheel_or_sdist_fails_and_is_named(tmp_path: Path) -> None:
    direct = "triggers-server @ file:///home/dev/triggers/reference-server ; extra == 'testing'"
    wheel_dir, sdist_dir = tmp_path / "w", tmp_path / "s"
    wheel_dir.mkdir()
    sdist_dir.mkdir()
    run = _check(_wheel(wheel_dir, "httpx>=0.27", direct), _sdist(sdist_dir, "anyio @ git+https://example.test/anyio.git"))
    assert run.returncode == 1
    assert "zapier_triggers-0.1.0-py3-none-any.whl: zapier-triggers 0.1.0, 2 requirements, FAIL" in run.stdout
    assert "Requires-Dist \"triggers-server @ file:///home/dev/triggers/reference-server ; extra == 'testing'\"" in run.stderr
    assert "zapier_triggers-0.1.0.tar.gz: Requires-Dist 'anyio @ git+https://example.test/anyio.git' is a direct URL" in run.stderr
