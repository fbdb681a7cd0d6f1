"""Follow the live event stream; it reconnects with Last-Event-ID by itself and never repeats an event.

Run against a server: TRIGGERS_API_KEY=tk_... python stream_events.py [last-event-id]
"""

from __future__ import annotations

import sys

import anyio

from zapier_triggers import StreamReset, SyncTriggersClient, TriggersClient


def on_reset(notice: StreamReset) -> None:
    print(f"cursor too old ({notice.reason}); resuming from {notice.oldest_sequence}")


async def follow(last_event_id: str | None) -> None:
    async with TriggersClient() as client:
        stream = client.events.stream(
            types=["order.*"], last_event_id=last_event_id or "0", on_reset=on_reset
        )
        async with stream:
            async for event in stream:
                print(event.sequence, event.type, event.data)
                if event.type == "order.stop":
                    break
        print("resume later from", stream.last_event_id)


def follow_blocking() -> None:
    with SyncTriggersClient() as client, client.events.stream(types=["order.*"]) as stream:
        for event in stream:
            print(event.sequence, event.type)
            break


if __name__ == "__main__":
    anyio.run(follow, sys.argv[1] if len(sys.argv) > 1 else None)
