/** The resumable event stream: reconnect, resume, dedupe, retry:, backoff, idle timeout, reset notices. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { CoreClient } from "../../src/core/client.js";
import { STREAM_MAX_REDIRECTS } from "../../src/core/constants.js";
import { APIConnectionError, AuthenticationError, StreamRedirectError, TriggersError } from "../../src/core/errors.js";
import { EventStream, reconnectDelay, type StreamMessage, type StreamOptions, type StreamResetNotice } from "../../src/core/stream.js";
import { FakeClock, PushStream, ScriptedFetch, networkError, problem, sseResponse, type Reply } from "../helpers.js";

interface Item {
  id: string;
  sequence: number;
}

function event(sequence: number, type = "order.created"): string {
  return `id: ${sequence}\nevent: ${type}\ndata: ${JSON.stringify({ id: `evt_${sequence}`, sequence })}\n\n`;
}

function setup(replies: Reply[], options: StreamOptions = {}, random = 0) {
  const clock = new FakeClock();
  const server = new ScriptedFetch(replies);
  const core = new CoreClient({
    apiKey: "tk_test",
    baseURL: "http://api.test/v1",
    fetch: server.fetch,
    clock,
    random: () => random,
    logger: null,
  });
  const stream = new EventStream<Item>(
    core,
    { method: "get", path: "/events/stream", query: { types: ["order.*", "user.*"] } },
    options,
  );
  return { clock, server, stream };
}

async function take(stream: EventStream<Item>, count: number): Promise<Item[]> {
  const items: Item[] = [];
  if (count === 0) return items;
  for await (const item of stream) {
    items.push(item);
    if (items.length === count) break;
  }
  return items;
}

describe("resumable stream", () => {
  test("sends the stream request with the right headers and query", async () => {
    const { server, stream } = setup([sseResponse(event(1))]);
    assert.deepEqual(await take(stream, 1), [{ id: "evt_1", sequence: 1 }]);
    const request = server.requests[0]!;
    assert.equal(request.method, "GET");
    assert.equal(request.url, "http://api.test/v1/events/stream?types=order.*&types=user.*");
    assert.equal(request.headers.get("accept"), "text/event-stream");
    assert.equal(request.headers.get("authorization"), "Bearer tk_test");
    assert.equal(request.headers.get("last-event-id"), null);
  });

  test("reconnects after a clean end of stream, resumes with Last-Event-ID and drops duplicates", async () => {
    const { server, stream, clock } = setup([
      sseResponse(`retry: 3000\n\n${event(1)}${event(2)}`),
      // The server replays from an older cursor: 2 is a duplicate, 3 is new.
      sseResponse(`${event(2)}${event(3)}`),
    ]);
    assert.deepEqual((await take(stream, 3)).map((item) => item.sequence), [1, 2, 3]);
    assert.equal(server.requests[1]!.headers.get("last-event-id"), "2");
    assert.equal(stream.lastEventId, "3");
    // The server's retry: replaced the 1 s default (random = 0 → no jitter).
    assert.deepEqual(clock.sleeps, [3000]);
  });

  test("reconnects after a network error mid-stream", async () => {
    let push: PushStream | undefined;
    const { server, stream } = setup([
      (request) => {
        push = new PushStream(request.signal);
        push.push(event(7));
        return push.response;
      },
      sseResponse(event(8)),
    ]);
    const items: number[] = [];
    for await (const item of stream) {
      items.push(item.sequence);
      // The connection drops after the first event was read.
      if (items.length === 1) push?.error(new TypeError("terminated"));
      if (items.length === 2) break;
    }
    assert.deepEqual(items, [7, 8]);
    assert.equal(server.requests[1]!.headers.get("last-event-id"), "7");
  });

  test("backoff doubles per consecutive failure and resets after a healthy connection", async () => {
    const { stream, clock } = setup([
      networkError(),
      networkError(),
      sseResponse(`${event(1)}${event(2)}`),
      networkError(),
      sseResponse(event(3)),
    ]);
    assert.deepEqual((await take(stream, 3)).map((item) => item.sequence), [1, 2, 3]);
    assert.deepEqual(clock.sleeps, [1000, 2000, 1000, 2000]);
  });

  test("a heartbeat alone counts as a healthy connection", async () => {
    const { stream, clock } = setup([networkError(), sseResponse(": ping\n\n"), networkError(), sseResponse(event(1))]);
    await take(stream, 1);
    assert.deepEqual(clock.sleeps, [1000, 1000, 2000]);
  });

  test("jitter follows the shared formula and delays cap at 30 s", () => {
    assert.equal(reconnectDelay(1000, 1, () => 0), 1000);
    assert.equal(reconnectDelay(1000, 3, () => 1), 3000);
    assert.equal(reconnectDelay(1000, 10, () => 0), 30_000);
    assert.equal(reconnectDelay(3000, 2, () => 0.5), 5250);
  });

  test("gives up after 10 consecutive failed reconnects with the last error", async () => {
    const { stream, clock, server } = setup(Array.from({ length: 12 }, () => networkError()));
    await assert.rejects(take(stream, 1), (error: unknown) => error instanceof APIConnectionError);
    assert.equal(server.requests.length, 11);
    assert.deepEqual(clock.sleeps, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
  });

  test("a 4xx other than 408/429 is fatal and not retried", async () => {
    const { stream, server, clock } = setup([problem(401, "unauthenticated"), sseResponse(event(1))]);
    await assert.rejects(take(stream, 1), AuthenticationError);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
  });

  test("429 and 5xx reconnect; Retry-After is honoured", async () => {
    const { stream, clock } = setup([
      problem(429, "rate-limited", {}, { "retry-after": "4" }),
      problem(503, "unavailable"),
      sseResponse(event(1)),
    ]);
    assert.deepEqual((await take(stream, 1)).map((item) => item.sequence), [1]);
    assert.deepEqual(clock.sleeps, [4000, 2000]);
  });

  test("an idle connection (no bytes for 45 s) is dropped and resumed", async () => {
    const { stream, server, clock } = setup([
      (request) => {
        const push = new PushStream(request.signal);
        push.push(event(1));
        return push.response;
      },
      sseResponse(event(2)),
    ]);
    const items: number[] = [];
    for await (const item of stream) {
      items.push(item.sequence);
      if (items.length === 1) setImmediate(() => clock.advance(45_000));
      if (items.length === 2) break;
    }
    assert.deepEqual(items, [1, 2]);
    assert.equal(server.requests[1]!.headers.get("last-event-id"), "1");
  });

  test("a reset event becomes a typed notice and streaming continues", async () => {
    const notices: StreamResetNotice[] = [];
    const { stream } = setup(
      [sseResponse(`event: reset\ndata: {"reason":"cursor_expired","oldest_sequence":40}\n\n${event(40)}`)],
      { lastEventId: "3", onReset: (notice) => notices.push(notice) },
    );
    assert.deepEqual((await take(stream, 1)).map((item) => item.sequence), [40]);
    assert.deepEqual(notices, [
      { reason: "cursor_expired", oldestSequence: 40, data: { reason: "cursor_expired", oldest_sequence: 40 } },
    ]);
  });

  test("a stored cursor resumes the very first connection", async () => {
    const { stream, server } = setup([sseResponse(`${event(5)}${event(6)}`)], { lastEventId: "5" });
    assert.deepEqual((await take(stream, 1)).map((item) => item.sequence), [6]);
    assert.equal(server.requests[0]!.headers.get("last-event-id"), "5");
  });

  test("reconnect: false ends with the connection", async () => {
    const { stream, server } = setup([sseResponse(event(1)), sseResponse(event(2))], { reconnect: false });
    const items: Item[] = [];
    for await (const item of stream) items.push(item);
    assert.deepEqual(items.map((item) => item.sequence), [1]);
    assert.equal(server.requests.length, 1);
  });

  test("close() ends the iteration quietly and closes the connection", async () => {
    let signal: AbortSignal | null = null;
    const { stream } = setup([
      (request) => {
        signal = request.signal;
        const push = new PushStream(request.signal);
        push.push(event(1));
        return push.response;
      },
    ]);
    const items: number[] = [];
    for await (const item of stream) {
      items.push(item.sequence);
      setImmediate(() => stream.close());
    }
    assert.deepEqual(items, [1]);
    assert.equal((signal as AbortSignal | null)?.aborted, true);
  });

  test("the caller's signal aborts with its reason", async () => {
    const controller = new AbortController();
    const { stream } = setup(
      [
        (request) => {
          const push = new PushStream(request.signal);
          push.push(event(1));
          return push.response;
        },
      ],
      { signal: controller.signal },
    );
    await assert.rejects(
      (async () => {
        for await (const _item of stream) setImmediate(() => controller.abort(new Error("shutdown")));
      })(),
      /shutdown/,
    );
  });

  test("an event whose data is not JSON ends the stream with a typed error", async () => {
    const { stream, server } = setup([sseResponse("id: 1\ndata: not json\n\n"), sseResponse(event(2))]);
    await assert.rejects(take(stream, 1), (error: unknown) => error instanceof TriggersError && /not valid JSON/.test(error.message));
    assert.equal(server.requests.length, 1);
  });

  test("a stream can be iterated only once", async () => {
    const { stream } = setup([sseResponse(event(1))]);
    await take(stream, 1);
    assert.throws(() => stream[Symbol.asyncIterator](), TypeError);
  });

  test("asks for an uncached event stream (Cache-Control: no-cache)", async () => {
    const { server, stream } = setup([sseResponse(event(1))]);
    await take(stream, 1);
    assert.equal(server.requests[0]!.headers.get("cache-control"), "no-cache");
    assert.equal(server.requests[0]!.headers.get("accept"), "text/event-stream");
  });

  test("a 204 No Content ends the stream without reconnecting", async () => {
    const { server, stream, clock } = setup([sseResponse(event(1)), new Response(null, { status: 204 })]);
    assert.deepEqual((await take(stream, 99)).map((item) => item.sequence), [1]);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [1000]);
  });

  test("an event without id: after one with an id is delivered (dedupe by the item's own sequence)", async () => {
    const second = `data: ${JSON.stringify({ id: "evt_2", sequence: 2 })}\n\n`;
    const { stream } = setup([sseResponse(event(1) + second)]);
    assert.deepEqual((await take(stream, 2)).map((item) => item.sequence), [1, 2]);
    assert.equal(stream.lastEventId, "1");
  });

  test("an empty id: line resets the resume point: no Last-Event-ID on the next connection", async () => {
    const second = `id:\ndata: ${JSON.stringify({ id: "evt_2", sequence: 2 })}\n\n`;
    const { server, stream } = setup([sseResponse(event(1) + second), sseResponse(event(3))], { lastEventId: "0" });
    assert.deepEqual((await take(stream, 3)).map((item) => item.sequence), [1, 2, 3]);
    assert.equal(server.requests[0]!.headers.get("last-event-id"), "0");
    assert.equal(server.requests[1]!.headers.get("last-event-id"), null);
  });

  test("follows redirects, dropping Authorization only on a cross-origin hop", async () => {
    const { server, stream } = setup([
      new Response(null, { status: 307, headers: { location: "/v1/events/stream2" } }),
      new Response(null, { status: 301, headers: { location: "http://other.test/stream" } }),
      sseResponse(event(1)),
    ]);
    assert.deepEqual((await take(stream, 1)).map((item) => item.sequence), [1]);
    const [first, same, other] = server.requests;
    assert.equal(same!.url, "http://api.test/v1/events/stream2");
    assert.equal(same!.headers.get("authorization"), first!.headers.get("authorization"));
    assert.equal(other!.url, "http://other.test/stream");
    assert.equal(other!.headers.get("authorization"), null);
    assert.equal(other!.headers.get("cache-control"), "no-cache");
  });

  for (const location of [null, "", "mailto:x@y.test", "http://[bad"]) {
    test(`a redirect without a usable Location (${JSON.stringify(location)}) is a StreamRedirectError`, async () => {
      const headers: Record<string, string> = location === null ? {} : { location };
      const { server, stream } = setup([new Response(null, { status: 302, headers }), sseResponse(event(1))]);
      await assert.rejects(take(stream, 1), (error: unknown) => error instanceof StreamRedirectError && error.status === 302);
      assert.equal(server.requests.length, 1);
    });
  }

  test("redirects are bounded by STREAM_MAX_REDIRECTS", async () => {
    const loop = Array.from({ length: 20 }, () => new Response(null, { status: 308, headers: { location: "/v1/loop" } }));
    const { server, stream } = setup(loop);
    await assert.rejects(take(stream, 1), (error: unknown) => error instanceof StreamRedirectError && /more than/.test(error.message));
    assert.equal(server.requests.length, STREAM_MAX_REDIRECTS + 1);
  });

  test("the raw stream exposes each message's type, data, id and retry", async () => {
    const clock = new FakeClock();
    const server = new ScriptedFetch([
      sseResponse(`retry: 3000\n\nevent: reset\ndata: {"reason":"cursor_expired"}\n\n${event(5)}event: future.kind\ndata: x\n\n`),
    ]);
    const core = new CoreClient({ apiKey: "tk_test", baseURL: "http://api.test/v1", fetch: server.fetch, clock, logger: null });
    const stream = new EventStream<StreamMessage>(core, { method: "get", path: "/events/stream" }, { lastEventId: "1" }, "raw");
    const messages: StreamMessage[] = [];
    for await (const message of stream) {
      messages.push(message);
      if (messages.length === 3) break;
    }
    assert.deepEqual(
      messages.map((m) => [m.type, m.id, m.retry]),
      [
        ["reset", "1", 3000],
        ["order.created", "5", null],
        ["future.kind", "5", null],
      ],
    );
    assert.equal(messages[2]!.data, "x");
  });
});

