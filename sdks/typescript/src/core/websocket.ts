/**
 * The WebSocket session under `events.subscribe()` and `inbox.stream()` (asyncapi.yaml, subprotocol
 * `triggers.v1`): opens the connection (Authorization header on Node, a first `hello` frame in browsers; the
 * key never goes into the URL), waits for `welcome`, answers the server's pings, declares a silent server dead
 * after WS_DEAD_AFTER_INTERVALS heartbeat intervals, and reconnects with the stream backoff of the runtime
 * policy (docs/runtime-policy.md, "Streaming") after a lost connection or a close code the contract marks
 * reconnectable. What to (re)send after each `welcome` is the owner's business (`onWelcome`).
 */
import type { CoreClient } from "./client.js";
import {
  STREAM_MAX_RECONNECT_ATTEMPTS,
  STREAM_RECONNECT_DELAY_MS,
  WS_CONNECT_TIMEOUT_MS,
  WS_DEAD_AFTER_INTERVALS,
  WS_HEARTBEAT_INTERVAL_MS,
  WS_MAX_FRAME_BYTES,
  WS_PATH,
} from "./constants.js";
import { APIConnectionError, TriggersError, makeStatusError, type Problem } from "./errors.js";
import { reconnectDelay } from "./stream.js";
import {
  CloseCode,
  RECONNECTABLE_CLOSE_CODES,
  SUBPROTOCOL,
  type ClientFrame,
  type ServerFrame,
  type UnknownFrame,
  type WelcomeFrame,
} from "../generated/frames.js";

/** The part of a WebSocket the SDK uses; the `ws` package's class and the browser's both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: { message?: string; error?: unknown }) => void) | null;
  /** `ws` only: stop reading from the socket (TCP backpressure reaches the server) and start again. */
  pause?: () => void;
  resume?: () => void;
  /** Set by a transport when the upgrade was answered with an HTTP status instead of 101 (then it closes). */
  httpFailure?: { status: number; body: unknown } | undefined;
}

/** Opens WebSockets for the SDK; pass one as `ClientOptions.webSocket` to choose the implementation. */
export interface WebSocketTransport {
  /**
   * Whether `open` sends `headers` on the upgrade request. Browsers cannot: the SDK then authenticates with a
   * first `hello` frame instead.
   */
  readonly sendsHeaders: boolean;
  open(url: string, protocol: string, headers: Record<string, string>): WebSocketLike | Promise<WebSocketLike>;
}

const OPEN = 1;

/** A connection closed with a code the contract does not mark reconnectable, and without a problem frame. */
export class WebSocketClosedError extends APIConnectionError {
  override name = "WebSocketClosedError";
  /** The close code (1006 when the connection dropped without a close frame). */
  readonly code: number;
  readonly reason: string;

  constructor(message: string, init: { url: string; code: number; reason: string; cause?: unknown }) {
    super(message, { request: { method: "GET", url: init.url }, cause: init.cause });
    this.code = init.code;
    this.reason = init.reason;
  }
}

/** The browser's WebSocket (no headers), else the `ws` package loaded on first use (headers). */
async function defaultTransport(): Promise<WebSocketTransport> {
  const scope = globalThis as { WebSocket?: new (url: string, protocols: string[]) => WebSocketLike; document?: unknown };
  const Native = scope.WebSocket;
  if (Native !== undefined && scope.document !== undefined) {
    return { sendsHeaders: false, open: (url, protocol) => new Native(url, [protocol]) };
  }
  interface WsSocket extends WebSocketLike {
    on(event: "unexpected-response", listener: (request: unknown, response: HTTPResponse) => void): void;
    terminate(): void;
  }
  interface HTTPResponse {
    statusCode?: number;
    setEncoding(encoding: "utf8"): void;
    on(event: "data", listener: (chunk: string) => void): void;
    on(event: "end" | "error", listener: () => void): void;
  }
  type WsClass = new (
    url: string,
    protocols: string[],
    options: { headers: Record<string, string>; handshakeTimeout: number; maxPayload: number },
  ) => WsSocket;
  const loaded = (await import("ws")) as unknown as { default?: WsClass; WebSocket?: WsClass };
  const Ws = loaded.WebSocket ?? loaded.default;
  if (Ws === undefined) throw new TriggersError("The `ws` package does not export a WebSocket class");
  return {
    sendsHeaders: true,
    open: (url, protocol, headers) => {
      // maxPayload: the largest frame accepted from the server (docs/runtime-policy.md); above it ws closes with 1009.
      const socket = new Ws(url, [protocol], { headers, handshakeTimeout: WS_CONNECT_TIMEOUT_MS, maxPayload: WS_MAX_FRAME_BYTES });
      // A refused upgrade (401, 426, 503 ...) carries a problem body: keep it, so the error is typed.
      socket.on("unexpected-response", (_request, response) => {
        let text = "";
        const done = (): void => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          socket.httpFailure = { status: response.statusCode ?? 0, body };
          socket.terminate();
        };
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", done);
        response.on("error", done);
      });
      return socket;
    },
  };
}

export interface SessionHandlers {
  /** After every `welcome` (first connection and each reconnect): (re)send subscriptions, leases, requests. */
  onWelcome(welcome: WelcomeFrame): void;
  /** Every server frame other than welcome/ping/pong, in arrival order. */
  onFrame(frame: ServerFrame | UnknownFrame): void;
  /** The connection was lost; a reconnect follows unless the session stops. */
  onDisconnect?(error: unknown): void;
}

interface Outcome {
  code: number;
  reason: string;
  /** The problem of the last `error` frame without an id (the reason for a close that follows it). */
  problem: Problem | null;
  welcomed: boolean;
  cause: unknown;
  /** We declared the server dead (no frame for WS_DEAD_AFTER_INTERVALS heartbeats). */
  dead: boolean;
  /** The upgrade got an HTTP answer instead of 101. */
  http: { status: number; body: unknown } | null;
}

/**
 * One logical connection that survives reconnects. `run()` resolves when `close()` is called or the signal
 * aborts, and rejects with a typed error when the server refuses the connection for good (unknown key, missing
 * scope, protocol violation) or reconnecting failed STREAM_MAX_RECONNECT_ATTEMPTS times in a row.
 */
export class WebSocketSession {
  readonly url: string;
  readonly #core: CoreClient;
  readonly #handlers: SessionHandlers;
  readonly #closer = new AbortController();
  readonly #signal: AbortSignal | undefined;
  #socket: WebSocketLike | null = null;
  #paused = false;
  #welcome: WelcomeFrame | null = null;

  constructor(core: CoreClient, handlers: SessionHandlers, signal?: AbortSignal) {
    this.#core = core;
    this.#handlers = handlers;
    this.#signal = signal;
    this.url = core.webSocketTarget(WS_PATH).url;
  }

  /** The last `welcome` (limits of the current connection), or null before the first one. */
  get welcome(): WelcomeFrame | null {
    return this.#welcome;
  }

  get stopped(): boolean {
    return this.#closer.signal.aborted;
  }

  /** Send a frame on the open, welcomed connection; false when there is none right now (it is not queued). */
  send(frame: ClientFrame): boolean {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== OPEN || this.#welcome === null) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /** Stop reading (the owner's buffer is full) or start again; a no-op where the socket cannot pause. */
  setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    const socket = this.#socket;
    if (socket?.pause === undefined || socket.resume === undefined) return;
    this.#paused = paused;
    if (paused) socket.pause();
    else socket.resume();
  }

  close(): void {
    this.#closer.abort();
  }

  async run(): Promise<void> {
    const { clock, random } = this.#core;
    const stop = anySignal(this.#signal, this.#closer.signal);
    const transport = this.#core.webSocketTransport ?? (await defaultTransport());
    let failures = 0;
    for (;;) {
      if (stop.aborted) return;
      const outcome = await this.#connect(transport, stop);
      if (stop.aborted) return;
      // The server ended the connection normally (1000 is not reconnectable): the session is over.
      if (outcome.code === CloseCode.NORMAL && outcome.problem === null && outcome.http === null) return;
      const error = this.#failure(outcome);
      if (error.fatal) throw error.error;
      this.#handlers.onDisconnect?.(error.error);
      if (outcome.welcomed) failures = 0;
      failures += 1;
      if (failures > STREAM_MAX_RECONNECT_ATTEMPTS) throw error.error;
      const delay = reconnectDelay(STREAM_RECONNECT_DELAY_MS, failures, random);
      this.#core.logger?.debug("websocket reconnecting", {
        url: this.url,
        attempt: failures,
        delay_ms: delay,
        code: outcome.code,
        error: error.error instanceof Error ? error.error.message : String(error.error),
      });
      try {
        await clock.sleep(delay, stop);
      } catch {
        return;
      }
    }
  }

  /** Whether an ended connection is worth another one, and the error to report either way. */
  #failure(outcome: Outcome): { fatal: boolean; error: unknown } {
    const { code, reason, problem } = outcome;
    if (outcome.dead) {
      return { fatal: false, error: new WebSocketClosedError(`No frame from ${this.url} for ${WS_DEAD_AFTER_INTERVALS} heartbeat intervals`, { url: this.url, code, reason }) };
    }
    if (outcome.http !== null) {
      const { status, body } = outcome.http;
      const error = makeStatusError({ status, headers: new Headers(), body, request: { method: "GET", url: this.url } });
      return { fatal: status < 500 && status !== 408 && status !== 429, error };
    }
    // 1005/1006: no close frame at all (the network, or the server process, went away): reconnect.
    const reconnectable = RECONNECTABLE_CLOSE_CODES.has(code) || code === 1005 || code === 1006;
    if (problem !== null && !reconnectable) {
      return {
        fatal: true,
        error: makeStatusError({
          status: typeof problem.status === "number" ? problem.status : statusOfClose(code),
          headers: new Headers(),
          body: problem,
          request: { method: "GET", url: this.url },
        }),
      };
    }
    const detail = reason ? `: ${reason}` : "";
    const closed = new WebSocketClosedError(`WebSocket ${this.url} closed with ${code}${detail}`, {
      url: this.url,
      code,
      reason,
      cause: outcome.cause,
    });
    return { fatal: !reconnectable, error: closed };
  }

  /** One connection, from upgrade to close. Never rejects: how it ended is the outcome. */
  async #connect(transport: WebSocketTransport, stop: AbortSignal): Promise<Outcome> {
    const { clock } = this.#core;
    const target = this.#core.webSocketTarget(WS_PATH);
    const outcome: Outcome = { code: 1006, reason: "", problem: null, welcomed: false, cause: undefined, dead: false, http: null };
    let socket: WebSocketLike;
    try {
      socket = await transport.open(target.url, SUBPROTOCOL, transport.sendsHeaders ? target.headers : {});
    } catch (error) {
      outcome.cause = error;
      outcome.reason = error instanceof Error ? error.message : String(error);
      return outcome;
    }
    this.#socket = socket;
    this.#paused = false;
    this.#welcome = null;
    return new Promise<Outcome>((resolve) => {
      let lastHeard = clock.now();
      let cancelTimer = (): void => undefined;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        cancelTimer();
        stop.removeEventListener("abort", onStop);
        // Keep no-op close/error listeners: `ws` throws an error event nobody listens to.
        socket.onopen = socket.onmessage = null;
        socket.onclose = socket.onerror = () => undefined;
        outcome.http = socket.httpFailure ?? null;
        if (this.#socket === socket) {
          this.#socket = null;
          this.#welcome = null;
        }
        resolve(outcome);
      };
      const shut = (code: number, reason: string): void => {
        try {
          socket.close(code, reason);
        } catch {
          // Closing a socket that never opened throws in some runtimes; it is gone either way.
        }
      };
      const onStop = (): void => {
        outcome.code = CloseCode.NORMAL;
        shut(CloseCode.NORMAL, "client closed");
        finish();
      };
      stop.addEventListener("abort", onStop, { once: true });
      // Until `welcome`, the connect timeout; then the heartbeat watchdog.
      cancelTimer = clock.schedule(WS_CONNECT_TIMEOUT_MS, () => {
        outcome.reason = `no welcome within ${WS_CONNECT_TIMEOUT_MS} ms`;
        shut(CloseCode.NORMAL, "no welcome");
        finish();
      });
      const watch = (intervalMs: number): void => {
        cancelTimer = clock.schedule(intervalMs, () => {
          // A paused reader hears nothing by its own choice; that is not the server's silence.
          if (!this.#paused && clock.now() - lastHeard >= WS_DEAD_AFTER_INTERVALS * intervalMs) {
            outcome.dead = true;
            outcome.code = CloseCode.HEARTBEAT_TIMEOUT;
            shut(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat timeout");
            finish();
            return;
          }
          watch(intervalMs);
        });
      };
      socket.onopen = () => {
        if (!transport.sendsHeaders) socket.send(JSON.stringify({ type: "hello", api_key: target.apiKey }));
      };
      socket.onerror = (event) => {
        outcome.cause = event.error ?? event.message;
      };
      socket.onclose = (event) => {
        outcome.code = event.code;
        outcome.reason = event.reason;
        finish();
      };
      socket.onmessage = (event) => {
        lastHeard = clock.now();
        if (typeof event.data !== "string") return; // binary: not part of triggers.v1
        let frame: unknown;
        try {
          frame = JSON.parse(event.data);
        } catch {
          this.#core.logger?.debug("websocket frame is not JSON", { url: this.url });
          return;
        }
        if (typeof frame !== "object" || frame === null || typeof (frame as { type?: unknown }).type !== "string") return;
        const known = frame as ServerFrame | UnknownFrame;
        switch (known.type) {
          case "welcome": {
            const welcome = known as WelcomeFrame;
            outcome.welcomed = true;
            this.#welcome = welcome;
            cancelTimer();
            const seconds = welcome.heartbeat_interval;
            watch(typeof seconds === "number" && seconds > 0 ? seconds * 1000 : WS_HEARTBEAT_INTERVAL_MS);
            this.#handlers.onWelcome(welcome);
            return;
          }
          case "ping": {
            const id = (known as { id?: unknown }).id;
            if (socket.readyState === OPEN) socket.send(JSON.stringify(typeof id === "string" ? { type: "pong", id } : { type: "pong" }));
            return;
          }
          case "pong":
            return;
          case "error": {
            const id = (known as { id?: unknown }).id;
            if (id === undefined || id === null) outcome.problem = (known as { problem: Problem }).problem;
            break;
          }
        }
        this.#handlers.onFrame(known);
      };
    });
  }
}

/** The HTTP status a close code stands for, when the problem frame before it did not say. */
function statusOfClose(code: number): number {
  if (code === CloseCode.UNAUTHENTICATED) return 401;
  if (code === CloseCode.FORBIDDEN) return 403;
  if (code === CloseCode.HELLO_TIMEOUT) return 408;
  return 400;
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((signal): signal is AbortSignal => signal !== undefined));
}

/** A queue an async iterator drains: `push` from frame handlers, `next` from the consumer. */
export class FrameQueue<T> {
  readonly #items: T[] = [];
  #waiter: (() => void) | null = null;
  #ended = false;
  #error: unknown = undefined;
  #failed = false;

  get length(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#wake();
  }

  /** No more items after the buffered ones; with an error, `next` throws it once they are drained. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (error !== undefined) {
      this.#failed = true;
      this.#error = error;
    }
    this.#wake();
  }

  /** Take the buffered items out (e.g. to release them when the consumer stops). */
  drain(): T[] {
    return this.#items.splice(0, this.#items.length);
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.#items.length > 0) return { done: false, value: this.#items.shift() as T };
      if (this.#ended) {
        if (this.#failed) {
          this.#failed = false;
          throw this.#error;
        }
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }
}
