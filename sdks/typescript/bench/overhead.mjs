// Per-call cost of `client.events.create()` next to a raw `fetch` + `JSON.parse` of the same request and to
// openai-node (pinned devDependency, `client.post()` of the same path, body and response: a peer SDK with its
// own retries, timeout and headers), all against one in-process node:http server on loopback, in interleaved
// rounds, medians. Also the pure client-side cost over a fetch that never touches the network, and (when
// TRIGGERS_BASE_URL/TRIGGERS_API_KEY are set) the reference server; it must allow the request rate, e.g.
// --rate-limit-rps 100000. Writes bench/results/typescript-sdk.json at the repo root. Run: npm run bench.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

import OpenAI from "openai";

import { TriggersClient } from "../dist/index.js";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 15);
const CALLS = Number(process.env["BENCH_CALLS"] ?? 400);
const TARGET_RATIO_RAW = 1.15;
const TARGET_RATIO_OPENAI = 0.9;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const openaiVersion = (await import("openai/version")).VERSION;

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

const sdkCall = (client) => () => client.events.create(payload);
const openaiCall = (client) => () => client.post("/events", { body: payload });

/**
 * Median over rounds of the mean per-call time (µs) of each caller. The callers take turns within every
 * round, in an order rotated from round to round, so drift of the shared machine hits them alike.
 */
async function compare(callers, { rounds = ROUNDS, calls = CALLS } = {}) {
  const names = Object.keys(callers);
  for (const name of names) for (let i = 0; i < calls; i++) await callers[name]();
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length];
      const call = callers[name];
      const started = performance.now();
      for (let i = 0; i < calls; i++) await call();
      samples[name].push(((performance.now() - started) * 1000) / calls);
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const us = Object.fromEntries(names.map((name) => [name, median(samples[name])]));
  const out = { raw_us_per_call: round2(us.raw), sdk_us_per_call: round2(us.sdk) };
  if (us.openai !== undefined) out.openai_node_us_per_call = round2(us.openai);
  out.overhead_us_per_call = round2(us.sdk - us.raw);
  out.ratio = round3(us.sdk / us.raw);
  if (us.openai !== undefined) {
    out.openai_node_ratio = round3(us.openai / us.raw);
    out.sdk_vs_openai_node = round3(us.sdk / us.openai);
  }
  return out;
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
  openai_node: openaiVersion,
  rounds: ROUNDS,
  calls_per_round: CALLS,
  target_ratio: TARGET_RATIO_RAW,
  target_vs_openai_node: TARGET_RATIO_OPENAI,
};
try {
  const client = new TriggersClient({ apiKey: "tk_bench", baseURL: localURL, logger: null });
  const openai = new OpenAI({ apiKey: "tk_bench", baseURL: localURL });
  results.in_process_http = await compare({
    raw: rawCall(localURL, "tk_bench"),
    sdk: sdkCall(client),
    openai: openaiCall(openai),
  });

  const mockFetch = async () => new Response(stored, { status: 201, headers: { "content-type": "application/json" } });
  const mockClient = new TriggersClient({ apiKey: "tk_bench", baseURL: localURL, fetch: mockFetch, logger: null });
  const mockOpenAI = new OpenAI({ apiKey: "tk_bench", baseURL: localURL, fetch: mockFetch });
  results.no_network = await compare({
    raw: rawCall(localURL, "tk_bench", mockFetch),
    sdk: sdkCall(mockClient),
    openai: openaiCall(mockOpenAI),
  });

  const liveURL = process.env["TRIGGERS_BASE_URL"];
  const liveKey = process.env["TRIGGERS_API_KEY"];
  if (liveURL && liveKey) {
    // The reference server rate-limits per key: start it with a high --rate-limit-rps for this figure.
    const live = new TriggersClient({ apiKey: liveKey, baseURL: liveURL, logger: null, maxRetries: 0 });
    try {
      results.reference_server = await compare({ raw: rawCall(liveURL, liveKey), sdk: sdkCall(live) }, { rounds: 6, calls: 100 });
    } catch (error) {
      results.reference_server = { error: String(error).slice(0, 200) };
    }
  }
} finally {
  server.close();
}

results.within_target =
  results.in_process_http.ratio <= TARGET_RATIO_RAW && results.in_process_http.sdk_vs_openai_node <= TARGET_RATIO_OPENAI;
const out = join(repoRoot, "bench", "results", "typescript-sdk.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
