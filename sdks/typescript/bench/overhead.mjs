// Per-call overhead of `client.events.create()` against a raw `fetch` + `JSON.parse` of the same request,
// both against one in-process node:http server on loopback (and, when TRIGGERS_BASE_URL/TRIGGERS_API_KEY
// are set, against that server too; it must allow the request rate, e.g. --rate-limit-rps 100000). Also the pure client-side cost over a fetch that never touches the
// network. Writes bench/results/typescript-sdk.json at the repo root. Run: npm run bench.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

import { TriggersClient } from "../dist/index.js";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 20);
const CALLS = Number(process.env["BENCH_CALLS"] ?? 400);
const TARGET_RATIO = 1.3;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

const payload = { type: "order.created", source: "bench", data: { order_id: "123", amount: 42.5, lines: [1, 2, 3] } };
const stored = JSON.stringify({
  id: "evt_01JD2X7Q4M8K3R5T6V7W8X9Y0Z", external_id: null, type: "order.created", source: "bench", subject: null,
  time: "2026-11-25T10:15:00Z", data: payload.data, data_base64: null, datacontenttype: "application/json",
  dataschema: null, specversion: "1.0", correlation_id: null, causation_id: null, metadata: {}, extensions: {},
  status: "pending", sequence: 1, schema_version: null, replay_of: null, delivery_count: 0, created_at: "2026-11-25T10:15:00Z",
});

function rawCall(baseURL, apiKey, fetchImpl = fetch) {
  return async () => {
    const response = await fetchImpl(`${baseURL}/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(payload),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`raw call failed: ${response.status} ${text}`);
    return JSON.parse(text);
  };
}

function sdkCall(client) {
  return () => client.events.create(payload);
}

/** Median over rounds of the mean per-call time (µs), alternating the two callers to cancel drift. */
async function compare(raw, sdk, { rounds = ROUNDS, calls = CALLS } = {}) {
  for (let i = 0; i < calls; i++) {
    await raw();
    await sdk();
  }
  const rawRounds = [];
  const sdkRounds = [];
  for (let round = 0; round < rounds; round++) {
    for (const [call, sink] of round % 2 === 0 ? [[raw, rawRounds], [sdk, sdkRounds]] : [[sdk, sdkRounds], [raw, rawRounds]]) {
      const started = performance.now();
      for (let i = 0; i < calls; i++) await call();
      sink.push(((performance.now() - started) * 1000) / calls);
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rawUs = median(rawRounds);
  const sdkUs = median(sdkRounds);
  return { raw_us_per_call: round2(rawUs), sdk_us_per_call: round2(sdkUs), overhead_us_per_call: round2(sdkUs - rawUs), ratio: round3(sdkUs / rawUs) };
}

const round2 = (value) => Math.round(value * 100) / 100;
const round3 = (value) => Math.round(value * 1000) / 1000;

const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(201, { "content-type": "application/json", "content-length": Buffer.byteLength(stored) });
    response.end(stored);
  });
});
await new Promise((done) => server.listen(0, "127.0.0.1", done));
const { port } = server.address();
const localURL = `http://127.0.0.1:${port}/v1`;

const results = {
  language: "typescript",
  node: process.version,
  rounds: ROUNDS,
  calls_per_round: CALLS,
  target_ratio: TARGET_RATIO,
};
try {
  const client = new TriggersClient({ apiKey: "tk_bench", baseURL: localURL, logger: null });
  results.in_process_http = await compare(rawCall(localURL, "tk_bench"), sdkCall(client));

  const mockFetch = async () => new Response(stored, { status: 201, headers: { "content-type": "application/json" } });
  const mockClient = new TriggersClient({ apiKey: "tk_bench", baseURL: localURL, fetch: mockFetch, logger: null });
  results.no_network = await compare(rawCall(localURL, "tk_bench", mockFetch), sdkCall(mockClient));

  const liveURL = process.env["TRIGGERS_BASE_URL"];
  const liveKey = process.env["TRIGGERS_API_KEY"];
  if (liveURL && liveKey) {
    // The reference server rate-limits per key: start it with a high --rate-limit-rps for this figure.
    const live = new TriggersClient({ apiKey: liveKey, baseURL: liveURL, logger: null, maxRetries: 0 });
    try {
      results.reference_server = await compare(rawCall(liveURL, liveKey), sdkCall(live), { rounds: 6, calls: 100 });
    } catch (error) {
      results.reference_server = { error: String(error).slice(0, 200) };
    }
  }
} finally {
  server.close();
}

results.within_target = results.in_process_http.ratio <= TARGET_RATIO;
const out = join(repoRoot, "bench", "results", "typescript-sdk.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
