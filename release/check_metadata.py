"""Fail when a built Python artifact could not be published or installed from an index as it stands.

    python release/check_metadata.py dist/*.whl dist/*.tar.gz

A package index rejects (and pip refuses from one) a distribution whose dependencies carry a direct URL reference
(`triggers-server @ file:///...`, `... @ git+https://...`); each artifact's own metadata (a wheel's METADATA, an
sdist's PKG-INFO) must name its dependencies by name and version only. Prints one line per artifact; exit 1 on a
problem, with every offending requirement named.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement


def metadata(artifact: Path) -> Message:
    """The core metadata an artifact carries: a wheel's *.dist-info/METADATA, an sdist's top-level PKG-INFO."""
    if artifact.name.endswith(".whl"):
        with zipfile.ZipFile(artifact) as wheel:
            [name] = [n for n in wheel.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            text = wheel.read(name).decode()
    elif artifact.name.endswith(".tar.gz"):
        with tarfile.open(artifact) as sdist:
            [member] = [m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
            handle = sdist.extractfile(member)
            assert handle is not None
            text = handle.read().decode()
    else:
        raise ValueError(f"{artifact.name}: not a wheel or an sdist")
    return HeaderParser().parsestr(text)


def problems(artifact: Path) -> list[str]:
    found = []
    for line in metadata(artifact).get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.url:
            found.append(f"{artifact.name}: Requires-Dist {line!r} is a direct URL reference (an index rejects it)")
    return found


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: check_metadata.py ARTIFACT...", file=sys.stderr)
        return 2
    failures = []
    for artifact in map(Path, paths):
        found = problems(artifact)
        failures += found
        info = metadata(artifact)
        count = len(info.get_all("Requires-Dist") or [])
        print(f"{artifact.name}: {info['Name']} {info['Version']}, {count} requirements, {'FAIL' if found else 'ok'}")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
