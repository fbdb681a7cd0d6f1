"""Per-call overhead of the Python SDK: ``events.create`` vs a raw httpx POST + JSON parse.

Both sides go through the same in-process ``httpx.MockTransport`` answering with the same prebuilt
201 Event, so the ratio isolates what the SDK adds (idempotency key, headers, retry core, pydantic
decoding). Target (issue 4): ≤ 1.3x. Writes ``bench/results/python-sdk.json`` (merging with the
import-cost figures of ``sdk_python_import.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
from zapier_triggers import SyncTriggersClient, TriggersClient

RESULTS = Path(__file__).resolve().parent / "results" / "python-sdk.json"
BASE_URL = "http://bench.local/v1"
EVENT = {
    "id": "evt_01JD2X7Q4M8K3R5T6V7W8X9Y0Z",
    "external_id": None,
    "type": "order.created",
    "source": "bench",
    "subject": None,
    "time": "2026-11-25T10:15:00Z",
    "data": {"order_id": "123", "amount": 42.5, "items": [{"sku": "a", "qty": 1}]},
    "data_base64": None,
    "datacontenttype": "application/json",
    "dataschema": None,
    "specversion": "1.0",
    "correlation_id": None,
    "causation_id": None,
    "metadata": {"tenant": "acme"},
    "extensions": {},
    "status": "pending",
    "sequence": 1,
    "schema_version": None,
    "replay_of": None,
    "delivery_count": 0,
    "created_at": "2026-11-25T10:15:00.123Z",
}
BODY = json.dumps(EVENT).encode()
PAYLOAD = {"type": "order.created", "source": "bench", "data": EVENT["data"]}


def _respond(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, content=BODY, headers={"content-type": "application/json"})


async def _respond_async(request: httpx.Request) -> httpx.Response:
    return _respond(request)


def _per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


async def _per_call_async(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await fn()
    return (time.perf_counter() - start) / calls


def bench_sync(calls: int, rounds: int) -> dict[str, float]:
    http = httpx.Client(transport=httpx.MockTransport(_respond))
    sdk = SyncTriggersClient(api_key="tk_bench", base_url=BASE_URL, http_client=http)
    headers = {"Authorization": "Bearer tk_bench"}

    def raw() -> Any:
        headers["Idempotency-Key"] = str(uuid.uuid4())
        return http.post(f"{BASE_URL}/events", json=PAYLOAD, headers=headers).json()

    def via_sdk() -> Any:
        return sdk.events.create(type="order.created", source="bench", data=PAYLOAD["data"])

    return _compare(lambda: _per_call(raw, calls), lambda: _per_call(via_sdk, calls), rounds)


def bench_async(calls: int, rounds: int) -> dict[str, float]:
    async def run() -> dict[str, float]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(_respond_async))
        sdk = TriggersClient(api_key="tk_bench", base_url=BASE_URL, http_client=http)
        headers = {"Authorization": "Bearer tk_bench"}

        async def raw() -> Any:
            headers["Idempotency-Key"] = str(uuid.uuid4())
            return (await http.post(f"{BASE_URL}/events", json=PAYLOAD, headers=headers)).json()

        async def via_sdk() -> Any:
            return await sdk.events.create(type="order.created", source="bench", data=PAYLOAD["data"])

        raws, sdks = [], []
        await _per_call_async(raw, calls // 10)  # warm-up
        await _per_call_async(via_sdk, calls // 10)
        for _ in range(rounds):
            raws.append(await _per_call_async(raw, calls))
            sdks.append(await _per_call_async(via_sdk, calls))
        return _summary(raws, sdks)

    return anyio.run(run)


def _compare(raw: Callable[[], float], sdk: Callable[[], float], rounds: int) -> dict[str, float]:
    raw()
    sdk()  # warm-up
    raws, sdks = [], []
    for _ in range(rounds):  # interleaved so drift affects both sides alike
        raws.append(raw())
        sdks.append(sdk())
    return _summary(raws, sdks)


def _summary(raws: list[float], sdks: list[float]) -> dict[str, float]:
    raw_us = statistics.median(raws) * 1e6
    sdk_us = statistics.median(sdks) * 1e6
    return {"raw_httpx_us": round(raw_us, 2), "sdk_us": round(sdk_us, 2), "ratio": round(sdk_us / raw_us, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results = {
        "events_create_overhead": {
            "target_ratio": 1.3,
            "async": bench_async(args.calls, args.rounds),
            "sync": bench_sync(args.calls, args.rounds),
            "calls_per_round": args.calls,
            "rounds": args.rounds,
        }
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(results)
    RESULTS.write_text(json.dumps(merged, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
