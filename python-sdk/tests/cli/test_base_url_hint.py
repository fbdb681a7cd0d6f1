"""A base URL without /v1: the 404 line says so, but only when `<base>/v1` really answers."""

from __future__ import annotations

from .conftest import Cli, InProcessServer, send_events


def test_a_base_url_without_v1_gets_a_one_line_hint(cli: Cli) -> None:
    result = cli("events", "list", env={"TRIGGERS_BASE_URL": "http://triggers.test"})
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 404 ")
    assert line.endswith(
        "the base URL has no /v1 and http://triggers.test/v1 answers: use --base-url http://triggers.test/v1"
    )


def test_the_flag_gets_the_same_hint(cli: Cli) -> None:
    result = cli("dlq", "list", "--base-url", "http://triggers.test/")
    assert result.exit_code == 1
    assert "use --base-url http://triggers.test/v1" in result.stderr


def test_no_hint_when_v1_would_not_work_either(cli: Cli) -> None:
    result = cli("events", "list", "--base-url", "http://triggers.test/api")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 404 ") and "/v1" not in line


def test_no_hint_for_a_real_not_found_under_v1(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["a.one"])
    result = cli("events", "get", "evt_missing")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 404 ") and "base URL" not in line
