/** The SSE parser against the shared WHATWG conformance vectors, plus chunking invariants of our own. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SSEParser } from "../../src/core/sse.js";
import { conformancePath, readJSON } from "../helpers.js";

type Entry =
  | { kind: "event"; type: string; data: string; id: string }
  | { kind: "comment"; comment: string }
  | { kind: "retry"; value: number };

interface Case {
  id: string;
  chunks?: string[];
  chunks_hex?: string[];
  expect: Entry[];
  match: "exact" | "events-only";
}

function parse(chunks: Uint8Array[]): Entry[] {
  const out: Entry[] = [];
  const parser = new SSEParser({
    onEvent: (message) => out.push({ kind: "event", type: message.type, data: message.data, id: message.id }),
    onComment: (comment) => out.push({ kind: "comment", comment }),
    onRetry: (value) => out.push({ kind: "retry", value }),
  });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return out;
}

function normalise(entries: Entry[], match: Case["match"]): Entry[] {
  return entries
    .filter((entry) => match === "exact" || entry.kind === "event")
    .map((entry) => (entry.kind === "event" ? { ...entry, type: entry.type === "" ? "message" : entry.type } : entry));
}

const vectors = conformancePath("sse/parsing-cases.json");

describe("SSE conformance vectors (../shared/conformance/sse/parsing-cases.json)", () => {
  if (vectors === null) {
    test("shared conformance vectors", { skip: "../shared/conformance/sse is absent on this machine" }, () => {});
    return;
  }
  const { cases } = readJSON<{ cases: Case[] }>(vectors);
  test("the suite is not empty", () => assert.ok(cases.length >= 36, `only ${cases.length} cases`));
  for (const vector of cases) {
    test(vector.id, () => {
      const encoder = new TextEncoder();
      const chunks = vector.chunks_hex
        ? vector.chunks_hex.map((hex) => Uint8Array.from(Buffer.from(hex, "hex")))
        : (vector.chunks ?? []).map((chunk) => encoder.encode(chunk));
      assert.deepEqual(normalise(parse(chunks), vector.match), normalise(vector.expect, vector.match));
    });
  }
});

describe("SSE parser invariants", () => {
  const stream = "retry: 3000\n\n: ping\n\nid: 1\nevent: order.created\ndata: {\"a\":\"é€😀\"}\n\r\nid: 2\r\ndata: x\r\ndata: y\r\r";

  test("any byte-level split yields the same entries as one chunk", () => {
    const bytes = new TextEncoder().encode(stream);
    const whole = parse([bytes]);
    assert.equal(whole.filter((entry) => entry.kind === "event").length, 2);
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(parse([bytes.slice(0, cut), bytes.slice(cut)]), whole, `split at byte ${cut}`);
    }
    assert.deepEqual(parse(Array.from(bytes, (byte) => Uint8Array.of(byte))), whole, "one byte per chunk");
  });

  test("an unterminated last block is discarded at end of stream", () => {
    assert.deepEqual(parse([new TextEncoder().encode("data: complete\n\ndata: partial")]), [
      { kind: "event", type: "message", data: "complete", id: "" },
    ]);
  });
});
