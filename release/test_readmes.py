"""The install lines of the READMEs: each shows a way that works today (the ways `nox -s release` exercises), and no
registry install line appears without saying it only works after publication (nothing is on a registry yet)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Registry installs: only true once the packages are published.
REGISTRY = re.compile(
    r"pip install ['\"]?(zapier-triggers|triggers-server)\b|npm install @zapier-triggers/sdk|go get github\.com/zapier/triggers-sdk-go"
)
MARK = "after publication"

# Today's lines, as the release session runs them (clone paths, dist/ artifacts, the Go replace and file proxy).
TODAY = {
    "README.md": ["pip install ./python-sdk", "pip install ./reference-server './python-sdk[testing]'", "dist/zapier-triggers-sdk-"],
    "python-sdk/README.md": [
        "pip install ./python-sdk",
        "pip install ./reference-server './python-sdk[testing]'",
        'pip install dist/triggers_server-*.whl "$(ls dist/zapier_triggers-*.whl)[testing]"',
    ],
    "reference-server/README.md": ["pip install ./reference-server", "pip install dist/triggers_server-*.whl"],
    "sdks/typescript/README.md": ["npm install /path/to/clone/dist/zapier-triggers-sdk-"],
    "sdks/go/README.md": [
        "go mod edit -require=github.com/zapier/triggers-sdk-go@v0.1.0 -replace=github.com/zapier/triggers-sdk-go=/path/to/clone/sdks/go",
        "GOPROXY=file:///path/to/clone/dist/goproxy,$(go env GOPROXY) GONOSUMDB=github.com/zapier/triggers-sdk-go go get",
    ],
}


def _context(lines: list[str], index: int) -> str:
    """The line, plus what introduces it: for a code block the prose line before the fence, for a table its header."""
    fences = [i for i in range(index) if lines[i].startswith("```")]
    if len(fences) % 2 == 1:  # inside a fenced block
        before = [line for line in lines[: fences[-1]] if line.strip()]
        return lines[index] + "\n" + (before[-1] if before else "")
    if lines[index].startswith("|"):
        start = index
        while start > 0 and lines[start - 1].startswith("|"):
            start -= 1
        return lines[index] + "\n" + lines[start]
    return lines[index]


def _markdown_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [name for name in listed if (ROOT / name).is_file()]


@pytest.mark.parametrize("name", _markdown_files())
def test_registry_install_lines_say_they_work_after_publication(name: str) -> None:
    lines = (ROOT / name).read_text().splitlines()
    unmarked = [
        f"{name}:{i + 1}: {line.strip()}"
        for i, line in enumerate(lines)
        if REGISTRY.search(line) and "GOPROXY=file://" not in line and MARK not in _context(lines, i).lower()
    ]
    assert not unmarked


@pytest.mark.parametrize("name", sorted(TODAY))
def test_each_readme_shows_an_install_that_works_today(name: str) -> None:
    text = (ROOT / name).read_text()
    assert [line for line in TODAY[name] if line not in text] == []
