/** The HTTP core: retry matrix, Retry-After, budget, idempotency keys, headers, timeouts and error mapping. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";

import { CoreClient, type ClientOptions } from "../../src/core/client.js";
import { SDK_VERSION } from "../../src/core/constants.js";
import {
  APIConnectionError,
  APIError,
  APIStatusError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  SchemaValidationError,
  TriggersError,
  UnprocessableEntityError,
} from "../../src/core/errors.js";
import { FakeClock, ScriptedFetch, json, networkError, problem, type Reply } from "../helpers.js";

const OK = (): Response => json(200, { ok: true });

function setup(replies: Reply[], options: ClientOptions = {}) {
  const clock = new FakeClock();
  const server = new ScriptedFetch(replies);
  const client = new CoreClient({
    apiKey: "tk_test_secret",
    baseURL: "http://api.test/v1",
    fetch: server.fetch,
    clock,
    random: () => 0,
    logger: null,
    ...options,
  });
  return { client, clock, server };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the call to fail");
}

describe("retry matrix", () => {
  for (const status of [408, 429, 500, 502, 503, 504, 599]) {
    test(`GET is retried after ${status}`, async () => {
      const { client, server } = setup([problem(status, "unavailable"), OK()]);
      const result = await client.request<{ ok: boolean }>({ method: "get", path: "/events" }).withResponse();
      assert.deepEqual(result.data, { ok: true });
      assert.equal(result.retryCount, 1);
      assert.equal(server.requests.length, 2);
    });
  }

  for (const status of [400, 401, 403, 404, 405, 413, 415, 422]) {
    test(`${status} is not retried`, async () => {
      const { client, server } = setup([problem(status, "validation"), OK()]);
      const error = await rejection(client.request({ method: "get", path: "/events" }));
      assert.ok(error instanceof APIStatusError);
      assert.equal(error.status, status);
      assert.equal(server.requests.length, 1);
    });
  }

  test("409 is retried only for idempotency-in-flight", async () => {
    const inFlight = setup([problem(409, "idempotency-in-flight", {}, { "retry-after": "1" }), OK()]);
    await inFlight.client.request({ method: "post", path: "/events", body: {} });
    assert.equal(inFlight.server.requests.length, 2);
    assert.deepEqual(inFlight.clock.sleeps, [1000]);

    const conflict = setup([problem(409, "conflict"), OK()]);
    const error = await rejection(conflict.client.request({ method: "post", path: "/events", body: {} }));
    assert.ok(error instanceof ConflictError && !(error instanceof IdempotencyInProgressError));
    assert.equal(conflict.server.requests.length, 1);
  });

  test("gives up after maxRetries + 1 attempts and raises the last error", async () => {
    const { client, server, clock } = setup([
      problem(503, "unavailable"),
      problem(503, "unavailable"),
      problem(503, "unavailable"),
      problem(500, "internal"),
    ]);
    const error = await rejection(client.request({ method: "get", path: "/events" }));
    assert.ok(error instanceof InternalServerError);
    assert.equal(error.status, 500);
    assert.equal(server.requests.length, 4);
    assert.deepEqual(clock.sleeps, [500, 1000, 2000]);
  });

  test("maxRetries: 0 disables retries, per client and per call", async () => {
    const perClient = setup([problem(503, "unavailable")], { maxRetries: 0 });
    await rejection(perClient.client.request({ method: "get", path: "/x" }));
    assert.equal(perClient.server.requests.length, 1);

    const perCall = setup([problem(503, "unavailable")]);
    await rejection(perCall.client.request({ method: "get", path: "/x" }, { maxRetries: 0 }));
    assert.equal(perCall.server.requests.length, 1);
  });

  test("connection errors are retried for repeatable requests", async () => {
    const { client, server } = setup([networkError(), networkError(), OK()]);
    await client.request({ method: "get", path: "/events" });
    assert.equal(server.requests.length, 3);
  });

  test("connection errors surface as APIConnectionError once retries are spent", async () => {
    const { client, server } = setup([networkError(), networkError(), networkError(), networkError()]);
    const error = await rejection(client.request({ method: "get", path: "/events" }));
    assert.ok(error instanceof APIConnectionError && !(error instanceof APITimeoutError));
    assert.match(error.message, /ECONNREFUSED/);
    assert.equal(server.requests.length, 4);
  });

  test("a POST always carries a key (per-call headers cannot drop it), so it is retried", async () => {
    const { client, server } = setup([problem(503, "unavailable"), OK()]);
    await client.request({ method: "post", path: "/events", body: {} }, { headers: { "Idempotency-Key": null } });
    assert.equal(server.requests.length, 2);
    assert.ok(server.requests.every((request) => request.headers.get("idempotency-key") !== null));
  });

  test("PATCH without a key is not repeatable, with one it is", async () => {
    const bare = setup([problem(503, "unavailable"), OK()]);
    await rejection(bare.client.request({ method: "patch", path: "/subscriptions/sub_1", body: {} }));
    assert.equal(bare.server.requests.length, 1);

    const keyed = setup([problem(503, "unavailable"), OK()]);
    await keyed.client.request({ method: "patch", path: "/subscriptions/sub_1", body: {} }, { idempotencyKey: "k-1" });
    assert.equal(keyed.server.requests.length, 2);
  });

  test("X-Should-Retry: false stops a retry, true forces one", async () => {
    const forbid = setup([problem(503, "unavailable", {}, { "x-should-retry": "false" }), OK()]);
    await rejection(forbid.client.request({ method: "get", path: "/x" }));
    assert.equal(forbid.server.requests.length, 1);

    const force = setup([problem(400, "malformed-request", {}, { "x-should-retry": "true" }), OK()]);
    await force.client.request({ method: "get", path: "/x" });
    assert.equal(force.server.requests.length, 2);
  });

  test("each attempt carries X-Triggers-Retry-Count", async () => {
    const { client, server } = setup([problem(502, "unavailable"), networkError(), OK()]);
    await client.request({ method: "get", path: "/x" });
    assert.deepEqual(
      server.requests.map((request) => request.headers.get("x-triggers-retry-count")),
      ["0", "1", "2"],
    );
  });
});

describe("backoff and Retry-After", () => {
  test("exponential backoff with jitter uses the injected random source", async () => {
    const { client, clock } = setup(
      [problem(503, "unavailable"), problem(503, "unavailable"), problem(503, "unavailable"), OK()],
      { random: () => 0.5 },
    );
    await client.request({ method: "get", path: "/x" });
    // min(500 * 2**(n-1), 8000) * (1 - 0.25 * 0.5)
    assert.deepEqual(clock.sleeps, [437.5, 875, 1750]);
  });

  test("Retry-After seconds are honoured exactly", async () => {
    const { client, clock } = setup([problem(429, "rate-limited", {}, { "retry-after": "7" }), OK()]);
    await client.request({ method: "get", path: "/x" });
    assert.deepEqual(clock.sleeps, [7000]);
  });

  test("Retry-After as an HTTP date is honoured", async () => {
    const clock = new FakeClock();
    const later = new Date(clock.current + 12_000).toUTCString();
    const { client } = setup([problem(503, "unavailable", {}, { "retry-after": later }), OK()], { clock });
    await client.request({ method: "get", path: "/x" });
    assert.equal(clock.sleeps.length, 1);
    // HTTP dates have one-second resolution.
    assert.ok(clock.sleeps[0]! > 11_000 && clock.sleeps[0]! <= 12_000, String(clock.sleeps[0]));
  });

  test("retry-after-ms wins over Retry-After", async () => {
    const { client, clock } = setup([
      problem(503, "unavailable", {}, { "retry-after": "9", "retry-after-ms": "250" }),
      OK(),
    ]);
    await client.request({ method: "get", path: "/x" });
    assert.deepEqual(clock.sleeps, [250]);
  });

  test("Retry-After above the 60 s cap is not slept through: RateLimitError at once with retryAfter", async () => {
    const { client, clock, server } = setup([problem(429, "rate-limited", {}, { "retry-after": "61" }), OK()]);
    const error = await rejection(client.request({ method: "get", path: "/x" }));
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.retryAfter, 61);
    assert.deepEqual(clock.sleeps, []);
    assert.equal(server.requests.length, 1);
  });

  test("a Retry-After of exactly the cap is honoured", async () => {
    const { client, clock } = setup([problem(429, "rate-limited", {}, { "retry-after": "60" }), OK()]);
    await client.request({ method: "get", path: "/x" });
    assert.deepEqual(clock.sleeps, [60_000]);
  });

  test("an unparseable Retry-After falls back to backoff", async () => {
    const { client, clock } = setup([problem(503, "unavailable", {}, { "retry-after": "soon" }), OK()]);
    await client.request({ method: "get", path: "/x" });
    assert.deepEqual(clock.sleeps, [500]);
  });

  test("the retry budget stops retries whose sleep would end after it", async () => {
    const { client, clock, server } = setup(
      [
        problem(429, "rate-limited", {}, { "retry-after": "40" }),
        problem(429, "rate-limited", {}, { "retry-after": "40" }),
        OK(),
      ],
    );
    const error = await rejection(client.request({ method: "get", path: "/x" }));
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.retryAfter, 40);
    assert.deepEqual(clock.sleeps, [40_000]);
    assert.equal(server.requests.length, 2);
  });

  test("the budget counts time spent inside attempts too", async () => {
    const clock = new FakeClock();
    const slow = (): Response => {
      clock.advance(59_800);
      return problem(503, "unavailable");
    };
    const { client, server } = setup([slow, OK()], { clock });
    await rejection(client.request({ method: "get", path: "/x" }));
    assert.equal(server.requests.length, 1);
  });

  test("a custom retry budget is respected", async () => {
    const { client, server } = setup([problem(503, "unavailable"), OK()], { retryBudget: 100 });
    await rejection(client.request({ method: "get", path: "/x" }));
    assert.equal(server.requests.length, 1);
  });

  test("aborting during a retry sleep rejects with the abort reason", async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    clock.sleep = (_ms, signal) => {
      controller.abort(new Error("stop"));
      return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    };
    const { client, server } = setup([problem(503, "unavailable"), OK()], { clock });
    const error = await rejection(client.request({ method: "get", path: "/x" }, { signal: controller.signal }));
    assert.equal((error as Error).message, "stop");
    assert.equal(server.requests.length, 1);
  });

  test("an already-aborted signal sends nothing", async () => {
    const { client, server } = setup([OK()]);
    const error = await rejection(client.request({ method: "get", path: "/x" }, { signal: AbortSignal.abort("no") }));
    assert.equal(error, "no");
    assert.equal(server.requests.length, 0);
  });
});

describe("idempotency keys", () => {
  test("every POST gets a UUID4 key, reused on every retry", async () => {
    const { client, server } = setup([problem(503, "unavailable"), networkError(), json(201, { id: "evt_1" })]);
    const result = await client.request({ method: "post", path: "/events", body: { type: "a" } }).withResponse();
    const keys = server.requests.map((request) => request.headers.get("idempotency-key"));
    assert.equal(keys.length, 3);
    assert.match(keys[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(keys.every((key) => key === keys[0]));
    assert.equal(result.idempotencyKey, keys[0]);
  });

  test("two calls get two different keys", async () => {
    const { client, server } = setup([OK(), OK()]);
    await client.request({ method: "post", path: "/events", body: {} });
    await client.request({ method: "post", path: "/events", body: {} });
    const [first, second] = server.requests.map((request) => request.headers.get("idempotency-key"));
    assert.notEqual(first, second);
  });

  test("a caller-supplied key is used as is", async () => {
    const { client, server } = setup([problem(500, "internal"), OK()]);
    await client.request({ method: "post", path: "/events", body: {} }, { idempotencyKey: "order-123" });
    assert.deepEqual(
      server.requests.map((request) => request.headers.get("idempotency-key")),
      ["order-123", "order-123"],
    );
  });

  test("GET requests carry no key", async () => {
    const { client, server } = setup([OK()]);
    const result = await client.request({ method: "get", path: "/events" }).withResponse();
    assert.equal(server.requests[0]!.headers.get("idempotency-key"), null);
    assert.equal(result.idempotencyKey, null);
  });

  test("Idempotent-Replayed is exposed on the raw response", async () => {
    const { client } = setup([json(201, { id: "evt_1" }, { "idempotent-replayed": "true", "x-request-id": "req_9" })]);
    const result = await client.request({ method: "post", path: "/events", body: {} }).withResponse();
    assert.equal(result.idempotentReplayed, true);
    assert.equal(result.requestId, "req_9");
    assert.equal(result.response.status, 201);
  });

  test("errors carry the key that was sent", async () => {
    const { client, server } = setup([problem(422, "idempotency-key-reuse")]);
    const error = await rejection(client.request({ method: "post", path: "/events", body: {} }));
    assert.ok(error instanceof IdempotencyKeyReusedError);
    assert.equal(error.idempotencyKey, server.requests[0]!.headers.get("idempotency-key"));
  });

  test("connection errors carry the key too", async () => {
    const { client, server } = setup([networkError(), networkError(), networkError(), networkError()]);
    const error = await rejection(client.request({ method: "post", path: "/events", body: {} }, { idempotencyKey: "k" }));
    assert.ok(error instanceof APIConnectionError);
    assert.equal(error.idempotencyKey, "k");
    assert.equal(server.requests.length, 4);
  });
});

describe("error mapping", () => {
  const cases: [number, string, new (...args: never[]) => APIStatusError][] = [
    [400, "malformed-request", BadRequestError],
    [401, "unauthenticated", AuthenticationError],
    [403, "forbidden", PermissionDeniedError],
    [404, "not-found", NotFoundError],
    [409, "conflict", ConflictError],
    [409, "idempotency-in-flight", IdempotencyInProgressError],
    [422, "validation", UnprocessableEntityError],
    [422, "idempotency-key-reuse", IdempotencyKeyReusedError],
    [422, "schema-validation", SchemaValidationError],
    [429, "rate-limited", RateLimitError],
    [500, "internal", InternalServerError],
    [503, "unavailable", InternalServerError],
    [405, "method-not-allowed", APIStatusError],
    [413, "payload-too-large", APIStatusError],
  ];
  for (const [status, slug, errorClass] of cases) {
    test(`${status} ${slug} → ${errorClass.name}`, async () => {
      const { client } = setup([problem(status, slug, { request_id: "req_body" }, { "x-should-retry": "false" })]);
      const error = await rejection(client.request({ method: "get", path: "/events/evt_1" }));
      assert.ok(error instanceof errorClass, `${String(error)}`);
      assert.equal((error as Error).constructor, errorClass);
      assert.ok(error instanceof APIStatusError && error instanceof APIError && error instanceof TriggersError);
      assert.equal(error.status, status);
      assert.equal(error.statusCode, status);
      assert.equal(error.type, `https://triggers.dev/problems/${slug}`);
      assert.equal(error.title, slug);
      assert.equal(error.detail, `${slug} happened`);
      assert.equal(error.requestId, "req_body");
      assert.equal(error.request.method, "GET");
      assert.equal(error.request.url, "http://api.test/v1/events/evt_1");
      assert.equal(error.name, errorClass.name);
    });
  }

  test("schema validation errors keep their pointers and extension members", async () => {
    const { client } = setup([
      problem(422, "schema-validation", {
        errors: [{ pointer: "/data/order_id", detail: "must be a string" }],
        schema_version: 3,
      }),
    ]);
    const error = await rejection(client.request({ method: "post", path: "/events", body: {} }));
    assert.ok(error instanceof SchemaValidationError);
    assert.deepEqual(error.errors, [{ pointer: "/data/order_id", detail: "must be a string" }]);
    assert.equal(error.problem?.["schema_version"], 3);
  });

  test("request id falls back to the X-Request-Id header", async () => {
    const { client } = setup([problem(404, "not-found", {}, { "x-request-id": "req_header" })]);
    const error = await rejection(client.request({ method: "get", path: "/x" }));
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.requestId, "req_header");
  });

  test("a non-JSON error body is kept as text", async () => {
    const { client } = setup([new Response("upstream exploded", { status: 400 })]);
    const error = await rejection(client.request({ method: "get", path: "/x" }));
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.body, "upstream exploded");
    assert.equal(error.type, null);
    assert.match(error.message, /upstream exploded/);
  });

  test("RateLimitError.retryAfter is null when the server did not say", async () => {
    const { client } = setup([problem(429, "rate-limited", {}, { "x-should-retry": "false" })]);
    const error = await rejection(client.request({ method: "get", path: "/x" }));
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.retryAfter, null);
  });

  test("a 2xx body that is not JSON is an APIError, not a crash", async () => {
    const { client } = setup([new Response("<html>", { status: 200 })]);
    const error = await rejection(client.request({ method: "get", path: "/x" }));
    assert.ok(error instanceof APIError && !(error instanceof APIStatusError));
    assert.match(error.message, /not valid JSON/);
  });

  test("timeouts raise APITimeoutError after retries", async () => {
    const clock = new FakeClock();
    const hang = (request: { signal: AbortSignal | null }): Promise<Response> => {
      const pending = new Promise<Response>((_resolve, reject) => {
        request.signal?.addEventListener("abort", () => reject(request.signal?.reason), { once: true });
      });
      clock.advance(1_000);
      return pending;
    };
    const { client, server } = setup([hang, hang], { clock, timeout: 1_000, maxRetries: 1 });
    const error = await rejection(client.request({ method: "get", path: "/x" }));
    assert.ok(error instanceof APITimeoutError);
    assert.equal(server.requests.length, 2);
  });

  test("a per-call timeout overrides the client's", async () => {
    const clock = new FakeClock();
    const hang = (request: { signal: AbortSignal | null }): Promise<Response> => {
      const pending = new Promise<Response>((_resolve, reject) => {
        request.signal?.addEventListener("abort", () => reject(request.signal?.reason), { once: true });
      });
      clock.advance(50);
      return pending;
    };
    const { client } = setup([hang], { clock, maxRetries: 0 });
    const error = await rejection(client.request({ method: "get", path: "/x" }, { timeout: 50 }));
    assert.ok(error instanceof APITimeoutError);
  });
});

describe("requests on the wire", () => {
  test("standard headers are sent, and JSON bodies are encoded", async () => {
    const { client, server } = setup([json(201, {})], { defaultHeaders: { "X-Team": "blue" } });
    await client.request({ method: "post", path: "/events", body: { type: "order.created", data: { a: 1 } } });
    const request = server.requests[0]!;
    assert.equal(request.method, "POST");
    assert.equal(request.url, "http://api.test/v1/events");
    assert.equal(request.headers.get("authorization"), "Bearer tk_test_secret");
    assert.equal(request.headers.get("user-agent"), `zapier-triggers-typescript/${SDK_VERSION}`);
    assert.equal(request.headers.get("x-triggers-sdk"), `typescript/${SDK_VERSION}`);
    assert.equal(request.headers.get("accept"), "application/json");
    assert.equal(request.headers.get("content-type"), "application/json");
    assert.equal(request.headers.get("x-team"), "blue");
    assert.deepEqual(JSON.parse(request.body!), { type: "order.created", data: { a: 1 } });
  });

  test("query values: arrays repeat, nullish values are dropped, booleans are words", async () => {
    const { client, server } = setup([OK()]);
    await client.request({
      method: "get",
      path: "/events",
      query: { types: ["order.*", "user.*"], limit: 10, cursor: undefined, after: null, dry_run: true },
    });
    assert.equal(server.requests[0]!.url, "http://api.test/v1/events?types=order.*&types=user.*&limit=10&dry_run=true");
  });

  test("per-call query parameters are added to the operation's", async () => {
    const { client, server } = setup([OK()]);
    await client.request({ method: "get", path: "/events", query: { limit: 5 } }, { query: { include: ["a", "b"] } });
    assert.equal(server.requests[0]!.url, "http://api.test/v1/events?limit=5&include=a&include=b");
  });

  test("per-call headers add and remove; Authorization cannot be overridden", async () => {
    const { client, server } = setup([OK()], { defaultHeaders: { "X-Team": "blue" } });
    await client.request(
      { method: "get", path: "/x" },
      { headers: { "X-Team": null, "X-Trace": "t1", Authorization: "Bearer other" } },
    );
    const headers = server.requests[0]!.headers;
    assert.equal(headers.get("x-team"), null);
    assert.equal(headers.get("x-trace"), "t1");
    assert.equal(headers.get("authorization"), "Bearer tk_test_secret");
  });

  test("204 resolves to undefined", async () => {
    const { client } = setup([new Response(null, { status: 204 })]);
    assert.equal(await client.request({ method: "post", path: "/events/evt_1/ack" }), undefined);
  });

  test("configuration comes from the environment when not passed", () => {
    const saved = { key: process.env["TRIGGERS_API_KEY"], url: process.env["TRIGGERS_BASE_URL"] };
    try {
      process.env["TRIGGERS_API_KEY"] = "tk_env";
      process.env["TRIGGERS_BASE_URL"] = "http://env.test/v1/";
      const client = new CoreClient({ logger: null });
      assert.equal(client.buildHeaders({ method: "get", path: "/" }, {}, null, 0)["authorization"], "Bearer tk_env");
      assert.equal(client.baseURL, "http://env.test/v1");
      assert.ok(!inspect(client).includes("tk_env"), "inspecting a client must not print its key");
      delete process.env["TRIGGERS_BASE_URL"];
      assert.equal(new CoreClient({ logger: null }).baseURL, "http://127.0.0.1:8080/v1");
      delete process.env["TRIGGERS_API_KEY"];
      assert.throws(() => new CoreClient({ logger: null }), (error: unknown) => {
        return error instanceof TriggersError && /TRIGGERS_API_KEY/.test(error.message);
      });
    } finally {
      restore("TRIGGERS_API_KEY", saved.key);
      restore("TRIGGERS_BASE_URL", saved.url);
    }
  });

  test("invalid numeric options are rejected with a typed error", () => {
    assert.throws(() => new CoreClient({ apiKey: "k", maxRetries: -1 }), TriggersError);
    assert.throws(() => new CoreClient({ apiKey: "k", timeout: Number.NaN }), TriggersError);
  });

  test("an unawaited failing call does not raise an unhandled rejection", async () => {
    const { client } = setup([problem(400, "malformed-request")]);
    let unhandled = false;
    const onUnhandled = (): void => {
      unhandled = true;
    };
    process.on("unhandledRejection", onUnhandled);
    client.request({ method: "get", path: "/x" });
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onUnhandled);
    assert.equal(unhandled, false);
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe("caller headers", () => {
  test("an invalid per-call header value fails the call at once: no request, no retry", async () => {
    const { client, server } = setup([OK(), OK()]);
    const error = await rejection(
      client.request({ method: "get", path: "/events" }, { headers: { "x-trace": "a\r\nb" } }),
    );
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${inspect(error)}`);
    assert.equal(error instanceof APIConnectionError, false);
    assert.equal(server.requests.length, 0);
  });

  test("an invalid per-call header name fails the call at once", async () => {
    const { client, server } = setup([OK()]);
    const error = await rejection(client.request({ method: "get", path: "/events" }, { headers: { "bad name": "x" } }));
    assert.ok(error instanceof TypeError);
    assert.equal(server.requests.length, 0);
  });

  test("an invalid default header is refused when the client is built", () => {
    assert.throws(() => setup([], { defaultHeaders: { "x-team": "a\nb" } }), TypeError);
  });
});
