/** The generated layer: wire names, paths, pagination, raw access, and the examples end to end. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import type { Event } from "../../src/index.js";
import { ScriptedFetch, json, scriptedClient, type Reply } from "../helpers.js";

const setup = scriptedClient;

function sampleEvent(sequence: number, extra: Record<string, unknown> = {}): Event {
  return {
    id: `evt_${sequence}`,
    external_id: null,
    type: "order.created",
    source: "my-app",
    subject: null,
    time: "2026-11-25T10:15:00Z",
    data: { order_id: String(sequence) },
    data_base64: null,
    datacontenttype: "application/json",
    dataschema: null,
    specversion: "1.0",
    correlation_id: null,
    causation_id: null,
    metadata: {},
    extensions: {},
    status: "pending",
    sequence,
    schema_version: null,
    replay_of: null,
    delivery_count: 0,
    created_at: "2026-11-25T10:15:00Z",
    ...extra,
  } as Event;
}

function bodyOf(server: ScriptedFetch, index = 0): unknown {
  return JSON.parse(server.requests[index]!.body!);
}

describe("generated resources", () => {
  test("events.create maps camelCase options to wire names and never touches payload keys", async () => {
    const { client, server } = setup([json(201, sampleEvent(1))]);
    const event = await client.events.create({
      type: "order.created",
      source: "my-app",
      data: { order_id: "123", nestedCamel: { keepMe: true } },
      correlationId: "wf_1",
      metadata: { tenantId: "acme" },
    });
    assert.equal(event.id, "evt_1");
    assert.equal(server.requests[0]!.url, "http://api.test/v1/events");
    assert.deepEqual(bodyOf(server), {
      type: "order.created",
      source: "my-app",
      data: { order_id: "123", nestedCamel: { keepMe: true } },
      correlation_id: "wf_1",
      metadata: { tenantId: "acme" },
    });
    assert.ok(server.requests[0]!.headers.get("idempotency-key"));
  });

  test("events.replay sends dry_run / data_patch and encodes the path", async () => {
    const { client, server } = setup([json(200, { dry_run: true, outcomes: [] })]);
    await client.events.replay("evt/1", { target: { kind: "inbox" }, dryRun: true, dataPatch: { amountDue: 50 } });
    assert.equal(server.requests[0]!.url, "http://api.test/v1/events/evt%2F1/replay");
    assert.deepEqual(bodyOf(server), { target: { kind: "inbox" }, dry_run: true, data_patch: { amountDue: 50 } });
  });

  test("inbox.lease sends max_events / visibility_timeout", async () => {
    const { client, server } = setup([json(200, { lease_id: "l", leased_until: "2026-11-25T10:15:00Z", messages: [] })]);
    await client.inbox.lease({ maxEvents: 5, visibilityTimeout: 60, wait: 0 });
    assert.deepEqual(bodyOf(server), { max_events: 5, visibility_timeout: 60, wait: 0 });
  });

  test("query parameters use wire names; repeated ones take one value or many", async () => {
    const { client, server } = setup([json(200, { data: [], next_cursor: null }), json(200, { data: [], next_cursor: null })]);
    await client.events.list({ type: "order.*", correlationId: "wf_1", limit: 2 });
    await client.events.list({ type: ["order.*", "user.*"] });
    assert.equal(server.requests[0]!.url, "http://api.test/v1/events?type=order.*&correlation_id=wf_1&limit=2");
    assert.equal(server.requests[1]!.url, "http://api.test/v1/events?type=order.*&type=user.*");
  });

  test("schema paths with dots and slashes are encoded", async () => {
    const { client, server } = setup([json(200, { compatibility: "BACKWARD" })]);
    await client.schemas.getConfig("order.created/v2");
    assert.equal(server.requests[0]!.url, "http://api.test/v1/schemas/order.created%2Fv2/config");
  });

  test("204 operations resolve to undefined; text operations to a string", async () => {
    const { client, server } = setup([
      new Response(null, { status: 204 }),
      new Response("# HELP triggers_events_total\n", { status: 200, headers: { "content-type": "text/plain" } }),
    ]);
    assert.equal(await client.inbox.acknowledge("evt_1"), undefined);
    assert.equal(await client.ops.metrics(), "# HELP triggers_events_total\n");
    assert.equal(server.requests[1]!.headers.get("accept"), "text/plain");
  });

  test("withResponse() exposes status, headers and the idempotency key", async () => {
    const { client } = setup([json(200, sampleEvent(1), { "idempotent-replayed": "true" })]);
    const { data, response, idempotencyKey, idempotentReplayed } = await client.events
      .create({ type: "order.created", source: "my-app" }, { idempotencyKey: "order-1" })
      .withResponse();
    assert.equal(data.id, "evt_1");
    assert.equal(response.status, 200);
    assert.equal(idempotencyKey, "order-1");
    assert.equal(idempotentReplayed, true);
  });

  test("unknown fields and unknown enum values pass through (lenient decoding)", async () => {
    const { client } = setup([json(200, sampleEvent(1, { status: "archived", brand_new_field: 1 }))]);
    const event = await client.events.get("evt_1");
    assert.equal(event.status, "archived");
    assert.equal((event as unknown as Record<string, unknown>)["brand_new_field"], 1);
  });
});

describe("pagination", () => {
  const pages = (): Reply[] => [
    json(200, { data: [sampleEvent(1), sampleEvent(2)], next_cursor: "c2" }),
    json(200, { data: [sampleEvent(3)], next_cursor: "c3" }),
    json(200, { data: [], next_cursor: null }),
  ];

  test("for await walks every item across pages, passing the cursor on", async () => {
    const { client, server } = setup(pages());
    const ids: string[] = [];
    for await (const event of client.events.list({ type: "order.*", limit: 2 })) ids.push(event.id);
    assert.deepEqual(ids, ["evt_1", "evt_2", "evt_3"]);
    assert.deepEqual(
      server.requests.map((request) => new URL(request.url).search),
      ["?type=order.*&limit=2", "?type=order.*&limit=2&cursor=c2", "?type=order.*&limit=2&cursor=c3"],
    );
  });

  test(".pages() yields page objects", async () => {
    const { client } = setup(pages());
    const sizes: number[] = [];
    for await (const page of client.events.list().pages()) sizes.push(page.data.length);
    assert.deepEqual(sizes, [2, 1, 0]);
  });

  test("await gives the first page, which can fetch the next", async () => {
    const { client, server } = setup(pages());
    const first = await client.events.list();
    assert.equal(first.data.length, 2);
    assert.equal(first.hasNextPage(), true);
    const second = await first.getNextPage();
    assert.deepEqual(second.data.map((event) => event.id), ["evt_3"]);
    assert.equal(server.requests.length, 2);
  });

  test("the last page refuses getNextPage()", async () => {
    const { client } = setup([json(200, { data: [], next_cursor: null })]);
    const page = await client.events.list();
    assert.equal(page.hasNextPage(), false);
    assert.throws(() => page.getNextPage(), RangeError);
  });

  test("breaking out early fetches no further pages", async () => {
    const { client, server } = setup(pages());
    for await (const event of client.events.list()) {
      assert.equal(event.id, "evt_1");
      break;
    }
    assert.equal(server.requests.length, 1);
  });

  test("a cursor the server repeats does not loop forever", async () => {
    const { client, server } = setup([
      json(200, { data: [sampleEvent(1)], next_cursor: "same" }),
      json(200, { data: [sampleEvent(2)], next_cursor: "same" }),
    ]);
    const ids: string[] = [];
    for await (const event of client.events.list()) ids.push(event.id);
    assert.deepEqual(ids, ["evt_1", "evt_2"]);
    assert.equal(server.requests.length, 2);
  });
});
