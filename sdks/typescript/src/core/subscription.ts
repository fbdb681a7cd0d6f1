/**
 * `client.events.subscribe()` and `client.inbox.stream()` over the `triggers.v1` WebSocket (asyncapi.yaml).
 *
 * A subscription resumes after every reconnect from the last cursor it received (the `subscribed` cursor before
 * the first event), and drops any event at or below it, so the consumer sees each matching event once, in commit
 * order. A push inbox re-sends its `lease` after a reconnect; `ack`/`nack`/`extend` travel over the connection
 * and are re-sent on the next one when the answer was lost (they are idempotent), or go over HTTP once the
 * stream has ended, since receipts are the same in both.
 */
import type { CoreClient, RequestOptions } from "./client.js";
import { INBOX_STREAM_MAX_IN_FLIGHT, INBOX_STREAM_VISIBILITY_TIMEOUT_SECONDS } from "./constants.js";
import { makeStatusError, TriggersError, type Problem } from "./errors.js";
import type { StreamResetNotice } from "./stream.js";
import { FrameQueue, WebSocketSession } from "./websocket.js";
import type {
  AckFrame,
  AckedFrame,
  ExtendFrame,
  NackFrame,
  EventFrame,
  ErrorFrame,
  MessageFrame,
  ResetFrame,
  ServerFrame,
  SubscribedFrame,
  UnknownFrame,
} from "../generated/frames.js";
import type { Event, Filter, ReceiptResults } from "../generated/types.js";
import { LeasedMessage, type InboxOperations } from "../helpers/inbox-consumer.js";

export interface SubscribeParams {
  /** Event type globs (OR); none = every type. */
  types?: string[] | undefined;
  /** A filter expression (CloudEvents Subscriptions dialects), as for webhook subscriptions. */
  filter?: Filter | undefined;
  /** Start after this cursor (an event's `sequence`, e.g. a saved `lastCursor`); default: new events only. */
  since?: string | number | undefined;
  /** Stops the subscription: iteration ends by throwing the signal's reason, as `events.stream()` does. */
  signal?: AbortSignal | undefined;
  /** Called when `since` was older than retention; events then continue from the oldest retained one. */
  onReset?: ((notice: StreamResetNotice) => void) | undefined;
}

let frameIds = 0;
const nextId = (prefix: string): string => `${prefix}-${++frameIds}`;

function problemError(session: WebSocketSession, problem: Problem): Error {
  return makeStatusError({
    status: typeof problem.status === "number" ? problem.status : 400,
    headers: new Headers(),
    body: problem,
    request: { method: "GET", url: session.url },
  });
}

/** Local buffer bound when the server did not say (`welcome.send_queue_limit`). */
function highWater(session: WebSocketSession, fallback: number): number {
  const limit = session.welcome?.send_queue_limit;
  return typeof limit === "number" && limit > 0 ? limit : fallback;
}

/** Live events of one subscription, resumed across reconnects without a gap or a duplicate. */
export class EventSubscription implements AsyncIterable<Event> {
  readonly #core: CoreClient;
  readonly #params: SubscribeParams;
  readonly #session: WebSocketSession;
  readonly #queue = new FrameQueue<Event>();
  readonly #id = nextId("sub");
  /** The resume point: the cursor of the last event received (or the `subscribed` cursor before any). */
  #cursor: string | null;
  #lastSequence: number | null;
  #lastDelivered: string | null = null;
  #started = false;
  #running: Promise<void> | null = null;

  constructor(core: CoreClient, params: SubscribeParams = {}) {
    this.#core = core;
    this.#params = params;
    this.#cursor = params.since === undefined ? null : String(params.since);
    this.#lastSequence = this.#cursor !== null && /^\d+$/.test(this.#cursor) ? Number(this.#cursor) : null;
    this.#session = new WebSocketSession(
      core,
      {
        onWelcome: () => this.#subscribe(),
        onFrame: (frame) => this.#onFrame(frame),
      },
      params.signal,
    );
  }

  /** The cursor of the last event handed to the consumer; pass it as `since` to resume in a later run. */
  get lastCursor(): string | null {
    return this.#lastDelivered;
  }

  /** Stop: the connection is closed and iteration ends without an error. */
  close(): void {
    this.#session.close();
  }

  /**
   * Connect now (iteration connects on its own) and resolve once the server confirmed the subscription: events
   * created afterwards are not missed. Rejects when the subscription ended first (refused, closed, gave up).
   */
  ready(): Promise<void> {
    this.#start();
    return this.#subscribedOnce;
  }

  #resolveSubscribed: () => void = () => undefined;
  #rejectSubscribed: (error: unknown) => void = () => undefined;
  readonly #subscribedOnce = new Promise<void>((resolve, reject) => {
    this.#resolveSubscribed = resolve;
    this.#rejectSubscribed = reject;
  });

  #start(): void {
    if (this.#running !== null) return;
    this.#running = this.#session.run().then(
      () => {
        const signal = this.#params.signal;
        this.#queue.end(signal?.aborted && !this.#session.stopped ? signal.reason : undefined);
        this.#rejectSubscribed(new TriggersError("The subscription ended before the server confirmed it"));
      },
      (error: unknown) => {
        this.#queue.end(error);
        this.#rejectSubscribed(error);
      },
    );
    // Nobody may be waiting on ready(): its rejection is not an unhandled one.
    this.#subscribedOnce.catch(() => undefined);
  }

  #subscribe(): void {
    this.#session.send({
      type: "subscribe",
      id: this.#id,
      ...(this.#params.types === undefined ? {} : { types: this.#params.types }),
      ...(this.#params.filter === undefined ? {} : { filter: this.#params.filter }),
      ...(this.#cursor === null ? {} : { since: this.#cursor }),
    });
  }

  #onFrame(frame: ServerFrame | UnknownFrame): void {
    switch (frame.type) {
      case "subscribed": {
        const subscribed = frame as SubscribedFrame;
        if (subscribed.id !== this.#id) return;
        if (this.#cursor === null) this.#cursor = subscribed.cursor;
        this.#resolveSubscribed();
        return;
      }
      case "event": {
        const event = frame as EventFrame;
        if (event.subscription !== this.#id) return;
        const sequence = Number(event.cursor);
        if (this.#lastSequence !== null && sequence <= this.#lastSequence) return;
        this.#core.checkFrame(event.event, "Event", this.#session.url);
        this.#lastSequence = sequence;
        this.#cursor = event.cursor;
        this.#queue.push(event.event);
        if (this.#queue.length >= highWater(this.#session, 1000)) this.#session.setPaused(true);
        return;
      }
      case "reset": {
        const reset = frame as ResetFrame;
        if (reset.subscription !== this.#id) return;
        this.#params.onReset?.({
          reason: reset.reason,
          oldestSequence: typeof reset.oldest_sequence === "number" ? reset.oldest_sequence : null,
          data: reset as unknown as Record<string, unknown>,
        });
        this.#core.logger?.debug("subscription reset", { subscription: this.#id, oldest_sequence: reset.oldest_sequence });
        return;
      }
      case "error": {
        const error = frame as ErrorFrame;
        if (error.id !== this.#id) return;
        // A refused subscribe (bad filter, missing scope) cannot succeed by reconnecting.
        const refused = problemError(this.#session, error.problem);
        this.#queue.end(refused);
        this.#rejectSubscribed(refused);
        this.#session.close();
        return;
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Event> {
    if (this.#started) throw new TypeError("An EventSubscription can be iterated only once");
    this.#started = true;
    this.#start();
    const next = async (): Promise<IteratorResult<Event, undefined>> => {
      const result = await this.#queue.next();
      if (this.#queue.length < highWater(this.#session, 1000) / 2) this.#session.setPaused(false);
      if (!result.done) this.#lastDelivered = String(result.value.sequence);
      return result;
    };
    return {
      next,
      return: async () => {
        this.#session.close();
        await this.#running;
        return { done: true, value: undefined };
      },
    };
  }
}

export interface InboxStreamParams {
  /** Most unacknowledged messages at a time (1–100; default INBOX_STREAM_MAX_IN_FLIGHT, 10). */
  maxInFlight?: number | undefined;
  /** Seconds each message stays leased unless settled (1–3600; default 30). */
  visibilityTimeout?: number | undefined;
  /** Only lease events whose type matches one of these globs. */
  types?: string[] | undefined;
  /** Stops the stream quietly; messages received but not handed out are released. */
  signal?: AbortSignal | undefined;
}

interface Pending {
  frame: AckFrame | NackFrame | ExtendFrame;
  resolve: (results: ReceiptResults) => void;
  reject: (error: unknown) => void;
}

/**
 * A push inbox: messages arrive as the server leases them (at most `maxInFlight` unsettled at a time) and are
 * settled over the same connection. Each item is a {@link LeasedMessage}, as from `inbox.iterate()`.
 */
export class InboxStream implements AsyncIterable<LeasedMessage> {
  readonly #core: CoreClient;
  readonly #http: InboxOperations;
  readonly #params: InboxStreamParams;
  readonly #session: WebSocketSession;
  readonly #queue = new FrameQueue<LeasedMessage>();
  readonly #id = nextId("lease");
  readonly #pending = new Map<string, Pending>();
  #stopping = false;
  #started = false;
  #running: Promise<void> | null = null;

  constructor(core: CoreClient, http: InboxOperations, params: InboxStreamParams = {}) {
    assertRange("maxInFlight", params.maxInFlight, 100);
    assertRange("visibilityTimeout", params.visibilityTimeout, 3600);
    this.#core = core;
    this.#http = http;
    this.#params = params;
    this.#session = new WebSocketSession(core, {
      onWelcome: () => this.#lease(),
      onFrame: (frame) => this.#onFrame(frame),
    });
    params.signal?.addEventListener("abort", () => void this.#stop(), { once: true });
  }

  /**
   * Stop receiving, give back what arrived but was not handed out, and close the connection. Messages already
   * handed out can still be settled afterwards (over HTTP, with the same receipts).
   */
  close(): Promise<void> {
    return this.#stop();
  }

  #start(): void {
    if (this.#running !== null) return;
    this.#running = this.#session.run().then(
      () => this.#queue.end(),
      (error: unknown) => this.#queue.end(error),
    );
    // Whatever is still waiting for an answer goes over HTTP now.
    void this.#running.finally(() => {
      for (const pending of this.#pending.values()) this.#viaHTTP(pending);
      this.#pending.clear();
    });
  }

  #lease(): void {
    if (!this.#stopping) {
      const maxInFlight = this.#params.maxInFlight ?? INBOX_STREAM_MAX_IN_FLIGHT;
      this.#session.send({
        type: "lease",
        id: this.#id,
        max_in_flight: maxInFlight,
        visibility_timeout: this.#params.visibilityTimeout ?? INBOX_STREAM_VISIBILITY_TIMEOUT_SECONDS,
        ...(this.#params.types === undefined ? {} : { types: this.#params.types }),
      });
    }
    // Requests whose answers the last connection lost: settling is idempotent, so send them again.
    for (const pending of this.#pending.values()) this.#session.send(pending.frame);
  }

  #onFrame(frame: ServerFrame | UnknownFrame): void {
    switch (frame.type) {
      case "message": {
        const message = frame as MessageFrame;
        if (message.lease !== this.#id) return;
        this.#core.checkFrame(message.event, "Event", this.#session.url);
        if (this.#stopping) {
          void this.#settle({ type: "nack", id: nextId("nack"), receipts: [message.receipt] }).catch(() => undefined);
          return;
        }
        const seconds = this.#params.visibilityTimeout ?? INBOX_STREAM_VISIBILITY_TIMEOUT_SECONDS;
        const lease = {
          lease_id: this.#id,
          leased_until: new Date(this.#core.clock.now() + seconds * 1000).toISOString(),
          messages: [{ receipt: message.receipt, delivery_count: message.delivery_count, event: message.event }],
        };
        this.#queue.push(new LeasedMessage(this.#settler, lease, 0));
        return;
      }
      case "acked":
      case "nacked":
      case "extended": {
        const answer = frame as AckedFrame;
        const pending = this.#pending.get(answer.id);
        if (pending === undefined) return;
        this.#pending.delete(answer.id);
        pending.resolve({ results: answer.results });
        return;
      }
      case "error": {
        const error = frame as ErrorFrame;
        if (error.id === undefined || error.id === null) return;
        const pending = this.#pending.get(error.id);
        if (pending !== undefined) {
          this.#pending.delete(error.id);
          pending.reject(problemError(this.#session, error.problem));
        } else if (error.id === this.#id) {
          this.#queue.end(problemError(this.#session, error.problem));
          this.#session.close();
        }
        return;
      }
    }
  }

  /** The ack/nack/extend a LeasedMessage from this stream calls. */
  readonly #settler: Pick<InboxOperations, "ack" | "nack" | "extend"> = {
    ack: (params, options) => this.#settleMessage({ type: "ack", id: nextId("ack"), receipts: params.receipts }, options),
    nack: (params, options) =>
      this.#settleMessage(
        {
          type: "nack",
          id: nextId("nack"),
          receipts: params.receipts,
          ...(params.delay === undefined ? {} : { delay: params.delay }),
        },
        options,
      ),
    extend: (params, options) =>
      this.#settleMessage(
        { type: "extend", id: nextId("extend"), receipts: params.receipts, visibility_timeout: params.visibilityTimeout },
        options,
      ),
  };

  async #settleMessage(frame: Pending["frame"], options: RequestOptions | undefined): Promise<ReceiptResults> {
    void options;
    return this.#settle(frame);
  }

  #settle(frame: Pending["frame"]): Promise<ReceiptResults> {
    return new Promise<ReceiptResults>((resolve, reject) => {
      const pending: Pending = { frame, resolve, reject };
      if (this.#running === null || this.#session.stopped) {
        this.#viaHTTP(pending);
        return;
      }
      this.#pending.set(frame.id, pending);
      // Not connected right now: sent after the next welcome (see #lease).
      this.#session.send(frame);
    });
  }

  #viaHTTP(pending: Pending): void {
    const { frame } = pending;
    const http =
      frame.type === "ack"
        ? this.#http.ack({ receipts: frame.receipts })
        : frame.type === "nack"
          ? this.#http.nack({ receipts: frame.receipts, ...(frame.delay === undefined ? {} : { delay: frame.delay }) })
          : this.#http.extend({ receipts: frame.receipts, visibilityTimeout: frame.visibility_timeout });
    Promise.resolve(http).then(pending.resolve, pending.reject);
  }

  /**
   * @internal
   * Stop receiving: unsubscribe the lease and give back what arrived but was not handed out. The connection
   * stays open, so messages already handed out still settle over it (consume() closes it once they have).
   */
  async stopReceiving(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#session.send({ type: "unsubscribe", id: this.#id });
    const unseen = this.#queue.drain().map((message) => message.receipt);
    this.#queue.end();
    if (unseen.length > 0) {
      await this.#settle({ type: "nack", id: nextId("nack"), receipts: unseen }).catch(() => undefined);
    }
  }

  async #stop(): Promise<void> {
    await this.stopReceiving();
    this.#session.close();
    await this.#running;
  }

  [Symbol.asyncIterator](): AsyncIterator<LeasedMessage> {
    if (this.#started) throw new TypeError("An InboxStream can be iterated only once");
    this.#started = true;
    this.#start();
    return {
      next: async () => {
        return this.#queue.next();
      },
      return: async () => {
        await this.#stop();
        return { done: true, value: undefined };
      },
    };
  }
}

function assertRange(name: string, value: number | undefined, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new TriggersError(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
}
