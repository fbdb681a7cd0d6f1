/**
 * The cross-SDK contract scenarios (tests/contract/scenarios.yaml) through this SDK's public surface,
 * against a live reference server (TRIGGERS_BASE_URL, admin key TRIGGERS_API_KEY). Writes
 * {"language": "typescript", "results": {id: "pass" | "fail" | "skip"}} to TRIGGERS_CONTRACT_REPORT.
 * Clients are strict: a response field or enum value the contract does not declare fails the scenario.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";

import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  IdempotencyKeyReusedError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  SchemaValidationError,
  TriggersClient,
  UnprocessableEntityError,
  type ClientOptions,
  type DlqEntry,
  type Event,
  type EventsCreateParams,
  type Filter,
  type LeasedMessage,
  type Replay,
} from "../../src/index.js";
import { packageRoot } from "../helpers.js";

type Result = "pass" | "fail" | "skip";
type Scenario = () => Promise<void>;

const BASE_URL = process.env["TRIGGERS_BASE_URL"];
const ADMIN_KEY = process.env["TRIGGERS_API_KEY"];
const REPORT = process.env["TRIGGERS_CONTRACT_REPORT"];
const live = Boolean(BASE_URL && ADMIN_KEY);

/** Unique per run so scenarios never see each other's (or an earlier run's) resources. */
const run = `ts${randomUUID().slice(0, 8)}`;
let counter = 0;
const unique = (label: string): string => `${run}.${label}${++counter}`;

const clientFor = (apiKey: string | undefined = ADMIN_KEY, options: ClientOptions = {}): TriggersClient =>
  new TriggersClient({ apiKey, baseURL: BASE_URL, logger: null, strict: true, ...options });
const admin = (): TriggersClient => clientFor();

async function rejects<E extends Error>(promise: PromiseLike<unknown>, errorClass: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${errorClass.name}, the call succeeded`);
}

/** Poll a live server for an eventually-true condition (bounded; contract tests only). */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(100);
  }
}

const slug = (type: string | null): string | undefined => type?.split("/").pop();

async function createEvent(client: TriggersClient, type: string, extra: Partial<EventsCreateParams> = {}): Promise<Event> {
  return client.events.create({ type, source: `${run}-src`, data: { n: counter }, ...extra });
}

/** The newest sequence so far: a stream resumed from here sees exactly what is created afterwards. */
async function streamCursor(client: TriggersClient): Promise<string> {
  const marker = await createEvent(client, unique("marker"));
  return String(marker.sequence);
}

/** Lease an event `times` times, nacking each time, then return the DLQ entry created for it. */
async function deadLetter(client: TriggersClient): Promise<{ event: Event; entry: DlqEntry }> {
  const type = unique("dlq");
  const event = await createEvent(client, type);
  const { limits } = await client.account.get();
  for (let i = 0; i < limits.max_deliveries; i++) {
    const lease = await client.inbox.lease({ types: [type], visibilityTimeout: 30 });
    assert.equal(lease.messages.length, 1, `lease ${i + 1} should return the event`);
    await client.inbox.nack({ receipts: [lease.messages[0]!.receipt], delay: 0 });
  }
  const last = await client.inbox.lease({ types: [type] });
  assert.equal(last.messages.length, 0, "the event must not be leased past max_deliveries");
  const entry = await eventually(async () => {
    for await (const candidate of client.dlq.list({ eventType: type, origin: "inbox" })) {
      if (candidate.event_id === event.id) return candidate;
    }
    return undefined;
  }, "the DLQ entry");
  return { event, entry };
}

const scenarios: Record<string, Scenario> = {
  // ---- events
  "event-create-get": async () => {
    const client = admin();
    const type = unique("order.created");
    const created = await client.events.create({
      type,
      source: "shop",
      data: { order_id: "123", lines: [1, 2] },
      subject: "order/123",
      metadata: { tenant: "acme" },
    });
    assert.match(created.id, /^evt_/);
    assert.ok(created.sequence >= 1);
    assert.equal(created.status, "pending");
    const fetched = await client.events.get(created.id);
    assert.equal(fetched.id, created.id);
    assert.equal(fetched.type, type);
    assert.deepEqual(fetched.data, { order_id: "123", lines: [1, 2] });
    assert.deepEqual(fetched.metadata, { tenant: "acme" });
  },

  "event-create-cloudevents-structured": async () => {
    const client = admin();
    const ceId = `ce-${randomUUID()}`;
    const { data, response } = await client.events
      .createCloudEvent({ id: ceId, source: `${run}-ce`, type: unique("ce"), data: { a: 1 } })
      .withResponse();
    assert.equal(response.status, 201);
    assert.equal(data.external_id, ceId);
    assert.equal(data.specversion, "1.0");
  },

  "idempotent-retry-returns-original": async () => {
    const client = admin();
    const key = randomUUID();
    const params = { type: unique("idem"), source: "shop", data: { a: 1 } };
    const first = await client.events.create(params, { idempotencyKey: key }).withResponse();
    const second = await client.events.create(params, { idempotencyKey: key }).withResponse();
    assert.equal(second.data.id, first.data.id);
    assert.equal(first.idempotentReplayed, false);
    assert.equal(second.idempotentReplayed, true);
    assert.equal(second.idempotencyKey, key);
  },

  "idempotency-key-reuse-different-body": async () => {
    const client = admin();
    const key = randomUUID();
    const type = unique("idem");
    await client.events.create({ type, source: "shop", data: { a: 1 } }, { idempotencyKey: key });
    const error = await rejects(
      client.events.create({ type, source: "shop", data: { a: 2 } }, { idempotencyKey: key }),
      IdempotencyKeyReusedError,
    );
    assert.equal(error.status, 422);
    assert.equal(slug(error.type), "idempotency-key-reuse");
    assert.ok(error.requestId);
    assert.equal(error.idempotencyKey, key);
  },

  "idempotency-auto-key": async () => {
    const client = admin();
    const { data, idempotencyKey } = await client.events.create({ type: unique("auto"), source: "shop" }).withResponse();
    assert.ok(idempotencyKey);
    assert.match(idempotencyKey, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const status = await client.idempotencyKeys.get(idempotencyKey);
    assert.equal(status.status, "completed");
    assert.equal(status.route, "/events");
    assert.equal(status.response_status, 201);
    assert.equal(status.resource_id, data.id);
  },

  "duplicate-source-id-conflict": async () => {
    const client = admin();
    const params = { type: unique("dup"), source: `${run}-dup`, id: `ext-${randomUUID()}` };
    const first = await client.events.create(params);
    const error = await rejects(client.events.create(params), ConflictError);
    assert.equal(error.status, 409);
    assert.equal(error.problem?.["existing_event_id"], first.id);
  },

  "event-batch-mixed-results": async () => {
    const client = admin();
    const valid = { type: unique("batch"), source: `${run}-batch`, id: `ext-${randomUUID()}` };
    const result = await client.events.createBatch({ events: [valid, { ...valid }, { type: "", source: `${run}-batch` }] });
    assert.deepEqual(
      result.results.map((item) => [item.index, item.status]),
      [[0, "created"], [1, "duplicate"], [2, "rejected"]],
    );
    assert.ok(result.results[2]!.problem, "the rejected item carries a problem");
    assert.deepEqual([result.created, result.duplicates, result.rejected], [1, 1, 1]);
  },

  "event-list-type-glob-pagination": async () => {
    const client = admin();
    const prefix = unique("glob");
    const created = new Set<string>();
    for (let i = 0; i < 5; i++) created.add((await createEvent(client, `${prefix}.a`)).id);
    for (let i = 0; i < 2; i++) await createEvent(client, `${prefix}.b`);
    const seen: string[] = [];
    const pages: (string | null)[] = [];
    for await (const page of client.events.list({ type: `${prefix}.a*`, limit: 2 }).pages()) {
      pages.push(page.next_cursor);
      seen.push(...page.data.map((event) => event.id));
    }
    assert.equal(seen.length, 5);
    assert.deepEqual(new Set(seen), created);
    assert.equal(pages.length, 3);
    assert.equal(pages.at(-1), null);
    const all: string[] = [];
    for await (const event of client.events.list({ type: `${prefix}.a*`, limit: 2 })) all.push(event.id);
    assert.deepEqual(all, seen);
  },

  "event-validation-error": async () => {
    const client = admin();
    const missingSource = { type: unique("invalid") } as EventsCreateParams;
    const error = await rejects(client.events.create(missingSource), UnprocessableEntityError);
    assert.equal(error.status, 422);
    assert.equal(slug(error.type), "validation");
    assert.ok(error.errors.some((entry) => entry.pointer === "/source"), JSON.stringify(error.errors));
  },

  "correlation-causal-order": async () => {
    const client = admin();
    const correlationId = `wf-${randomUUID()}`;
    const root = await createEvent(client, unique("wf.root"), { correlationId });
    const child = await createEvent(client, unique("wf.child"), { correlationId, causationId: root.id });
    const grandchild = await createEvent(client, unique("wf.grandchild"), { correlationId, causationId: child.id });
    const correlation = await client.events.getCorrelation(correlationId);
    assert.deepEqual(correlation.events.map((event) => event.id), [root.id, child.id, grandchild.id]);
    assert.equal(correlation.roots.length, 1);
    const [node] = correlation.roots;
    assert.equal(node!.event_id, root.id);
    assert.equal(node!.children[0]?.event_id, child.id);
    assert.equal(node!.children[0]?.children[0]?.event_id, grandchild.id);
  },

  "event-not-found": async () => {
    const error = await rejects(admin().events.get("evt_00000000000000000000000000"), NotFoundError);
    assert.equal(slug(error.type), "not-found");
    assert.ok(error.requestId);
  },

  "stream-receives-live-events": async () => {
    const client = admin();
    const prefix = unique("live");
    const lastEventId = await streamCursor(client);
    const stream = client.events.stream({ types: [`${prefix}.*`] }, { lastEventId });
    const received: Event[] = [];
    const reading = (async () => {
      for await (const event of stream) {
        received.push(event);
        if (received.length === 2) break;
      }
    })();
    const first = await createEvent(client, `${prefix}.one`);
    await createEvent(client, `${run}.other${counter}`);
    const second = await createEvent(client, `${prefix}.two`);
    await withTimeout(reading, 15_000, "the streamed events");
    assert.deepEqual(received.map((event) => event.id), [first.id, second.id]);
    assert.ok(received[1]!.sequence > received[0]!.sequence);
  },

  "stream-resume-last-event-id": async () => {
    const client = admin();
    const prefix = unique("resume");
    const lastEventId = await streamCursor(client);
    const before = [await createEvent(client, `${prefix}.a`), await createEvent(client, `${prefix}.a`)];
    const stream = client.events.stream({ types: [`${prefix}.*`] }, { lastEventId });
    const firstRead = await withTimeout(take(stream, 2), 15_000, "the first two events");
    assert.deepEqual(firstRead.map((event) => event.id), before.map((event) => event.id));
    const cursor = stream.lastEventId;
    assert.equal(cursor, String(before[1]!.sequence));
    const after = [await createEvent(client, `${prefix}.a`), await createEvent(client, `${prefix}.a`)];
    const resumed = client.events.stream({ types: [`${prefix}.*`] }, { lastEventId: cursor ?? undefined });
    const secondRead = await withTimeout(take(resumed, 2), 15_000, "the resumed events");
    assert.deepEqual(secondRead.map((event) => event.id), after.map((event) => event.id));
  },

  // ---- inbox
  "inbox-lease-ack": async () => {
    const client = admin();
    const type = unique("inbox");
    const event = await createEvent(client, type);
    const lease = await client.inbox.lease({ types: [type], maxEvents: 10, visibilityTimeout: 30 });
    assert.equal(lease.messages.length, 1);
    const [message] = lease.messages;
    assert.equal(message!.event.id, event.id);
    assert.equal(message!.delivery_count, 1);
    const acked = await client.inbox.ack({ receipts: [message!.receipt] });
    assert.equal(acked.results[0]?.status, "ok");
    assert.equal((await client.events.get(event.id)).status, "acknowledged");
    const pending: string[] = [];
    for await (const item of client.inbox.list({ type })) pending.push(item.id);
    assert.deepEqual(pending, []);
  },

  "inbox-nack-redelivers": async () => {
    const client = admin();
    const type = unique("nack");
    const event = await createEvent(client, type);
    const first = await client.inbox.lease({ types: [type] });
    await client.inbox.nack({ receipts: [first.messages[0]!.receipt], delay: 0 });
    const second = await client.inbox.lease({ types: [type] });
    assert.equal(second.messages[0]?.event.id, event.id);
    assert.equal(second.messages[0]?.delivery_count, 2);
  },

  "inbox-extend": async () => {
    const client = admin();
    const type = unique("extend");
    await createEvent(client, type);
    const lease = await client.inbox.lease({ types: [type], visibilityTimeout: 5 });
    const extended = await client.inbox.extend({ receipts: [lease.messages[0]!.receipt], visibilityTimeout: 600 });
    assert.equal(extended.results[0]?.status, "ok");
    const again = await client.inbox.lease({ types: [type] });
    assert.equal(again.messages.length, 0);
  },

  "inbox-ack-unknown-receipt": async () => {
    const result = await admin().inbox.ack({ receipts: [`rcpt_${run}_made_up`] });
    assert.equal(result.results.length, 1);
    assert.equal(result.results[0]?.status, "not_found");
  },

  "inbox-simple-acknowledge": async () => {
    const client = admin();
    const event = await createEvent(client, unique("simple"));
    await client.inbox.acknowledge(event.id);
    assert.equal((await client.events.get(event.id)).status, "acknowledged");
    await client.inbox.acknowledge(event.id);
  },

  "inbox-iterate-helper": async () => {
    const client = admin();
    const type = unique("iterate");
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add((await createEvent(client, type)).id);
    const seen: string[] = [];
    for await (const message of client.inbox.iterate({ batchSize: 2, types: [type], wait: 0, stopWhenEmpty: true })) {
      seen.push(message.event.id);
      assert.equal((await message.ack()).status, "ok");
    }
    assert.equal(seen.length, 3);
    assert.deepEqual(new Set(seen), ids);
    for (const id of ids) assert.equal((await client.events.get(id)).status, "acknowledged");
  },

  "inbox-max-deliveries-to-dlq": async () => {
    const { entry } = await deadLetter(admin());
    assert.equal(entry.origin, "inbox");
    assert.equal(entry.reason, "max_deliveries_exceeded");
  },

  // ---- dlq
  "dlq-retry-returns-to-inbox": async () => {
    const client = admin();
    const { event, entry } = await deadLetter(client);
    await client.dlq.retry(entry.id);
    await rejects(client.dlq.get(entry.id), NotFoundError);
    assert.equal((await client.events.get(event.id)).status, "pending");
    const lease = await client.inbox.lease({ types: [event.type] });
    assert.equal(lease.messages[0]?.event.id, event.id);
    assert.equal(lease.messages[0]?.delivery_count, 1);
  },

  "dlq-dismiss": async () => {
    const client = admin();
    const { entry } = await deadLetter(client);
    await client.dlq.dismiss(entry.id);
    await rejects(client.dlq.get(entry.id), NotFoundError);
  },

  // ---- subscriptions / deliveries
  "subscription-crud": async () => {
    const client = admin();
    const created = await client.subscriptions.create({ url: "http://127.0.0.1:9/hook", eventTypes: [`${run}.crud.*`] });
    assert.match(created.secret ?? "", /^whsec_/);
    const fetched = await client.subscriptions.get(created.id);
    assert.equal(fetched.secret, null);
    const updated = await client.subscriptions.update(created.id, { enabled: false });
    assert.equal(updated.enabled, false);
    assert.equal((await client.subscriptions.get(created.id)).enabled, false);
    let listed = false;
    for await (const subscription of client.subscriptions.list()) listed ||= subscription.id === created.id;
    assert.ok(listed, "the subscription is listed");
    await client.subscriptions.delete(created.id);
    await rejects(client.subscriptions.get(created.id), NotFoundError);
  },

  "subscription-rotate-secret": async () => {
    const client = admin();
    const created = await client.subscriptions.create({ url: "http://127.0.0.1:9/hook", eventTypes: [`${run}.rotate.*`] });
    const rotated = await client.subscriptions.rotateSecret(created.id);
    assert.match(rotated.secret ?? "", /^whsec_/);
    assert.notEqual(rotated.secret, created.secret);
    await client.subscriptions.delete(created.id);
  },

  "subscription-invalid-filter": async () => {
    const unknownDialect = { regex: { type: ".*" } } as unknown as Filter;
    const error = await rejects(
      admin().subscriptions.create({ url: "http://127.0.0.1:9/hook", filter: unknownDialect }),
      UnprocessableEntityError,
    );
    assert.equal(error.status, 422);
    assert.ok(error.errors.some((entry) => entry.pointer.startsWith("/filter")), JSON.stringify(error.errors));
  },

  "delivery-listed-for-event": async () => {
    const client = admin();
    const prefix = unique("deliver");
    const subscription = await client.subscriptions.create({ url: "http://127.0.0.1:1/unreachable", eventTypes: [`${prefix}.*`] });
    try {
      const event = await createEvent(client, `${prefix}.created`);
      const deliveries = await eventually(async () => {
        const page = await client.events.listDeliveries(event.id);
        return page.data.length > 0 ? page.data : undefined;
      }, "a delivery for the event");
      assert.equal(deliveries.length, 1);
      assert.equal(deliveries[0]!.subscription_id, subscription.id);
      const delivery = await client.deliveries.get(deliveries[0]!.id);
      assert.ok(Array.isArray(delivery.attempts));
    } finally {
      await client.subscriptions.delete(subscription.id);
    }
  },

  // ---- replays
  "replay-dry-run": async () => {
    const client = admin();
    const type = unique("replay.dry");
    const matching = await client.subscriptions.create({ url: "http://127.0.0.1:1/a", eventTypes: [type] });
    const excluding = await client.subscriptions.create({
      url: "http://127.0.0.1:1/b",
      eventTypes: [type],
      filter: { exact: { source: "someone-else" } },
    });
    try {
      const event = await createEvent(client, type);
      const { total: before } = await countEvents(client, type);
      const result = await client.events.replay(event.id, { target: { kind: "all" }, dryRun: true });
      assert.equal(result.event, null);
      const inbox = result.outcomes.find((outcome) => outcome.target === "inbox");
      assert.equal(inbox?.decision, "would_deliver");
      const forMatching = result.outcomes.find((outcome) => outcome.subscription_id === matching.id);
      assert.equal(forMatching?.decision, "would_deliver");
      const forExcluding = result.outcomes.find((outcome) => outcome.subscription_id === excluding.id);
      assert.equal(forExcluding?.decision, "filtered");
      assert.ok((forExcluding?.trace.length ?? 0) > 0, "a filtered outcome explains itself");
      assert.equal((await countEvents(client, type)).total, before, "a dry run stores nothing");
    } finally {
      await client.subscriptions.delete(matching.id);
      await client.subscriptions.delete(excluding.id);
    }
  },

  "replay-to-inbox-with-patch": async () => {
    const client = admin();
    const original = await createEvent(client, unique("replay.patch"), { data: { amount: 10, currency: "EUR" } });
    const result = await client.events.replay(original.id, { target: { kind: "inbox" }, dataPatch: { amount: 99 } });
    assert.ok(result.event);
    assert.notEqual(result.event.id, original.id);
    assert.equal(result.event.replay_of, original.id);
    assert.deepEqual(result.event.data, { amount: 99, currency: "EUR" });
  },

  "replay-job-lifecycle": async () => {
    const client = admin();
    const prefix = unique("job");
    const from = new Date(Date.now() - 60_000).toISOString();
    let last: Event | undefined;
    for (let i = 0; i < 3; i++) last = await createEvent(client, `${prefix}.x`);
    // Just past the last event (server time, whose sub-millisecond digits an ISO string would cut off),
    // and before the copies the job itself will make.
    const to = new Date(Date.parse(last!.created_at) + 1).toISOString();
    const job = await client.replays.create({ from, to, eventTypes: [`${prefix}.*`], target: { kind: "inbox" } });
    const final = await eventually(async () => {
      const current = await client.replays.get(job.id);
      return ["COMPLETED", "FAILED", "CANCELLED"].includes(current.status) ? current : undefined;
    }, "the replay job to finish");
    assert.equal(final.status, "COMPLETED", final.error ?? "");
    const stored: [string, string | null][] = [];
    for await (const event of client.events.list({ type: `${prefix}.*` })) stored.push([event.id, event.replay_of]);
    assert.equal(final.progress.matched, 3, JSON.stringify({ job: final, stored }));
  },

  "replay-job-cancel": async () => {
    const client = admin();
    const prefix = unique("cancel");
    await createEvent(client, `${prefix}.x`);
    const job = await client.replays.create({
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date(Date.now() + 1_000).toISOString(),
      eventTypes: [`${prefix}.*`],
      target: { kind: "inbox" },
    });
    let cancelled: Replay;
    try {
      cancelled = await client.replays.cancel(job.id);
    } catch (error) {
      assert.ok(error instanceof ConflictError, String(error));
      assert.equal((await client.replays.get(job.id)).status, "COMPLETED");
      return;
    }
    assert.ok(["CANCELLING", "CANCELLED"].includes(cancelled.status), cancelled.status);
  },

  // ---- schemas
  "schema-register-and-validate": async () => {
    const client = admin();
    const type = unique("schema.valid");
    await client.schemas.register(type, { jsonSchema: orderSchema("string") });
    const valid = await createEvent(client, type, { data: { order_id: "123" } });
    assert.equal(valid.schema_version, 1);
    const error = await rejects(createEvent(client, type, { data: { order_id: 123 } }), SchemaValidationError);
    assert.ok(error.errors.some((entry) => entry.pointer.startsWith("/data")), JSON.stringify(error.errors));
  },

  "schema-incompatible-rejected": async () => {
    const client = admin();
    const type = unique("schema.incompat");
    await client.schemas.register(type, { jsonSchema: orderSchema("string") });
    const error = await rejects(client.schemas.register(type, { jsonSchema: orderSchema("integer") }), ConflictError);
    assert.equal(slug(error.type), "schema-incompatible");
    const incompatibilities = error.problem?.["incompatibilities"];
    assert.ok(Array.isArray(incompatibilities) && incompatibilities.length > 0);
  },

  "schema-compatibility-check": async () => {
    const client = admin();
    const type = unique("schema.check");
    await client.schemas.register(type, { jsonSchema: orderSchema("string") });
    const candidate = orderSchema("string");
    (candidate["properties"] as Record<string, unknown>)["note"] = { type: "string" };
    const result = await client.schemas.checkCompatibility(type, { jsonSchema: candidate });
    assert.equal(result.compatible, true);
    assert.equal(result.mode, "BACKWARD");
    assert.deepEqual(result.incompatibilities, []);
    const versions: number[] = [];
    for await (const version of client.schemas.listVersions(type)) versions.push(version.version);
    assert.deepEqual(versions, [1]);
  },

  "schema-config-modes": async () => {
    const client = admin();
    const type = unique("schema.none");
    await client.schemas.register(type, { jsonSchema: orderSchema("string") });
    await client.schemas.updateConfig(type, { compatibility: "NONE" });
    assert.equal((await client.schemas.getConfig(type)).compatibility, "NONE");
    const v2 = await client.schemas.register(type, { jsonSchema: orderSchema("integer") });
    assert.equal(v2.version, 2);
  },

  // ---- filters
  "filter-test-trace": async () => {
    const type = unique("filter");
    const result = await admin().filters.test({
      filter: { all: [{ exact: { type } }, { prefix: { "data.country": "D" } }] },
      event: { type, source: "shop", data: { country: "DE" } },
    });
    assert.equal(result.matched, true);
    const leaves = result.trace.filter((entry) => entry.dialect === "exact" || entry.dialect === "prefix");
    assert.ok(leaves.length >= 2, JSON.stringify(result.trace));
    assert.ok(leaves.every((entry) => entry.matched));
  },

  // ---- account, keys, auth
  "account-get": async () => {
    const account = await admin().account.get();
    assert.equal(account.limits.max_deliveries, 5);
    for (const [name, value] of Object.entries(account.usage)) {
      assert.ok(Number.isInteger(value) && (value as number) >= 0, `${name} = ${String(value)}`);
    }
  },

  "api-key-scopes-enforced": async () => {
    const created = await admin().apiKeys.create({ name: unique("reader"), scopes: ["events:read"] });
    assert.ok(created.key);
    const reader = clientFor(created.key);
    await reader.events.list({ limit: 1 });
    const error = await rejects(reader.events.create({ type: unique("denied"), source: "shop" }), PermissionDeniedError);
    assert.equal(error.status, 403);
    assert.equal(slug(error.type), "forbidden");
  },

  "auth-invalid-key": async () => {
    const error = await rejects(clientFor(`tk_${run}_made_up`).account.get(), AuthenticationError);
    assert.equal(error.status, 401);
    assert.equal(slug(error.type), "unauthenticated");
  },

  "tenant-isolation": async () => {
    const client = admin();
    const event = await createEvent(client, unique("tenant"));
    const other = await client.apiKeys.create({ name: unique("other"), scopes: ["admin"], newAccount: unique("acct") });
    assert.ok(other.key);
    await rejects(clientFor(other.key).events.get(event.id), NotFoundError);
  },

  // ---- ops, runtime
  "rate-limit-retry-after": async () => {
    const other = await admin().apiKeys.create({ name: unique("limited"), scopes: ["admin"], newAccount: unique("acct") });
    const noRetries = clientFor(other.key ?? undefined, { maxRetries: 0 });
    const { limits } = await noRetries.account.get();
    let limited: RateLimitError | undefined;
    const bound = limits.burst + limits.requests_per_second * 5 + 50;
    for (let i = 0; i < bound && limited === undefined; i++) {
      try {
        await noRetries.account.get();
      } catch (error) {
        if (!(error instanceof RateLimitError)) throw error;
        limited = error;
      }
    }
    assert.ok(limited, `no 429 within ${bound} calls`);
    assert.ok((limited.retryAfter ?? 0) > 0, `retryAfter = ${String(limited.retryAfter)}`);
    // The bucket refills continuously, so keep calling (bounded) until a call had to wait: every call succeeds.
    const patient = clientFor(other.key ?? undefined, { maxRetries: 5, retryBudget: 20_000 });
    let waited = false;
    for (let i = 0; i < bound && !waited; i++) {
      const { data, retryCount } = await patient.account.get().withResponse();
      assert.ok(data.limits);
      waited = retryCount >= 1;
    }
    assert.ok(waited, "the SDK waited out the rate limit and succeeded");
  },

  "health-and-stats": async () => {
    const client = admin();
    assert.equal((await client.ops.health()).status, "ok");
    const stats = await client.ops.stats();
    assert.ok(stats.ingest_latency_ms.p50 <= stats.ingest_latency_ms.p99);
  },

  "request-id-on-errors": async () => {
    const error = await rejects(admin().events.get("evt_00000000000000000000000001"), NotFoundError);
    const header = error.headers.get("x-request-id");
    assert.ok(header);
    assert.equal(error.requestId, header);
  },

  // ---- WebSocket (asyncapi.yaml)
  "ws-subscribe-live-events": async () => {
    const client = admin();
    const prefix = unique("ws");
    const since = await streamCursor(client);
    const subscription = client.events.subscribe({ types: [`${prefix}.*`], since });
    await subscription.ready();
    const a = await createEvent(client, `${prefix}.a`);
    const b = await createEvent(client, `${prefix}.b`);
    await createEvent(client, `${prefix}x.other`);
    const got = await withTimeout(take(subscription, 2), 20_000, "two live events");
    assert.deepEqual(got.map((event) => event.id), [a.id, b.id]);
    assert.ok(got[0]!.sequence < got[1]!.sequence);
    assert.equal(subscription.lastCursor, String(b.sequence));
  },
  "ws-subscribe-filter": async () => {
    const client = admin();
    const prefix = unique("wsf");
    const since = await streamCursor(client);
    const subscription = client.events.subscribe({
      types: [`${prefix}.*`],
      filter: { exact: { source: `${prefix}-b` } },
      since,
    });
    for (let i = 0; i < 2; i++) await createEvent(client, `${prefix}.f`, { source: `${prefix}-a` });
    const wanted = await createEvent(client, `${prefix}.f`, { source: `${prefix}-b` });
    const got = await withTimeout(take(subscription, 1), 20_000, "the filtered event");
    assert.deepEqual(got.map((event) => event.id), [wanted.id]);
  },
  "ws-resume-without-gap": async () => {
    const client = admin();
    const prefix = unique("wsr");
    const since = await streamCursor(client);
    const first: Event[] = [];
    for (let i = 0; i < 4; i++) first.push(await createEvent(client, `${prefix}.r`));
    const subscription = client.events.subscribe({ types: [`${prefix}.*`], since });
    const head = await withTimeout(take(subscription, 2), 20_000, "the first two events");
    const later: Event[] = [];
    for (let i = 0; i < 2; i++) later.push(await createEvent(client, `${prefix}.r`));
    const resumed = client.events.subscribe({ types: [`${prefix}.*`], since: subscription.lastCursor ?? undefined });
    const tail = await withTimeout(take(resumed, 4), 20_000, "the resumed events");
    assert.deepEqual([...head, ...tail].map((event) => event.id), [...first, ...later].map((event) => event.id));
  },
  "ws-push-inbox-ack": async () => {
    const client = admin();
    const type = unique("wsp");
    const created: Event[] = [];
    for (let i = 0; i < 3; i++) created.push(await createEvent(client, type));
    const stream = client.inbox.stream({ maxInFlight: 2, types: [type] });
    const iterator = stream[Symbol.asyncIterator]();
    const next = async (): Promise<LeasedMessage> => {
      const result = await withTimeout(iterator.next(), 20_000, "a pushed message");
      assert.ok(!result.done, "the stream ended early");
      return result.value;
    };
    try {
      const first = await next();
      const second = await next();
      assert.deepEqual(
        [first, second].map((message) => [message.event.id, message.deliveryCount]),
        created.slice(0, 2).map((event) => [event.id, 1]),
      );
      const visible: string[] = [];
      for await (const event of client.inbox.list({ type })) visible.push(event.id);
      assert.deepEqual(visible, [created[2]!.id], "nothing beyond max_in_flight was leased");
      assert.equal((await first.ack()).status, "ok");
      const third = await next();
      assert.equal(third.event.id, created[2]!.id);
      await second.ack();
      await third.ack();
    } finally {
      await stream.close();
    }
    assert.equal((await client.events.get(created[0]!.id)).status, "acknowledged");
  },
  "ws-push-inbox-nack-extend": async () => {
    const client = admin();
    const type = unique("wsn");
    const event = await createEvent(client, type);
    const stream = client.inbox.stream({ types: [type] });
    const iterator = stream[Symbol.asyncIterator]();
    try {
      const first = await withTimeout(iterator.next(), 20_000, "the message");
      assert.ok(!first.done);
      assert.equal((await first.value.extend(60)).status, "ok");
      assert.equal((await first.value.nack({ delay: 0 })).status, "ok");
      const again = await withTimeout(iterator.next(), 20_000, "the redelivery");
      assert.ok(!again.done);
      assert.deepEqual([again.value.event.id, again.value.deliveryCount], [event.id, 2]);
      assert.equal((await again.value.ack()).status, "ok");
    } finally {
      await stream.close();
    }
  },
  "ws-redelivery-after-disconnect": async () => {
    const client = admin();
    const type = unique("wsd");
    const event = await createEvent(client, type);
    const [message] = await withTimeout(take(client.inbox.stream({ visibilityTimeout: 1, types: [type] }), 1), 20_000, "the message");
    assert.deepEqual([message!.event.id, message!.deliveryCount], [event.id, 1]);
    const visible: string[] = [];
    for await (const item of client.inbox.list({ type })) visible.push(item.id);
    assert.deepEqual(visible, [], "closing the stream released nothing early");
    const stream = client.inbox.stream({ types: [type] });
    try {
      const [again] = await withTimeout(take(stream, 1), 10_000, "the redelivery");
      assert.deepEqual([again!.event.id, again!.deliveryCount], [event.id, 2]);
      assert.equal((await again!.ack()).status, "ok");
    } finally {
      await stream.close();
    }
  },
  "ws-auth-failure": async () => {
    const error = await rejects(take(clientFor("tk_made_up_key").events.subscribe(), 1), AuthenticationError);
    assert.equal(slug(error.type), "unauthenticated");
  },
  "ws-error-frame": async () => {
    const subscription = admin().events.subscribe({ filter: { nope: {} } as unknown as Filter });
    const error = await rejects(withTimeout(take(subscription, 1), 20_000, "the error frame"), BadRequestError);
    assert.equal(slug(error.type), "malformed-request");
    assert.ok(error.requestId);
  },
  "ws-scope-missing": async () => {
    const created = await admin().apiKeys.create({ name: unique("ws-reader"), scopes: ["events:read"] });
    assert.ok(created.key);
    const error = await rejects(withTimeout(take(clientFor(created.key).inbox.stream(), 1), 20_000, "the refusal"), PermissionDeniedError);
    assert.equal(slug(error.type), "forbidden");
  },
};

function orderSchema(orderIdType: "string" | "integer"): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: { order_id: { type: orderIdType } },
    required: ["order_id"],
    additionalProperties: false,
  };
}

async function countEvents(client: TriggersClient, type: string): Promise<{ total: number }> {
  let total = 0;
  for await (const _event of client.events.list({ type })) total += 1;
  return { total };
}

async function take<T>(stream: AsyncIterable<T>, count: number): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) {
    items.push(item);
    if (items.length === count) break;
  }
  return items;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      promise,
      delay(ms, undefined, { signal: timeout.signal }).then(() => assert.fail(`timed out waiting for ${what}`)),
    ]);
  } finally {
    timeout.abort();
  }
}

/** Scenario ids in catalogue order, read from tests/contract/scenarios.yaml (`- id: ...` lines). */
function catalogue(): string[] {
  const text = readFileSync(join(packageRoot(), "..", "..", "tests", "contract", "scenarios.yaml"), "utf8");
  return [...text.matchAll(/^\s*- id:\s*([\w-]+)\s*$/gm)].map((match) => match[1]!);
}

const results: Record<string, Result> = {};

after(() => {
  if (REPORT) writeFileSync(REPORT, `${JSON.stringify({ language: "typescript", results }, null, 2)}\n`);
});

describe("contract scenarios", () => {
  const ids = catalogue();
  test("every catalogue scenario has an implementation", () => {
    assert.deepEqual(ids.filter((id) => !(id in scenarios)), []);
  });
  for (const id of ids) {
    const scenario = scenarios[id];
    if (!live || scenario === undefined) {
      results[id] = scenario === undefined ? "fail" : "skip";
      test(id, { skip: live ? "not implemented" : "TRIGGERS_BASE_URL / TRIGGERS_API_KEY not set" }, () => {});
      continue;
    }
    test(id, async () => {
      results[id] = "fail";
      await scenario();
      results[id] = "pass";
    });
  }
});
