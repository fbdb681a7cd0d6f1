// Handling failures the way the runtime policy describes them, and reading the raw response.
import {
  APIConnectionError,
  IdempotencyKeyReusedError,
  RateLimitError,
  SchemaValidationError,
  TriggersClient,
  type Event,
} from "@zapier-triggers/sdk";

const client = new TriggersClient({ maxRetries: 5, timeout: 10_000 });

export async function ingest(orderId: string): Promise<Event | null> {
  try {
    // Our own key makes a retry of this function (not just of the HTTP call) safe too.
    const { data, idempotentReplayed, requestId } = await client.events
      .create({ type: "order.created", source: "shop", data: { order_id: orderId } }, { idempotencyKey: `order-${orderId}` })
      .withResponse();
    if (idempotentReplayed) console.log(`order ${orderId} was already ingested (request ${requestId})`);
    return data;
  } catch (error) {
    if (error instanceof SchemaValidationError) {
      for (const { pointer, detail } of error.errors) console.error(`${pointer}: ${detail}`);
      return null;
    }
    if (error instanceof RateLimitError) {
      console.error(`rate limited; the server asked for ${error.retryAfter ?? "?"} s`);
      return null;
    }
    if (error instanceof IdempotencyKeyReusedError) throw new Error(`order ${orderId} was sent with different content`);
    if (error instanceof APIConnectionError) console.error(`unreachable; retry later with key ${error.idempotencyKey}`);
    throw error;
  }
}

export async function newestFirstPages(): Promise<number> {
  let pages = 0;
  for await (const page of client.events.list({ type: ["order.*", "user.*"], limit: 100 }).pages()) {
    pages += 1;
    if (page.next_cursor === null) break;
  }
  return pages;
}
