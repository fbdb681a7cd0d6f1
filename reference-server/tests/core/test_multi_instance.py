"""Several server instances over one PostgreSQL database (issue 13): two real `triggers-server` processes on
one real database, every cross-instance guarantee checked through the API of both.

Short leases and retry delays come from CLI flags; waits are bounded and end on an observable condition.
They run in the PostgreSQL run of the server suite (`TRIGGERS_TEST_BACKEND=postgres`, nox `server_postgres`),
on the test's own database, and are skipped on SQLite (one process per file)."""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import backend_harness
import httpx
import live_server
import pytest
from live_server import ADMIN, LiveServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not backend_harness.on_postgres(), reason="several instances need PostgreSQL"),
]
HEADERS = {"authorization": f"Bearer {ADMIN}"}


@dataclass
class Pair:
    a: LiveServer
    b: LiveServer
    url: str
    tmp: Path

    def client(self, server: LiveServer) -> httpx.Client:
        return httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=30.0)

    def restart_b(self, *extra: str) -> None:
        self.b.stop()
        self.b = live_server.start(self.tmp / "b.db", self.tmp / "b2.log", "--database-url", self.url, *extra)


@pytest.fixture
def database() -> str:
    """The test's fresh PostgreSQL database (made by the suite's autouse fixture)."""
    url = backend_harness.current_url()
    assert url is not None
    return url


def start_pair(url: str, tmp: Path, *extra: str) -> Pair:
    flags = ("--database-url", url, "--delivery-poll", "0.2", *extra)
    a = live_server.start(tmp / "a.db", tmp / "a.log", *flags)
    try:
        b = live_server.start(tmp / "b.db", tmp / "b.log", *flags)
    except BaseException:
        a.stop()
        raise
    return Pair(a, b, url, tmp)


@pytest.fixture
def pair(database: str, tmp_path: Path) -> Iterator[Pair]:
    servers = start_pair(database, tmp_path)
    try:
        yield servers
    finally:
        servers.a.stop()
        servers.b.stop()


def until(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll an observable condition until it holds (bounded); its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def event(index: int = 0, type_: str = "order.created") -> dict[str, Any]:
    return {"type": type_, "source": "multi", "data": {"n": index}}


def ingest_batch(client: httpx.Client, count: int, start: int = 0) -> list[str]:
    events = [event(start + i) for i in range(count)]
    response = client.post("/events/batch", json={"events": events})
    assert response.status_code in (200, 207), response.text
    return [item["event"]["id"] for item in response.json()["results"]]


# -- inbox leases ------------------------------------------------------------------------------------------


def test_twenty_consumers_on_two_instances_lease_every_event_once(pair: Pair) -> None:
    with pair.client(pair.a) as a:
        ids: list[str] = []
        for start in range(0, 1000, 250):
            ids += ingest_batch(a, 250, start)
    assert len(set(ids)) == 1000
    handed: list[tuple[str, float, float]] = []  # (event id, leased at, leased until) per hand-out
    lock = threading.Lock()
    acked: list[str] = []

    def consume(server: LiveServer) -> None:
        with pair.client(server) as client:
            while True:
                response = client.post("/inbox/lease", json={"max_events": 25, "visibility_timeout": 60})
                assert response.status_code == 200, response.text
                messages = response.json()["messages"]
                if not messages:
                    return
                now = time.monotonic()
                with lock:
                    handed.extend((m["event"]["id"], now, now + 60) for m in messages)
                receipts = [m["receipt"] for m in messages]
                results = client.post("/inbox/ack", json={"receipts": receipts}).json()["results"]
                assert [r["status"] for r in results] == ["ok"] * len(receipts), results
                with lock:
                    acked.extend(m["event"]["id"] for m in messages)

    servers = [pair.a, pair.b] * 10
    with concurrent.futures.ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(consume, servers))
    handed_ids = [identifier for identifier, _, _ in handed]
    assert len(handed_ids) == 1000, "each event handed out exactly once while its lease was live"
    assert set(handed_ids) == set(ids)
    assert sorted(acked) == sorted(ids), "every ack landed"
    with pair.client(pair.b) as b:
        assert b.post("/inbox/lease", json={"max_events": 100}).json()["messages"] == []


def test_long_poll_on_b_wakes_within_a_second_of_an_ingest_on_a(pair: Pair) -> None:
    outcome: dict[str, Any] = {}

    def poll() -> None:
        with pair.client(pair.b) as b:
            started = time.monotonic()
            outcome["response"] = b.post("/inbox/lease", json={"wait": 20})
            outcome["returned"] = time.monotonic()
            outcome["started"] = started

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.5)  # let the long poll reach its wait on B (what is measured is the wake after the ingest)
    with pair.client(pair.a) as a:
        created = a.post("/events", json=event()).json()
    ingested = time.monotonic()
    waiter.join(timeout=25)
    messages = outcome["response"].json()["messages"]
    assert [m["event"]["id"] for m in messages] == [created["id"]]
    assert outcome["returned"] - ingested < 1.0


# -- the live stream ---------------------------------------------------------------------------------------


@dataclass
class SseReader:
    """Reads an SSE stream on a thread; `events` are (id, data) in arrival order with arrival times."""

    response: httpx.Response
    events: list[tuple[str, str, float]] = field(default_factory=list[tuple[str, str, float]])

    def run(self) -> None:
        current_id = ""
        data: list[str] = []
        try:
            for line in self.response.iter_lines():
                if line.startswith("id:"):
                    current_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    self.events.append((current_id, "\n".join(data), time.monotonic()))
                    data = []
        except httpx.HTTPError:
            return


@dataclass
class OpenStream:
    reader: SseReader
    client: httpx.Client
    thread: threading.Thread

    def close(self) -> None:
        self.client.close()
        self.thread.join(timeout=5)


def open_stream(server: LiveServer, last_event_id: str | None = None) -> OpenStream:
    client = httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=httpx.Timeout(30.0, read=None))
    headers = {"accept": "text/event-stream"}
    if last_event_id is not None:
        headers["last-event-id"] = last_event_id
    response = client.send(client.build_request("GET", "/events/stream", headers=headers), stream=True)
    assert response.status_code == 200, response.read()
    reader = SseReader(response)
    thread = threading.Thread(target=reader.run, daemon=True)
    thread.start()
    return OpenStream(reader, client, thread)


def test_an_event_ingested_on_a_reaches_a_stream_on_b_and_resume_works_on_b(pair: Pair) -> None:
    on_b = open_stream(pair.b)
    on_a = open_stream(pair.a)
    try:
        time.sleep(0.5)  # both streams subscribed before the ingest
        with pair.client(pair.a) as a:
            first = a.post("/events", json=event(1)).json()
            sent = time.monotonic()
            until(lambda: on_b.reader.events, timeout=5, what="the event on B's stream")
            arrived = on_b.reader.events[0]
            assert first["id"] in arrived[1]
            assert arrived[2] - sent < 1.0
            until(lambda: on_a.reader.events, timeout=5, what="the event on A's stream")
            cursor_seen_on_a = on_a.reader.events[0][0]
            assert cursor_seen_on_a == arrived[0], "the same id/cursor on both instances"
            later = [a.post("/events", json=event(n)).json()["id"] for n in (2, 3)]
    finally:
        on_a.close()
        on_b.close()
    resumed = open_stream(pair.b, last_event_id=cursor_seen_on_a)
    try:
        until(lambda: len(resumed.reader.events) >= 2, timeout=5, what="the resumed events on B")
        data = [payload for _, payload, _ in resumed.reader.events]
        assert later[0] in data[0] and later[1] in data[1], "resume on B from A's cursor, in order, no gap"
    finally:
        resumed.close()


# -- idempotency -------------------------------------------------------------------------------------------


def test_the_idempotency_in_flight_409_holds_across_instances(pair: Pair) -> None:
    """The same key sent to A and to B at once: one executes, the other is told it is in flight (409) or
    gets the replay; never two executions."""
    batch = {"events": [event(i) for i in range(1000)]}
    seen_409 = 0
    for attempt in range(8):
        key = f"multi-{attempt}"
        barrier = threading.Barrier(2)

        def send(server: LiveServer, key: str = key, barrier: threading.Barrier = barrier) -> httpx.Response:
            with pair.client(server) as client:
                barrier.wait()
                return client.post("/events/batch", json=batch, headers={"idempotency-key": key})

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(send, [pair.a, pair.b]))
        statuses = sorted(response.status_code for response in answers)
        executed = [r for r in answers if r.status_code in (200, 207) and "idempotent-replayed" not in r.headers]
        assert len(executed) == 1, statuses
        if statuses[1] == 409:
            seen_409 += 1
            problem = answers[[r.status_code for r in answers].index(409)].json()
            assert "in-flight" in problem["type"] or "idempotency" in problem["type"], problem
        with pair.client(pair.b if executed[0] is answers[0] else pair.a) as other:
            again = other.post("/events/batch", json=batch, headers={"idempotency-key": key})
            assert again.headers.get("idempotent-replayed") == "true"
            assert again.json() == executed[0].json()
    assert seen_409 > 0, "two concurrent requests overlapped at least once in 8 tries"
    with pair.client(pair.b) as b:
        total = 0
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            page = b.get("/events", params=params).json()
            total += len(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
    assert total == 8 * 1000, "each key executed once"


# -- webhook deliveries ------------------------------------------------------------------------------------


class Receiver:
    """A local webhook receiver recording (delivery id, attempt number, arrival) for every request."""

    def __init__(self, status: int = 500, *, hold: threading.Event | None = None) -> None:
        self.status = status
        self.hold = hold
        self.requests: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        (
                            self.headers["x-triggers-delivery-id"],
                            int(self.headers["x-triggers-attempt"]),
                            time.monotonic(),
                        )
                    )
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


def subscribe(client: httpx.Client, url: str) -> str:
    response = client.post("/subscriptions", json={"url": url, "event_types": ["order.*"]})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def deliveries(client: httpx.Client, status: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        page = client.get("/deliveries", params=params).json()
        found += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


SCHEDULE = (0.0, 0.4, 0.4, 0.4)


def test_a_failing_receiver_gets_the_schedule_from_both_instances_no_attempt_twice(
    database: str, tmp_path: Path
) -> None:
    receiver = Receiver(500)
    servers = start_pair(database, tmp_path, "--retry-schedule", ",".join(map(str, SCHEDULE)), "--retry-jitter", "0")
    try:
        with pair_clients(servers) as (a, b):
            subscribe(a, receiver.url)
            for n in range(6):
                (a if n % 2 else b).post("/events", json=event(n)).raise_for_status()
            until(lambda: len(deliveries(b, "dead_lettered")) == 6, timeout=30, what="every delivery dead-lettered")
        with receiver.lock:
            seen = list(receiver.requests)
        per_delivery: dict[str, list[tuple[int, float]]] = {}
        for delivery_id, number, at in seen:
            per_delivery.setdefault(delivery_id, []).append((number, at))
        assert len(per_delivery) == 6
        for attempts in per_delivery.values():
            numbers = [number for number, _ in attempts]
            assert numbers == list(range(1, len(SCHEDULE) + 1)), f"each attempt once, in order: {numbers}"
            times = [at for _, at in attempts]
            gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
            assert all(gap >= SCHEDULE[1] * 0.9 for gap in gaps), f"the schedule holds: {gaps}"
    finally:
        servers.a.stop()
        servers.b.stop()
        receiver.close()


class pair_clients:
    def __init__(self, servers: Pair) -> None:
        self.servers = servers

    def __enter__(self) -> tuple[httpx.Client, httpx.Client]:
        self.a = self.servers.client(self.servers.a)
        self.b = self.servers.client(self.servers.b)
        return self.a, self.b

    def __exit__(self, *exc: object) -> None:
        self.a.close()
        self.b.close()


# -- crashes -----------------------------------------------------------------------------------------------


def test_kill_minus_nine_mid_ingest_keeps_every_acknowledged_event_once(pair: Pair) -> None:
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def hammer(worker: int) -> None:
        with pair.client(pair.a) as a:
            for n in itertools.count():
                if stop.is_set():
                    return
                try:
                    response = a.post("/events", json=event(worker * 100000 + n))
                except httpx.HTTPError:
                    return  # the instance died mid-request: no 2xx, nothing promised
                if response.status_code == 201:
                    with lock:
                        accepted.append(response.json()["id"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(hammer, worker) for worker in range(8)]
        until(lambda: len(accepted) >= 200, timeout=30, what="ingests under way on A")
        pair.a.kill()
        stop.set()
        for future in futures:
            future.result()
    with pair.client(pair.b) as b:
        stored: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            page = b.get("/events", params=params).json()
            stored += [item["id"] for item in page["data"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    assert len(stored) == len(set(stored)), "no event stored twice"
    missing = set(accepted) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost"


def test_kill_minus_nine_leases_expire_and_claimed_attempts_move_to_the_survivor(database: str, tmp_path: Path) -> None:
    hold = threading.Event()
    receiver = Receiver(200, hold=hold)
    flags = ("--webhook-timeout", "0.5", "--retry-schedule", "0,0.2,0.2,0.2,0.2,0.2", "--retry-jitter", "0")
    a = live_server.start(tmp_path / "a.db", tmp_path / "a.log", "--database-url", database, *flags)
    b: LiveServer | None = None
    try:
        with httpx.Client(base_url=a.base_url, headers=HEADERS, timeout=30) as on_a:
            subscribe(on_a, receiver.url)
            ids = ingest_batch(on_a, 20)
            leased = on_a.post("/inbox/lease", json={"max_events": 20, "visibility_timeout": 2}).json()["messages"]
            assert len(leased) == 20
            until(lambda: len(receiver.requests) >= 16, timeout=10, what="A's claimed attempts in flight")
        a.kill()  # mid-delivery (its attempts are held by the receiver) with 20 live inbox leases
        killed_at = time.monotonic()
        hold.set()
        b = live_server.start(
            tmp_path / "b.db", tmp_path / "b.log", "--database-url", database, "--delivery-poll", "0.2", *flags
        )
        with httpx.Client(base_url=b.base_url, headers=HEADERS, timeout=30) as on_b:
            redelivered = until(
                lambda: on_b.post("/inbox/lease", json={"max_events": 20}).json()["messages"],
                timeout=10,
                what="A's inbox leases expired and redelivered on B",
            )
            assert {m["event"]["id"] for m in redelivered} <= set(ids)
            assert all(m["delivery_count"] >= 2 for m in redelivered if "delivery_count" in m)
            until(lambda: len(deliveries(on_b, "succeeded")) == 20, timeout=30, what="every delivery made by B")
            with receiver.lock:
                after_kill = {delivery_id for delivery_id, _, at in receiver.requests if at > killed_at}
            assert len(after_kill) == 20, "every attempt A had claimed was made by the survivor"
            for delivery in deliveries(on_b):
                detail = on_b.get(f"/deliveries/{delivery['id']}").json()
                numbers = [attempt["attempt_number"] for attempt in detail.get("attempts", [])]
                assert numbers == list(range(1, len(numbers) + 1)), numbers
    finally:
        a.stop()
        if b is not None:
            b.stop()
        receiver.close()


def test_workers_two_serve_one_port_over_postgresql(database: str, tmp_path: Path) -> None:
    server = live_server.start(tmp_path / "w.db", tmp_path / "w.log", "--database-url", database, "--workers", "2")
    try:
        with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=30) as client:
            created = [client.post("/events", json=event(n)).json()["id"] for n in range(20)]
            # fresh connections are spread by the kernel; every one sees the same database
            for identifier in created:
                with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=30) as fresh:
                    assert fresh.get(f"/events/{identifier}").status_code == 200
            # whichever worker answers the scrape, /metrics sums every worker's counters
            for _ in range(6):
                with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=30) as fresh:
                    text = fresh.get("/metrics").text
                line = next(row for row in text.splitlines() if row.startswith("triggers_events_ingested_total{"))
                assert float(line.rsplit(" ", 1)[1]) == 20.0, line
        log = (tmp_path / "w.log").read_text()
        assert log.count("serving http://") == 1 and "2 workers" in log, log
        server.kill()  # kill -9 of the supervisor: its workers die with it (none keeps serving the port)

        def refused() -> bool:
            try:
                httpx.get(f"{server.base_url}/health", timeout=1.0)
            except httpx.TransportError:
                return True
            return False

        until(refused, timeout=15, what="the workers gone with their supervisor")
    finally:
        server.stop()


def test_workers_on_sqlite_is_refused_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "triggers_server", "--db", str(tmp_path / "x.db"), "--workers", "2", "--port", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--workers 2 needs the PostgreSQL backend" in lines[0], done.stderr


# -- replay jobs -------------------------------------------------------------------------------------------


def test_a_replay_job_resumes_on_the_survivor_when_its_instance_dies(database: str, tmp_path: Path) -> None:
    servers = start_pair(database, tmp_path, "--replay-lease", "1")
    try:
        with pair_clients(servers) as (a, b):
            for start in range(0, 600, 200):
                ingest_batch(a, 200, start)
            now = datetime.now(UTC)
            body = {
                "name": "failover",
                "from": (now - timedelta(hours=1)).isoformat(),
                "to": (now + timedelta(hours=1)).isoformat(),
                "event_types": ["order.*"],
                "target": {"kind": "inbox"},
            }
            created = a.post("/replays", json=body)
            assert created.status_code in (201, 202), created.text
            replay_id = created.json()["id"]

            def progress() -> dict[str, Any]:
                return dict(b.get(f"/replays/{replay_id}").json())

            until(lambda: progress()["progress"]["processed"] >= 20, timeout=30, what="the job running")
            servers.a.kill()
            at_kill = progress()["progress"]["processed"]
            done = until(
                lambda: (job := progress())["status"] == "COMPLETED" and job, timeout=60, what="the job completed on B"
            )
        assert at_kill < 600, "the job was cut mid-run"
        assert done["progress"]["processed"] == 600, done["progress"]
        assert done["progress"]["matched"] == 600
    finally:
        servers.a.stop()
        servers.b.stop()
