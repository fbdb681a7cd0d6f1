"""CLI flags and their environment variables; JSON-lines access logs with request ids and no secrets."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
from core_harness import ADMIN_KEY, Server

from triggers_server.cli import build_parser, settings_from_args
from triggers_server.config import FAST_RETRY_SCHEDULE
from triggers_server.logs import configure_logging


def test_flags_default_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIGGERS_PORT", "9001")
    monkeypatch.setenv("TRIGGERS_DB", ":memory:")
    monkeypatch.setenv("TRIGGERS_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.setenv("TRIGGERS_RETRY_SCHEDULE", "0,1,2")
    monkeypatch.setenv("TRIGGERS_RATE_LIMIT_RPS", "7")
    settings = settings_from_args(build_parser().parse_args([]))
    assert (settings.port, settings.db_path, settings.bootstrap_admin_key) == (9001, ":memory:", ADMIN_KEY)
    assert settings.retry_schedule == (0.0, 1.0, 2.0)
    assert settings.rate_limit_per_second == 7.0
    flags = settings_from_args(build_parser().parse_args(["--port", "9002", "--fast-retries", "--retention-days", "2"]))
    assert flags.port == 9002 and flags.retry_schedule == FAST_RETRY_SCHEDULE
    assert flags.retention_seconds == 2 * 86400


def test_bad_environment_values_are_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIGGERS_RETRY_SCHEDULE", "0,-5")
    with pytest.raises(SystemExit):
        build_parser()
    assert "TRIGGERS_RETRY_SCHEDULE" in capsys.readouterr().err


@pytest.mark.anyio
async def test_access_logs_are_json_lines_without_secrets(server: Server) -> None:
    sink = io.StringIO()
    logger = logging.getLogger("triggers_server")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    configure_logging("info", sink)
    try:
        response = await server.admin.post("/events", json={"type": "a.b", "source": "s"})
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    access = next(line for line in lines if line["msg"] == "request")
    assert access["request_id"] == response.headers["x-request-id"]
    assert (access["method"], access["route"], access["status"]) == ("POST", "/events", 201)
    assert access["account_id"].startswith("acct_") and access["key_id"].startswith("key_")
    assert ADMIN_KEY not in sink.getvalue()


def test_the_readme_lists_exactly_the_cli_flags() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    paragraph = readme[readme.index("Flags (each also") : readme.index("The contract is served")]
    documented = set(re.findall(r"--[a-z][a-z0-9-]*", paragraph)) - {"--help", "--version"}
    parser_flags = {
        option
        for action in build_parser()._actions  # argparse has no public list of its options
        for option in action.option_strings
        if option.startswith("--") and option not in ("--help", "--version")
    }
    assert documented == parser_flags
