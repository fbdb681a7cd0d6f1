/**
 * The hand-written HTTP core every generated resource calls: configuration, headers, the retry loop
 * (docs/runtime-policy.md), idempotency keys, error mapping and debug logging. Resources only describe
 * requests (`RequestSpec`); this module decides how and how often to send them.
 */
import { randomUUID } from "node:crypto";

import { APIPromise, type WithResponse } from "./api-promise.js";
import { systemClock, type Clock } from "./clock.js";
import {
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  ENV_API_KEY,
  ENV_BASE_URL,
  HEADERS,
  RETRY_BUDGET_MS,
  SDK_VERSION,
} from "./constants.js";
import { findDrift, type ShapeRegistry } from "./drift.js";
import type { WebSocketTransport } from "./websocket.js";
import {
  APIConnectionError,
  APIResponseValidationError,
  APITimeoutError,
  TriggersError,
  makeStatusError,
  APIError,
  type APIStatusError,
  type RequestInfo,
} from "./errors.js";
import { redactHeaders, redactValue, resolveLogger, type Logger } from "./logger.js";
import { CursorPage, PagePromise, type PageBody } from "./pagination.js";
import {
  backoffDelay,
  isRepeatable,
  isRetryableStatus,
  parseRetryAfter,
  shouldRetryHeader,
  withinRetryAfterCap,
} from "./retry.js";

/** The subset of `fetch` the SDK needs; pass your own to add a proxy, tracing or a mock. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Defaults to `process.env.TRIGGERS_API_KEY`; required. */
  apiKey?: string | undefined;
  /** Defaults to `process.env.TRIGGERS_BASE_URL`, else `http://127.0.0.1:8080/v1`. */
  baseURL?: string | undefined;
  /** Per-attempt timeout in milliseconds (default 30 000). */
  timeout?: number | undefined;
  /** Retries after the first attempt (default 3). 0 disables retries. */
  maxRetries?: number | undefined;
  /** Total time in milliseconds that one call may spend across attempts, sleeps included (default 60 000). */
  retryBudget?: number | undefined;
  /** Headers added to every request. */
  defaultHeaders?: Record<string, string> | undefined;
  fetch?: Fetch | undefined;
  /** Debug sink; defaults to stderr when `TRIGGERS_LOG=debug`. Pass `null` to silence even then. */
  logger?: Logger | null | undefined;
  /** Time source for sleeps, timeouts and Retry-After dates (tests pass a fake). */
  clock?: Clock | undefined;
  /** Random source in [0, 1) for backoff jitter (tests pass a constant). */
  random?: (() => number) | undefined;
  /**
   * Fail with APIResponseValidationError when a response has fields, enum values or variants the contract
   * does not know (default false: they are kept, so a newer server never breaks this SDK). For tests.
   */
  strict?: boolean | undefined;
  /**
   * How `events.subscribe()` and `inbox.stream()` open WebSockets (default: the `ws` package on Node, with the key
   * in the upgrade's Authorization header; the browser's WebSocket, with the key in a first `hello` frame).
   */
  webSocket?: WebSocketTransport | undefined;
}

/** Options accepted by every API method as its last argument. */
export interface RequestOptions {
  /** Per-attempt timeout in milliseconds for this call. */
  timeout?: number | undefined;
  /** Extra headers for this call; `null` removes a default header. */
  headers?: Record<string, string | null | undefined> | undefined;
  /** Extra query parameters for this call (e.g. one the contract added after this SDK was generated). */
  query?: Record<string, QueryValue> | undefined;
  /** The Idempotency-Key for a POST (default: a fresh UUID4, reused on every retry of the call). */
  idempotencyKey?: string | undefined;
  /** Aborts the call, including any retry sleep in progress. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
}

export type HTTPMethod = "get" | "post" | "put" | "patch" | "delete";
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** A request as a resource method describes it: path already filled in, names already on the wire. */
export interface RequestSpec {
  method: HTTPMethod;
  path: string;
  query?: Record<string, QueryValue> | undefined;
  body?: unknown;
  /** Content type of `body` (default `application/json`). */
  contentType?: string | undefined;
  /** Header parameters of the operation. */
  headers?: Record<string, string | undefined> | undefined;
  /** Accept header (default `application/json`, or `text/plain` for text responses). */
  accept?: string | undefined;
  /** How to decode a 2xx body (default `json`). */
  responseType?: "json" | "text" | undefined;
  /** The contract schema of the decoded body (of each item, for streams), checked by strict clients. */
  schema?: string | undefined;
}

/** One attempt's outcome on the wire: the response with the body left unread (streams) or read as text. */
export interface AttemptResult {
  response: Response;
  text: string | null;
}

export interface CallContext {
  request: RequestInfo;
  idempotencyKey: string | null;
}

class AttemptTimeout extends Error {}

const BARE_URL_CACHE_SIZE = 256;
const RETRY_COUNT_HEADER = HEADERS.retryCount.toLowerCase();
const IDEMPOTENCY_KEY_HEADER = HEADERS.idempotencyKey.toLowerCase();

export class CoreClient {
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly retryBudget: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger | null;
  readonly strict: boolean;
  /** @internal */
  readonly webSocketTransport: WebSocketTransport | undefined;
  readonly #shapes: ShapeRegistry;
  readonly #fetch: Fetch;
  /** User-Agent, SDK header and the caller's `defaultHeaders`, lower-cased and checked once. */
  readonly #fixedHeaders: Record<string, string>;
  /** Resolved URLs of query-less paths (bounded; most calls repeat a handful of paths). */
  readonly #bareURLs = new Map<string, string>();
  // Private so that logging or inspecting a client object never prints the key.
  readonly #authorization: string;

  /** `shapes` describes the contract for strict mode; the generated TriggersClient passes them. */
  constructor(options: ClientOptions = {}, shapes: ShapeRegistry = {}) {
    const apiKey = options.apiKey ?? process.env[ENV_API_KEY];
    if (!apiKey) {
      throw new TriggersError(
        `No API key: pass { apiKey } to the client or set the ${ENV_API_KEY} environment variable.`,
      );
    }
    this.baseURL = (options.baseURL ?? process.env[ENV_BASE_URL] ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.timeout = nonNegative("timeout", options.timeout ?? DEFAULT_TIMEOUT_MS);
    this.maxRetries = nonNegative("maxRetries", options.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.retryBudget = nonNegative("retryBudget", options.retryBudget ?? RETRY_BUDGET_MS);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = resolveLogger(options.logger, process.env);
    this.strict = options.strict ?? false;
    this.webSocketTransport = options.webSocket;
    this.#shapes = shapes;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#fixedHeaders = Object.fromEntries(
      new Headers({
        "User-Agent": `zapier-triggers-typescript/${SDK_VERSION}`,
        [HEADERS.sdk]: `typescript/${SDK_VERSION}`,
        ...options.defaultHeaders,
      }),
    );
    this.#authorization = `Bearer ${apiKey}`;
  }

  /**
   * @internal
   * What a WebSocket upgrade to `path` needs: the ws(s) URL, the headers of every request (Authorization
   * included) for runtimes that can send them, and the key alone for a `hello` frame where they cannot.
   */
  webSocketTarget(path: string): { url: string; headers: Record<string, string>; apiKey: string } {
    const url = new URL(this.baseURL + path);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return {
      url: url.toString(),
      headers: { ...this.#fixedHeaders, authorization: this.#authorization },
      apiKey: this.#authorization.slice("Bearer ".length),
    };
  }

  /**
   * @internal
   * In strict mode, fail when a decoded WebSocket frame member departs from the contract schema `schema`.
   */
  checkFrame(data: unknown, schema: string, url: string): void {
    if (!this.strict) return;
    const drift = findDrift(data, schema, this.#shapes);
    if (drift.length === 0) return;
    throw new APIResponseValidationError(
      `A WebSocket frame from ${url} does not match the contract (${schema}): ${drift.slice(0, 5).join("; ")}`,
      { request: { method: "GET", url }, drift, response: new Response(null, { status: 200 }) },
    );
  }

  /** Send a request and parse its JSON body (undefined for 204 / empty bodies). */
  request<T>(spec: RequestSpec, options: RequestOptions = {}): APIPromise<T> {
    return new APIPromise<T>(this.#call<T>(spec, options));
  }

  /** Send a list request; the result is the first page and an async iterable over every item. */
  requestPage<Item>(spec: RequestSpec, options: RequestOptions = {}): PagePromise<Item> {
    const fetchPage = (cursor: string | null): Promise<WithResponse<CursorPage<Item>>> => {
      const pageSpec = cursor === null ? spec : { ...spec, query: { ...spec.query, cursor } };
      return this.#call<PageBody<Item>>(pageSpec, options).then((result) => ({
        ...result,
        data: new CursorPage<Item>(result.data, (next) => new PagePromise<Item>(fetchPage(next))),
      }));
    };
    return new PagePromise<Item>(fetchPage(null));
  }

  async #call<T>(spec: RequestSpec, options: RequestOptions): Promise<WithResponse<T>> {
    const { response, text, context, retryCount } = await this.send(spec, options);
    const data = (
      spec.responseType === "text"
        ? (text ?? "")
        : text === null || text === ""
          ? undefined
          : parseJSON(text, response, context)
    ) as T;
    if (spec.schema !== undefined) this.checkContract(data, spec.schema, response, context);
    return {
      data,
      response,
      requestId: response.headers.get(HEADERS.requestId),
      idempotencyKey: context.idempotencyKey,
      idempotentReplayed: response.headers.get(HEADERS.idempotentReplayed)?.toLowerCase() === "true",
      retryCount,
    };
  }

  /**
   * @internal
   * The retry loop. Resolves with a 2xx response and its body text, or rejects with the last attempt's typed error.
   */
  async send(
    spec: RequestSpec,
    options: RequestOptions,
  ): Promise<AttemptResult & { context: CallContext; retryCount: number }> {
    const context = this.context(spec, options);
    const method = context.request.method;
    const idempotencyKey = context.idempotencyKey;
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const repeatable = isRepeatable(method, idempotencyKey);
    const started = this.clock.now();
    const withinBudget = (delay: number): boolean => this.clock.now() - started + delay <= this.retryBudget;

    for (let retry = 0; ; retry++) {
      let attempt: AttemptResult;
      try {
        attempt = await this.attempt(spec, options, context, retry, false);
      } catch (error) {
        if (!(error instanceof APIConnectionError)) throw error;
        const delay = backoffDelay(retry + 1, this.random);
        if (retry < maxRetries && repeatable && withinBudget(delay)) {
          this.#log("retrying after connection error", context, { retry: retry + 1, delay_ms: delay, error: error.message });
          await this.clock.sleep(delay, options.signal);
          continue;
        }
        throw error;
      }
      const { response } = attempt;
      if (response.ok) return { ...attempt, context, retryCount: retry };

      const error = this.statusError(attempt, context);
      const retryable = shouldRetryHeader(response.headers) ?? isRetryableStatus(response.status, error.type);
      if (retryable && retry < maxRetries && repeatable) {
        const requested = parseRetryAfter(response.headers, this.clock.now());
        // A Retry-After beyond the cap is not slept through: the caller gets the error (and its retryAfter) now.
        if (requested !== null && !withinRetryAfterCap(requested)) throw error;
        const delay = requested ?? backoffDelay(retry + 1, this.random);
        if (withinBudget(delay)) {
          this.#log("retrying after status", context, { retry: retry + 1, status: response.status, delay_ms: delay });
          await this.clock.sleep(delay, options.signal);
          continue;
        }
      }
      throw error;
    }
  }

  /**
   * @internal
   * One HTTP exchange under the per-attempt timeout. Non-2xx bodies are always read (they become errors);
   * 2xx bodies are read unless `stream`, in which case the caller owns the body (and cancels it through
   * `controller`) and the timeout stops at the headers.
   */
  async attempt(
    spec: RequestSpec,
    options: RequestOptions,
    context: CallContext,
    retryCount: number,
    stream: boolean,
    controller: AbortController = new AbortController(),
  ): Promise<AttemptResult> {
    const headers = this.buildHeaders(spec, options, context.idempotencyKey, retryCount);
    const body = encodeBody(spec.body);
    const userSignal = options.signal;
    if (userSignal?.aborted) throw userSignal.reason;
    const onUserAbort = (): void => controller.abort(userSignal?.reason);
    userSignal?.addEventListener("abort", onUserAbort, { once: true });
    let timedOut = false;
    const cancelTimeout = this.clock.schedule(options.timeout ?? this.timeout, () => {
      timedOut = true;
      controller.abort(new AttemptTimeout("request timed out"));
    });
    if (this.logger) {
      this.#log("request", context, {
        retry_count: retryCount,
        headers: redactHeaders(headers),
        ...(spec.body === undefined ? {} : { body: redactValue(spec.body) }),
      });
    }
    try {
      const response = await this.#fetch(context.request.url, {
        method: context.request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        // Streams follow redirects themselves (bounded, Authorization dropped across origins).
        ...(stream ? { redirect: "manual" as const } : {}),
        signal: controller.signal,
      });
      const text = stream && response.ok ? null : await response.text();
      if (this.logger) {
        this.#log("response", context, {
          status: response.status,
          headers: redactHeaders(response.headers),
          retry_count: retryCount,
        });
      }
      return { response, text };
    } catch (error) {
      if (userSignal?.aborted) throw userSignal.reason;
      const init = { request: context.request, idempotencyKey: context.idempotencyKey, cause: error };
      if (timedOut) {
        throw new APITimeoutError(`Request timed out: ${context.request.method} ${context.request.url}`, init);
      }
      throw new APIConnectionError(
        `Connection error: ${context.request.method} ${context.request.url}: ${describe(error)}`,
        init,
      );
    } finally {
      cancelTimeout();
      userSignal?.removeEventListener("abort", onUserAbort);
    }
  }

  /**
   * @internal
   * In strict mode, fail when `data` departs from the contract schema `schema`.
   */
  checkContract(data: unknown, schema: string, response: Response, context: CallContext): void {
    if (!this.strict) return;
    const drift = findDrift(data, schema, this.#shapes);
    if (drift.length === 0) return;
    throw new APIResponseValidationError(
      `Response of ${context.request.method} ${context.request.url} does not match the contract (${schema}): ${drift.slice(0, 5).join("; ")}`,
      { ...context, requestId: response.headers.get(HEADERS.requestId), drift, response },
    );
  }

  /**
   * @internal
   * What identifies one call across its attempts: method, URL and (for POSTs) the idempotency key.
   */
  context(spec: RequestSpec, options: RequestOptions): CallContext {
    const method = spec.method.toUpperCase();
    const idempotencyKey = options.idempotencyKey ?? (method === "POST" ? randomUUID() : null);
    const query = options.query === undefined ? spec.query : { ...spec.query, ...options.query };
    return { request: { method, url: this.buildURL(spec.path, query) }, idempotencyKey };
  }

  /**
   * @internal
   * The typed error for a non-2xx attempt.
   */
  statusError(attempt: AttemptResult, context: CallContext): APIStatusError {
    const { response, text } = attempt;
    const requested = parseRetryAfter(response.headers, this.clock.now());
    return makeStatusError({
      status: response.status,
      headers: response.headers,
      body: parseErrorBody(text),
      request: context.request,
      idempotencyKey: context.idempotencyKey,
      retryAfter: requested === null ? null : requested / 1000,
    });
  }

  /** @internal */
  buildURL(path: string, query: Record<string, QueryValue> | undefined): string {
    const bare = query === undefined || Object.keys(query).length === 0;
    if (bare) {
      // Parsing the same path again costs more than the rest of a call's set-up (bench/ profile).
      const known = this.#bareURLs.get(path);
      if (known !== undefined) return known;
    }
    const url = new URL(this.baseURL + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        for (const item of value) url.searchParams.append(name, String(item));
      } else {
        url.searchParams.append(name, String(value));
      }
    }
    const built = url.toString();
    if (bare) {
      if (this.#bareURLs.size >= BARE_URL_CACHE_SIZE) this.#bareURLs.clear();
      this.#bareURLs.set(path, built);
    }
    return built;
  }

  /**
   * @internal
   * The request's headers as a plain record with lower-case names: fetch copies a record faster than a
   * `Headers` object (bench/ profile). Caller-supplied names and values are still checked by `Headers` up
   * front, so a bad one fails the call at once rather than as a connection error.
   */
  buildHeaders(
    spec: RequestSpec,
    options: RequestOptions,
    idempotencyKey: string | null,
    retryCount: number,
  ): Record<string, string> {
    const headers: Record<string, string> = {
      accept: spec.accept ?? (spec.responseType === "text" ? "text/plain" : "application/json"),
      ...this.#fixedHeaders,
    };
    if (spec.body !== undefined) headers["content-type"] = spec.contentType ?? "application/json";
    if (spec.headers !== undefined) {
      for (const [name, value] of Object.entries(spec.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = value;
      }
    }
    if (options.headers !== undefined) {
      for (const [name, value] of Object.entries(options.headers)) {
        if (value === null) delete headers[name.toLowerCase()];
        else if (value !== undefined) headers[name.toLowerCase()] = value;
      }
    }
    // Caller-supplied names/values are checked here (Headers throws on invalid ones), so a bad header fails
    // at once instead of surfacing later as a retried connection error.
    if (spec.headers !== undefined || options.headers !== undefined) new Headers(headers);
    // A stream following a cross-origin redirect passes `authorization: null` to send no credentials.
    if (options.headers?.["authorization"] !== null) headers["authorization"] = this.#authorization;
    headers[RETRY_COUNT_HEADER] = String(retryCount);
    if (idempotencyKey !== null) headers[IDEMPOTENCY_KEY_HEADER] = idempotencyKey;
    return headers;
  }

  #log(message: string, context: CallContext, fields: Record<string, unknown>): void {
    this.logger?.debug(message, {
      method: context.request.method,
      url: context.request.url,
      idempotency_key: context.idempotencyKey,
      ...fields,
    });
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new TriggersError(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

function encodeBody(body: unknown): string | Uint8Array<ArrayBuffer> | undefined {
  if (body === undefined) return undefined;
  if (typeof body === "string") return body;
  // fetch's BodyInit in the DOM typings (a browser build, e.g. the console) takes only ArrayBuffer-backed views.
  if (body instanceof Uint8Array) return isArrayBufferBacked(body) ? body : new Uint8Array(body);
  return JSON.stringify(body);
}

function isArrayBufferBacked(view: Uint8Array): view is Uint8Array<ArrayBuffer> {
  return view.buffer instanceof ArrayBuffer;
}

function parseJSON(text: string, response: Response, context: CallContext): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new APIError(
      `Response of ${context.request.method} ${context.request.url} (status ${response.status}) is not valid JSON`,
      {
        request: context.request,
        idempotencyKey: context.idempotencyKey,
        requestId: response.headers.get(HEADERS.requestId),
        cause: error,
      },
    );
  }
}

function parseErrorBody(text: string | null): unknown {
  if (text === null || text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

