/** client.inbox.iterate(): leasing, settling messages, graceful stop. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ScriptedFetch, json, scriptedClient, type RecordedRequest } from "../helpers.js";

function lease(id: string, receipts: string[]): Response {
  return json(200, {
    lease_id: id,
    leased_until: "2026-11-25T10:15:30Z",
    messages: receipts.map((receipt, index) => ({
      event: { id: `evt_${receipt}`, type: "order.created", sequence: index },
      receipt,
      delivery_count: 1,
    })),
  });
}

const settled = (request: RecordedRequest): Response => {
  const { receipts } = JSON.parse(request.body!) as { receipts: string[] };
  return json(200, { results: receipts.map((receipt) => ({ receipt, status: "ok", detail: null })) });
};

const setup = scriptedClient;

const paths = (server: ScriptedFetch): string[] => server.requests.map((request) => new URL(request.url).pathname);
const body = (request: RecordedRequest | undefined): unknown => JSON.parse(request!.body!);

describe("inbox.iterate()", () => {
  test("leases in batches, hands out messages in order, acks by receipt, stops when empty", async () => {
    const { client, server } = setup([lease("l1", ["r1", "r2"]), settled, settled, lease("l2", ["r3"]), settled, lease("l3", [])]);
    const seen: string[] = [];
    for await (const message of client.inbox.iterate({ batchSize: 2, visibilityTimeout: 45, stopWhenEmpty: true })) {
      seen.push(message.event.id);
      assert.equal(message.deliveryCount, 1);
      const result = await message.ack();
      assert.equal(result.status, "ok");
      assert.equal(result.receipt, message.receipt);
    }
    assert.deepEqual(seen, ["evt_r1", "evt_r2", "evt_r3"]);
    assert.deepEqual(paths(server), [
      "/v1/inbox/lease", "/v1/inbox/ack", "/v1/inbox/ack", "/v1/inbox/lease", "/v1/inbox/ack", "/v1/inbox/lease",
    ]);
    assert.deepEqual(body(server.requests[0]), { max_events: 2, visibility_timeout: 45, wait: 0 });
    assert.deepEqual(body(server.requests[1]), { receipts: ["r1"] });
  });

  test("nack with a delay and extend send the receipt and wire names", async () => {
    const { client, server } = setup([lease("l1", ["r1"]), settled, settled]);
    for await (const message of client.inbox.iterate({ stopWhenEmpty: true })) {
      await message.extend(120);
      await message.nack({ delay: 5 });
      break;
    }
    assert.deepEqual(body(server.requests[1]), { receipts: ["r1"], visibility_timeout: 120 });
    assert.deepEqual(body(server.requests[2]), { receipts: ["r1"], delay: 5 });
  });

  test("breaking out mid-batch releases the messages the caller never saw", async () => {
    const { client, server } = setup([lease("l1", ["r1", "r2", "r3"]), settled]);
    for await (const message of client.inbox.iterate({ batchSize: 3 })) {
      assert.equal(message.receipt, "r1");
      break;
    }
    assert.deepEqual(paths(server), ["/v1/inbox/lease", "/v1/inbox/nack"]);
    assert.deepEqual(body(server.requests[1]), { receipts: ["r2", "r3"] });
  });

  test("aborting the signal stops the loop quietly and releases the rest", async () => {
    const controller = new AbortController();
    const { client, server } = setup([lease("l1", ["r1", "r2"]), settled]);
    const seen: string[] = [];
    for await (const message of client.inbox.iterate({ signal: controller.signal })) {
      seen.push(message.receipt);
      controller.abort();
    }
    assert.deepEqual(seen, ["r1"]);
    assert.deepEqual(body(server.requests[1]), { receipts: ["r2"] });
  });

  test("an abort during the long poll ends the loop without an error", async () => {
    const controller = new AbortController();
    const { client } = setup([
      (request) =>
        new Promise<Response>((_resolve, reject) => {
          request.signal?.addEventListener("abort", () => reject(request.signal?.reason), { once: true });
          queueMicrotask(() => controller.abort());
        }),
    ]);
    const seen: unknown[] = [];
    for await (const message of client.inbox.iterate({ signal: controller.signal })) seen.push(message);
    assert.deepEqual(seen, []);
  });

  test("empty leases keep polling unless stopWhenEmpty", async () => {
    const { client, server } = setup([lease("l1", []), lease("l2", ["r1"]), settled]);
    for await (const message of client.inbox.iterate({ wait: 5 })) {
      assert.equal(message.receipt, "r1");
      await message.ack();
      break;
    }
    assert.equal(server.requests.length, 3);
    assert.deepEqual(body(server.requests[0]), { wait: 5 });
  });
});

/** Answers leases from a queue and every ack/nack/extend with "ok", whatever the interleaving. */
function routed(leases: Response[]) {
  const queue = [...leases];
  return setup(
    Array.from({ length: 50 }, () => (request: RecordedRequest) => {
      if (new URL(request.url).pathname === "/v1/inbox/lease") {
        return queue.shift() ?? lease("empty", []);
      }
      return settled(request);
    }),
  );
}

/** The ack/nack calls made, in a stable order (concurrent handlers settle in any order). */
const settledCalls = (server: ScriptedFetch): [string, unknown][] =>
  server.requests
    .filter((request) => !request.url.endsWith("/lease"))
    .map((request): [string, unknown] => [new URL(request.url).pathname, body(request)])
    .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));

describe("inbox.consume()", () => {
  test("acks what the handler finishes, nacks what it throws, reports failures", async () => {
    const { client, server } = routed([lease("l1", ["r1", "r2", "r3"])]);
    const failures: string[] = [];
    const summary = await client.inbox.consume(
      (message) => {
        if (message.receipt === "r2") throw new Error("boom");
      },
      { stopWhenEmpty: true, retryDelay: 10, onError: (error, message) => failures.push(`${message.receipt}: ${(error as Error).message}`) },
    );
    assert.deepEqual(summary, { acked: 2, nacked: 1 });
    assert.deepEqual(failures, ["r2: boom"]);
    assert.deepEqual(
      settledCalls(server),
      [
        ["/v1/inbox/ack", { receipts: ["r1"] }],
        ["/v1/inbox/ack", { receipts: ["r3"] }],
        ["/v1/inbox/nack", { receipts: ["r2"], delay: 10 }],
      ],
    );
  });

  test("runs at most `concurrency` handlers at once", async () => {
    const { client } = routed([lease("l1", ["r1", "r2", "r3", "r4", "r5"])]);
    let running = 0;
    let peak = 0;
    const summary = await client.inbox.consume(
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
      },
      { concurrency: 2, stopWhenEmpty: true },
    );
    assert.equal(summary.acked, 5);
    assert.equal(peak, 2);
  });

  test("aborting waits for running handlers, which still settle their messages", async () => {
    const controller = new AbortController();
    const { client, server } = routed([lease("l1", ["r1", "r2"])]);
    const summary = await client.inbox.consume(
      async () => {
        controller.abort();
        await new Promise((resolve) => setImmediate(resolve));
      },
      { signal: controller.signal },
    );
    assert.deepEqual(summary, { acked: 1, nacked: 0 });
    assert.deepEqual(settledCalls(server), [
      ["/v1/inbox/ack", { receipts: ["r1"] }],
      ["/v1/inbox/nack", { receipts: ["r2"] }],
    ]);
  });

  test("an unreachable inbox while settling stops the run with that error", async () => {
    const { client } = setup([lease("l1", ["r1"]), json(400, { type: "https://triggers.dev/problems/malformed-request" })]);
    await assert.rejects(client.inbox.consume(() => undefined, { stopWhenEmpty: true }), /400/);
  });

  test("concurrency must be a positive integer", async () => {
    const { client } = setup([]);
    await assert.rejects(client.inbox.consume(() => undefined, { concurrency: 0 }), /concurrency/);
  });
});
