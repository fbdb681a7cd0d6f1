/**
 * The shared retry cases (tests/contract/retry-cases.json), run through this SDK's real retry loop; the
 * Python and Go SDKs check the same file, so the one behaviour written three times stays one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";

import type { HTTPMethod } from "../../src/core/client.js";
import { APIStatusError } from "../../src/index.js";
import { json, packageRoot, problem, readJSON, scriptedClient } from "../helpers.js";

interface RetryCase {
  name: string;
  method: string;
  status: number;
  problem_type?: string;
  headers: Record<string, string>;
  attempt: number;
  retry: boolean;
  delay_seconds?: { min: number; max: number };
}

const { cases } = readJSON<{ cases: RetryCase[] }>(join(packageRoot(), "..", "..", "tests", "contract", "retry-cases.json"));
// Jitter draws at both ends of [0, 1): the delay bounds must hold for any of them.
const JITTER = [0, 0.999];

function answer(c: RetryCase): Response {
  if (c.problem_type !== undefined) return problem(c.status, c.problem_type, {}, c.headers);
  return new Response(null, { status: c.status, headers: c.headers });
}

describe("shared retry cases (tests/contract/retry-cases.json)", () => {
  for (const c of cases) {
    for (const jitter of JITTER) {
      test(`${c.name} (jitter draw ${jitter})`, async () => {
        const replies = [...Array.from({ length: c.attempt - 1 }, () => new Response(null, { status: 503 })), answer(c), json(200, {})];
        const { client, server, clock } = scriptedClient(replies, () => jitter);
        let succeeded = true;
        try {
          await client.request({ method: c.method.toLowerCase() as HTTPMethod, path: "/events/evt_1" });
        } catch (error) {
          assert.ok(error instanceof APIStatusError, String(error));
          assert.equal(error.status, c.status);
          succeeded = false;
        }
        assert.equal(succeeded, c.retry);
        assert.equal(server.requests.length, c.retry ? c.attempt + 1 : c.attempt);
        if (c.retry) {
          const delaySeconds = clock.sleeps[c.attempt - 1]! / 1000;
          assert.ok(
            delaySeconds >= c.delay_seconds!.min - 1e-9 && delaySeconds <= c.delay_seconds!.max + 1e-9,
            `delay ${delaySeconds}s outside [${c.delay_seconds!.min}, ${c.delay_seconds!.max}]`,
          );
        } else {
          assert.equal(clock.sleeps.length, c.attempt - 1);
        }
      });
    }
  }
});
