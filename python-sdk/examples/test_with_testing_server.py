"""Testing your own code against the in-process reference server (pip install 'zapier-triggers[testing]')."""

from __future__ import annotations

import anyio

from zapier_triggers import TriggersClient
from zapier_triggers.testing import triggers_server


async def record_order(client: TriggersClient, order_id: str) -> str:
    """The code under test: emits an event for an order."""
    event = await client.events.create(type="order.created", source="shop", data={"order_id": order_id})
    return event.id


async def main() -> None:
    async with triggers_server() as client:
        event_id = await record_order(client, "42")
        stored = await client.events.get(event_id)
        assert stored.data == {"order_id": "42"}
        lease = await client.inbox.lease(types=["order.*"], wait=0)
        assert [m.event.id for m in lease.messages] == [event_id]
        print("ok")


if __name__ == "__main__":
    anyio.run(main, backend="asyncio")
