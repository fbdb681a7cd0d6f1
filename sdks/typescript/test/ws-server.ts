/**
 * A real local WebSocket server (the `ws` package) speaking enough of `triggers.v1` (asyncapi.yaml) to test the
 * SDK's client: header or hello authentication, welcome, subscriptions with since/types, resets, a push inbox
 * with acked/nacked/extended, pings, and hooks to drop connections or misbehave on purpose.
 */
import type { AddressInfo } from "node:net";

import { WebSocketServer, type WebSocket } from "ws";

import type { Cancel, Clock } from "../src/core/clock.js";

export const KEY = "tk_ws_test";

export interface StoredEvent {
  id: string;
  type: string;
  sequence: number;
  [member: string]: unknown;
}

export interface Connection {
  socket: WebSocket;
  authorization: string | undefined;
  url: string;
  protocol: string;
  received: Record<string, unknown>[];
  subscriptions: Map<string, { types: string[] | undefined; cursor: number }>;
  leases: Map<string, { maxInFlight: number; inFlight: Set<string> }>;
}

export interface ServerOptions {
  heartbeatInterval?: number;
  /** Called for every client frame before the default handling; return true to skip it. */
  onFrame?: (connection: Connection, frame: Record<string, unknown>) => boolean | void;
  /** Replay this many events before `since` again on subscribe (a sloppy server: the client must dedupe). */
  overlap?: number;
  /** Oldest retained sequence: a `since` below it gets a reset frame. */
  oldest?: number;
}

export class FakeTriggersServer {
  readonly events: StoredEvent[] = [];
  readonly connections: Connection[] = [];
  /** Receipts waiting in the inbox (not leased), oldest first. */
  readonly inbox: { receipt: string; event: StoredEvent; deliveries: number }[] = [];
  readonly acked: string[] = [];
  readonly nacked: { receipt: string; delay: number | undefined }[] = [];
  readonly extended: { receipt: string; seconds: number }[] = [];
  readonly #wss: WebSocketServer;
  readonly #options: ServerOptions;
  #receipts = 0;
  readonly #leased = new Map<string, { receipt: string; event: StoredEvent; deliveries: number }>();

  private constructor(wss: WebSocketServer, options: ServerOptions) {
    this.#wss = wss;
    this.#options = options;
    wss.on("connection", (socket, request) => this.#accept(socket, request.headers.authorization, request.url ?? "", socket.protocol));
  }

  static async start(options: ServerOptions = {}): Promise<FakeTriggersServer> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/v1/events/ws" });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    return new FakeTriggersServer(wss, options);
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.#wss.address() as AddressInfo).port}/v1`;
  }

  get open(): Connection[] {
    return this.connections.filter((connection) => connection.socket.readyState === 1);
  }

  async stop(): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  /** Store an event and send it to every live subscription it matches. */
  publish(type: string): StoredEvent {
    const sequence = this.events.length + 1;
    const event: StoredEvent = { id: `evt_${sequence}`, type, sequence };
    this.events.push(event);
    for (const connection of this.open) {
      for (const [id, subscription] of connection.subscriptions) this.#deliver(connection, id, subscription, event);
    }
    return event;
  }

  /** Put an event in the inbox and push it to a lease with room. */
  enqueue(type: string): StoredEvent {
    const event = this.publish(type);
    this.inbox.push({ receipt: `rcpt_${++this.#receipts}`, event, deliveries: 0 });
    this.#pump();
    return event;
  }

  /** Drop every connection without a close frame (the network went away). */
  dropAll(): void {
    for (const connection of this.open) connection.socket.terminate();
  }

  send(connection: Connection, frame: Record<string, unknown>): void {
    connection.socket.send(JSON.stringify(frame));
  }

  #accept(socket: WebSocket, authorization: string | undefined, url: string, protocol: string): void {
    const connection: Connection = {
      socket,
      authorization,
      url,
      protocol,
      received: [],
      subscriptions: new Map(),
      leases: new Map(),
    };
    this.connections.push(connection);
    let authenticated = false;
    const welcome = (): void => {
      authenticated = true;
      this.send(connection, {
        type: "welcome",
        connection_id: `wsc_${this.connections.length}`,
        account_id: "acc_1",
        scopes: ["admin"],
        heartbeat_interval: this.#options.heartbeatInterval ?? 3600,
        max_frame_bytes: 1048576,
        send_queue_limit: 256,
      });
    };
    const refuse = (): void => {
      this.send(connection, {
        type: "error",
        id: null,
        problem: { type: "https://triggers.dev/problems/unauthenticated", title: "Unauthenticated", status: 401, detail: "unknown API key" },
      });
      socket.close(4401, "unauthenticated");
    };
    if (authorization !== undefined) {
      if (authorization === `Bearer ${KEY}`) welcome();
      else {
        refuse();
        return;
      }
    }
    socket.on("message", (data, isBinary) => {
      if (isBinary) return;
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      connection.received.push(frame);
      if (this.#options.onFrame?.(connection, frame) === true) return;
      if (!authenticated) {
        if (frame["type"] === "hello" && frame["api_key"] === KEY) welcome();
        else refuse();
        return;
      }
      this.#handle(connection, frame);
    });
  }

  #handle(connection: Connection, frame: Record<string, unknown>): void {
    const id = String(frame["id"] ?? "");
    const receipts = (frame["receipts"] as string[] | undefined) ?? [];
    const results = (): { receipt: string; status: string }[] => receipts.map((receipt) => ({ receipt, status: "ok" }));
    switch (frame["type"]) {
      case "ping":
        this.send(connection, frame["id"] === undefined ? { type: "pong" } : { type: "pong", id: frame["id"] });
        return;
      case "subscribe": {
        const since = frame["since"] === undefined ? this.events.length : Number(frame["since"]);
        const types = frame["types"] as string[] | undefined;
        if (types?.includes("bad[")) {
          this.send(connection, {
            type: "error",
            id,
            problem: { type: "https://triggers.dev/problems/validation", title: "Invalid", status: 422, detail: "bad glob" },
          });
          return;
        }
        const subscription = { types, cursor: since };
        this.send(connection, { type: "subscribed", id, cursor: String(since) });
        let start = Math.max(0, since - (this.#options.overlap ?? 0));
        const oldest = this.#options.oldest;
        if (oldest !== undefined && since < oldest - 1) {
          this.send(connection, { type: "reset", subscription: id, reason: "cursor_expired", oldest_sequence: oldest });
          start = oldest - 1;
        }
        for (const event of this.events.slice(start)) this.#deliver(connection, id, subscription, event, true);
        connection.subscriptions.set(id, subscription);
        return;
      }
      case "unsubscribe":
        connection.subscriptions.delete(id);
        connection.leases.delete(id);
        return;
      case "lease":
        connection.leases.set(id, { maxInFlight: Number(frame["max_in_flight"] ?? 10), inFlight: new Set() });
        this.#pump();
        return;
      case "ack":
        this.acked.push(...receipts);
        this.#settled(receipts);
        this.send(connection, { type: "acked", id, results: results() });
        return;
      case "nack": {
        const delay = frame["delay"] as number | undefined;
        for (const receipt of receipts) this.nacked.push({ receipt, delay });
        this.#settled(receipts, true);
        this.send(connection, { type: "nacked", id, results: results() });
        return;
      }
      case "extend":
        for (const receipt of receipts) this.extended.push({ receipt, seconds: Number(frame["visibility_timeout"]) });
        this.send(connection, { type: "extended", id, results: results() });
        return;
      default:
        this.send(connection, {
          type: "error",
          id: frame["id"] ?? null,
          problem: { type: "https://triggers.dev/problems/malformed-request", title: "Malformed", status: 400, detail: "unknown frame type" },
        });
    }
  }

  #deliver(
    connection: Connection,
    id: string,
    subscription: { types: string[] | undefined; cursor: number },
    event: StoredEvent,
    replay = false,
  ): void {
    if (!replay && event.sequence <= subscription.cursor) return;
    const types = subscription.types;
    if (types !== undefined && !types.some((glob) => new RegExp(`^${glob.replace(/\./g, "\\.").replace(/\*/g, ".*")}$`).test(event.type))) {
      return;
    }
    subscription.cursor = Math.max(subscription.cursor, event.sequence);
    this.send(connection, { type: "event", subscription: id, cursor: String(event.sequence), event });
  }

  #settled(receipts: string[], requeue = false): void {
    for (const connection of this.connections) {
      for (const lease of connection.leases.values()) {
        for (const receipt of receipts) lease.inFlight.delete(receipt);
      }
    }
    for (const receipt of receipts) {
      const entry = this.#leased.get(receipt);
      this.#leased.delete(receipt);
      // A nacked event is visible again, under a new receipt.
      if (requeue && entry !== undefined) this.inbox.push({ ...entry, receipt: `rcpt_${++this.#receipts}` });
    }
    this.#pump();
  }

  /** Hand inbox entries to leases with room, on open connections. */
  #pump(): void {
    for (const connection of this.open) {
      for (const [id, lease] of connection.leases) {
        while (lease.inFlight.size < lease.maxInFlight && this.inbox.length > 0) {
          const entry = this.inbox.shift()!;
          entry.deliveries += 1;
          lease.inFlight.add(entry.receipt);
          this.#leased.set(entry.receipt, entry);
          this.send(connection, { type: "message", lease: id, receipt: entry.receipt, delivery_count: entry.deliveries, event: entry.event });
        }
      }
    }
  }
}

/**
 * Wall-clock timers sped up `scale` times, and sleeps (reconnect backoff) that return at once but are recorded.
 */
export class FastClock implements Clock {
  readonly sleeps: number[] = [];
  readonly #start = Date.now();
  readonly #scale: number;

  constructor(scale = 1) {
    this.#scale = scale;
  }

  now(): number {
    return this.#start + (Date.now() - this.#start) * this.#scale;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    return new Promise((resolve) => setImmediate(resolve));
  }

  schedule(ms: number, callback: () => void): Cancel {
    const timer = setTimeout(callback, ms / this.#scale);
    return () => clearTimeout(timer);
  }
}
