"""`triggers listen`: a live view of events arriving and webhook delivery attempts, by polling the API.

Until the WebSocket listen session exists, each poll reads the events newer than the last one seen
(by sequence, so clocks never matter) and the newest page of deliveries; a delivery is shown each
time it makes an attempt (with the response status and latency) or is dead-lettered/discarded.
On a terminal the view is a Rich live table with keys (``r`` retries the newest failed delivery,
``f`` cycles a filter, ``q`` quits); piped, ``--output compact`` prints one line per event/attempt,
``quiet`` only failed deliveries, ``ndjson`` one JSON object per line.
"""

from __future__ import annotations

import os
import select
import sys
from collections import deque
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import anyio.to_thread
import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..._client import TriggersClient
from ..._constants import MAX_PAGE_LIMIT
from ..._exceptions import APIStatusError
from ..._types import NOT_GIVEN, NotGiven
from ..errors import CliError, describe_api_error
from ..exit_codes import ExitCode
from ..interrupts import graceful_stop
from ..options import ApiKeyOption, BaseUrlOption, ProfileOption
from ..output import OutputFormat, Printer, to_jsonable
from ..render import clock_time
from ..runtime import Invocation
from ..times import parse_since

if TYPE_CHECKING:  # models are only annotations here; importing them costs startup time
    from ...types import Delivery, DeliveryAttempt, Event

__all__ = ["Arrival", "ListenOutput", "Watcher", "compact_line", "listen"]

_QUIET_STATUSES = frozenset({"failed", "dead_lettered", "discarded"})
_FINAL_STATUSES = frozenset({"dead_lettered", "discarded"})
_ROWS_KEPT = 500
_FILTERS = ("all", "deliveries", "failed", "events")


class ListenOutput(str, Enum):
    interactive = "interactive"
    compact = "compact"
    quiet = "quiet"
    ndjson = "ndjson"


@dataclass(frozen=True)
class Arrival:
    """One line of the view: an event that arrived, or a delivery that attempted (or gave up)."""

    at: datetime
    event: Event | None = None
    delivery: Delivery | None = None
    attempt: DeliveryAttempt | None = None

    @property
    def failed(self) -> bool:
        return self.delivery is not None and str(self.delivery.status.value) in _QUIET_STATUSES

    def record(self) -> dict[str, Any]:
        if self.event is not None:
            return {"kind": "event", "event": to_jsonable(self.event)}
        return {
            "kind": "delivery",
            "delivery": to_jsonable(self.delivery),
            "attempt": to_jsonable(self.attempt),
        }


@dataclass
class Watcher:
    """Turns successive polls into arrivals; ``prime`` first, so only what happens afterwards shows."""

    client: TriggersClient
    types: list[str] | None
    subscription: str | None
    since: datetime | None
    last_sequence: int = 0
    deliveries: dict[str, tuple[str, int]] = field(default_factory=dict[str, tuple[str, int]])

    async def prime(self) -> None:
        if self.since is None:
            page = await self.client.events.list(type=self.types or NOT_GIVEN, limit=1).first_page()
            self.last_sequence = page.data[0].sequence if page.data else 0
        for delivery in await self._newest_deliveries():
            if self.since is None or delivery.created_at < self.since:
                self.deliveries[delivery.id] = _state(delivery)

    async def poll(self) -> list[Arrival]:
        arrivals = [Arrival(event.created_at, event=event) for event in await self._new_events()]
        newest = await self._newest_deliveries()
        seen: dict[str, tuple[str, int]] = {}
        for delivery in reversed(newest):  # oldest first, like the events
            state = seen[delivery.id] = _state(delivery)
            before = self.deliveries.get(delivery.id)
            if before == state:
                continue
            attempted = delivery.attempt_count > (before[1] if before else 0)
            if attempted:
                detail = await self.client.deliveries.get(delivery.id)
                attempt = detail.attempts[-1] if detail.attempts else None
                moment = attempt.started_at if attempt else delivery.updated_at
                arrivals.append(Arrival(moment, delivery=delivery, attempt=attempt))
            elif state[0] in _FINAL_STATUSES:
                arrivals.append(Arrival(delivery.updated_at, delivery=delivery))
        self.deliveries = seen  # only the newest page can change next time; older ones have scrolled off
        return arrivals

    async def _new_events(self) -> list[Event]:
        found: list[Event] = []
        async for page in self.client.events.list(
            type=self.types or NOT_GIVEN,
            since=self.since if self.since is not None else NOT_GIVEN,
            limit=MAX_PAGE_LIMIT,
        ).pages():
            fresh = [event for event in page.data if event.sequence > self.last_sequence]
            found.extend(fresh)
            if len(fresh) < len(page.data):
                break
        if found:
            self.last_sequence = max(event.sequence for event in found)
        return sorted(found, key=lambda event: event.sequence)

    async def _newest_deliveries(self) -> list[Delivery]:
        subscription: str | NotGiven = NOT_GIVEN if self.subscription is None else self.subscription
        page = await self.client.deliveries.list(
            subscription_id=subscription, limit=MAX_PAGE_LIMIT
        ).first_page()
        return page.data


def _state(delivery: Delivery) -> tuple[str, int]:
    return str(delivery.status.value), delivery.attempt_count


def listen(
    ctx: typer.Context,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Only events of this type glob, e.g. 'order.*' (repeatable)."),
    ] = None,
    subscription: Annotated[
        str | None, typer.Option("--subscription", help="Only deliveries to this subscription.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Also show what happened since: a duration (10m, 2h) or ISO-8601."),
    ] = None,
    output: Annotated[
        ListenOutput | None,
        typer.Option(
            "--output",
            "-o",
            help="interactive (a live table; default on a terminal), compact (one line each; default "
            "when piped), quiet (failed deliveries only) or ndjson.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.05, max=60.0, help="Seconds between polls.")
    ] = 1.0,
    count: Annotated[
        int | None,
        typer.Option("--count", min=1, help="Exit after this many lines (events and attempts)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.0, help="Exit after this many seconds (exit 4 if --count was not reached)."
        ),
    ] = None,
    profile: ProfileOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Watch events arrive and webhook deliveries attempt, with status and latency. Ctrl-C stops."""
    mode = output or (ListenOutput.interactive if _is_terminal() else ListenOutput.compact)
    fmt = OutputFormat.table if mode is not ListenOutput.ndjson else OutputFormat.ndjson
    inv = Invocation.create(ctx, profile=profile, output=fmt, api_key=api_key, base_url=base_url)
    printer = inv.printer
    sleep = inv.runtime.sleep or anyio.sleep

    async def work(client: TriggersClient) -> ExitCode:
        try:
            since_at = parse_since(since, inv.runtime.now()) if since else None
        except ValueError as exc:
            raise CliError(f"--since: {exc}") from None
        watcher = Watcher(client, types, subscription, since_at)
        view = _View(printer, mode, inv.settings.base_url)
        await watcher.prime()
        printer.note(
            Text(
                f"Listening for events and deliveries on {inv.settings.base_url} "
                f"(polling every {interval:g}s). Press Ctrl-C to stop.",
                style="dim",
            )
        )
        finished = quit_requested = False
        async with graceful_stop() as stop:
            with stop.scope, anyio.move_on_after(timeout), view, _terminal_keys(view.keys_wanted) as keys:
                view.keys = keys is not None
                while True:
                    for arrival in await watcher.poll():
                        view.add(arrival)
                        if count is not None and view.shown >= count:
                            finished = True
                            break
                    view.refresh()
                    if finished:
                        break
                    if keys is None:
                        await sleep(interval)
                        continue
                    key = await anyio.to_thread.run_sync(keys, interval, abandon_on_cancel=True)
                    if key == "q":
                        quit_requested = True
                        break
                    await view.on_key(key, client)
        printer.note(view.summary("Stopped" if stop.requested or quit_requested else "Done"))
        interrupted = stop.requested or quit_requested
        return ExitCode.INCOMPLETE if count is not None and not finished and not interrupted else ExitCode.OK

    inv.run(work, show_sdk_notices=True)


def _is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def _terminal_keys(wanted: bool) -> Generator[Callable[[float], str | None] | None, None, None]:
    """On a POSIX terminal: stdin in cbreak mode, and ``read(timeout) -> key | None``; else ``None``."""
    try:
        usable = wanted and sys.platform != "win32" and sys.stdin.isatty() and _is_terminal()
    except (AttributeError, ValueError):
        usable = False
    if not usable:
        yield None
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)

    def read(timeout: float) -> str | None:
        ready, _, _ = select.select([fd], [], [], timeout)
        return os.read(fd, 1).decode(errors="replace") if ready else None

    tty.setcbreak(fd)  # keys arrive one by one, unechoed; Ctrl-C still interrupts
    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class _View:
    """Prints arrivals as lines (compact/quiet/ndjson) or keeps them in a Rich live table."""

    def __init__(self, printer: Printer, mode: ListenOutput, base_url: str) -> None:
        self.printer = printer
        self.mode = mode
        self.base_url = base_url
        self.shown = 0
        self.events = 0
        self.attempts = 0
        self.failures = 0
        self.rows: deque[Arrival] = deque(maxlen=_ROWS_KEPT)
        self.keys = False
        self.filter = _FILTERS[0]
        self.message: Text | None = None
        self.live = (
            Live(self._render(), console=printer.console, auto_refresh=False, transient=False)
            if mode is ListenOutput.interactive
            else None
        )

    def __enter__(self) -> _View:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def add(self, arrival: Arrival) -> None:
        if arrival.event is not None:
            self.events += 1
        else:
            self.attempts += 1 if arrival.attempt is not None else 0
            self.failures += 1 if arrival.failed else 0
        if self.mode is ListenOutput.quiet and not arrival.failed:
            return
        self.shown += 1
        if self.mode is ListenOutput.ndjson:
            self.printer.line(arrival.record(), Text())
        elif self.mode is ListenOutput.interactive:
            self.rows.append(arrival)
        else:
            self.printer.line(arrival.record(), compact_line(arrival))

    @property
    def keys_wanted(self) -> bool:
        return self.mode is ListenOutput.interactive

    async def on_key(self, key: str | None, client: TriggersClient) -> None:
        if key == "f":
            self.filter = _FILTERS[(_FILTERS.index(self.filter) + 1) % len(_FILTERS)]
        elif key == "r":
            await self._retry_newest_failed(client)
        else:
            return
        self.refresh()

    async def _retry_newest_failed(self, client: TriggersClient) -> None:
        failed = next((row.delivery for row in reversed(self.rows) if row.failed and row.delivery), None)
        if failed is None:
            self.message = Text("no failed delivery to retry", style="yellow")
            return
        try:
            retried = await client.deliveries.retry(failed.id)
        except APIStatusError as error:
            self.message = Text(f"retry {failed.id}: {describe_api_error(error)}", style="red")
            return
        self.message = Text(f"retry of {retried.id} scheduled ({retried.status.value})", style="green")

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._render(), refresh=True)

    def summary(self, outcome: str) -> str:
        failed = f", {self.failures} failed" if self.failures else ""
        return (
            f"{outcome}: {_count(self.events, 'event')}, {_count(self.attempts, 'delivery attempt')}{failed}."
        )

    def _render(self) -> RenderableType:
        height = self.printer.console.height
        table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
        # Every column but "what" keeps its width (ids stay whole, to copy into `deliveries get`; their
        # evt_/dlv_ prefix tells events from deliveries); "what" gives way, with an ellipsis, when narrow.
        table.add_column("TIME", no_wrap=True, min_width=8)
        table.add_column("ID", no_wrap=True, min_width=30)
        table.add_column("WHAT", no_wrap=True, overflow="ellipsis", ratio=1)
        table.add_column("STATUS", no_wrap=True, min_width=13)
        table.add_column("LATENCY", no_wrap=True, min_width=7)
        shown = [arrival for arrival in self.rows if _passes(arrival, self.filter)]
        for arrival in shown[-max(height - 5, 5) :]:
            table.add_row(*_cells(arrival))
        header = Text.assemble(
            ("Listening on ", "dim"),
            (self.base_url, "bold"),
            (f" · {_count(self.events, 'event')} · {_count(self.attempts, 'attempt')}", "dim"),
            (f" · {self.failures} failed" if self.failures else "", "red"),
            (" · Ctrl-C to stop", "dim"),
        )
        parts: list[RenderableType] = [header]
        if self.keys:
            parts.append(
                Text.assemble(
                    ("keys: r retry the newest failed delivery · f filter ", "dim"),
                    (f"({self.filter})", "bold"),
                    (" · q quit", "dim"),
                )
            )
        if self.message is not None:
            parts.append(self.message)
        return Group(*parts, table)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _passes(arrival: Arrival, name: str) -> bool:
    if name == "events":
        return arrival.event is not None
    if name == "deliveries":
        return arrival.delivery is not None
    if name == "failed":
        return arrival.failed
    return True


def _status_text(delivery: Delivery, attempt: DeliveryAttempt | None) -> Text:
    status = str(delivery.status.value)
    style = "green" if status == "succeeded" else "red" if status in _QUIET_STATUSES else "yellow"
    text = Text()
    if attempt is not None:
        code = str(attempt.response_status) if attempt.response_status is not None else "---"
        text.append(f"{code} ", style=style)
    text.append(status, style=style)
    return text


def _cells(arrival: Arrival) -> Sequence[str | Text]:
    when = clock_time(arrival.at)
    if arrival.event is not None:
        event = arrival.event
        return (when, event.id, event.type, str(event.status.value), "")
    assert arrival.delivery is not None
    delivery, attempt = arrival.delivery, arrival.attempt
    latency = f"{attempt.duration_ms} ms" if attempt is not None else ""
    return (
        when,
        delivery.id,
        f"{delivery.event_id} → {delivery.subscription_id}",
        _status_text(delivery, attempt),
        latency,
    )


def compact_line(arrival: Arrival) -> Text:
    """``[12:00:01] event evt_… order.created`` or

    ``[12:00:02] delivery dlv_… evt_… → sub_… 200 succeeded 23 ms (attempt 1)``.
    """
    line = Text()
    line.append(f"[{clock_time(arrival.at)}] ", style="dim")
    if arrival.event is not None:
        event = arrival.event
        line.append("event ", style="bold")
        line.append(event.id, style="cyan")
        line.append(f" {event.type}")
        return line
    assert arrival.delivery is not None
    delivery, attempt = arrival.delivery, arrival.attempt
    line.append("delivery ", style="bold")
    line.append(delivery.id, style="cyan")
    line.append(f" {delivery.event_id} → {delivery.subscription_id} ")
    line.append_text(_status_text(delivery, attempt))
    if attempt is not None:
        line.append(f" {attempt.duration_ms} ms (attempt {attempt.attempt_number})", style="dim")
        if attempt.error:
            line.append(f" {attempt.error}", style="red")
    return line
