/** Standard Webhooks verify/sign against the shared vectors, plus the behaviour around them. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Webhook, WebhookVerificationError } from "../../src/webhooks.js";
import { conformancePath, readJSON } from "../helpers.js";

interface SignCase {
  id: string;
  secret: string;
  msg_id: string;
  timestamp: number | string;
  payload?: string;
  payload_generator?: { repeat: string; count: number };
  expected_signature?: string;
}
interface VerifyCase {
  id: string;
  secret: string;
  payload: string;
  headers: Record<string, string>;
  now: number;
  expected: "valid" | "invalid";
  ignore_tolerance?: boolean;
}
interface Vectors {
  sign_cases: SignCase[];
  verify_cases: VerifyCase[];
  secret_cases: { id: string; secret: string }[];
  sign_error_cases: SignCase[];
}

function payloadOf(vector: SignCase): string {
  if (vector.payload !== undefined) return vector.payload;
  const generator = vector.payload_generator!;
  return generator.repeat.repeat(generator.count);
}

const vectorsPath = conformancePath("standard-webhooks/vectors.json");

describe("Standard Webhooks vectors (../shared/conformance/standard-webhooks/vectors.json)", () => {
  if (vectorsPath === null) {
    test("shared conformance vectors", { skip: "../shared/conformance/standard-webhooks is absent on this machine" }, () => {});
    return;
  }
  const vectors = readJSON<Vectors>(vectorsPath);

  for (const vector of vectors.sign_cases) {
    test(`sign: ${vector.id}`, () => {
      const signature = new Webhook(vector.secret).sign(vector.msg_id, Number(vector.timestamp), payloadOf(vector));
      assert.equal(signature, vector.expected_signature);
    });
  }

  for (const vector of vectors.verify_cases) {
    test(`verify: ${vector.id}`, () => {
      const webhook = new Webhook(vector.secret, {
        now: () => vector.now * 1000,
        // The verify-without-timestamp-check mode of the reference libraries is an unbounded tolerance here.
        ...(vector.ignore_tolerance ? { tolerance: Number.POSITIVE_INFINITY } : {}),
      });
      let outcome: "valid" | "invalid" = "valid";
      try {
        webhook.verifySignature(vector.payload, vector.headers);
      } catch (error) {
        assert.ok(error instanceof WebhookVerificationError, String(error));
        outcome = "invalid";
      }
      assert.equal(outcome, vector.expected);
    });
  }

  for (const vector of vectors.secret_cases) {
    test(`secret rejected: ${vector.id}`, () => {
      assert.throws(() => new Webhook(vector.secret), WebhookVerificationError);
    });
  }

  for (const vector of vectors.sign_error_cases) {
    test(`sign error: ${vector.id}`, () => {
      // The vectors hold timestamps that are not integers; the signature type forbids them, the runtime check too.
      const timestamp = vector.timestamp as unknown as number;
      assert.throws(() => new Webhook(vector.secret).sign(vector.msg_id, timestamp, payloadOf(vector)), WebhookVerificationError);
    });
  }
});

describe("Webhook", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const now = 1_700_000_000;
  const webhook = new Webhook(secret, { now: () => now * 1000 });

  test("verify returns the parsed body; accepts Node-style and fetch headers", () => {
    const body = JSON.stringify({ type: "order.created", data: { order_id: "123" } });
    const signature = webhook.sign("msg_1", now, body);
    const nodeHeaders = { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": signature };
    assert.deepEqual(webhook.verify(body, nodeHeaders), { type: "order.created", data: { order_id: "123" } });
    assert.deepEqual(webhook.verify(Buffer.from(body), new Headers(nodeHeaders)), JSON.parse(body));
  });

  test("a signed body that is not JSON fails verify() but passes verifySignature()", () => {
    const headers = { "webhook-id": "msg_2", "webhook-timestamp": String(now), "webhook-signature": webhook.sign("msg_2", now, "plain") };
    assert.throws(() => webhook.verify("plain", headers), WebhookVerificationError);
    assert.doesNotThrow(() => webhook.verifySignature("plain", headers));
  });

  test("any of several signatures may match (secret rotation)", () => {
    const old = new Webhook("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", { now: () => now * 1000 });
    const body = "{}";
    const both = `${old.sign("m", now, body)} ${webhook.sign("m", now, body)}`;
    assert.doesNotThrow(() => webhook.verifySignature(body, { "webhook-id": "m", "webhook-timestamp": String(now), "webhook-signature": both }));
  });

  test("verifyRequest reads a fetch Request's raw body", async () => {
    const body = JSON.stringify({ type: "order.created" });
    const headers = { "webhook-id": "msg_3", "webhook-timestamp": String(now), "webhook-signature": webhook.sign("msg_3", now, body) };
    const request = new Request("http://receiver.test/hook", { method: "POST", headers, body });
    assert.deepEqual(await webhook.verifyRequest(request), { type: "order.created" });
    const tampered = new Request("http://receiver.test/hook", { method: "POST", headers, body: body.replace("order", "other") });
    await assert.rejects(webhook.verifyRequest(tampered), WebhookVerificationError);
  });

  test("sign accepts a Date", () => {
    assert.equal(webhook.sign("m", new Date(now * 1000), "{}"), webhook.sign("m", now, "{}"));
  });

  test("secrets that are not base64 are rejected", () => {
    assert.throws(() => new Webhook("whsec_not base64!"), WebhookVerificationError);
  });
});
