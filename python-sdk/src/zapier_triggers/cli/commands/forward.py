"""`triggers forward URL`: deliver inbox events to a local server, signed like real webhooks."""

from __future__ import annotations

import statistics
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
import httpx
import typer
from rich.text import Text

from ..._client import TriggersClient
from ..._exceptions import WebhookVerificationError
from ...webhooks import Webhook
from ..forwarder import DeliveryOutcome, Forwarder, ForwardSettings, ForwardStats, new_secret
from ..interrupts import graceful_stop
from ..options import ApiKeyOption, BaseUrlOption, OutputOption, ProfileOption
from ..render import clock_time
from ..runtime import Invocation, Runtime

ENV_SECRET = "TRIGGERS_FORWARD_SECRET"  # noqa: S105 - the variable name, not a secret


def forward(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Local endpoint, e.g. http://localhost:3000/webhook.")],
    types: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Only events whose type matches this glob (repeatable)."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar=ENV_SECRET,
            help="whsec_… secret to sign with (default: a new one, printed at start).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100, help="Events per lease.")] = 10,
    visibility_timeout: Annotated[
        int, typer.Option("--visibility-timeout", min=1, max=3600, help="Lease length in seconds.")
    ] = 30,
    wait: Annotated[
        int,
        typer.Option("--wait", min=0, max=20, help="Long-poll seconds per lease (also the Ctrl-C delay)."),
    ] = 2,
    retry_delay: Annotated[
        int, typer.Option("--retry-delay", min=0, help="Seconds before a failed event is redelivered.")
    ] = 5,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for the local server.")
    ] = 10.0,
    max_deliveries: Annotated[
        int | None,
        typer.Option("--max-deliveries", min=1, help="Exit after this many POSTs (default: until Ctrl-C)."),
    ] = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Lease events from the inbox and POST each to URL as a signed webhook; ack on 2xx, nack otherwise.

    One line per delivery with the status and latency. Ctrl-C releases leased events and prints a summary.
    """
    if not url.startswith(("http://", "https://")):
        raise typer.BadParameter("URL must start with http:// or https://", ctx, param_hint="URL")
    chosen_secret = secret or new_secret()
    try:
        Webhook(chosen_secret)
    except WebhookVerificationError as exc:
        raise typer.BadParameter(f"--secret: {exc}", ctx) from None
    inv = Invocation.create(ctx, profile=profile, output=output, api_key=api_key, base_url=base_url)
    printer = inv.printer
    settings = ForwardSettings(
        url=url,
        secret=chosen_secret,
        types=tuple(types or ()),
        batch_size=batch_size,
        visibility_timeout=visibility_timeout,
        wait=wait,
        retry_delay=retry_delay,
        request_timeout=timeout,
        max_deliveries=max_deliveries,
    )

    def report(outcome: DeliveryOutcome) -> None:
        printer.line(outcome.as_json(), _delivery_line(outcome, retry_delay))

    async def work(client: TriggersClient) -> None:
        printer.note(Text.assemble(("Forwarding events to ", "dim"), (url, "bold"), ("...", "dim")))
        if secret is None:
            printer.note(Text.assemble(("Signing secret (verify with it): ", "dim"), (chosen_secret, "bold")))
        printer.note(Text("Press Ctrl-C to stop.", style="dim"))
        async with _local_http(inv.runtime, timeout) as http, graceful_stop() as stop:
            forwarder = Forwarder(
                client,
                http,
                settings,
                on_delivery=report,
                on_notice=lambda message: printer.note(Text(message, style="yellow")),
                sleep=inv.runtime.sleep or anyio.sleep,
            )
            stats = await forwarder.run(stop)
        printer.note(_summary(stats, stopped=stop.requested))

    inv.run(work, show_sdk_notices=True)


@asynccontextmanager
async def _local_http(runtime: Runtime, timeout: float) -> AsyncGenerator[httpx.AsyncClient, None]:
    if runtime.local_http is not None:
        async with runtime.local_http() as http:
            yield http
        return
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as http:
        yield http


def _delivery_line(outcome: DeliveryOutcome, retry_delay: int) -> Text:
    line = Text()
    line.append(f"[{clock_time(outcome.at)}] ", style="dim")
    line.append(outcome.event.id, style="cyan")
    line.append(f" {outcome.event.type}", style="bold")
    if outcome.delivery_count > 1:
        line.append(f" (delivery {outcome.delivery_count})", style="dim")
    line.append(" → ")
    if outcome.status_code is not None:
        reason = httpx.codes.get_reason_phrase(outcome.status_code)
        line.append(f"{outcome.status_code} {reason}".strip(), style="green" if outcome.ok else "red")
    else:
        line.append(outcome.error or "no response", style="red")
    line.append(f"  {outcome.latency_ms:.0f} ms", style="dim")
    if outcome.result == "nacked":
        line.append(f"  nacked, redelivery in {retry_delay}s", style="yellow")
    elif outcome.result == "lease_expired":
        line.append("  lease expired before it could be settled; it will be redelivered", style="yellow")
    return line


def _summary(stats: ForwardStats, *, stopped: bool) -> str:
    deliveries = f"{stats.attempts} deliver{'ies' if stats.attempts != 1 else 'y'}"
    expired = f", {stats.expired} lease expired" if stats.expired else ""
    counts = f"{stats.acked} acked, {stats.nacked} nacked{expired}"
    text = f"{'Stopped' if stopped else 'Done'}: {deliveries} ({counts})"
    if stats.released:
        text += (
            f"; released {stats.released} leased event{'s' if stats.released != 1 else ''} back to the inbox"
        )
    if stats.latencies_ms:
        text += (
            f"; latency median {statistics.median(stats.latencies_ms):.0f} ms, "
            f"max {max(stats.latencies_ms):.0f} ms"
        )
    return text + "."
