"""Send an event, read it back, list with a type glob and replay it (the README's first example).

Run against a server: TRIGGERS_API_KEY=tk_... TRIGGERS_BASE_URL=http://127.0.0.1:8080/v1 python quickstart.py
"""

from __future__ import annotations

import anyio

from zapier_triggers import NotFoundError, TriggersClient
from zapier_triggers.types import Event, EventReplayResult


async def main() -> None:
    # demo-snippet: start
    async with TriggersClient() as client:
        event: Event = await client.events.create(
            type="order.created", source="my-app", data={"order_id": "123"}, metadata={"tenant": "acme"}
        )
        # demo-snippet: end
        print(event.id, event.created_at.isoformat(), event.type, event.status)

        same = await client.events.get(event.id)
        assert same.data == {"order_id": "123"}

        batch = await client.events.create_batch(
            [{"type": "order.created", "source": "my-app", "data": {"order_id": str(n)}} for n in range(3)]
        )
        print(f"batch: {batch.created} created, {batch.duplicates} duplicates, {batch.rejected} rejected")

        async for listed in client.events.list(type=["order.*"], limit=50):
            print(listed.sequence, listed.type)

        replay: EventReplayResult = await client.events.replay(
            event.id, target={"kind": "inbox"}, dry_run=True
        )
        print([(outcome.target, outcome.decision) for outcome in replay.outcomes])

        raw = await client.with_raw_response.events.create(type="order.created", source="my-app")
        print(raw.status_code, raw.request_id, raw.idempotency_key, raw.idempotent_replayed, raw.parse().id)

        try:
            await client.events.get("evt_unknown")
        except NotFoundError as error:
            print(error.status_code, error.type, error.request_id)


if __name__ == "__main__":
    anyio.run(main)
