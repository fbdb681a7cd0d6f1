"""Fixtures for the console's browser tests: a live `triggers-server` (real SQLite data, nothing mocked), a
webhook endpoint that always fails, and Debian's chromium driven by Playwright with background networking off.

`TRIGGERS_SERVER` names the server executable (nox passes its venv's); `CHROMIUM` the browser (default
/usr/bin/chromium); `CONSOLE_ARTIFACTS` the folder for screenshots, written for every failed test and, with
`CONSOLE_SCREENSHOTS=1`, for every test.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from _server import RunningServer, running_server  # noqa: E402  (the project's one server launcher)

ARTIFACTS = Path(os.environ.get("CONSOLE_ARTIFACTS", ROOT / "console" / "test-results"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without these, chromium opens connections of its own (updates, sync, safe browsing) that a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
]
expect.set_options(timeout=30_000)  # waits end as soon as the condition holds; 30 s covers a loaded CI box


@dataclass
class Live:
    server: RunningServer
    origin: str
    api: httpx.Client

    @property
    def key(self) -> str:
        return self.server.admin_key

    def ingest(self, type_: str, **fields: Any) -> dict[str, Any]:
        response = self.api.post("/events", json={"type": type_, "source": "console-tests", **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def live() -> Iterator[Live]:
    executable = os.environ.get("TRIGGERS_SERVER") or shutil.which("triggers-server")
    # One lease without an ack dead-letters an inbox event, so the DLQ test can fill the DLQ quickly.
    with running_server("--max-deliveries", "1", executable=executable) as server:
        origin = server.base_url.removesuffix("/v1")
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as api:
            yield Live(server, origin, api)


@dataclass
class FailingEndpoint:
    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def failing_endpoint() -> Iterator[FailingEndpoint]:
    """A webhook receiver that answers every POST with 500 and a body that looks like HTML."""
    endpoint = FailingEndpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            endpoint.hits.append(self.rfile.read(length).decode())
            body = b"receiver down <b>not bold</b>"
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("X-Receiver", "console-tests")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watch:
    """What the page did: every request URL, every dialog, every console error (CSP violations land here)."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Browser, live: Live, watch: Watch, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=live.origin, timezone_id="UTC")
    opened = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.errors.append(message.text)

    def on_request(sent: Request) -> None:
        watch.requests.append(sent.url)

    context.on("request", on_request)
    opened.on("dialog", on_dialog)
    opened.on("console", on_console)
    try:
        yield opened
    finally:
        failed = getattr(request.node, "report_call", None)
        if (failed is not None and failed.failed) or os.environ.get("CONSOLE_SCREENSHOTS") == "1":
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def sign_in(page: Page, key: str) -> None:
    page.goto("/console/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Console pages")).to_be_visible()


@pytest.fixture
def signed_in(page: Page, live: Live) -> Page:
    sign_in(page, live.key)
    return page
