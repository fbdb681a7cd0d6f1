"""The web console's first load: gzipped JS + CSS bytes, and largest contentful paint of /console/ in headless chromium.

Issue 12's budget: at most 250 KB of gzipped JS and CSS on the first load of `/console/` (Scalar is only on `/docs`)
and a largest contentful paint under 1 s against the local server. Each run opens a fresh browser context (nothing
cached) on a live triggers-server with some events in it, loads a page and reads the last `largest-contentful-paint`
entry (PerformanceObserver, buffered) once the page shows its content; the bytes are the bodies of every script and
stylesheet the browser fetched, gzipped at level 6. Measured: the sign-in page (a new visitor) and the events page
with a key already in the tab (a returning one), plus `/docs` bytes for reference. Results: bench/results/console.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
from pathlib import Path
from typing import Any

import httpx
from _server import running_server
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright

RESULTS = Path(__file__).resolve().parent / "results" / "console.json"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The console tests' flags (console/tests/conftest.py): no connections of chromium's own.
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
BUDGET_GZIP_BYTES = 250 * 1024
LCP_TARGET_MS = 1000
SESSION_KEY = "triggers.console.api-key"  # console/src/session.ts
# Resolves with the newest largest-contentful-paint candidate (buffered: those painted before the call count too).
LCP = """() => new Promise((resolve) => {
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({ type: "largest-contentful-paint", buffered: true });
})"""


def _load(browser: Browser, origin: str, path: str, *, key: str | None, ready: Any) -> tuple[float, int, int]:
    """(LCP in ms, gzipped JS+CSS bytes, number of JS/CSS files) of one cold load of `path`."""
    context = browser.new_context(base_url=origin)
    if key is not None:
        context.add_init_script(f"sessionStorage.setItem({json.dumps(SESSION_KEY)}, {json.dumps(key)})")
    bodies: list[bytes] = []

    def on_response(response: Response) -> None:
        if response.request.resource_type in ("script", "stylesheet") and response.ok:
            bodies.append(response.body())

    page = context.new_page()
    page.on("response", on_response)
    try:
        page.goto(path, wait_until="load")
        ready(page)
        lcp = float(page.evaluate(LCP))
        gzipped = sum(len(gzip.compress(body, compresslevel=6)) for body in bodies)
        return lcp, gzipped, len(bodies)
    finally:
        context.close()


def _signed_out(page: Page) -> None:
    expect(page.get_by_label("API key")).to_be_visible()


def _events(page: Page) -> None:
    rows = page.get_by_role("table", name="Events").get_by_role("row")
    expect(rows.nth(10)).to_be_visible()


def _docs(page: Page) -> None:
    expect(page.get_by_role("heading", name="Triggers API", level=1)).to_be_visible()


def run(runs: int) -> dict[str, Any]:
    with running_server() as server:
        origin = server.base_url.removesuffix("/v1")
        events = [{"type": f"bench.console.t{n % 5}", "source": "bench", "data": {"order_id": n}} for n in range(200)]
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        httpx.post(f"{server.base_url}/events/batch", json={"events": events}, headers=headers, timeout=30).raise_for_status()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                _load(browser, origin, "/console/", key=None, ready=_signed_out)  # warm the server, not the browser
                sign_in = [_load(browser, origin, "/console/", key=None, ready=_signed_out) for _ in range(runs)]
                tail = [_load(browser, origin, "/console/events", key=server.admin_key, ready=_events) for _ in range(runs)]
                _, docs_bytes, docs_files = _load(browser, origin, "/docs", key=None, ready=_docs)
            finally:
                browser.close()
    first_load = max(bytes_ for _, bytes_, _ in sign_in + tail)

    def lcp(samples: list[tuple[float, int, int]]) -> dict[str, float]:
        times = [sample[0] for sample in samples]
        return {"median": round(statistics.median(times), 1), "max": round(max(times), 1)}

    return {
        "first_load_gzip_bytes": first_load,
        "first_load_files": max(files for _, _, files in sign_in + tail),
        "budget_gzip_bytes": BUDGET_GZIP_BYTES,
        "within_budget": first_load <= BUDGET_GZIP_BYTES,
        "lcp_ms_sign_in": lcp(sign_in),
        "lcp_ms_events": lcp(tail),
        "lcp_target_ms": LCP_TARGET_MS,
        "lcp_within_target": max(sample[0] for sample in sign_in + tail) < LCP_TARGET_MS,
        "runs": runs,
        "docs_first_load_gzip_bytes": docs_bytes,
        "docs_first_load_files": docs_files,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--console-runs", type=int, default=7, help="cold loads per page")
    args, _ = parser.parse_known_args()
    result = run(args.console_runs)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
