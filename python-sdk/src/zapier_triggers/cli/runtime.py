"""What every command shares: resolved settings, the printer, the SDK client, and error handling.

Commands are synchronous Typer functions that hand an async body to :meth:`Invocation.run`, which
runs it on the async SDK client and turns every failure into one stderr line and an exit code.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime

import anyio
import httpx
import typer
from rich.text import Text

from .._client import TriggersClient
from .._exceptions import APIError, APIStatusError
from .config import ResolvedSettings, config_path, load_config, resolve_settings
from .errors import CliError, describe_api_error, exit_code_for
from .exit_codes import ExitCode
from .interrupts import interrupt_raises
from .output import OutputFormat, Printer, resolve_format
from .times import utc_now

__all__ = ["HttpFactory", "Invocation", "Runtime", "fail", "runtime_of"]

HttpFactory = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]
Work = Callable[[TriggersClient], Awaitable["ExitCode | None"]]


@dataclass
class Runtime:
    """Seams for tests, passed as Click's ``obj``; production uses the defaults.

    ``api_http`` opens the httpx client used to reach the API (tests: the reference server
    in-process), ``local_http`` the one `forward` posts deliveries with, ``sleep`` replaces the SDK's
    retry/reconnect sleeps and `listen`'s poll interval, ``now`` the clock behind relative times.
    """

    api_http: HttpFactory | None = None
    local_http: HttpFactory | None = None
    sleep: Callable[[float], Awaitable[None]] | None = None
    now: Callable[[], datetime] = field(default=utc_now)


def runtime_of(ctx: typer.Context) -> Runtime:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Runtime) else Runtime()


def fail(message: str, code: ExitCode) -> typer.Exit:
    """Print the one-line error and return the Exit to raise."""
    typer.echo("Error: " + " ".join(message.split()), err=True)
    return typer.Exit(int(code))


@dataclass
class Invocation:
    """One command run: settings resolved from flags/env/profile, and the printer for `--output`."""

    runtime: Runtime
    settings: ResolvedSettings
    printer: Printer

    @classmethod
    def create(
        cls,
        ctx: typer.Context,
        *,
        profile: str | None,
        output: OutputFormat | None,
        api_key: str | None = None,
        base_url: str | None = None,
        source: str | None = None,
    ) -> Invocation:
        runtime = runtime_of(ctx)
        try:
            settings = resolve_settings(
                load_config(config_path()),
                profile=profile,
                api_key=api_key,
                base_url=base_url,
                source=source,
            )
        except CliError as error:
            raise fail(error.message, error.code) from None
        printer = Printer(resolve_format(output, sys.stdout), now=runtime.now)
        return cls(runtime, settings, printer)

    def run(self, work: Work, *, show_sdk_notices: bool = False) -> None:
        """Run ``work`` with a client; exit with its code, or map its failure to one.

        ``show_sdk_notices`` prints the SDK's retry/reconnect notices on stderr, for long-running
        commands (stream, forward) where silence during a reconnect would look like a hang.
        """
        try:
            api_key = self.settings.require_api_key()
        except CliError as error:
            raise fail(error.message, error.code) from None

        hint: list[str] = []

        async def main() -> ExitCode:
            async with self._client(api_key) as client:
                try:
                    return (await work(client)) or ExitCode.OK
                except Exception as raised:
                    leaf = _leaf(raised)
                    if isinstance(leaf, APIStatusError) and leaf.status_code == 404:
                        hint.extend(await missing_v1_hint(client))
                    raise

        try:
            with interrupt_raises(), _sdk_notices(self.printer) if show_sdk_notices else nullcontext():
                code = anyio.run(main)
        except BaseException as raised:  # exception groups from task groups carry the real error inside
            leaf = _leaf(raised)
            if isinstance(leaf, APIError):
                raise fail("; ".join([describe_api_error(leaf), *hint]), exit_code_for(leaf)) from None
            if isinstance(leaf, CliError):
                raise fail(leaf.message, leaf.code) from None
            if isinstance(leaf, KeyboardInterrupt):
                raise fail("Interrupted.", ExitCode.INTERRUPTED) from None
            raise leaf from None  # a bug or an OS error: its own traceback, without the group around it
        if code is not ExitCode.OK:
            raise typer.Exit(int(code))

    @asynccontextmanager
    async def _client(self, api_key: str) -> AsyncGenerator[TriggersClient, None]:
        if self.runtime.api_http is None:
            async with TriggersClient(
                api_key=api_key, base_url=self.settings.base_url, sleep=self.runtime.sleep
            ) as client:
                yield client
            return
        async with self.runtime.api_http() as http:
            yield TriggersClient(
                api_key=api_key, base_url=self.settings.base_url, http_client=http, sleep=self.runtime.sleep
            )


async def missing_v1_hint(client: TriggersClient) -> list[str]:
    """After a 404: when the base URL's path lacks ``/v1`` and ``<base>/v1/health`` answers, say so.

    Only a base URL that would work with ``/v1`` gets the hint, so a real "no such event" under a
    custom prefix (a proxy, another version) is never blamed on the URL.
    """
    base = str(client.base_url).rstrip("/")
    if client.base_url.path.rstrip("/").endswith("/v1"):
        return []
    try:
        await client.request("GET", "v1/health")
    except APIError:
        return []
    return [f"the base URL has no /v1 and {base}/v1 answers: use --base-url {base}/v1"]


class _NoticeHandler(logging.Handler):
    def __init__(self, printer: Printer) -> None:
        super().__init__(logging.INFO)
        self._printer = printer

    def emit(self, record: logging.LogRecord) -> None:
        self._printer.note(Text(record.getMessage(), style="dim"))


@contextmanager
def _sdk_notices(printer: Printer) -> Generator[None, None, None]:
    logger = logging.getLogger("zapier_triggers")
    handler = _NoticeHandler(printer)
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _leaf(error: BaseException) -> BaseException:
    """The first non-group exception inside (possibly nested) exception groups."""
    while True:
        inner = getattr(error, "exceptions", None)
        if not inner:
            return error
        error = inner[0]
