"""CLI test harness: every `triggers` invocation talks to the reference server in-process.

Each CliRunner invocation is its own `anyio.run` (as each real invocation is its own process), so the
server app is started per invocation over one SQLite file per test; the file is what persists between
commands, like a real server's database. Responses are streamed (``StreamingASGITransport``), so
`events stream` works in-process too. Nothing sleeps: the SDK's retry/reconnect sleeps are no-ops.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import pytest

pytest.importorskip("typer", reason="the CLI extra (zapier-triggers[cli]) is not installed")
pytest.importorskip("triggers_server", reason="the reference server (triggers-server) is not installed")

from typer.testing import CliRunner, Result

from zapier_triggers import TriggersClient
from zapier_triggers.cli.app import app
from zapier_triggers.cli.runtime import HttpFactory, Runtime
from zapier_triggers.testing import StreamingASGITransport

from .live import run_live_server

T = TypeVar("T")
ADMIN_KEY = "tk_clitest_0123456789abcdefghijklmnop"
BASE_URL = "http://triggers.test/v1"


async def no_sleep(_seconds: float) -> None:
    """Stands in for the SDK's retry and reconnect sleeps."""


@dataclass
class InProcessServer:
    """The reference server over one SQLite file; `http()` opens it for one CLI invocation."""

    db_path: Path
    overrides: dict[str, Any] = field(default_factory=dict[str, Any])

    def _app(self, webhook_client: httpx.AsyncClient | None = None) -> Any:
        server_app: Any = importlib.import_module("triggers_server.http.app")
        server_config: Any = importlib.import_module("triggers_server.config")
        settings = server_config.Settings(
            db_path=str(self.db_path),
            bootstrap_admin_key=ADMIN_KEY,
            **{"delivery_worker": False, **self.overrides},
        )
        return server_app.create_app(settings, webhook_client=webhook_client)

    def deliver_due(self, receiver: Callable[[httpx.Request], httpx.Response]) -> int:
        """One pass of the server's webhook sender, posting to ``receiver``; returns the attempts made."""

        async def main() -> int:
            async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as webhook_client:
                app = self._app(webhook_client)
                async with app.router.lifespan_context(app):
                    return int(await app.state.services.delivery.run_due())

        return anyio.run(main)

    @asynccontextmanager
    async def http(
        self, wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None
    ) -> AsyncGenerator[httpx.AsyncClient, None]:
        """An httpx client into a fresh app instance; ``wrap`` lets a test interpose on the transport."""
        app = self._app()
        async with app.router.lifespan_context(app), anyio.create_task_group() as group:
            transport: httpx.AsyncBaseTransport = StreamingASGITransport(app, group)
            async with httpx.AsyncClient(transport=wrap(transport) if wrap else transport) as http:
                yield http
            group.cancel_scope.cancel()

    def call(self, fn: Callable[[TriggersClient], Awaitable[T]]) -> T:
        """Run SDK calls directly (setup and assertions) against the same database."""

        async def main() -> T:
            async with self.http() as http:
                client = TriggersClient(
                    api_key=ADMIN_KEY, base_url=BASE_URL, http_client=http, sleep=no_sleep
                )
                return await fn(client)

        return anyio.run(main)


@dataclass
class Cli:
    """Invoke `triggers …` through Typer's runner with the in-process server wired in."""

    server: InProcessServer
    env: dict[str, str | None]
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        local_http: HttpFactory | None = None,
        api_http: HttpFactory | None = None,
        sleep: Callable[[float], Awaitable[None]] = no_sleep,
    ) -> Result:
        runtime = Runtime(api_http=api_http or self.server.http, local_http=local_http, sleep=sleep)
        return self.runner.invoke(
            app, list(args), input=input, env={**self.env, **(env or {})}, obj=runtime, catch_exceptions=False
        )

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, (
            f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """A real `triggers-server` process (see ``live.py``); its base URL."""
    with run_live_server(tmp_path) as base_url:
        yield base_url


@pytest.fixture
def server(tmp_path: Path) -> InProcessServer:
    return InProcessServer(tmp_path / "triggers.db")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.toml"


@pytest.fixture
def cli(server: InProcessServer, config_file: Path) -> Cli:
    env: dict[str, str | None] = {
        "TRIGGERS_CONFIG": str(config_file),
        "TRIGGERS_API_KEY": ADMIN_KEY,
        "TRIGGERS_BASE_URL": BASE_URL,
        "TRIGGERS_PROFILE": None,
        "TRIGGERS_SOURCE": None,
        "TRIGGERS_FORWARD_SECRET": None,
        "NO_COLOR": "1",
    }
    return Cli(server, env)


def ndjson(text: str) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in text.splitlines() if line.strip()]


def send_events(server: InProcessServer, types: Sequence[str]) -> list[str]:
    """Create events directly through the SDK; returns their ids."""

    async def create(client: TriggersClient) -> list[str]:
        ids: list[str] = []
        for index, event_type in enumerate(types):
            event = await client.events.create(type=event_type, source="seed", data={"n": index})
            ids.append(event.id)
        return ids

    return server.call(create)
