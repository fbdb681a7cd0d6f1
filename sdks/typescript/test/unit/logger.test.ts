/** Debug logging never leaks credentials; Idempotency-Key stays visible for correlation. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { CoreClient } from "../../src/core/client.js";
import { REDACTED, isSensitiveName, redactValue, resolveLogger, stderrLogger, type LogFields } from "../../src/core/logger.js";
import { FakeClock, ScriptedFetch, json, problem } from "../helpers.js";

describe("redaction", () => {
  test("sensitive names", () => {
    for (const name of ["Authorization", "x-api-key", "api_key", "secret", "webhookSecret", "refresh_token", "Cookie"]) {
      assert.equal(isSensitiveName(name), true, name);
    }
    for (const name of ["Idempotency-Key", "idempotency-key", "type", "X-Request-Id", "source"]) {
      assert.equal(isSensitiveName(name), false, name);
    }
  });

  test("nested bodies are redacted, the input is not modified", () => {
    const input = { url: "https://x", secret: "whsec_abc", nested: [{ token: "t", keep: 1 }] };
    assert.deepEqual(redactValue(input), { url: "https://x", secret: REDACTED, nested: [{ token: REDACTED, keep: 1 }] });
    assert.equal(input.secret, "whsec_abc");
  });

  test("TRIGGERS_LOG=debug turns on the stderr sink; an explicit logger wins", () => {
    assert.equal(resolveLogger(undefined, { TRIGGERS_LOG: "debug" }), stderrLogger);
    assert.equal(resolveLogger(undefined, {}), null);
    assert.equal(resolveLogger(null, { TRIGGERS_LOG: "debug" }), null);
  });

  test("a logged request and retry carry no API key or webhook secret", async () => {
    const records: { message: string; fields: LogFields }[] = [];
    const server = new ScriptedFetch([problem(503, "unavailable"), json(201, {})]);
    const client = new CoreClient({
      apiKey: "tk_live_supersecret",
      baseURL: "http://api.test/v1",
      fetch: server.fetch,
      clock: new FakeClock(),
      random: () => 0,
      logger: { debug: (message, fields) => records.push({ message, fields }) },
    });
    await client.request(
      { method: "post", path: "/subscriptions", body: { url: "https://hook", secret: "whsec_topsecret" } },
      { idempotencyKey: "idem-1" },
    );
    const text = JSON.stringify(records);
    assert.ok(!text.includes("tk_live_supersecret"), "API key leaked");
    assert.ok(!text.includes("whsec_topsecret"), "webhook secret leaked");
    assert.ok(text.includes("idem-1"), "idempotency key should stay visible");
    assert.deepEqual(
      records.map((record) => record.message),
      ["request", "response", "retrying after status", "request", "response"],
    );
    const first = records[0]!.fields["headers"] as Record<string, string>;
    assert.equal(first["authorization"], REDACTED);
  });
});
