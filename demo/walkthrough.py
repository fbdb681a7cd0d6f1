"""A two-minute walkthrough of the Triggers API with the Python SDK (run by `nox -s demo`).

Expects TRIGGERS_BASE_URL and TRIGGERS_API_KEY (nox starts a reference server and sets both).
Each step prints what it did, so the output reads as a tour of the product.
"""

from __future__ import annotations

import uuid

import anyio
from zapier_triggers import NotFoundError, SchemaValidationError, TriggersClient


def step(title: str) -> None:
    print(f"\n== {title}")


async def main() -> None:
    run = uuid.uuid4().hex[:8]
    order_type = f"demo{run}.order.created"
    async with TriggersClient() as client:
        step("Register a schema for the event type")
        version = await client.schemas.register(
            order_type,
            json_schema={"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
        )
        print(f"{order_type} v{version.version}")

        step("Send events (the SDK adds an Idempotency-Key and retries safely)")
        first = await client.events.create(type=order_type, source="demo-shop", data={"order_id": "1001", "amount": 42.5})
        print(f"created {first.id} sequence={first.sequence} schema_version={first.schema_version}")
        batch = await client.events.create_batch(
            [{"type": order_type, "source": "demo-shop", "data": {"order_id": str(1002 + i)}} for i in range(3)]
        )
        print(f"batch: {batch.created} created, {batch.duplicates} duplicates, {batch.rejected} rejected")

        step("A payload that breaks the schema is rejected with pointers")
        try:
            await client.events.create(type=order_type, source="demo-shop", data={"amount": 1})
        except SchemaValidationError as exc:
            print(f"{exc.status_code} {exc.title}: {[(e.pointer, e.detail) for e in exc.errors]}")

        step("List with a type glob (auto-pagination)")
        seen = [ev.id async for ev in client.events.list(type=[f"demo{run}.*"], limit=2)]
        print(f"{len(seen)} events")

        step("Consume the pull inbox: lease, handle, ack")
        handled = 0
        async for message in client.inbox.iterate(batch_size=10, visibility_timeout=30, wait=0, types=[order_type], stop_when_empty=True):
            print(f"  {message.event.id} delivery_count={message.delivery_count} data={message.event.data}")
            await message.ack()
            handled += 1
        print(f"acknowledged {handled}")

        step("Replay one event to the inbox with a patch (dry run first)")
        dry = await client.events.replay(first.id, target={"kind": "inbox"}, dry_run=True)
        print("dry run:", [f"{o.target}: {o.decision.value}" for o in dry.outcomes])
        done = await client.events.replay(first.id, target={"kind": "inbox"}, data_patch={"amount": 50})
        assert done.event is not None
        print(f"replayed as {done.event.id} (replay_of={done.event.replay_of}) data={done.event.data}")

        step("Errors are typed and carry the request id")
        try:
            await client.events.get("evt_does_not_exist")
        except NotFoundError as exc:
            print(f"{exc.status_code} {exc.type} request_id={exc.request_id}")

        account = await client.account.get()
        print(f"\naccount {account.name}: {account.usage.events_total} events stored, inbox depth {account.usage.inbox_depth}")


if __name__ == "__main__":
    anyio.run(main)
