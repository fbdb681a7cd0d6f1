"""Profiles (flags > env > file), masked keys, and the exit codes for usage/API/connection errors."""

from __future__ import annotations

import json
import signal
import stat
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from zapier_triggers._exceptions import make_status_error
from zapier_triggers.cli.config import ConfigFile, Profile, mask_secret, resolve_settings
from zapier_triggers.cli.errors import CliError, describe_api_error
from zapier_triggers.cli.times import parse_since, relative

from .conftest import ADMIN_KEY, BASE_URL, Cli, InProcessServer, ndjson

WRONG_KEY = "tk_wrong_000000000000000000000000"


def no_env(cli: Cli) -> dict[str, str | None]:
    return {"TRIGGERS_API_KEY": None, "TRIGGERS_BASE_URL": None}


def test_set_profile_writes_private_toml_and_masks_the_key(cli: Cli, config_file: Path) -> None:
    result = cli.ok("config", "set-profile", "local", "--api-key", ADMIN_KEY, "--base-url", BASE_URL)
    assert ADMIN_KEY not in result.stdout + result.stderr
    assert mask_secret(ADMIN_KEY) in result.stderr
    assert "(default)" in result.stderr
    text = config_file.read_text()
    assert 'default_profile = "local"' in text and "[profiles.local]" in text
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600


def test_profile_is_used_when_env_is_absent(cli: Cli) -> None:
    cli.ok("config", "set-profile", "local", "--api-key", ADMIN_KEY, "--base-url", BASE_URL)
    cli.ok("events", "send", "-t", "a.b", env=no_env(cli))


def test_named_profile_flag_env_precedence(cli: Cli) -> None:
    cli.ok("config", "set-profile", "good", "--api-key", ADMIN_KEY)
    cli.ok("config", "set-profile", "bad", "--api-key", WRONG_KEY, "--no-default")

    wrong = cli("events", "list", "--profile", "bad", env=no_env(cli))
    assert wrong.exit_code == 1 and wrong.stderr.startswith("Error: 401 ")
    assert WRONG_KEY not in wrong.stderr

    cli.ok("events", "list", "--profile", "bad", env={"TRIGGERS_API_KEY": ADMIN_KEY})  # env beats the file
    flag = cli("events", "list", "--api-key", WRONG_KEY)  # the flag beats env
    assert flag.exit_code == 1
    cli.ok("events", "list", env={**no_env(cli), "TRIGGERS_PROFILE": "good"})


def test_unknown_profile_and_missing_key_are_usage_errors(cli: Cli) -> None:
    unknown = cli("events", "list", "--profile", "nope")
    assert unknown.exit_code == 2
    assert "Profile 'nope' is not in" in unknown.stderr
    missing = cli("events", "list", env=no_env(cli))
    assert missing.exit_code == 2
    assert missing.stderr.startswith("Error: No API key")


def test_config_show_reports_origins_with_masked_keys(cli: Cli) -> None:
    cli.ok("config", "set-profile", "local", "--api-key", ADMIN_KEY, "--base-url", "http://file.example/v1")
    shown = json.loads(cli.ok("config", "show", "-o", "json", env={"TRIGGERS_API_KEY": None}).stdout)
    assert shown["profiles"] == [
        {
            "name": "local",
            "default": True,
            "base_url": "http://file.example/v1",
            "api_key": mask_secret(ADMIN_KEY),
            "source": None,
        }
    ]
    assert shown["effective"]["origins"] == {
        "api_key": "profile local",
        "base_url": "env TRIGGERS_BASE_URL",
        "source": "default",
    }
    table = cli.ok("config", "show", "-o", "table")
    assert ADMIN_KEY not in table.stdout
    assert "local *" in table.stdout


def test_malformed_config_file_is_a_usage_error(cli: Cli, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("profiles = [")
    result = cli("events", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: Cannot read config file {config_file}")


def test_resolve_settings_precedence_field_by_field() -> None:
    config = ConfigFile(Path("c.toml"), "p", {"p": Profile(api_key="tk_file", base_url="http://file/v1")})
    resolved = resolve_settings(
        config, profile=None, api_key=None, base_url="http://flag/v1", env={"TRIGGERS_API_KEY": "tk_env"}
    )
    assert (resolved.api_key, resolved.base_url, resolved.source) == (
        "tk_env",
        "http://flag/v1",
        "triggers-cli",
    )
    with pytest.raises(CliError):
        resolve_settings(config, profile="missing", api_key=None, base_url=None, env={})


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        (None, "-"),
        ("tk_short", "tk_…"),
        ("tk_live_abcdefghijkl1234", "tk_…1234"),
        ("plainsecretvalue", "…alue"),
    ],
)
def test_mask_secret(secret: str | None, masked: str) -> None:
    assert mask_secret(secret) == masked


def test_connection_error_exits_3_with_one_line(cli: Cli) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    @asynccontextmanager
    async def refusing() -> AsyncGenerator[httpx.AsyncClient, None]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            yield client

    result = cli("events", "list", api_http=refusing)
    assert result.exit_code == 3
    assert result.stderr == "Error: could not reach http://triggers.test: [Errno 111] Connection refused\n"


def test_timeout_exits_3(cli: Cli) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    @asynccontextmanager
    async def timing_out() -> AsyncGenerator[httpx.AsyncClient, None]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
            yield client

    result = cli("events", "get", "evt_x", api_http=timing_out)
    assert result.exit_code == 3
    assert result.stderr == "Error: timed out waiting for http://triggers.test\n"


def test_usage_error_from_typer_exits_2(cli: Cli) -> None:
    result = cli("events", "list", "--limit", "0")
    assert result.exit_code == 2


def test_version_and_help(cli: Cli) -> None:
    assert cli.ok("--version").stdout.startswith("triggers ")
    help_text = cli.ok("--help").stdout
    for group in ("events", "inbox", "forward", "dlq", "schemas", "subscriptions", "config"):
        assert group in help_text
    assert "Exit codes" in help_text


def test_piped_output_is_ndjson_and_table_is_opt_in(cli: Cli) -> None:
    cli.ok("events", "send", "-t", "a.b")
    piped = cli.ok("events", "list").stdout
    assert [e["type"] for e in ndjson(piped)] == ["a.b"]
    assert cli.ok("events", "list", "-o", "table").stdout.startswith("ID")


def test_relative_times_and_since_parsing() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    assert relative(now, now) == "just now"
    assert relative(now - timedelta(seconds=42), now) == "42s ago"
    assert relative(now - timedelta(minutes=2, seconds=5), now) == "2m ago"
    assert relative(now - timedelta(hours=3), now) == "3h ago"
    assert relative(now - timedelta(days=2), now) == "2d ago"
    assert relative(now + timedelta(minutes=5), now) == "in 5m"
    assert parse_since("10m", now) == now - timedelta(minutes=10)
    assert parse_since("1w", now) == now - timedelta(days=7)
    assert parse_since("2026-11-25T10:00:00Z", now) == now - timedelta(hours=2)
    assert parse_since("2026-11-25T10:00:00", now).tzinfo is not None
    with pytest.raises(ValueError):
        parse_since("yesterday", now)


def test_api_error_line_lists_field_errors_the_detail_does_not_mention() -> None:
    request = httpx.Request("POST", "http://triggers.test/v1/events")
    response = httpx.Response(
        422,
        json={
            "type": "https://triggers.dev/problems/validation",
            "title": "Validation failed",
            "status": 422,
            "detail": "2 fields are invalid; /type: too long",
            "request_id": "req_1",
            "errors": [
                {"pointer": "/type", "detail": "too long"},
                {"pointer": "/time", "detail": "not a date"},
            ],
        },
        request=request,
    )
    error = make_status_error(response, idempotency_key=None, retry_after=None)
    assert describe_api_error(error) == (
        "422 Validation failed — 2 fields are invalid; /type: too long — /time: not a date (request req_1)"
    )


def test_delete_profile(cli: Cli, config_file: Path) -> None:
    cli.ok("config", "set-profile", "local", "--api-key", ADMIN_KEY)
    cli.ok("config", "set-profile", "other", "--api-key", WRONG_KEY)
    result = cli.ok("config", "delete-profile", "local")
    assert "Deleted profile local" in result.stderr
    text = config_file.read_text()
    assert "local" not in text and "default_profile" not in text and "[profiles.other]" in text
    assert cli("config", "delete-profile", "local").exit_code == 2


@pytest.mark.parametrize("url", ["localhost:8080", "http://", "ftp://example.com/v1"])
def test_a_base_url_that_is_not_http_is_a_usage_error(cli: Cli, url: str) -> None:
    result = cli("events", "list", "--base-url", url)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: Base URL {url!r} (from flag) must be an http(s) URL like http://127.0.0.1:8080/v1\n"
    )


def test_ctrl_c_during_a_one_shot_command_exits_130(cli: Cli, server: InProcessServer) -> None:
    async def interrupt(request: httpx.Request) -> None:
        signal.raise_signal(signal.SIGINT)

    @asynccontextmanager
    async def interrupted_api() -> AsyncGenerator[httpx.AsyncClient, None]:
        async with server.http() as http:
            http.event_hooks["request"].append(interrupt)
            yield http

    result = cli("events", "list", api_http=interrupted_api)
    assert result.exit_code == 130
    assert result.stderr == "Error: Interrupted.\n"
