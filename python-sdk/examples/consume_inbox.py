"""A pull-inbox worker: 8 handlers at a time, ack on success, nack on failure, stop on Ctrl-C.

Run against a server: TRIGGERS_API_KEY=tk_... python consume_inbox.py
"""

from __future__ import annotations

import signal

import anyio

from zapier_triggers import Message, TriggersClient
from zapier_triggers.lib.inbox import ConsumeStats


async def handle(message: Message) -> None:
    """Raise to have the message nacked (redelivered later); return to have it acked."""
    if message.delivery_count > 1:
        print(f"redelivery #{message.delivery_count} of {message.event.id}")
    if message.event.type == "order.slow":
        await message.extend(120)  # keep the lease while working longer than the visibility timeout
    print("handled", message.event.id, message.event.data)


async def stop_on_signal(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            stop.set()
            return


async def main() -> None:
    stop = anyio.Event()
    async with TriggersClient() as client, anyio.create_task_group() as group:
        group.start_soon(stop_on_signal, stop)
        stats: ConsumeStats = await client.inbox.consume(
            handle, concurrency=8, visibility_timeout=30, types=["order.*"], nack_delay=10, stop=stop
        )
        print(f"acked {stats.acked}, nacked {stats.nacked}, released {stats.released}")
        group.cancel_scope.cancel()

    async with TriggersClient() as client:
        async for message in client.inbox.iterate(
            batch_size=10, visibility_timeout=30, wait=0, stop_when_empty=True
        ):
            await message.ack()
        await client.inbox.acknowledge("evt_01JD2X7Q4M8K3R5T6V7W8X9Y0Z")


if __name__ == "__main__":
    anyio.run(main)
