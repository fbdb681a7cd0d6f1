// The usage snippet of the TypeScript SDK issue, verbatim below the two declarations it assumes.
// `npm run typecheck` compiles it (tsc --strict) so the documented surface cannot drift.
const apiKey = process.env["TRIGGERS_API_KEY"] ?? "tk_example";
const baseURL = process.env["TRIGGERS_BASE_URL"] ?? "http://127.0.0.1:8080/v1";

import { TriggersClient, RateLimitError } from "@zapier-triggers/sdk";
// demo-snippet: start
const client = new TriggersClient({ apiKey, baseURL });      // env TRIGGERS_API_KEY / TRIGGERS_BASE_URL
const ev = await client.events.create({ type: "order.created", source: "my-app", data: { order_id: "123" } });
// demo-snippet: end
for await (const e of client.events.list({ type: "order.*" })) {}
for await (const m of client.inbox.iterate({ batchSize: 10, visibilityTimeout: 30 })) { await m.ack(); }
const stream = client.events.stream({ types: ["order.*"] }); for await (const e of stream) {}  // resumable
await client.events.replay(ev.id, { target: { kind: "inbox" }, dryRun: true });
import { Webhook } from "@zapier-triggers/sdk/webhooks";     // Standard Webhooks verify/sign

export { RateLimitError, Webhook };
