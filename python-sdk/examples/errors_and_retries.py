"""Typed errors, per-call options and the retry policy, with the blocking client."""

from __future__ import annotations

import httpx

from zapier_triggers import (
    APIConnectionError,
    IdempotencyKeyReusedError,
    RateLimitError,
    RetryPolicy,
    SchemaValidationError,
    SyncTriggersClient,
)


def main() -> None:
    client = SyncTriggersClient(
        timeout=httpx.Timeout(10.0, connect=2.0),
        max_retries=5,
        retry_policy=RetryPolicy(budget=20.0),
        http_client=httpx.Client(),
    )
    with client:
        try:
            client.events.create(
                type="order.created",
                source="my-app",
                data={"amount": "not-a-number"},
                idempotency_key="order-123-created",
                extra_headers={"X-Trace": "demo"},
                timeout=5.0,
            )
        except SchemaValidationError as error:
            for problem in error.errors:
                print(problem.pointer, problem.detail)
        except IdempotencyKeyReusedError as error:
            print("key reused with another body:", error.idempotency_key)
        except RateLimitError as error:
            print("rate limited; retry after", error.retry_after)
        except APIConnectionError as error:
            print("no response; safe to retry with key", error.idempotency_key)


if __name__ == "__main__":
    main()
