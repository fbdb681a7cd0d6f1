"""The product tour (`nox -s demo`): the brief's five-minute demo flow, run for real against a local server.

It starts `triggers-server` on a SQLite file under `.demo/`, walks through each step with the Python SDK,
`curl` and the `triggers` CLI, narrates what happened, and then keeps the server running with that data
until Ctrl-C so every step can be tried again by hand (`--no-wait` stops right away, for scripts and CI).
`--report FILE` writes each step's observable outcome as JSON; `demo/test_tour.py` checks it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
from zapier_triggers import SchemaValidationError, TriggersClient, Webhook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _server import RunningServer, running_server  # noqa: E402  (the one live-server launcher)

DEMO_DIR = ROOT / ".demo"
# Short webhook backoff so the retries are visible within the tour: attempt 1, then +1 s, then +2 s.
RETRY_SCHEDULE = "1,2,4"
RECEIVER_FAILURES = 2
DELIVERY_WAIT_SECONDS = 20.0
SIGN_IN_LINK = re.compile(r"Console sign-in link [^:]*: (\S+)")
SNIPPETS = {
    "Python": (ROOT / "python-sdk" / "examples" / "quickstart.py", "#"),
    "TypeScript": (ROOT / "sdks" / "typescript" / "examples" / "issue-snippet.ts", "//"),
    "Go": (ROOT / "sdks" / "go" / "examples" / "quickstart" / "main.go", "//"),
}


@dataclass
class Tour:
    """Narration plus the machine-readable outcome of every step."""

    server: RunningServer
    started_at: float
    steps: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    console_page: str | None = None

    @property
    def origin(self) -> str:
        return self.server.base_url.removesuffix("/v1")

    def step(self, title: str, page: str | None = None) -> None:
        print(f"\n\033[1m== {len(self.steps) + 1}. {title}\033[0m", flush=True)
        self.console_page = None
        if page is not None:
            self.show(page)

    def show(self, page: str) -> None:
        """Name the console page where the user sees this step (after signing in with the printed link)."""
        self.console_page = page
        self.say(f"in the console: {self.origin}/console{page}")

    def record(self, name: str, **outcome: Any) -> None:
        self.steps.append({"name": name, "console": self.console_page, **outcome})

    @staticmethod
    def say(text: str) -> None:
        print(f"   {text}", flush=True)


# ---------------------------------------------------------------- a local webhook receiver


class FlakyReceiver:
    """A loopback webhook endpoint that fails the first RECEIVER_FAILURES calls per webhook-id, then
    verifies the signature and answers 200 — so the server's retry schedule is visible."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.calls: dict[str, int] = {}
        self.verified: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                msg_id = self.headers.get("webhook-id", "")
                receiver.calls[msg_id] = receiver.calls.get(msg_id, 0) + 1
                if receiver.calls[msg_id] <= RECEIVER_FAILURES:
                    self._answer(500, b'{"error": "receiver warming up"}')
                    return
                assert receiver.secret is not None
                Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                receiver.verified.append(msg_id)
                self._answer(200, b'{"ok": true}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the tour narrates
                return

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/webhooks"

    @contextlib.contextmanager
    def running(self) -> Iterator[FlakyReceiver]:
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()


# ---------------------------------------------------------------- the steps


def snippet(path: Path, comment: str) -> str:
    """The lines between `demo-snippet: start` and `demo-snippet: end` in a real, compiled example."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{comment} demo-snippet: start")
    end = next(i for i, line in enumerate(lines) if line.strip() == f"{comment} demo-snippet: end")
    body = lines[start + 1 : end]
    indent = min(len(line) - len(line.lstrip()) for line in body if line.strip())
    return "\n".join(line[indent:] for line in body)


async def create_key(tour: Tour, admin: TriggersClient) -> str:
    tour.step("Quick start: create an API key through the API")
    key = await admin.api_keys.create(name=f"demo {time.strftime('%H:%M:%S')}", scopes=["admin"])
    assert key.key is not None
    scopes = [str(getattr(scope, "value", scope)) for scope in key.scopes]
    tour.say(f"created {key.id} ({key.prefix}…) with scopes {scopes}; the key is shown once, at creation")
    tour.record("create_api_key", key_id=key.id, scopes=scopes)
    return key.key


def send_with_curl(tour: Tour, key: str, event_type: str) -> str:
    tour.step("Send a first event with curl")
    body = json.dumps({"type": event_type, "source": "demo-shop", "data": {"order_id": "1001", "amount": 42.5}})
    command = [
        "curl", "-sS", "-X", "POST", f"{tour.server.base_url}/events",
        "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json", "-d", body,
    ]  # fmt: skip
    shown = [part if not part.startswith("Authorization") else "Authorization: Bearer $TRIGGERS_API_KEY" for part in command]
    tour.say("$ " + shlex.join(shown))
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
    event = json.loads(done.stdout)
    tour.say(f"→ 201 {event['id']} sequence={event['sequence']} status={event['status']}")
    tour.show(f"/events/{event['id']}")
    tour.record("first_event_curl", event_id=event["id"], status=event["status"])
    return str(event["id"])


async def see_in_inbox(tour: Tour, client: TriggersClient, event_type: str, event_id: str) -> None:
    tour.step("See it in the inbox", "/inbox")
    pending = [ev.id async for ev in client.inbox.list(type=[event_type])]
    ttfe = time.monotonic() - tour.started_at
    tour.say(f"pending in the inbox: {pending}")
    tour.say(f"time to first event (server start → event visible in the inbox): {ttfe:.2f} s")
    tour.record(
        "inbox_shows_event", visible=event_id in pending, pending=pending, time_to_first_event_seconds=round(ttfe, 3)
    )
    lease = await client.inbox.lease(max_events=10, visibility_timeout=30, types=[event_type])
    await client.inbox.ack(receipts=[m.receipt for m in lease.messages])
    tour.say(f"leased and acknowledged {len(lease.messages)} (the inbox is at-least-once: ack when done)")


async def schema_validation(tour: Tour, client: TriggersClient, event_type: str) -> None:
    tour.step("Schema validation: register a schema, then send a payload that breaks it", "/schemas")
    version = await client.schemas.register(
        event_type,
        json_schema={
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "amount": {"type": "number", "minimum": 0}},
            "required": ["order_id"],
        },
    )
    tour.say(f"{event_type} schema v{version.version} registered")
    try:
        await client.events.create(type=event_type, source="demo-shop", data={"amount": -3})
    except SchemaValidationError as exc:
        pointers = [error.pointer for error in exc.errors]
        for error in exc.errors:
            tour.say(f"{exc.status_code} {error.pointer}: {error.detail}")
        tour.record("schema_rejects", status=exc.status_code, pointers=pointers)
    else:
        tour.record("schema_rejects", status=201, pointers=[])


async def stream_with_cli(tour: Tour, client: TriggersClient, key: str, event_type: str) -> None:
    tour.step("Real-time streaming with the CLI (`triggers events stream`)", "/events")
    before = await client.events.create(type=event_type, source="demo-shop", data={"order_id": "1002"})
    created = [before.id]
    for order in ("1003", "1004"):
        created.append((await client.events.create(type=event_type, source="demo-shop", data={"order_id": order})).id)
    resume = str(before.sequence - 1)
    command = ["triggers", "events", "stream", "--type", event_type, "--last-event-id", resume, "--count", "3"]
    tour.say("$ " + shlex.join(command))
    env = {**os.environ, "TRIGGERS_API_KEY": key, "TRIGGERS_BASE_URL": tour.server.base_url}
    done = subprocess.run([*command, "--output", "ndjson"], capture_output=True, text=True, env=env, timeout=60)
    streamed = [json.loads(line)["id"] for line in done.stdout.splitlines() if line.startswith("{")]
    for line in done.stdout.splitlines():
        tour.say(line[:160])
    tour.say(f"(the stream resumed after sequence {resume}: reconnects pick up where they left off)")
    tour.record("cli_stream", exit_code=done.returncode, streamed=streamed, expected=created)


def playground_share_link(origin: str, method: str, path: str, body: str) -> str:
    """The /docs playground's share link for a request (console/api-docs/playground.ts `shareUrl`): the request
    as base64url JSON in `?request=`, never the key."""
    shared = json.dumps({"method": method, "path": path, "body": body}, separators=(",", ":"))
    return f"{origin}/docs?request={base64.urlsafe_b64encode(shared.encode()).decode().rstrip('=')}"


async def playground_test_events(tour: Tour, key: str, event_type: str) -> None:
    tour.step("The API playground: send test events from /docs (the same request, shareable without the key)")
    body = json.dumps({"type": event_type, "source": "demo-playground", "data": {"order_id": "5001", "test": True}})
    link = playground_share_link(tour.origin, "POST", "/events", body)
    tour.say(f"open {link}")
    tour.say("(the link fills the playground with this request; press Send request and it runs with your key)")
    created: list[str] = []
    async with TriggersClient(api_key=key, base_url=tour.server.base_url) as client:
        for _ in range(3):  # what pressing Send three times does: one POST /v1/events each
            response = await client.request("POST", "/events", body=json.loads(body))
            created.append(str(response.http_response.json()["id"]))
            tour.say(f"→ {response.status_code} {created[-1]}")
    tour.show("/events")  # the live tail: filter it by the type to see just these
    tour.record("playground_test_events", share_link=link, created=created)


async def websocket_streaming(tour: Tour, client: TriggersClient, event_type: str) -> None:
    tour.step("Real-time over one WebSocket: a live subscription and a push inbox acknowledged in-band", "/events")
    first = await client.events.create(type=event_type, source="demo-shop", data={"order_id": "6001"})
    received: list[str] = []
    with anyio.fail_after(30):
        async with client.events.subscribe(types=[event_type], since=str(first.sequence - 1)) as subscription:
            second = await client.events.create(type=event_type, source="demo-shop", data={"order_id": "6002"})
            async for event in subscription:
                received.append(event.id)
                tour.say(f"ws event {event.id} {event.type} cursor={subscription.cursor}")
                if event.id == second.id:
                    break
    acked: list[str] = []
    with anyio.fail_after(30):
        async with client.inbox.stream(max_in_flight=10, types=[event_type]) as stream:
            async for message in stream:
                await message.ack()  # travels over the same connection, answered by an `acked` frame
                acked.append(message.event.id)
                if len(acked) == 2:
                    break
    tour.say(f"push inbox: {len(acked)} messages leased and acknowledged without one HTTP request")
    tour.record("websocket", expected=[first.id, second.id], received=received, acked=acked)


def sdk_snippets(tour: Tour) -> None:
    tour.step("The same call in each SDK (from the examples that CI compiles and runs)")
    shown: dict[str, int] = {}
    for language, (path, comment) in SNIPPETS.items():
        code = snippet(path, comment)
        shown[language] = len(code.splitlines())
        tour.say(f"--- {language} ({path.relative_to(ROOT)})")
        for line in code.splitlines():
            tour.say(f"    {line}")
    tour.record("sdk_snippets", lines=shown)


async def webhook_retries(tour: Tour, client: TriggersClient, receiver: FlakyReceiver, event_type: str) -> None:
    tour.step("Webhooks: a receiver that fails twice, then succeeds (retries with backoff)")
    subscription = await client.subscriptions.create(url=receiver.url, event_types=[event_type], description="demo receiver")
    receiver.secret = subscription.secret
    tour.say(f"subscription {subscription.id} → {receiver.url} (signed with Standard Webhooks)")
    event = await client.events.create(type=event_type, source="demo-shop", data={"order_id": "2001"})
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    delivery = None
    while time.monotonic() < deadline:
        deliveries = [d async for d in client.deliveries.list(event_id=event.id)]
        if deliveries and deliveries[0].status.value in ("succeeded", "dead_lettered", "discarded"):
            delivery = await client.deliveries.get(deliveries[0].id)
            break
        await anyio.sleep(0.25)
    if delivery is None:
        tour.record("webhook_retries", status="timeout", attempts=[])
        return
    attempts = delivery.attempts or []
    for attempt in attempts:
        tour.say(
            f"attempt {attempt.attempt_number} at {attempt.started_at:%H:%M:%S.%f}"[:-3]
            + f" → {attempt.response_status} in {attempt.duration_ms} ms"
        )
    tour.say(f"delivery {delivery.id}: {delivery.status.value} after {delivery.attempt_count} attempts")
    tour.show(f"/deliveries/{delivery.id}")
    tour.record(
        "webhook_retries",
        delivery_id=delivery.id,
        status=delivery.status.value,
        attempts=[a.response_status for a in attempts],
        verified_by_receiver=len(receiver.verified),
    )


async def dead_letter_and_retry(tour: Tour, client: TriggersClient, event_type: str) -> None:
    tour.step("DLQ management: an event nobody acknowledges dead-letters, then is retried", "/dlq")
    event = await client.events.create(type=event_type, source="demo-shop", data={"order_id": "3001"})
    leases = 0
    for _ in range(20):  # max_deliveries is 5 by default; bounded so a regression cannot loop forever
        lease = await client.inbox.lease(max_events=1, visibility_timeout=30, types=[event_type])
        if not lease.messages:
            break
        leases += 1
        await client.inbox.nack(receipts=[m.receipt for m in lease.messages], delay=0)
    entries = [e async for e in client.dlq.list(event_type=event_type)]
    tour.say(f"leased and released {leases} times → dead-lettered: {[(e.id, e.reason.value) for e in entries]}")
    result = await client.dlq.retry_all(event_type=event_type)
    back = [ev.id async for ev in client.inbox.list(type=[event_type])]
    tour.say(f"retried {result.retried} dead letter(s) matching {event_type}; back in the inbox: {back}")
    tour.record(
        "dlq_retry", event_id=event.id, leases=leases, dead_lettered=[e.event_id for e in entries], retried=result.retried, inbox=back
    )


async def replay_with_patch(tour: Tour, client: TriggersClient, event_type: str) -> None:
    tour.step("Event replay for debugging: a dry run, then a replay with a payload patch")
    original = await client.events.create(type=event_type, source="demo-shop", data={"order_id": "4001", "amount": 10})
    dry = await client.events.replay(original.id, target={"kind": "inbox"}, dry_run=True)
    tour.say("dry run: " + ", ".join(f"{o.target}: {o.decision.value}" for o in dry.outcomes))
    done = await client.events.replay(original.id, target={"kind": "inbox"}, data_patch={"amount": 50})
    assert done.event is not None
    copy = done.event
    tour.say(f"{'':12}{'original':<38}replay")
    tour.say(f"{'id':<12}{original.id:<38}{copy.id}")
    tour.say(f"{'data':<12}{json.dumps(original.data):<38}{json.dumps(copy.data)}")
    tour.say(f"{'replay_of':<12}{'-':<38}{copy.replay_of}")
    tour.show(f"/events/{original.id}")  # the replay panel there compares the original with its replay
    tour.record(
        "replay", original=original.id, copy=copy.id, replay_of=copy.replay_of, original_data=original.data, copy_data=copy.data
    )


async def metrics(tour: Tour, client: TriggersClient) -> None:
    tour.step("Metrics: the numbers behind the dashboard (`/stats`, Prometheus `/metrics`)", "/metrics")
    stats = await client.ops.stats()
    success = "n/a" if stats.delivery_success_rate is None else f"{stats.delivery_success_rate:.0%}"
    tour.say(
        f"ingest {stats.ingest_rate_per_second:.2f}/s, p50 {stats.ingest_latency_ms.p50:.1f} ms, p99 {stats.ingest_latency_ms.p99:.1f} ms; "
        f"delivery attempt success {success}; inbox depth {stats.inbox_depth}; DLQ depth {stats.dlq_depth}"
    )
    text = await client.ops.metrics()
    samples = [line for line in text.splitlines() if line.startswith(("triggers_events_ingested_total", "triggers_deliveries_total"))]
    for line in samples[:6]:
        tour.say(line)
    tour.record("metrics", inbox_depth=stats.inbox_depth, dlq_depth=stats.dlq_depth, samples=len(samples))


async def run_tour(tour: Tour, admin_key: str) -> str:
    run = uuid.uuid4().hex[:6]
    order_type = f"demo{run}.order.created"
    async with TriggersClient(api_key=admin_key, base_url=tour.server.base_url) as admin:
        key = await create_key(tour, admin)
    event_id = send_with_curl(tour, key, order_type)
    await playground_test_events(tour, key, order_type)
    receiver = FlakyReceiver()
    async with TriggersClient(api_key=key, base_url=tour.server.base_url) as client:
        await see_in_inbox(tour, client, order_type, event_id)
        await schema_validation(tour, client, order_type)
        await stream_with_cli(tour, client, key, order_type)
        await websocket_streaming(tour, client, f"demo{run}.cart.updated")
        sdk_snippets(tour)
        with receiver.running():
            await webhook_retries(tour, client, receiver, f"demo{run}.payment.captured")
        await dead_letter_and_retry(tour, client, f"demo{run}.invoice.overdue")
        await replay_with_patch(tour, client, f"demo{run}.refund.requested")
        await metrics(tour, client)
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-wait", action="store_true", help="stop the server when the tour ends (scripts, CI)")
    parser.add_argument("--report", type=Path, help="write each step's outcome as JSON to this file")
    parser.add_argument("--data-dir", type=Path, default=DEMO_DIR, help="where the SQLite file and admin key live")
    parser.add_argument("--server", default=shutil.which("triggers-server"), help="the triggers-server executable")
    args = parser.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = args.data_dir / "admin-key"
    if not key_file.exists():  # kept next to the database, so a re-run signs in to the same account
        key_file.write_text("tk_" + secrets.token_urlsafe(24))
        key_file.chmod(0o600)
    admin_key = key_file.read_text().strip()

    started_at = time.monotonic()
    extra = ("--retry-schedule", RETRY_SCHEDULE, "--retry-jitter", "0")
    with running_server(*extra, executable=args.server, db_path=args.data_dir / "demo.db", admin_key=admin_key) as server:
        print(f"triggers-server is serving {server.base_url} (SQLite: {server.db_path})")
        tour = Tour(server, started_at)
        key = anyio.run(run_tour, tour, admin_key)
        sign_in = SIGN_IN_LINK.search(server.output())
        sign_in_link = sign_in.group(1) if sign_in else None
        docs_url = f"{tour.origin}/docs"
        if args.report:
            report = {"base_url": server.base_url, "sign_in_link": sign_in_link, "docs_url": docs_url, "steps": tour.steps}
            args.report.write_text(json.dumps(report, indent=2, default=str))
        print("\n\033[1m== Try it yourself\033[0m")
        print(f"   Console        {sign_in_link or tour.origin + '/console/'}  (signs you in once, for a few minutes)")
        print(f"   API docs       {docs_url}  (the reference and playground: try any call with your key)")
        print(f"   API base URL   {server.base_url}")
        print(f"   API reference  {server.base_url}/openapi.yaml")
        print(f"   API key        {key}")
        print(f"   export TRIGGERS_BASE_URL={server.base_url} TRIGGERS_API_KEY={key}; triggers events list")
        if args.no_wait:
            return
        print("\nThe server keeps running with this data; press Ctrl-C to stop it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
