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
  STREAM_RECONNECT_DELAY_MS,
} from "./constants.js";
import { APIConnectionError, APIStatusError, TriggersError } from "./errors.js";
import { parseRetryAfter, withinRetryAfterCap } from "./retry.js";
import { SSEParser, type SSEMessage } from "./sse.js";

/** The server could not resume from our cursor (older than retention) and restarted at `oldestSequence`. */
export interface StreamResetNotice {
  reason: string;
  oldestSequence: number | null;
  /** The reset event's full payload, for fields added later. */
  data: Record<string, unknown>;
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
  #started = false;

  constructor(core: CoreClient, spec: RequestSpec, options: StreamOptions = {}) {
    this.#core = core;
    this.#spec = spec;
    this.#options = options;
    this.#lastEventId = options.lastEventId ?? null;
  }

  /** The id of the last event delivered; persist it to resume after a restart. */
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
        const context = this.#core.context(spec, this.#options);
        const connectOptions = { ...this.#options, signal: undefined, maxRetries: 0 };
        const attempt = await this.#core.attempt(spec, connectOptions, context, failures, true, controller);
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
          },
        });
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
    const headers = { ...this.#spec.headers };
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
    if (message.id !== "") {
      if (this.#lastEventId !== null && !isAfter(message.id, this.#lastEventId)) return undefined;
      this.#lastEventId = message.id;
    }
    const item = parseData(message);
    if (this.#spec.schema !== undefined) this.#core.checkContract(item, this.#spec.schema, response, context);
    return item as T;
  }
}

/** Reconnect delay for attempt `n`: `min(base * 2**(n-1), MAX) * (1 - JITTER * random())`. */
export function reconnectDelay(baseMs: number, attempt: number, random: () => number): number {
  return Math.min(baseMs * 2 ** (attempt - 1), STREAM_MAX_RECONNECT_DELAY_MS) * (1 - RETRY_JITTER * random());
}

/** Ids are monotonic integers serialised as strings; anything else only dedupes exact repeats. */
function isAfter(id: string, last: string): boolean {
  if (/^\d+$/.test(id) && /^\d+$/.test(last)) return BigInt(id) > BigInt(last);
  return id !== last;
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
