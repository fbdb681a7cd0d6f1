/** Test doubles: a fake clock that never sleeps for real, and a scripted fetch that records requests. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { Cancel, Clock } from "../src/core/clock.js";
import type { Fetch } from "../src/core/client.js";
import { TriggersClient } from "../src/index.js";

/** Virtual time: sleeps return at once and advance `now`; scheduled callbacks fire when time passes them. */
export class FakeClock implements Clock {
  current = 1_700_000_000_000;
  readonly sleeps: number[] = [];
  #timers: { at: number; callback: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    this.advance(ms);
    return Promise.resolve();
  }

  schedule(ms: number, callback: () => void): Cancel {
    const timer = { at: this.current + ms, callback, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Move time forward, firing every scheduled callback that falls due. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.#timers.filter((timer) => !timer.cancelled && timer.at <= this.current);
    this.#timers = this.#timers.filter((timer) => !due.includes(timer));
    for (const timer of due) timer.callback();
  }
}

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
  signal: AbortSignal | null;
}

export type Reply = Response | Error | ((request: RecordedRequest) => Response | Promise<Response>);

/** A fetch that answers from a script, in order, and records what was sent. */
export class ScriptedFetch {
  readonly requests: RecordedRequest[] = [];
  readonly #replies: Reply[];

  constructor(replies: Reply[]) {
    this.#replies = [...replies];
  }

  readonly fetch: Fetch = async (input, init) => {
    const request: RecordedRequest = {
      url: input,
      method: init.method ?? "GET",
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? init.body : init.body == null ? null : "<binary>",
      signal: init.signal ?? null,
    };
    this.requests.push(request);
    const reply = this.#replies.shift();
    if (reply === undefined) throw new Error(`ScriptedFetch: no reply scripted for request #${this.requests.length}`);
    if (reply instanceof Error) throw reply;
    if (typeof reply === "function") return reply(request);
    return reply;
  };
}

/** A client answering from `replies` with a fake clock, the given jitter draw and no logging. */
export function scriptedClient(replies: Reply[], random: () => number = () => 0) {
  const server = new ScriptedFetch(replies);
  const clock = new FakeClock();
  const client = new TriggersClient({ apiKey: "tk_test", baseURL: "http://api.test/v1", fetch: server.fetch, clock, random, logger: null });
  return { client, server, clock };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function problem(status: number, slug: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return new Response(
    JSON.stringify({ type: `https://triggers.dev/problems/${slug}`, title: slug, status, detail: `${slug} happened`, ...extra }),
    { status, headers: { "content-type": "application/problem+json", ...headers } },
  );
}

/** A fetch rejection shaped like undici's network failure. */
export function networkError(): Error {
  return new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:8080") });
}

/**
 * A streaming response whose chunks are pushed by the test. Aborting the request signal errors the body,
 * as undici does.
 */
export class PushStream {
  readonly response: Response;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;

  constructor(signal: AbortSignal | null, headers: Record<string, string> = {}) {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
    });
    signal?.addEventListener("abort", () => this.error(signal.reason ?? new Error("aborted")), { once: true });
    this.response = new Response(body, { status: 200, headers: { "content-type": "text/event-stream", ...headers } });
  }

  push(text: string): void {
    if (!this.#closed) this.#controller.enqueue(new TextEncoder().encode(text));
  }

  close(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#controller.close();
    }
  }

  error(reason: unknown): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#controller.error(reason);
    }
  }
}

/** A complete SSE body as one response. */
export function sseResponse(text: string, headers: Record<string, string> = {}): Response {
  return new Response(text, { status: 200, headers: { "content-type": "text/event-stream", ...headers } });
}

/** The package root (where package.json lives), whether running from src or the compiled build/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above the test file");
    dir = parent;
  }
  return dir;
}

/** `<repo root>/../shared/conformance/<relative>`, or null when the shared vectors are not on this machine. */
export function conformancePath(relative: string): string | null {
  const path = resolve(packageRoot(), "..", "..", "..", "shared", "conformance", relative);
  return existsSync(path) ? path : null;
}

export function readJSON<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** Let pending promise callbacks run (no timers involved). */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
