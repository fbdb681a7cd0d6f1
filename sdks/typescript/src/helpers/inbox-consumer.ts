/**
 * `client.inbox.iterate()`: a pull-inbox consumer loop over lease / ack / nack / extend, so callers write
 * `for await (const m of client.inbox.iterate()) { ...; await m.ack(); }` and get at-least-once delivery
 * with long polling and a graceful stop (leased but unprocessed messages are released, not left to time out).
 */
import type { CoreClient, RequestOptions } from "../core/client.js";
import { INBOX_CONSUME_CONCURRENCY, INBOX_LEASE_WAIT_SECONDS } from "../core/constants.js";
import { InboxStream, type InboxStreamParams } from "../core/subscription.js";
import { TriggersError } from "../core/errors.js";
import { APIResource } from "../core/resource.js";
import type { Event, Lease, ReceiptResult, ReceiptResults } from "../generated/types.js";

export interface InboxIterateParams {
  /** Messages leased per round trip (`max_events`, 1–100; server default 10). */
  batchSize?: number | undefined;
  /** Seconds each message stays invisible to other consumers (`visibility_timeout`, 1–3600; server default 30). */
  visibilityTimeout?: number | undefined;
  /** Long-poll seconds when the inbox is empty (0–20; default 20 from codegen/policy.yaml, 0 with `stopWhenEmpty`). */
  wait?: number | undefined;
  /** Only lease events whose type matches one of these globs. */
  types?: string[] | undefined;
  /** End the iteration the first time a lease comes back empty (batch jobs, tests). Default false. */
  stopWhenEmpty?: boolean | undefined;
  /** Stops the loop quietly; messages leased but not yet handed out are released. */
  signal?: AbortSignal | undefined;
}

/** The inbox operations the consumer needs; the generated `Inbox` resource provides them. */
export interface InboxOperations {
  lease(
    params: { maxEvents?: number; visibilityTimeout?: number; wait?: number; types?: string[] },
    options?: RequestOptions,
  ): PromiseLike<Lease>;
  ack(params: { receipts: string[] }, options?: RequestOptions): PromiseLike<ReceiptResults>;
  nack(params: { receipts: string[]; delay?: number }, options?: RequestOptions): PromiseLike<ReceiptResults>;
  extend(params: { receipts: string[]; visibilityTimeout: number }, options?: RequestOptions): PromiseLike<ReceiptResults>;
}

/** What settles a message: the HTTP inbox, or the WebSocket of the `inbox.stream()` it came from. */
export type MessageSettler = Pick<InboxOperations, "ack" | "nack" | "extend">;

/** One leased event and the receipt that settles it. */
export class LeasedMessage {
  readonly event: Event;
  readonly receipt: string;
  /** How many times this event has been leased, this time included. */
  readonly deliveryCount: number;
  readonly leaseId: string;
  /** When the message becomes visible to other consumers again unless acked or extended. */
  readonly leasedUntil: string;
  readonly #inbox: MessageSettler;

  constructor(inbox: MessageSettler, lease: Lease, index: number) {
    const message = lease.messages[index];
    if (message === undefined) throw new RangeError(`Lease ${lease.lease_id} has no message ${index}`);
    this.#inbox = inbox;
    this.event = message.event;
    this.receipt = message.receipt;
    this.deliveryCount = message.delivery_count;
    this.leaseId = lease.lease_id;
    this.leasedUntil = lease.leased_until;
  }

  /** Done: the event leaves the inbox. */
  async ack(options?: RequestOptions): Promise<ReceiptResult> {
    return single(await this.#inbox.ack({ receipts: [this.receipt] }, options), this.receipt);
  }

  /** Not done: make the event visible again, after `delay` seconds if given. */
  async nack(params: { delay?: number } = {}, options?: RequestOptions): Promise<ReceiptResult> {
    const body = params.delay === undefined ? { receipts: [this.receipt] } : { receipts: [this.receipt], delay: params.delay };
    return single(await this.#inbox.nack(body, options), this.receipt);
  }

  /** Need more time: keep the event invisible for `visibilityTimeout` more seconds. */
  async extend(visibilityTimeout: number, options?: RequestOptions): Promise<ReceiptResult> {
    return single(await this.#inbox.extend({ receipts: [this.receipt], visibilityTimeout }, options), this.receipt);
  }
}

export class InboxConsumer implements AsyncIterable<LeasedMessage> {
  readonly #inbox: InboxOperations;
  readonly #params: InboxIterateParams;
  readonly #options: RequestOptions;

  constructor(inbox: InboxOperations, params: InboxIterateParams = {}, options: RequestOptions = {}) {
    this.#inbox = inbox;
    this.#params = params;
    this.#options = options;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LeasedMessage, void, undefined> {
    const { signal } = this.#params;
    const leaseParams = {
      ...(this.#params.batchSize === undefined ? {} : { maxEvents: this.#params.batchSize }),
      ...(this.#params.visibilityTimeout === undefined ? {} : { visibilityTimeout: this.#params.visibilityTimeout }),
      ...(this.#params.types === undefined ? {} : { types: this.#params.types }),
      wait: this.#params.wait ?? (this.#params.stopWhenEmpty ? 0 : INBOX_LEASE_WAIT_SECONDS),
    };
    const options: RequestOptions = { ...this.#options, signal: anySignal(signal, this.#options.signal) };
    while (!signal?.aborted) {
      let lease: Lease;
      try {
        lease = await this.#inbox.lease(leaseParams, options);
      } catch (error) {
        if (signal?.aborted) return;
        throw error;
      }
      if (lease.messages.length === 0) {
        if (this.#params.stopWhenEmpty) return;
        continue;
      }
      let handedOut = 0;
      try {
        for (let index = 0; index < lease.messages.length; index++) {
          if (signal?.aborted) break;
          handedOut = index + 1;
          yield new LeasedMessage(this.#inbox, lease, index);
        }
      } finally {
        // Stopped mid-batch (break, throw or abort): release what the caller never saw, so it is
        // redelivered now instead of after the visibility timeout. Best effort: if this fails the
        // messages still come back when their lease ends, and the caller's own error is not masked.
        const unseen = lease.messages.slice(handedOut).map((message) => message.receipt);
        if (unseen.length > 0) {
          await Promise.resolve(
            this.#inbox.nack({ receipts: unseen }, { ...this.#options, signal: undefined }),
          ).catch(() => undefined);
        }
      }
    }
  }
}

export interface InboxConsumeParams extends InboxIterateParams {
  /** Messages handled at the same time (default INBOX_CONSUME_CONCURRENCY from codegen/policy.yaml, 8). */
  concurrency?: number | undefined;
  /** Seconds before a message whose handler failed becomes visible again (default 0: at once). */
  retryDelay?: number | undefined;
  /** Told about each handler failure (the message is nacked either way). */
  onError?: ((error: unknown, message: LeasedMessage) => void) | undefined;
  /**
   * `"http"` (default): lease batches with long polling. `"websocket"`: a push inbox (`inbox.stream()`) with
   * `concurrency` messages in flight, settled over the connection; `wait`, `batchSize` and `stopWhenEmpty`
   * do not apply (it runs until `signal` aborts).
   */
  transport?: "http" | "websocket" | undefined;
}

/** What a `consume()` run did. */
export interface ConsumeSummary {
  acked: number;
  nacked: number;
}

/**
 * Run `handler` over inbox messages with bounded concurrency: ack when it resolves, nack when it throws.
 * Returns once the loop stops (signal aborted, or an empty lease with `stopWhenEmpty`) and every
 * handler in flight has settled, so a shutdown never drops a message on the floor.
 */
export async function consumeInbox(
  consumer: AsyncIterable<LeasedMessage>,
  handler: (message: LeasedMessage) => unknown,
  params: InboxConsumeParams,
): Promise<ConsumeSummary> {
  const concurrency = params.concurrency ?? INBOX_CONSUME_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TriggersError(`concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  const summary: ConsumeSummary = { acked: 0, nacked: 0 };
  const inFlight = new Set<Promise<void>>();
  // Failing to ack or nack (unlike a failing handler) means the inbox is unreachable: stop and report it.
  const failures: unknown[] = [];
  const settle = async (message: LeasedMessage): Promise<void> => {
    try {
      await handler(message);
    } catch (error) {
      params.onError?.(error, message);
      await message.nack(params.retryDelay === undefined ? {} : { delay: params.retryDelay });
      summary.nacked += 1;
      return;
    }
    await message.ack();
    summary.acked += 1;
  };
  try {
    for await (const message of consumer) {
      const task: Promise<void> = settle(message)
        .catch((error: unknown) => {
          failures.push(error);
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (failures.length > 0) break;
    }
  } finally {
    // Let running handlers finish and settle their messages, however the loop ended.
    await Promise.all(inFlight);
  }
  if (failures.length > 0) throw failures[0];
  return summary;
}

/**
 * The hand-written methods of `client.inbox` (declared in codegen/config/typescript.yaml): the generated
 * `InboxResource` extends this class, so `iterate()` and `consume()` sit next to lease/ack/nack/extend.
 */
export abstract class InboxHelpers extends APIResource {
  /**
   * Consume the inbox: lease batches (long polling while empty) and yield one message at a time; settle
   * each with `message.ack()`, `message.nack({ delay })` or `message.extend(seconds)`. Unacknowledged
   * messages come back after their visibility timeout (at-least-once). Breaking out of the loop releases
   * the rest of the current batch.
   */
  iterate(this: InboxOperations, params: InboxIterateParams = {}, options?: RequestOptions): InboxConsumer {
    return new InboxConsumer(this, params, options);
  }

  /**
   * A push inbox over the WebSocket: the server sends messages while fewer than `maxInFlight` (default 10) are
   * unsettled; `message.ack()`, `nack({ delay })` and `extend(seconds)` travel over the same connection. The
   * connection reconnects with backoff and leases again; unsettled messages come back after their visibility
   * timeout (at-least-once). Breaking out of the loop releases the messages received but not handed out.
   */
  stream(this: InboxOperations & InboxHelpers, params: InboxStreamParams = {}): InboxStream {
    return new InboxStream(this._core(), this, params);
  }

  /** @internal */
  _core(): CoreClient {
    return this._client;
  }

  /**
   * Run `handler` over inbox messages, up to `concurrency` (default 8) at a time: ack when it resolves,
   * nack when it throws. Resolves once `signal` aborts (or the inbox is empty with `stopWhenEmpty`) and
   * every running handler has finished.
   */
  consume(
    this: InboxOperations & InboxHelpers,
    handler: (message: LeasedMessage) => unknown,
    params: InboxConsumeParams = {},
    options?: RequestOptions,
  ): Promise<ConsumeSummary> {
    if (params.transport === "websocket") {
      const concurrency = params.concurrency ?? INBOX_CONSUME_CONCURRENCY;
      const stream = new InboxStream(this._core(), this, {
        maxInFlight: Math.min(concurrency, 100),
        visibilityTimeout: params.visibilityTimeout,
        types: params.types,
      });
      // The signal only stops receiving: running handlers still settle over the connection, closed after them.
      const stop = (): void => void stream.stopReceiving();
      if (params.signal?.aborted) stop();
      params.signal?.addEventListener("abort", stop, { once: true });
      return consumeInbox(stream, handler, params).finally(async () => {
        params.signal?.removeEventListener("abort", stop);
        await stream.close();
      });
    }
    // Lease as many messages as can run at once, as the Python and Go consumers do.
    const batchSize = params.batchSize ?? Math.min(params.concurrency ?? INBOX_CONSUME_CONCURRENCY, 100);
    return consumeInbox(new InboxConsumer(this, { ...params, batchSize }, options), handler, params);
  }
}

function single(results: ReceiptResults, receipt: string): ReceiptResult {
  const result = results.results.find((entry) => entry.receipt === receipt) ?? results.results[0];
  if (result === undefined) throw new TriggersError(`The server returned no result for receipt ${receipt}`);
  return result;
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}
