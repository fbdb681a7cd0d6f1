"""schemathesis against the live server on loopback: every operation but the stream, bounded examples,
response schema / status / content-type / header conformance, no server errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from live_server import ADMIN, running

CONTRACT = Path(__file__).resolve().parents[3] / "openapi.yaml"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


@pytest.mark.slow
def test_schemathesis_finds_no_failures(tmp_path: Path) -> None:
    with running(tmp_path / "st.db", tmp_path / "server.log", "--no-delivery-worker") as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                str(CONTRACT),
                "--url",
                server.base_url,
                "-H",
                f"Authorization: Bearer {ADMIN}",
                "--checks",
                CHECKS,
                "--exclude-operation-id",
                "streamEvents",
                "--max-examples",
                "10",
                "--seed",
                "20261125",
                "--no-shrink",
                "--request-timeout",
                "30",
                "--workers",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
