"""The console in a real browser against a live server: every flow through the UI, checked against the API."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from _server import _free_port, _wait_healthy
from conftest import ARTIFACTS, FailingEndpoint, Live, Watch, sign_in
from playwright.sync_api import Browser, Locator, Page, WebSocket, expect

XSS = "<img src=x onerror=alert(1)>"


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def event_row(page: Page, type_: str) -> Locator:
    return page.get_by_role("table", name="Events").get_by_role("row").filter(has_text=type_)


def test_sign_in_keeps_the_key_in_session_storage_masked_and_out_of_urls(page: Page, live: Live, watch: Watch) -> None:
    page.goto("/")  # the server redirects / to the console
    expect(page).to_have_url(re.compile(r"/console/$"))
    page.get_by_label("API key").fill("tk_not-a-real-key-at-all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That API key was not accepted.")

    sign_in(page, live.key)
    expect(page.get_by_label("Signed-in API key")).to_have_text("••••••••" + live.key[-4:])
    assert live.key not in page.content()
    assert page.evaluate("() => sessionStorage.getItem('triggers.console.api-key')") == live.key
    assert page.evaluate("() => localStorage.length") == 0
    page.reload()  # still signed in for this tab
    expect(page.get_by_role("navigation", name="Console pages")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0
    assert all(live.key not in url for url in watch.requests)
    assert watch.errors == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]


def test_the_printed_sign_in_link_signs_in_once_with_no_key_in_any_url(page: Page, live: Live, watch: Watch) -> None:
    printed = re.search(r"Console sign-in link \(works once, for \d+ min\): (\S+)", live.server.output())
    assert printed is not None, live.server.output()
    link = printed.group(1)
    assert link.startswith(live.origin + "/console/#code=sic_") and live.key not in link
    page.goto(link)
    expect(page.get_by_role("navigation", name="Console pages")).to_be_visible()
    assert "code=" not in page.url  # the fragment left the address bar (and history) as it was read
    key = page.evaluate("() => sessionStorage.getItem('triggers.console.api-key')")
    assert isinstance(key, str) and key.startswith("tk_") and key != live.key
    keys = live.api.get("/api-keys").json()["data"]
    assert [k["scopes"] for k in keys if k["name"] == "console sign-in"] == [["admin"]]
    assert all("code=" not in url.partition("#")[0] for url in watch.requests)

    page.evaluate("() => sessionStorage.clear()")
    page.goto(link)  # a code works once
    expect(page.get_by_role("alert")).to_contain_text("already used or has expired")
    expect(page.get_by_label("API key")).to_be_visible()


def test_an_ingested_event_appears_in_the_live_tail(signed_in: Page, live: Live) -> None:
    page = signed_in
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("Live")
    type_ = unique("tail.order")
    created = live.ingest(type_, data={"order_id": "o-7"})
    row = event_row(page, type_)
    expect(row).to_have_count(1)
    expect(row).to_contain_text('{"order_id":"o-7"}')
    expect(row.get_by_role("link")).to_have_text(str(created["sequence"]))


def test_the_live_tail_runs_over_the_websocket_with_the_key_in_no_url(page: Page, live: Live) -> None:
    sockets: list[str] = []
    frames: list[str] = []

    def on_websocket(socket: WebSocket) -> None:
        sockets.append(socket.url)
        socket.on("framesent", lambda payload: frames.append(payload if isinstance(payload, str) else ""))

    page.on("websocket", on_websocket)
    sign_in(page, live.key)
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("(WebSocket)")
    type_ = unique("tail.ws")
    live.ingest(type_)
    expect(event_row(page, type_)).to_have_count(1)
    assert sockets and all(url.startswith(live.origin.replace("http", "ws", 1) + "/v1/events/ws") for url in sockets), sockets
    assert all(live.key not in url for url in sockets)
    # A page cannot set headers on a WebSocket: the key travels in the first frame, `hello`, and nowhere else.
    hello = json.loads(frames[0])
    assert hello == {"type": "hello", "api_key": live.key}
    assert all(live.key not in frame for frame in frames[1:])


def test_the_live_tail_falls_back_to_sse_when_websockets_are_refused(page: Page, live: Live) -> None:
    # As a proxy that refuses upgrades would: every WebSocket to the API is closed before any frame.
    page.route_web_socket(re.compile(r".*/v1/events/ws$"), lambda socket: socket.close())
    sign_in(page, live.key)
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("(SSE)", timeout=45_000)
    type_ = unique("tail.sse")
    live.ingest(type_)
    expect(event_row(page, type_)).to_have_count(1)


def test_the_tail_filters_by_type_glob(signed_in: Page, live: Live) -> None:
    page = signed_in
    prefix = unique("glob")
    page.get_by_label("Type glob").fill(f"{prefix}.a.*")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("Live")
    live.ingest(f"{prefix}.b.created")  # sent first: had the filter let it through, it would show first
    live.ingest(f"{prefix}.a.created")
    expect(event_row(page, f"{prefix}.a.created")).to_have_count(1)
    expect(event_row(page, f"{prefix}.b.created")).to_have_count(0)


def test_the_tail_resumes_after_the_last_event_seen(signed_in: Page, live: Live) -> None:
    page = signed_in
    state = page.get_by_role("status", name="Live tail state")
    before = unique("resume.before")
    live.ingest(before)
    expect(event_row(page, before)).to_have_count(1)
    page.get_by_role("button", name="Pause").click()
    expect(state).to_contain_text("Paused")
    missed = [unique("resume.missed") for _ in range(3)]
    for type_ in missed:
        live.ingest(type_)
    page.get_by_role("button", name="Resume").click()
    for type_ in missed:
        expect(event_row(page, type_)).to_have_count(1)
    expect(event_row(page, before)).to_have_count(1)  # resumed after it, not from before it


def test_an_html_payload_is_shown_as_text_and_runs_nothing(signed_in: Page, live: Live, watch: Watch) -> None:
    page = signed_in
    type_ = unique("xss")
    created = live.ingest(type_, data={"x": XSS}, subject=XSS, metadata={"x-note": "<script>alert(2)</script>"})
    row = event_row(page, type_)
    expect(row).to_contain_text(XSS)
    row.get_by_role("link").click()
    expect(page.get_by_label("Data", exact=True)).to_contain_text(f'"x": "{XSS}"')
    expect(page.get_by_role("table", name="Metadata")).to_contain_text("<script>alert(2)</script>")
    expect(page.get_by_role("table", name="Envelope")).to_contain_text(created["id"])
    assert page.locator("main img, main script").count() == 0
    assert watch.dialogs == []
    assert not [url for url in watch.requests if url.endswith("/x")]  # the <img src=x> was never an element
    assert watch.errors == []


def test_event_page_shows_envelope_data_curl_and_failing_deliveries(signed_in: Page, live: Live, failing_endpoint: FailingEndpoint) -> None:
    page = signed_in
    type_ = unique("detail")
    subscription = live.api.post("/subscriptions", json={"url": failing_endpoint.url, "event_types": [type_]})
    assert subscription.status_code == 201, subscription.text
    created = live.ingest(type_, id="ext-9", data={"order_id": "o-9", "lines": [1, 2]}, subject="order/o-9", correlation_id="corr-9")

    page.goto(f"/console/events/{created['id']}")
    envelope = page.get_by_role("table", name="Envelope")
    for value in (created["id"], type_, "order/o-9", "corr-9", "console-tests"):
        expect(envelope).to_contain_text(value)
    expect(page.get_by_label("Data", exact=True)).to_have_text('{\n  "order_id": "o-9",\n  "lines": [\n    1,\n    2\n  ]\n}')
    cloud_event = json.loads(page.get_by_label("CloudEvent").text_content() or "")
    assert cloud_event == {
        "specversion": "1.0",
        "id": "ext-9",  # the producer's id
        "source": "console-tests",
        "type": type_,
        "subject": "order/o-9",
        "time": created["time"],
        "datacontenttype": created["datacontenttype"],
        "data": {"order_id": "o-9", "lines": [1, 2]},
    }
    curl = page.get_by_label("curl command")
    expect(curl).to_contain_text(f"'{live.origin}/v1/events'")
    expect(curl).to_contain_text('"type":"' + type_ + '"')
    expect(curl).to_contain_text("$TRIGGERS_API_KEY")
    assert live.key not in (curl.text_content() or "")

    # The delivery shows up once its first attempt failed (reload until the worker has made it).
    deliveries = page.get_by_role("table", name="Deliveries")

    def attempted() -> bool:
        page.reload()
        expect(deliveries.or_(page.get_by_text("No deliveries."))).to_be_visible()
        return deliveries.count() == 1 and "500" in (deliveries.text_content() or "")

    for _ in range(50):
        if attempted():
            break
    expect(deliveries).to_contain_text("500")
    deliveries.get_by_role("link").first.click()
    attempt = page.get_by_role("article", name="Attempt 1")
    expect(attempt).to_contain_text("failed, HTTP 500")
    expect(attempt.get_by_label("Response body")).to_have_text("receiver down <b>not bold</b>")
    expect(attempt.get_by_role("table", name="Response headers")).to_contain_text("console-tests")
    expect(attempt.get_by_label("Request body")).to_contain_text('"order_id":"o-9"')
    expect(attempt.get_by_role("table", name="Request headers")).to_contain_text("webhook-signature")
    assert page.locator("main b").count() == 0


def dead_letter_the_inbox(live: Live) -> None:
    """Lease and nack everything until nothing is left: with --max-deliveries 1 the next lease dead-letters them."""
    while True:
        lease = live.api.post("/inbox/lease", json={"max_events": 100}).json()
        if not lease["messages"]:
            return
        receipts = [message["receipt"] for message in lease["messages"]]
        assert live.api.post("/inbox/nack", json={"receipts": receipts}).status_code == 200


def dead_event_ids(live: Live, glob: str) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        params = {"event_type": glob, "limit": 200, **({"cursor": cursor} if cursor else {})}
        body = live.api.get("/dlq", params=params).json()
        ids |= {entry["event_id"] for entry in body["data"]}
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


def test_dlq_bulk_retry_moves_every_entry_matching_the_filter(signed_in: Page, live: Live) -> None:
    page = signed_in
    prefix = unique("dlq")
    matching = [live.ingest(f"{prefix}.match.{i}")["id"] for i in range(60)]  # more than one page (50)
    others = [live.ingest(f"{prefix}.other")["id"] for _ in range(3)]
    dead_letter_the_inbox(live)

    page.get_by_role("link", name="Dead letters").click()
    page.get_by_label("Event type glob").fill(f"{prefix}.match.*")
    page.get_by_role("button", name="Apply filter").click()
    table = page.get_by_role("table", name="Dead letters")
    expect(table.get_by_role("row")).to_have_count(51)  # the header and the first page
    page.get_by_role("button", name="Retry all matching the filter").click()
    expect(page.get_by_role("status", name="Result summary")).to_have_text("Retried 60 dead letters matching the filter.")
    expect(page.get_by_text("No dead letters match.")).to_be_visible()

    assert dead_event_ids(live, f"{prefix}.match.*") == set()
    assert dead_event_ids(live, f"{prefix}.other") == set(others)
    statuses = {live.api.get(f"/events/{event_id}").json()["status"] for event_id in matching}
    assert "dead_lettered" not in statuses


def test_the_console_requests_nothing_but_its_own_server(signed_in: Page, live: Live, watch: Watch) -> None:
    page = signed_in
    live.ingest(unique("origin"))
    for name in ("Dead letters", "Subscriptions", "Replays", "Inbox", "Schemas", "Metrics", "Events"):
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("table", name="Events").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Envelope")).to_be_visible()
    page.goto("/console/no/such/page")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    foreign = [url for url in watch.requests if not url.startswith(live.origin + "/") and not url.startswith("data:")]
    assert foreign == []
    assert len(watch.requests) > 5
    assert watch.errors == []  # a CSP violation would be reported here


def test_event_page_shows_the_causation_tree_with_the_event_highlighted(signed_in: Page, live: Live) -> None:
    page = signed_in
    correlation = unique("saga")
    root = live.ingest("saga.started", correlation_id=correlation)
    child = live.ingest("saga.step.done", correlation_id=correlation, causation_id=root["id"])
    grandchild = live.ingest("saga.finished", correlation_id=correlation, causation_id=child["id"])
    page.goto(f"/console/events/{child['id']}")
    tree = page.get_by_role("navigation", name="Causation chain")
    expect(tree).to_contain_text("3 events with correlation id")
    here = tree.locator("[aria-current=true]")
    expect(here).to_contain_text("saga.step.done")
    expect(here).to_contain_text(child["id"])
    # root > child > grandchild: the child's list item holds the grandchild, the root's holds both
    expect(tree.get_by_role("listitem").filter(has_text=root["id"])).to_contain_text(grandchild["id"])
    tree.get_by_role("link", name="saga.finished").click()
    expect(page.get_by_role("navigation", name="Causation chain").locator("[aria-current=true]")).to_contain_text(grandchild["id"])


def _saga_rows(page: Page) -> list[list[str]]:
    rows = page.get_by_role("table", name="Saga steps").get_by_role("row")
    return [[cell.strip() for cell in row.get_by_role("cell").all_inner_texts()] for row in rows.all()[1:]]


def test_event_page_shows_saga_steps_done_and_pending_as_the_api_reports_them(signed_in: Page, live: Live) -> None:
    page = signed_in
    correlation = unique("saga")
    started, settled, waiting = unique("saga.started"), unique("saga.settled"), unique("saga.waiting")
    root = live.ingest(started, correlation_id=correlation)
    child = live.ingest(settled, correlation_id=correlation, causation_id=root["id"])
    last = live.ingest(waiting, correlation_id=correlation, causation_id=child["id"])
    # The first two steps are consumed from the inbox (leased and acknowledged); the last still waits there.
    lease = live.api.post("/inbox/lease", json={"types": [started, settled], "max_events": 2}).json()
    assert len(lease["messages"]) == 2
    acked = live.api.post("/inbox/ack", json={"receipts": [message["receipt"] for message in lease["messages"]]})
    assert acked.status_code == 200, acked.text
    saga = live.api.get(f"/correlations/{correlation}").json()["saga"]
    assert (saga["state"], saga["done"], saga["pending"]) == ("in_progress", 2, 1)

    page.goto(f"/console/events/{last['id']}")
    expect(page.get_by_text("Saga in progress: 2 done, 1 pending, 0 failed")).to_be_visible()
    table = page.get_by_role("table", name="Saga steps")
    expect(table.get_by_role("row")).to_have_count(4)
    assert _saga_rows(page) == [
        [str(step["position"]), step["type"], step["state"], step["inbox_status"], "0 / 0 / 0"] for step in saga["steps"]
    ]
    assert [row[2] for row in _saga_rows(page)] == ["done", "done", "pending"]
    expect(table.locator("[aria-current=true]")).to_contain_text(waiting)
    table.get_by_role("link", name=started).click()
    expect(page.get_by_role("table", name="Saga steps").locator("[aria-current=true]")).to_contain_text(started)


def test_replay_with_a_patch_compares_original_and_replay(signed_in: Page, live: Live) -> None:
    page = signed_in
    original = live.ingest(unique("replay"), data={"amount": 10, "currency": "EUR"})
    page.goto(f"/console/events/{original['id']}")
    page.get_by_label("Target").select_option("inbox")
    page.get_by_label("Data patch (JSON Merge Patch)").fill('{"amount": 50, "currency": null}')
    page.get_by_role("button", name="Preview (dry run)").click()
    comparison = page.get_by_role("region", name="Comparison")
    expect(comparison).to_contain_text("Dry run: nothing was stored or sent")
    expect(comparison.get_by_label("Original data")).to_have_text('{\n  "amount": 10,\n  "currency": "EUR"\n}')
    expect(comparison.get_by_label("Replay data")).to_have_text('{\n  "amount": 50\n}')
    changes = comparison.get_by_role("table", name="Changed fields")
    expect(changes.get_by_role("row").filter(has_text="/amount")).to_contain_text("changed")
    expect(changes.get_by_role("row").filter(has_text="/currency")).to_contain_text("removed")
    expect(comparison.get_by_role("table", name="Replay outcomes")).to_contain_text("would_deliver")

    page.get_by_role("button", name="Replay", exact=True).click()
    expect(comparison).to_contain_text("Replayed as")
    expect(comparison.get_by_role("table", name="Replay outcomes")).to_contain_text("queued")
    copy_id = comparison.get_by_role("heading", level=3).get_by_role("link").text_content() or ""
    stored = live.api.get(f"/events/{copy_id}").json()
    assert stored["replay_of"] == original["id"]
    assert stored["data"] == {"amount": 50}
    assert live.api.get(f"/events/{original['id']}").json()["data"] == {"amount": 10, "currency": "EUR"}


def test_inbox_page_shows_depth_leased_and_a_peek_matching_the_api(signed_in: Page, live: Live) -> None:
    page = signed_in
    leased_type = unique("inbox.leased")
    live.ingest(leased_type)
    live.ingest(unique("inbox.pending"))
    lease = live.api.post("/inbox/lease", json={"max_events": 1, "types": [leased_type], "visibility_timeout": 300})
    assert len(lease.json()["messages"]) == 1
    page.get_by_role("link", name="Inbox").click()
    numbers = page.get_by_role("definition")
    expect(numbers.first).not_to_have_text("")
    stats = live.api.get("/stats").json()
    leased = live.api.get("/events", params={"status": "leased", "limit": 200}).json()["data"]
    peek = live.api.get("/inbox", params={"limit": 50}).json()["data"]
    depth = page.get_by_label("Inbox depth")
    expect(depth.locator("div").filter(has_text="Depth").get_by_role("definition")).to_have_text(str(stats["inbox_depth"]))
    expect(depth.locator("div").filter(has_text="Leased").get_by_role("definition")).to_have_text(str(len(leased)))
    expect(depth.locator("div").filter(has_text="Pending").get_by_role("definition")).to_have_text(str(stats["inbox_depth"] - len(leased)))
    rows = page.get_by_role("table", name="Events").locator("tbody tr")
    expect(rows).to_have_count(len(peek))
    assert rows.evaluate_all("rows => rows.map(row => row.dataset.eventId)") == [event["id"] for event in peek]


def test_metrics_page_numbers_equal_the_stats_api(signed_in: Page, live: Live) -> None:
    page = signed_in
    live.ingest(unique("metrics"))
    page.get_by_role("link", name="Metrics").click()
    numbers = page.get_by_label("Statistics")
    expect(numbers).to_be_visible()
    stats = live.api.get("/stats").json()
    expect(numbers.locator("div").filter(has_text="Inbox depth").get_by_role("definition")).to_have_text(str(stats["inbox_depth"]))
    expect(numbers.locator("div").filter(has_text="DLQ depth").get_by_role("definition")).to_have_text(str(stats["dlq_depth"]))
    expect(numbers.locator("div").filter(has_text="Window").get_by_role("definition")).to_have_text(f"{stats['window_seconds']} s")
    top = page.get_by_role("table", name="Top event types").locator("tbody tr")
    expect(top).to_have_count(len(stats["top_event_types"]))
    shown = top.evaluate_all("rows => rows.map(row => [row.cells[0].textContent, Number(row.cells[1].textContent)])")
    assert shown == [[entry["type"], entry["count"]] for entry in stats["top_event_types"]]


def test_metrics_page_shows_pending_deliveries_and_delivery_errors_by_cause(
    signed_in: Page, live: Live, failing_endpoint: FailingEndpoint
) -> None:
    page = signed_in
    type_ = unique("metrics.errors")
    subscription = live.api.post("/subscriptions", json={"url": failing_endpoint.url, "event_types": [type_]})
    assert subscription.status_code == 201, subscription.text
    live.ingest(type_)
    page.get_by_role("link", name="Metrics").click()
    errors = page.get_by_role("table", name="Delivery errors by cause")

    def failed_once() -> bool:  # refresh until the worker's first attempt at the endpoint (HTTP 500) is counted
        page.get_by_role("button", name="Refresh").click()
        expect(errors.or_(page.get_by_text("No failed delivery attempts in this window."))).to_be_visible()
        return errors.count() == 1 and "http_500" in (errors.text_content() or "")

    for _ in range(50):
        if failed_once():
            break
    row = errors.locator("tbody tr").filter(has_text="http_500")
    expect(row).to_have_count(1)
    assert int(row.locator("td").nth(1).text_content() or "0") >= 1
    stats = live.api.get("/stats").json()
    assert any(entry["cause"] == "http_500" and entry["count"] >= 1 for entry in stats["delivery_errors"])
    assert stats["pending_deliveries"] >= 1  # the failing delivery waits for its next attempt
    assert int(_definition(page, "Pending deliveries").text_content() or "0") >= 1


def _definition(page: Page, name: str) -> Locator:
    return page.get_by_label("Statistics").locator("div").filter(has_text=name).get_by_role("definition")


def test_metrics_page_windows_show_the_numbers_and_series_of_that_window(signed_in: Page, live: Live) -> None:
    page = signed_in
    type_ = unique("metrics.window")
    for _ in range(3):
        live.ingest(type_)
    page.get_by_role("link", name="Metrics").click()
    expect(_definition(page, "Window")).to_have_text("300 s")
    page.get_by_label("Window").select_option(label="Last hour")
    expect(_definition(page, "Window")).to_have_text("3600 s")
    stats = live.api.get("/stats", params={"window": 3600}).json()
    expect(_definition(page, "Ingest rate")).to_have_text(f"{stats['ingest_rate_per_second']:.2f} events/s")
    expect(_definition(page, "Inbox depth")).to_have_text(str(stats["inbox_depth"]))
    expect(_definition(page, "DLQ depth")).to_have_text(str(stats["dlq_depth"]))
    expect(_definition(page, "Ingest latency p99")).to_have_text(f"{stats['ingest_latency_ms']['p99']} ms")
    top = page.get_by_role("table", name="Top event types").locator("tbody tr")
    shown = top.evaluate_all("rows => rows.map(row => [row.cells[0].textContent, Number(row.cells[1].textContent)])")
    assert shown == [[entry["type"], entry["count"]] for entry in stats["top_event_types"]]
    # The series: a bar chart and a table with the API's buckets (aligned, so both reads agree on them).
    expect(page.get_by_role("img", name=re.compile(rf"^Events per {stats['bucket_seconds']} s bucket: "))).to_be_visible()
    page.get_by_text(f"Throughput per bucket of {stats['bucket_seconds']} s").click()
    rows = page.get_by_role("table", name="Throughput per bucket").locator("tbody tr")
    expect(rows).to_have_count(len(stats["series"]))
    table = rows.evaluate_all("rows => rows.map(row => Array.from(row.cells, (cell) => cell.textContent))")
    api = {b["start"]: [b["start"], *map(str, (b["events"], b["delivery_attempts"], b["deliveries_succeeded"]))] for b in stats["series"]}
    common = [row for row in table if row[0] in api]
    assert len(common) >= len(table) - 1  # a bucket boundary may pass between the two reads
    assert common == [api[row[0]] for row in common]
    assert sum(int(row[1]) for row in table) == round(stats["ingest_rate_per_second"] * 3600)
    page.get_by_label("Window").select_option(label="Last 24 hours")
    expect(_definition(page, "Window")).to_have_text("86400 s")


def test_schema_page_diffs_versions_checks_a_candidate_and_sets_the_mode(signed_in: Page, live: Live) -> None:
    page = signed_in
    type_ = unique("schema.order")
    v1 = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
    v2 = {**v1, "properties": {"id": {"type": "string", "description": "the order id"}}}  # backward compatible
    for schema in (v1, v2):
        response = live.api.post(f"/schemas/{type_}/versions", json={"json_schema": schema})
        assert response.status_code == 201, response.text
    page.get_by_role("link", name="Schemas").click()
    page.get_by_role("table", name="Schema subjects").get_by_role("link", name=type_).click()
    changes = page.get_by_role("table", name="Schema changes")
    expect(changes.get_by_role("row").filter(has_text="/properties/id/description")).to_contain_text("added")
    expect(changes.locator("tbody tr")).to_have_count(1)

    incompatible = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    page.get_by_label("Candidate JSON Schema").fill(json.dumps(incompatible))
    page.get_by_role("button", name="Check compatibility").click()
    result = page.get_by_role("status", name="Compatibility result")
    expected = live.api.post(f"/schemas/{type_}/compatibility", json={"json_schema": incompatible}).json()
    assert expected["compatible"] is False
    expect(result).to_contain_text(f"Incompatible under {expected['mode']}")
    expect(result.get_by_role("listitem")).to_have_count(len(expected["incompatibilities"]))

    page.get_by_label("Compatibility mode").select_option("NONE")
    expect(page.get_by_role("status").filter(has_text="is now NONE")).to_be_visible()
    assert live.api.get(f"/schemas/{type_}/config").json()["compatibility"] == "NONE"


def test_schema_page_shows_the_evolution_per_version_as_the_cli_writes_it(signed_in: Page, live: Live) -> None:
    from zapier_triggers import SyncTriggersClient
    from zapier_triggers.cli.evolution import Version, changes, markdown

    page = signed_in
    type_ = unique("schema.evolving")
    assert live.api.put(f"/schemas/{type_}/config", json={"compatibility": "NONE"}).status_code == 200
    v1 = {"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}}, "required": ["id"]}
    v2 = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "note": {"type": "string"},
            "status": {"enum": ["new", "paid", "café"]},
            "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
        },
        "required": ["id", "status"],
    }
    v3 = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": ["new", "paid", "shipped"]},
            "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
            "at": {"type": "string", "format": "date-time"},
        },
        "required": ["id"],
    }
    for schema in (v1, v2, v3, v3):  # the last one registers nothing new (same fingerprint) or an unchanged version
        live.api.post(f"/schemas/{type_}/versions", json={"json_schema": schema})
    with SyncTriggersClient(api_key=live.key, base_url=live.server.base_url) as client:
        versions = [Version(item.version, item.created_at.isoformat(), item.json_schema) for item in client.schemas.list_versions(type_)]
    assert len(versions) >= 3

    page.goto(f"/console/schemas/{type_}")
    evolution = page.get_by_role("list", name="Schema evolution")
    expect(evolution.get_by_role("listitem")).to_have_count(len(versions))
    ordered = sorted(versions, key=lambda version: version.number)
    for previous, version in itertools.pairwise(ordered):
        table = page.get_by_role("table", name=f"Version {version.number}: changes")
        rows = table.locator("tbody tr").evaluate_all("rows => rows.map(row => [row.cells[0].textContent, row.cells[1].textContent])")
        assert rows == [[change.field, change.what.replace("`", "")] for change in changes(previous.schema, version.schema)]
    assert "status" in page.get_by_role("table", name=f"Version {ordered[1].number}: changes").inner_text()
    page.get_by_text("Evolution as Markdown").click()
    # The page's Markdown is the CLI's, byte for byte (`triggers schemas docs TYPE`).
    assert page.get_by_label("Evolution Markdown").text_content() == markdown(type_, versions)


AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
}"""


def test_no_page_has_a_serious_or_critical_accessibility_violation(page: Page, live: Live, failing_endpoint: FailingEndpoint) -> None:
    # axe-core (from npm) is added by the browser's init-script hook, which the page's CSP does not govern.
    page.context.add_init_script(path=str(AXE))
    type_ = unique("a11y")
    subscription = live.api.post("/subscriptions", json={"url": failing_endpoint.url, "event_types": [type_]})
    assert subscription.status_code == 201, subscription.text
    created = live.ingest(type_, data={"x": 1}, correlation_id=unique("a11y-corr"))
    schema = {"type": "object"}
    assert live.api.post(f"/schemas/{type_}/versions", json={"json_schema": schema}).status_code == 201

    def audit(name: str) -> list[str]:
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_text("Loading…")).to_have_count(0)
        if os.environ.get("CONSOLE_SCREENSHOTS") == "1":  # `nox -s console -- --screenshots`: every page once
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "root"
            page.screenshot(path=str(ARTIFACTS / f"page-{slug}.png"), full_page=True)
        return [f"{name}: {violation}" for violation in page.evaluate(AXE_RUN)]

    violations = []
    page.goto("/console/")
    violations += audit("sign-in")
    sign_in(page, live.key)
    for path in (
        "/console/events",
        f"/console/events/{created['id']}",
        "/console/dlq",
        "/console/subscriptions",
        "/console/inbox",
        "/console/replays",
        "/console/schemas",
        f"/console/schemas/{type_}",
        "/console/metrics",
    ):
        page.goto(path)
        violations += audit(path)
    assert violations == []


def test_copy_as_curl_and_as_python_recreate_the_event(signed_in: Page, live: Live) -> None:
    page = signed_in
    data = {"note": "it's <b>bold</b> & $HOME", "nested": {"ok": True, "none": None, "n": [1, 2.5]}}
    original = live.ingest(unique("copy"), data=data, subject="s'1", correlation_id="corr-'x'", metadata={"h": "v'1"})
    page.goto(f"/console/events/{original['id']}")
    curl = page.get_by_label("curl command").text_content() or ""
    page.get_by_text("Python", exact=True).click()
    python = page.get_by_label("Python call").text_content() or ""
    page.get_by_text("TypeScript", exact=True).click()
    expect(page.get_by_label("TypeScript call")).to_contain_text("await client.events.create({")
    page.get_by_text("Go", exact=True).click()
    expect(page.get_by_label("Go call")).to_contain_text("client.Events.Create(ctx, triggers.EventCreateParams{")
    env = {**os.environ, "TRIGGERS_API_KEY": live.key, "TRIGGERS_BASE_URL": live.server.base_url}

    from_curl = json.loads(subprocess.run(["bash", "-c", curl], env=env, capture_output=True, check=True, text=True).stdout)
    script = python + "\nprint(event.id)\n"
    ran = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    from_python = live.api.get(f"/events/{ran.stdout.strip()}").json()
    for copy in (from_curl, from_python):
        assert copy["id"] != original["id"]
        for name in ("type", "source", "data", "subject", "correlation_id", "metadata"):
            assert copy[name] == original[name], name


def test_the_tail_filters_by_source_subject_correlation_and_payload_text(signed_in: Page, live: Live) -> None:
    page = signed_in
    type_ = unique("attrs")
    source = unique("shop")
    page.get_by_label("Type glob").fill(type_)
    page.get_by_label("Source").fill(source)
    page.get_by_label("Subject").fill("order/1")
    page.get_by_label("Correlation id").fill("corr-1")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("Live")
    wanted = {"source": source, "subject": "order/1", "correlation_id": "corr-1"}
    for name, other in (("source", "elsewhere"), ("subject", "order/2"), ("correlation_id", "corr-2")):
        live.ingest(type_, data={"miss": name}, **{**wanted, name: other})
    live.ingest(type_, data={"needle": "yes"}, **wanted)
    live.ingest(type_, data={"hay": "only"}, **wanted)
    rows = page.get_by_role("table", name="Events").locator("tbody tr[data-event-id]")
    expect(rows).to_have_count(2)  # the three misses came first: had any passed, the count would be higher
    page.get_by_label("Search payloads").fill("NEEDLE")
    page.get_by_role("button", name="Apply filter").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text('{"needle":"yes"}')


def test_a_time_range_with_an_end_shows_history_from_the_list(signed_in: Page, live: Live) -> None:
    page = signed_in
    type_ = unique("range")
    created = live.ingest(type_)
    page.get_by_label("Type glob").fill(type_)
    page.get_by_label("To").fill("2999-01-01T00:00:00")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("History")
    expect(event_row(page, type_)).to_have_count(1)
    expect(event_row(page, type_).get_by_role("link")).to_have_text(str(created["sequence"]))
    page.get_by_label("From").fill("2998-01-01T00:00:00")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_text("No events yet.")).to_be_visible()


def test_the_tail_keeps_up_with_a_burst_and_renders_only_the_rows_in_view(signed_in: Page, live: Live) -> None:
    page = signed_in
    type_ = unique("burst")
    page.get_by_label("Type glob").fill(type_)
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("Live")
    total, batch = 3000, 100
    first_id = ""
    for start in range(0, total, batch):
        events = [{"type": type_, "source": "burst", "data": {"n": start + i}} for i in range(batch)]
        response = live.api.post("/events/batch", json={"events": events})
        assert response.status_code in (200, 201, 207), response.text
        first_id = first_id or response.json()["results"][0]["event"]["id"]
    expect(page.get_by_label("Event count")).to_have_text(f"{total} events", timeout=60_000)
    rendered = page.get_by_role("table", name="Events").locator("tbody tr[data-event-id]")
    assert rendered.count() < 100
    page.locator(".viewport").evaluate("viewport => { viewport.scrollTop = viewport.scrollHeight; }")
    expect(page.locator(f'tr[data-event-id="{first_id}"]')).to_be_visible()
    expect(page.locator(f'tr[data-event-id="{first_id}"]')).to_contain_text('{"n":0}')


def test_dlq_bulk_dismiss_by_filter_removes_every_matching_entry_with_progress(signed_in: Page, live: Live) -> None:
    page = signed_in
    prefix = unique("dismiss")
    for i in range(70):  # more than one page
        live.ingest(f"{prefix}.match.{i}")
    others = {live.ingest(f"{prefix}.other")["id"] for _ in range(2)}
    dead_letter_the_inbox(live)
    assert len(dead_event_ids(live, f"{prefix}.match.*")) == 70

    page.goto("/console/dlq")
    page.get_by_label("Event type glob").fill(f"{prefix}.match.*")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_role("button", name="Load more")).to_be_visible()
    page.get_by_role("button", name="Dismiss all matching the filter").click()
    expect(page.get_by_role("status", name="Result summary")).to_have_text("Dismissed 70 dead letters matching the filter.")
    expect(page.get_by_role("progressbar", name="Bulk progress")).to_have_attribute("value", "70")
    expect(page.get_by_text("No dead letters match.")).to_be_visible()
    assert dead_event_ids(live, f"{prefix}.match.*") == set()
    assert dead_event_ids(live, f"{prefix}.other") == others


def test_subscription_page_edits_rotates_tests_and_charts_response_times(
    signed_in: Page, live: Live, failing_endpoint: FailingEndpoint
) -> None:
    page = signed_in
    type_ = unique("sub")
    created = live.api.post("/subscriptions", json={"url": failing_endpoint.url, "event_types": [type_]}).json()
    page.get_by_role("link", name="Subscriptions").click()
    card = page.get_by_role("article", name=f"Subscription {created['id']}")
    expect(card).to_contain_text(type_)

    card.get_by_role("button", name="Send test event").click()
    expect(page.get_by_role("status").filter(has_text="Sent a test event")).to_be_visible()
    chart = card.get_by_role("img", name=re.compile(r"Response times of the last \d+ attempts"))
    for _ in range(50):  # the worker makes the attempt in the background: reload until the card shows it
        if chart.count() == 1:
            break
        page.reload()
        expect(card.get_by_role("heading", name="Recent deliveries")).to_be_visible()
        expect(card.get_by_text("Loading…")).to_have_count(0)
    expect(chart).to_be_visible()
    listed = live.api.get("/deliveries", params={"subscription_id": created["id"]}).json()["data"]
    shown = int(re.findall(r"last (\d+) attempts", chart.get_attribute("aria-label") or "")[0])
    stored = sum(len(live.api.get(f"/deliveries/{d['id']}").json()["attempts"]) for d in listed)
    assert 1 <= shown <= stored  # the worker may have retried since the page loaded
    expect(chart.locator("rect.bar.failed")).to_have_count(shown)
    expect(card.get_by_role("table", name="Deliveries")).to_contain_text("500")

    card.get_by_role("button", name="Rotate secret").click()
    secret = page.get_by_label("New signing secret")
    expect(secret).to_contain_text(created["id"])
    expect(secret).to_contain_text("••••••••")

    card.get_by_role("button", name="Edit").click()
    card.get_by_label("Types").fill(f"{type_}, {type_}.more")
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=f"Saved {created['id']}")).to_be_visible()
    assert live.api.get(f"/subscriptions/{created['id']}").json()["event_types"] == [type_, f"{type_}.more"]

    card.get_by_role("button", name="Disable").click()
    expect(card.get_by_role("heading", level=2)).to_contain_text("disabled")
    assert live.api.get(f"/subscriptions/{created['id']}").json()["enabled"] is False


def test_a_time_range_replay_copies_every_matching_event_with_its_patch(signed_in: Page, live: Live) -> None:
    page = signed_in
    type_ = unique("range-replay")
    originals = {live.ingest(type_, data={"n": i})["id"] for i in range(3)}
    page.get_by_role("link", name="Replays").click()
    page.get_by_label("Name").fill(type_)
    page.get_by_label("From").fill("2000-01-01T00:00:00")
    page.get_by_label("To").fill("2999-01-01T00:00:00")
    page.get_by_label("Type globs (comma-separated)").fill(type_)
    page.get_by_label("Data patch (JSON Merge Patch, optional)").fill('{"replayed": true}')
    page.get_by_label("Dry run (count only)").uncheck()
    page.get_by_role("button", name="Start replay").click()
    row = page.get_by_role("table", name="Replay jobs").get_by_role("row").filter(has_text=type_)
    expect(row.get_by_role("cell").nth(2)).to_have_text("COMPLETED", timeout=90_000)
    expect(row.get_by_role("cell").nth(5)).to_have_text("3")  # matched (processed counts every event scanned)
    expect(row.get_by_role("cell").nth(7)).to_have_text("3")  # delivered: copies made
    listed = live.api.get("/events", params={"type": type_, "limit": 100}).json()["data"]
    copies = [event for event in listed if event["replay_of"] is not None]
    assert {copy["replay_of"] for copy in copies} == originals
    assert all(copy["data"]["replayed"] is True for copy in copies)


def test_a_revoked_key_signs_the_console_out(page: Page, live: Live, watch: Watch) -> None:
    created = live.api.post("/api-keys", json={"name": "console-revoked", "scopes": ["admin"]})
    assert created.status_code == 201, created.text
    key = created.json()
    sign_in(page, key["key"])
    expect(page.get_by_role("status", name="Live tail state")).to_contain_text("Live")
    assert live.api.delete(f"/api-keys/{key['id']}").status_code == 204
    page.get_by_role("link", name="Dead letters").click()  # the next call is refused
    expect(page.get_by_role("status")).to_have_text("The server no longer accepts that API key (revoked or expired): sign in again.")
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0
    assert [error for error in watch.errors if "401" not in error] == []


def test_the_tail_reconnects_after_the_server_dies_and_resumes_after_the_last_event(browser: Browser, tmp_path: Path) -> None:
    """Kill the server under an open tail, start it again on the same port and database: the SDK reconnects its
    WebSocket and subscribes again with `since` = the last event shown, and the event ingested meanwhile appears once."""
    executable = os.environ.get("TRIGGERS_SERVER") or shutil.which("triggers-server") or "triggers-server"
    port, key = _free_port(), "tk_" + uuid.uuid4().hex
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [executable, "--host", "127.0.0.1", "--port", str(port), "--db", str(tmp_path / "s.db"), "--admin-key", key]

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / "server.log").open("ab")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _wait_healthy(process, base_url, tmp_path / "server.log")
        return process

    server = start()
    context = browser.new_context(base_url=base_url.removesuffix("/v1"))
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"})
    try:
        page = context.new_page()
        subscribes: list[dict[str, object]] = []  # every subscribe frame the page sent, on any connection

        def on_websocket(socket: WebSocket) -> None:
            def on_frame(payload: str | bytes) -> None:
                frame = json.loads(payload) if isinstance(payload, str) else {}
                if frame.get("type") == "subscribe":
                    subscribes.append(frame)

            socket.on("framesent", on_frame)

        page.on("websocket", on_websocket)
        sign_in(page, key)
        before = api.post("/events", json={"type": unique("drop.before"), "source": "console-tests"}).json()
        expect(event_row(page, before["type"])).to_have_count(1)
        connected = len(subscribes)
        server.kill()  # the connection drops at once, as on a crash
        server.wait()
        server = start()
        missed = api.post("/events", json={"type": unique("drop.missed"), "source": "console-tests"}).json()
        expect(event_row(page, missed["type"])).to_have_count(1, timeout=45_000)
        expect(event_row(page, before["type"])).to_have_count(1)
        resumed = subscribes[connected:]
        assert resumed, "the tail did not reconnect"
        assert resumed[-1].get("since") == str(before["sequence"])
    finally:
        api.close()
        context.close()
        server.kill()
        server.wait()
