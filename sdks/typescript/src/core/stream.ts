/**
 * A resumable Server-Sent Events stream (docs/runtime-policy.md, "Streaming"): reconnects on errors and on
 * a clean end of stream, resumes with `Last-Event-ID`, honours the server's `retry:`, backs off with
 * jitter (the counter resets after a healthy connection), detects idle connections from the heartbeat,
 * and drops events it already delivered.
 */
import type { CallContext, CoreClient, RequestOptions, RequestSpec } from "./client.js";
import {
  HEADERS,
  RETRY_JITTER,
  STREAM_IDLE_TIMEOUT_MS,
  STREAM_MAX_RECONNECT_ATTEMPTS,
  STREAM_MAX_RECONNECT_DELAY_MS,
  STREAM_MAX_REDIRECTS,
  STREAM_RECONNECT_DELAY_MS,
} from "./constants.js";
import { APIConnectionError, APIStatusError, StreamRedirectError, TriggersError } from "./errors.js";
import { parseRetryAfter, withinRetryAfterCap } from "./retry.js";
import { SSEParser, type SSEMessage } from "./sse.js";

/** The server could not resume from our cursor (older than retention) and restarted at `oldestSequence`. */
export interface StreamResetNotice {
  reason: string;
  oldestSequence: number | null;
  /** The reset event's full payload, for fields added later. */
  data: Record<string, unknown>;
}

/** One SSE message as sent, from `streamRaw()`: nothing decoded or dropped. */
export interface StreamMessage {
  /** The `event:` type ("message" when absent), e.g. "reset" or a kind this SDK does not know yet. */
  type: string;
  data: string;
  /** The last event id in effect ("" = none). */
  id: string;
  /** A `retry:` (milliseconds) the server sent since the previous message, else null. */
  retry: number | null;
}

export interface StreamOptions extends RequestOptions {
  /** Resume after this event id, e.g. one persisted from `stream.lastEventId` by a previous run. */
  lastEventId?: string | undefined;
  /** Reconnect on errors and on end of stream (default true). With false the stream ends with its connection. */
  reconnect?: boolean | undefined;
  /** Milliseconds without a byte (events or `: ping`) before the connection is considered dead (default 45 000). */
  idleTimeout?: number | undefined;
  /** Called when the server reports a reset; streaming then continues from the oldest retained event. */
  onReset?: ((notice: StreamResetNotice) => void) | undefined;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The URL a 3xx points to, or a StreamRedirectError when there is no usable `Location` or too many hops. */
function redirectTarget(context: CallContext, response: Response, hops: number): string {
  const location = response.headers.get("location")?.trim() ?? "";
  const fail = (problem: string): never => {
    throw new StreamRedirectError(`Event stream got ${response.status} with ${problem}`, {
      request: context.request,
      status: response.status,
      location: location || null,
    });
  };
  if (hops >= STREAM_MAX_REDIRECTS) fail(`more than ${STREAM_MAX_REDIRECTS} redirects`);
  if (location === "") fail("a redirect without a Location header");
  let target: URL;
  try {
    target = new URL(location, context.request.url);
  } catch {
    return fail(`a redirect to an invalid Location ${JSON.stringify(location)}`);
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    fail(`a redirect to an unusable Location ${JSON.stringify(location)}`);
  }
  return target.href;
}

/** The name of the SSE event that carries a reset notice instead of an event. */
const RESET_EVENT = "reset";

class IdleTimeout extends Error {}

/** Fatal statuses: a client error that reconnecting cannot fix. 408 and 429 are worth another try. */
function isFatal(error: APIStatusError): boolean {
  return error.status < 500 && error.status !== 408 && error.status !== 429;
}

export class EventStream<T> implements AsyncIterable<T> {
  readonly #core: CoreClient;
  readonly #spec: RequestSpec;
  readonly #options: StreamOptions;
  readonly #closer = new AbortController();
  #lastEventId: string | null;
  /** The highest `sequence` delivered: duplicates are recognised by the item's own identity. */
  #lastSequence: number | null;
  #started = false;
  readonly #raw: boolean;
  #pendingRetry: number | null = null;

  /** `mode: "raw"` yields every {@link StreamMessage} undecoded (then T must be StreamMessage). */
  constructor(core: CoreClient, spec: RequestSpec, options: StreamOptions = {}, mode: "typed" | "raw" = "typed") {
    this.#raw = mode === "raw";
    this.#core = core;
    this.#spec = spec;
    this.#options = options;
    this.#lastEventId = options.lastEventId || null;
    this.#lastSequence = /^\d+$/.test(options.lastEventId ?? "") ? Number(options.lastEventId) : null;
  }

  /** The resume point (the last event id the server set; null after an empty `id:`); persist it to resume later. */
  get lastEventId(): string | null {
    return this.#lastEventId;
  }

  /** Stop streaming: the connection is closed and iteration ends without an error. */
  close(): void {
    this.#closer.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#started) throw new TypeError("An EventStream can be iterated only once");
    this.#started = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<T, void, undefined> {
    const { clock, random } = this.#core;
    const userSignal = this.#options.signal;
    const reconnect = this.#options.reconnect ?? true;
    let failures = 0;
    let serverRetry: number | null = null;

    for (;;) {
      if (this.#closer.signal.aborted) return;
      let healthy = false;
      let requestedDelay: number | null = null;
      let endedCleanly = false;
      let lastError: unknown;
      const controller = new AbortController();
      const onUser = (): void => controller.abort(userSignal?.reason);
      const onClose = (): void => controller.abort();
      userSignal?.addEventListener("abort", onUser, { once: true });
      this.#closer.signal.addEventListener("abort", onClose, { once: true });
      try {
        const spec = this.#connectSpec();
        let context = this.#core.context(spec, this.#options);
        let connectOptions: RequestOptions = { ...this.#options, signal: undefined, maxRetries: 0 };
        let attempt = await this.#core.attempt(spec, connectOptions, context, failures, true, controller);
        for (let hops = 0; REDIRECT_STATUSES.has(attempt.response.status); hops++) {
          const target = redirectTarget(context, attempt.response, hops);
          if (new URL(target).origin !== new URL(context.request.url).origin) {
            connectOptions = { ...connectOptions, headers: { ...connectOptions.headers, authorization: null } };
          }
          context = { ...context, request: { ...context.request, url: target } };
          attempt = await this.#core.attempt(spec, connectOptions, context, failures, true, controller);
        }
        // 204 No Content: the server says there is nothing more to stream (EventSource stops too).
        if (attempt.response.status === 204) {
          await attempt.response.body?.cancel().catch(() => undefined);
          return;
        }
        if (!attempt.response.ok) {
          requestedDelay = parseRetryAfter(attempt.response.headers, clock.now());
          throw this.#core.statusError(attempt, context);
        }
        const body = attempt.response.body;
        if (body === null) throw new APIConnectionError("Stream response has no body", context);
        const queue: SSEMessage[] = [];
        const parser = new SSEParser({
          onEvent: (message) => queue.push(message),
          onComment: () => {
            healthy = true;
          },
          onRetry: (milliseconds) => {
            serverRetry = milliseconds;
            this.#pendingRetry = milliseconds;
          },
        }, this.#lastEventId ?? "");
        const reader = body.getReader();
        try {
          for (;;) {
            const chunk = await this.#readWithIdleTimeout(reader, controller, context);
            if (chunk === null) break;
            parser.feed(chunk);
            while (queue.length > 0) {
              const message = queue.shift() as SSEMessage;
              healthy = true;
              const item = this.#accept(message, attempt.response, context);
              if (item !== undefined) yield item;
            }
          }
          parser.end();
        } finally {
          reader.releaseLock();
        }
        endedCleanly = true;
        lastError = new APIConnectionError("Stream ended", context);
      } catch (error) {
        if (this.#closer.signal.aborted) return;
        if (userSignal?.aborted) throw userSignal.reason;
        // Only a lost connection or a server-side/transient status is worth reconnecting for.
        const reconnectable = error instanceof APIConnectionError || (error instanceof APIStatusError && !isFatal(error));
        if (!reconnectable) throw error;
        lastError = error;
      } finally {
        controller.abort();
        userSignal?.removeEventListener("abort", onUser);
        this.#closer.signal.removeEventListener("abort", onClose);
      }

      if (!reconnect) {
        if (endedCleanly) return;
        throw lastError;
      }
      if (healthy) failures = 0;
      failures += 1;
      if (failures > STREAM_MAX_RECONNECT_ATTEMPTS) throw lastError;
      const delay =
        requestedDelay !== null && withinRetryAfterCap(requestedDelay)
          ? requestedDelay
          : reconnectDelay(serverRetry ?? STREAM_RECONNECT_DELAY_MS, failures, random);
      this.#core.logger?.debug("stream reconnecting", {
        path: this.#spec.path,
        attempt: failures,
        delay_ms: delay,
        last_event_id: this.#lastEventId,
        error: lastError instanceof Error ? lastError.message : String(lastError),
      });
      try {
        await clock.sleep(delay, anySignal(userSignal, this.#closer.signal));
      } catch (error) {
        if (this.#closer.signal.aborted) return;
        throw error;
      }
    }
  }

  #connectSpec(): RequestSpec {
    const headers: Record<string, string | undefined> = { ...this.#spec.headers, "Cache-Control": "no-cache" };
    if (this.#lastEventId !== null) headers[HEADERS.lastEventId] = this.#lastEventId;
    return { ...this.#spec, accept: "text/event-stream", headers };
  }

  async #readWithIdleTimeout(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    controller: AbortController,
    context: CallContext,
  ): Promise<Uint8Array | null> {
    const idleTimeout = this.#options.idleTimeout ?? STREAM_IDLE_TIMEOUT_MS;
    const cancelIdle = this.#core.clock.schedule(idleTimeout, () => {
      controller.abort(new IdleTimeout(`No data for ${idleTimeout} ms`));
      void reader.cancel().catch(() => undefined);
    });
    try {
      const { done, value } = await reader.read();
      return done ? null : value;
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      const message = reason instanceof IdleTimeout ? reason.message : describe(error);
      throw new APIConnectionError(`Stream interrupted: ${message}`, { ...context, cause: error });
    } finally {
      cancelIdle();
    }
  }

  /** Decode one SSE message: a reset notice, a duplicate to drop, or an item to deliver. */
  #accept(message: SSEMessage, response: Response, context: CallContext): T | undefined {
    // Every dispatched message moves the resume point (an empty `id:` clears it, as in EventSource).
    this.#lastEventId = message.id === "" ? null : message.id;
    if (this.#raw) {
      const raw: StreamMessage = { ...message, retry: this.#pendingRetry };
      this.#pendingRetry = null;
      return raw as T;
    }
    if (message.type === RESET_EVENT) {
      const data = parseData(message) as Record<string, unknown>;
      const oldest = data["oldest_sequence"];
      this.#options.onReset?.({
        reason: typeof data["reason"] === "string" ? data["reason"] : "unknown",
        oldestSequence: typeof oldest === "number" ? oldest : null,
        data,
      });
      this.#core.logger?.debug("stream reset", { data });
      return undefined;
    }
    const item = parseData(message);
    const sequence = sequenceOf(item);
    if (sequence !== null) {
      if (this.#lastSequence !== null && sequence <= this.#lastSequence) return undefined;
      this.#lastSequence = sequence;
    }
    if (this.#spec.schema !== undefined) this.#core.checkContract(item, this.#spec.schema, response, context);
    return item as T;
  }
}

/** Reconnect delay for attempt `n`: `min(base * 2**(n-1), MAX) * (1 - JITTER * random())`. */
export function reconnectDelay(baseMs: number, attempt: number, random: () => number): number {
  return Math.min(baseMs * 2 ** (attempt - 1), STREAM_MAX_RECONNECT_DELAY_MS) * (1 - RETRY_JITTER * random());
}

/** An item's own identity: its integer `sequence` member, if it has one. */
function sequenceOf(item: unknown): number | null {
  if (typeof item !== "object" || item === null) return null;
  const sequence = (item as Record<string, unknown>)["sequence"];
  return typeof sequence === "number" && Number.isInteger(sequence) ? sequence : null;
}

function parseData(message: SSEMessage): unknown {
  try {
    return JSON.parse(message.data);
  } catch (error) {
    // Not an APIError: a corrupt event would come back on every reconnect, so it ends the stream.
    throw new TriggersError(`Stream event ${message.id || "(no id)"} of type ${message.type} is not valid JSON`, {
      cause: error,
    });
  }
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((signal): signal is AbortSignal => signal !== undefined));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
