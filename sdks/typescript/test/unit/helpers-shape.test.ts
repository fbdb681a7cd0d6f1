/** Hand-written helpers: declared in codegen/config/typescript.yaml, wired as the generated resources' base classes. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { INBOX_CONSUME_CONCURRENCY, INBOX_LEASE_WAIT_SECONDS } from "../../src/core/constants.js";
import { json, packageRoot, scriptedClient } from "../helpers.js";

const setup = scriptedClient;

const stored = { id: "evt_1", type: "a.b", source: "/s", sequence: 1, external_id: "ce-1", specversion: "1.0" };

describe("events.createCloudEvent()", () => {
  test("sends structured mode with specversion 1.0 and retries under one Idempotency-Key", async () => {
    const { client, server } = setup([json(503, {}), json(201, stored)]);
    const event = await client.events.createCloudEvent({ id: "ce-1", source: "/s", type: "a.b", data: { n: 1 } });
    assert.equal(event.external_id, "ce-1");
    assert.equal(server.requests.length, 2);
    for (const request of server.requests) {
      assert.equal(new URL(request.url).pathname, "/v1/events");
      assert.equal(request.headers.get("content-type"), "application/cloudevents+json");
    }
    assert.deepEqual(JSON.parse(server.requests[0]!.body!), { id: "ce-1", source: "/s", type: "a.b", data: { n: 1 }, specversion: "1.0" });
    const keys = new Set(server.requests.map((request) => request.headers.get("idempotency-key")));
    assert.equal(keys.size, 1);
    assert.ok([...keys][0]);
  });
});

describe("inbox.consume() defaults come from codegen/policy.yaml", () => {
  test("leases `concurrency` messages at a time, without long polling when draining", async () => {
    const { client, server } = setup([json(200, { lease_id: "l1", leased_until: "2026-11-25T10:15:30Z", messages: [] })]);
    await client.inbox.consume(() => undefined, { stopWhenEmpty: true });
    assert.equal(INBOX_CONSUME_CONCURRENCY, 8);
    assert.deepEqual(JSON.parse(server.requests[0]!.body!), { max_events: INBOX_CONSUME_CONCURRENCY, wait: 0 });
  });

  test("a running consumer long-polls each lease for the policy's wait", async () => {
    const controller = new AbortController();
    const { client, server } = setup([
      () => {
        controller.abort();
        return json(200, { lease_id: "l1", leased_until: "2026-11-25T10:15:30Z", messages: [] });
      },
    ]);
    await client.inbox.consume(() => undefined, { signal: controller.signal });
    assert.equal(INBOX_LEASE_WAIT_SECONDS, 20);
    assert.deepEqual(JSON.parse(server.requests[0]!.body!), { max_events: INBOX_CONSUME_CONCURRENCY, wait: INBOX_LEASE_WAIT_SECONDS });
  });
});

describe("generated resources hold no hand-written methods", () => {
  const generated = (name: string): string => readFileSync(join(packageRoot(), "src", "generated", "resources", `${name}.ts`), "utf8");

  test("inbox extends InboxHelpers and events extends EventsHelpers", () => {
    assert.match(generated("inbox"), /export class InboxResource extends InboxHelpers \{/);
    assert.match(generated("events"), /export class EventsResource extends EventsHelpers \{/);
    assert.doesNotMatch(generated("inbox"), /^\s+(iterate|consume)\(/m);
    assert.doesNotMatch(generated("events"), /^\s+createCloudEvent\(/m);
  });
});
