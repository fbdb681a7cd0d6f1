/** Strict mode: departures from the contract are found and reported, and only when asked for. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { findDrift } from "../../src/core/drift.js";
import { SHAPES } from "../../src/generated/shapes.js";
import { APIResponseValidationError, TriggersClient } from "../../src/index.js";
import { FakeClock, ScriptedFetch, json, sseResponse, type Reply } from "../helpers.js";

const event = {
  id: "evt_1", external_id: null, type: "order.created", source: "shop", subject: null, time: "2026-11-25T10:15:00Z",
  data: { anything: { goes: [1, "here"] } }, data_base64: null, datacontenttype: "application/json", dataschema: null,
  specversion: "1.0", correlation_id: null, causation_id: null, metadata: { free: "form" }, extensions: { x: 1 },
  status: "pending", sequence: 1, schema_version: null, replay_of: null, delivery_count: 0, created_at: "2026-11-25T10:15:00Z",
};

function client(replies: Reply[], strict: boolean) {
  const server = new ScriptedFetch(replies);
  return new TriggersClient({
    apiKey: "tk_test", baseURL: "http://api.test/v1", fetch: server.fetch, clock: new FakeClock(), random: () => 0, logger: null, strict,
  });
}

describe("findDrift", () => {
  test("a contract-conformant event has no drift, free-form members included", () => {
    assert.deepEqual(findDrift(event, "Event", SHAPES), []);
  });

  test("unknown fields and enum values are reported with their paths, at any depth", () => {
    const lease = {
      lease_id: "l", leased_until: "2026-11-25T10:15:00Z", shiny: true,
      messages: [{ event: { ...event, status: "archived", brand_new: 1 }, receipt: "r", delivery_count: 1 }],
    };
    assert.deepEqual(findDrift(lease, "Lease", SHAPES), [
      "$.shiny: unknown field",
      "$.messages[0].event.status: unknown enum value \"archived\"",
      "$.messages[0].event.brand_new: unknown field",
    ]);
  });

  test("discriminated unions pick their variant; unknown variants are drift", () => {
    assert.deepEqual(findDrift({ kind: "subscription", subscription_id: "sub_1" }, "ReplayTarget", SHAPES), []);
    assert.deepEqual(findDrift({ kind: "inbox", extra: 1 }, "ReplayTarget", SHAPES), ["$.extra: unknown field"]);
    assert.deepEqual(findDrift({ kind: "tenant" }, "ReplayTarget", SHAPES), ["$.kind: unknown variant \"tenant\""]);
  });

  test("keys that exist on Object.prototype are still unknown fields", () => {
    assert.deepEqual(findDrift({ ...event, constructor: 1, toString: "x" }, "Event", SHAPES), [
      "$.constructor: unknown field",
      "$.toString: unknown field",
    ]);
  });

  test("pages are checked item by item", () => {
    const page = { data: [event, { ...event, status: "gone" }], next_cursor: null };
    assert.deepEqual(findDrift(page, "EventList", SHAPES), ["$.data[1].status: unknown enum value \"gone\""]);
  });
});

describe("strict clients", () => {
  const drifted = { ...event, status: "archived" };

  test("fail on drift with APIResponseValidationError", async () => {
    const strict = client([json(200, drifted, { "x-request-id": "req_1" })], true);
    await assert.rejects(strict.events.get("evt_1"), (error: unknown) => {
      assert.ok(error instanceof APIResponseValidationError);
      assert.deepEqual(error.drift, ["$.status: unknown enum value \"archived\""]);
      assert.equal(error.requestId, "req_1");
      assert.equal(error.response.status, 200);
      return true;
    });
  });

  test("lenient clients (the default) keep the drifted value", async () => {
    const lenient = client([json(200, drifted)], false);
    assert.equal((await lenient.events.get("evt_1")).status, "archived");
  });

  test("a conformant response passes a strict client", async () => {
    const strict = client([json(200, event)], true);
    assert.equal((await strict.events.get("evt_1")).id, "evt_1");
  });

  test("streamed events are checked too, and drift ends the stream", async () => {
    const strict = client([sseResponse(`id: 1\ndata: ${JSON.stringify(drifted)}\n\n`)], true);
    await assert.rejects(
      (async () => {
        for await (const _item of strict.events.stream()) break;
      })(),
      APIResponseValidationError,
    );
  });
});
