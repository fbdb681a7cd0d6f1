/**
 * events.subscribe() and inbox.stream() against a real local WebSocket server (test/ws-server.ts): auth by
 * header and by hello frame, resume without gap or duplicate across dropped connections, resets, error frames,
 * refused keys, heartbeats, the push inbox's in-band ack/nack/extend (re-sent after a reconnect, over HTTP after
 * the stream ended) and consume() in WebSocket mode.
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { WebSocket } from "ws";

import {
  AuthenticationError,
  TriggersClient,
  UnprocessableEntityError,
  WebSocketClosedError,
  type StreamResetNotice,
  type WebSocketTransport,
} from "../../src/index.js";
import { STREAM_MAX_RECONNECT_ATTEMPTS } from "../../src/core/constants.js";
import type { EventSubscription } from "../../src/core/subscription.js";
import type { Event } from "../../src/generated/types.js";
import { json, ScriptedFetch } from "../helpers.js";
import { FakeTriggersServer, FastClock, KEY, type ServerOptions } from "../ws-server.js";

let server: FakeTriggersServer | null = null;

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function setup(options: ServerOptions = {}, clientOptions: { apiKey?: string; webSocket?: WebSocketTransport; fetch?: ScriptedFetch; scale?: number } = {}) {
  server = await FakeTriggersServer.start(options);
  const clock = new FastClock(clientOptions.scale ?? 1);
  const client = new TriggersClient({
    apiKey: clientOptions.apiKey ?? KEY,
    baseURL: server.baseURL,
    clock,
    random: () => 0,
    logger: null,
    webSocket: clientOptions.webSocket,
    fetch: clientOptions.fetch?.fetch,
  });
  return { server, client, clock };
}

/** Read `count` events, running `between(i)` after each (to publish, drop connections ...). */
async function take(subscription: EventSubscription, count: number, between: (index: number) => void = () => undefined): Promise<Event[]> {
  const seen: Event[] = [];
  for await (const event of subscription) {
    seen.push(event);
    between(seen.length);
    if (seen.length >= count) break;
  }
  return seen;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A browser-like transport: the `ws` class without headers, as a page's WebSocket must connect. */
const headerless: WebSocketTransport = {
  sendsHeaders: false,
  open: (url, protocol) => new WebSocket(url, [protocol]) as never,
};

describe("events.subscribe()", () => {
  test("authenticates with the Authorization header, offers triggers.v1 and yields matching events in order", async () => {
    const { server, client } = await setup();
    const subscription = client.events.subscribe({ types: ["order.*"] });
    await subscription.ready();
    const connection = server.connections[0]!;
    assert.equal(connection.authorization, `Bearer ${KEY}`);
    assert.equal(connection.protocol, "triggers.v1");
    assert.ok(!connection.url.includes(KEY), "the key never goes into the URL");
    assert.deepEqual(connection.received[0], { type: "subscribe", id: connection.received[0]!["id"], types: ["order.*"] });
    server.publish("order.created");
    server.publish("user.created");
    server.publish("order.paid");
    const events = await take(subscription, 2);
    assert.deepEqual(events.map((event) => [event.type, event.sequence]), [["order.created", 1], ["order.paid", 3]]);
    assert.equal(subscription.lastCursor, "3");
  });

  test("authenticates with a hello frame where headers cannot be sent", async () => {
    const { server, client } = await setup({}, { webSocket: headerless });
    const subscription = client.events.subscribe();
    await subscription.ready();
    const connection = server.connections[0]!;
    assert.equal(connection.authorization, undefined);
    assert.deepEqual(connection.received[0], { type: "hello", api_key: KEY });
    assert.equal(connection.received[1]!["type"], "subscribe");
    subscription.close();
  });

  test("resumes from the last cursor after dropped connections: no gap, no duplicate, even when the server overlaps", async () => {
    const { server, client, clock } = await setup({ overlap: 2 });
    const subscription = client.events.subscribe({ types: ["order.*"] });
    await subscription.ready();
    for (let i = 0; i < 3; i++) server.publish("order.created");
    const events = await take(subscription, 9, (seen) => {
      if (seen === 2 || seen === 5) {
        server.dropAll();
        // Published while disconnected: must arrive after the reconnect.
        for (let i = 0; i < 3; i++) server.publish("order.created");
      }
    });
    assert.deepEqual(events.map((event) => event.sequence), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(server.connections.length >= 3, "it reconnected after each drop");
    const sinces = server.connections.slice(1).map((connection) => connection.received.find((frame) => frame["type"] === "subscribe")?.["since"]);
    assert.ok(sinces.every((since) => typeof since === "string"), "every resubscribe carries since");
    assert.ok(clock.sleeps.length >= 2 && clock.sleeps.every((ms) => ms >= 750 && ms <= 30_000), "backoff from the stream policy");
  });

  test("a reconnect before the first event resumes from the subscribed cursor", async () => {
    const { server, client } = await setup();
    server.publish("order.created"); // before the subscription: not delivered
    const subscription = client.events.subscribe();
    await subscription.ready();
    server.dropAll();
    await until(() => server.open.length === 1 && server.open[0]!.subscriptions.size === 1, "the resubscription");
    assert.equal(server.open[0]!.received.find((frame) => frame["type"] === "subscribe")?.["since"], "1");
    server.publish("order.paid");
    const events = await take(subscription, 1);
    assert.equal(events[0]!.sequence, 2);
  });

  test("since older than retention reports a reset and continues from the oldest event", async () => {
    const { server, client } = await setup({ oldest: 3 });
    for (let i = 0; i < 4; i++) server.publish("order.created");
    const resets: StreamResetNotice[] = [];
    const subscription = client.events.subscribe({ since: "0", onReset: (notice) => resets.push(notice) });
    const events = await take(subscription, 2);
    assert.deepEqual(events.map((event) => event.sequence), [3, 4]);
    assert.equal(resets.length, 1);
    assert.equal(resets[0]!.reason, "cursor_expired");
    assert.equal(resets[0]!.oldestSequence, 3);
  });

  test("an error frame answering the subscribe ends the iteration with the typed problem", async () => {
    const { server, client } = await setup();
    const subscription = client.events.subscribe({ types: ["bad["] });
    await assert.rejects(take(subscription, 1), (error: unknown) => {
      assert.ok(error instanceof UnprocessableEntityError);
      assert.equal(error.detail, "bad glob");
      return true;
    });
    assert.equal(server.connections.length, 1, "a refused subscription is not retried");
  });

  test("an unknown key gets AuthenticationError from the 4401 close, without reconnecting", async () => {
    const { server, client } = await setup({}, { apiKey: "tk_wrong" });
    await assert.rejects(take(client.events.subscribe(), 1), AuthenticationError);
    assert.equal(server.connections.length, 1);
    // ready() says so too, instead of waiting for a confirmation that never comes.
    await assert.rejects(client.events.subscribe().ready(), AuthenticationError);
  });

  test("an unreachable server is given up after STREAM_MAX_RECONNECT_ATTEMPTS reconnects", async () => {
    const { server, client, clock } = await setup();
    await server.stop();
    await assert.rejects(take(client.events.subscribe(), 1), WebSocketClosedError);
    assert.equal(clock.sleeps.length, STREAM_MAX_RECONNECT_ATTEMPTS);
  });

  test("answers the server's ping with a pong echoing its id", async () => {
    const { server, client } = await setup();
    const subscription = client.events.subscribe();
    await subscription.ready();
    const connection = server.connections[0]!;
    server.send(connection, { type: "ping", id: "p1" });
    await until(() => connection.received.some((frame) => frame["type"] === "pong"), "the pong");
    assert.deepEqual(connection.received.find((frame) => frame["type"] === "pong"), { type: "pong", id: "p1" });
    subscription.close();
  });

  test("a server silent for two heartbeat intervals is declared dead and replaced", async () => {
    // Heartbeat 1 s on a clock running 100x: the watchdog fires after ~20 ms of silence.
    const { server, client } = await setup({ heartbeatInterval: 1 }, { scale: 100 });
    const subscription = client.events.subscribe();
    await subscription.ready();
    await until(() => server.connections.length >= 2, "a second connection");
    subscription.close();
  });

  test("close() ends the iteration without an error", async () => {
    const { client } = await setup();
    const subscription = client.events.subscribe();
    await subscription.ready();
    setTimeout(() => subscription.close(), 10);
    assert.deepEqual(await take(subscription, 1), []);
  });
});

describe("inbox.stream()", () => {
  test("leases with max_in_flight and settles ack, nack and extend over the connection", async () => {
    const { server, client } = await setup();
    for (let i = 0; i < 3; i++) server.enqueue("job.run");
    const stream = client.inbox.stream({ maxInFlight: 2, visibilityTimeout: 5, types: ["job.*"] });
    const results: string[] = [];
    let count = 0;
    for await (const message of stream) {
      count += 1;
      assert.equal(message.deliveryCount, 1);
      if (count === 1) results.push((await message.ack()).status);
      if (count === 2) results.push((await message.extend(60)).status);
      if (count === 2) results.push((await message.nack({ delay: 7 })).status);
      if (count === 3) {
        results.push((await message.ack()).status);
        break;
      }
    }
    const lease = server.connections[0]!.received.find((frame) => frame["type"] === "lease");
    assert.deepEqual({ ...lease, id: undefined }, { type: "lease", id: undefined, max_in_flight: 2, visibility_timeout: 5, types: ["job.*"] });
    assert.deepEqual(results, ["ok", "ok", "ok", "ok"]);
    assert.deepEqual(server.acked, ["rcpt_1", "rcpt_3"]);
    // rcpt_4 is the nacked event's redelivery, received but never handed out: stopping releases it.
    assert.deepEqual(server.nacked, [{ receipt: "rcpt_2", delay: 7 }, { receipt: "rcpt_4", delay: undefined }]);
    assert.deepEqual(server.extended, [{ receipt: "rcpt_2", seconds: 60 }]);
    assert.ok(server.connections[0]!.received.some((frame) => frame["type"] === "unsubscribe"), "stopping unsubscribes the lease");
  });

  test("an ack whose answer the connection lost is sent again after the reconnect", async () => {
    let dropped = false;
    const { server, client } = await setup({
      onFrame: (connection, frame) => {
        if (frame["type"] === "ack" && !dropped) {
          dropped = true;
          connection.socket.terminate();
          return true;
        }
        return undefined;
      },
    });
    server.enqueue("job.run");
    const stream = client.inbox.stream();
    for await (const message of stream) {
      assert.equal((await message.ack()).status, "ok");
      break;
    }
    assert.ok(dropped);
    assert.deepEqual(server.acked, ["rcpt_1"]);
    assert.ok(server.connections.length >= 2);
  });

  test("a message settled after the stream closed goes over HTTP with the same receipt", async () => {
    const http = new ScriptedFetch([json(200, { results: [{ receipt: "rcpt_1", status: "ok" }] })]);
    const { server, client } = await setup({}, { fetch: http });
    server.enqueue("job.run");
    const stream = client.inbox.stream({ visibilityTimeout: 1 });
    let kept = null;
    for await (const message of stream) {
      kept = message;
      break;
    }
    // Breaking out closed the connection; the handed-out message was not released early.
    assert.ok(kept !== null);
    assert.deepEqual(server.nacked, []);
    const result = await kept.ack();
    assert.equal(result.status, "ok");
    assert.deepEqual(server.acked, []);
    assert.equal(http.requests.length, 1);
    assert.match(http.requests[0]!.url, /\/v1\/inbox\/ack$/);
    assert.deepEqual(JSON.parse(http.requests[0]!.body!), { receipts: ["rcpt_1"] });
  });

  test("consume() in WebSocket mode runs the handler with bounded concurrency, acks and nacks", async () => {
    const { server, client } = await setup();
    for (let i = 0; i < 6; i++) server.enqueue("job.run");
    const controller = new AbortController();
    let running = 0;
    let peak = 0;
    let succeeded = 0;
    const summary = await client.inbox.consume(
      async (message) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        // The first delivery of event 2 fails: it is nacked, comes back (delivery 2) and succeeds.
        if (message.event.sequence === 2 && message.deliveryCount === 1) throw new Error("handler failed");
        succeeded += 1;
        if (succeeded === 6) controller.abort();
      },
      { transport: "websocket", concurrency: 2, signal: controller.signal },
    );
    assert.deepEqual(summary, { acked: 6, nacked: 1 });
    assert.ok(peak <= 2, `at most 2 handlers at once, saw ${peak}`);
    assert.equal(server.connections[0]!.received.find((frame) => frame["type"] === "lease")?.["max_in_flight"], 2);
  });
});
