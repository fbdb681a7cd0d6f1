/**
 * The error taxonomy shared by the Python, TypeScript and Go SDKs (docs/runtime-policy.md, "Errors").
 * Class names match the other languages so one catch-list reads the same everywhere.
 */
import { HEADERS, PROBLEM_TYPE_BASE, PROBLEM_TYPES } from "./constants.js";

/** One entry of a problem's `errors[]`: a JSON pointer into the request and what is wrong there. */
export interface ProblemFieldError {
  pointer: string;
  detail: string;
  [extension: string]: unknown;
}

/** An `application/problem+json` body as the server sends it; unknown extension members are kept. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: ProblemFieldError[];
  [extension: string]: unknown;
}

/** The request an error belongs to (never carries headers, so no secret can leak through an error). */
export interface RequestInfo {
  method: string;
  url: string;
}

/** Base of every error this SDK raises. */
export class TriggersError extends Error {
  override name = "TriggersError";
}

export interface APIErrorInit {
  request: RequestInfo;
  requestId?: string | null | undefined;
  idempotencyKey?: string | null | undefined;
  cause?: unknown;
}

/** A failed API call: carries the request and, for POSTs, the idempotency key to retry with. */
export class APIError extends TriggersError {
  override name = "APIError";
  readonly request: RequestInfo;
  readonly requestId: string | null;
  readonly idempotencyKey: string | null;

  constructor(message: string, init: APIErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.request = init.request;
    this.requestId = init.requestId ?? null;
    this.idempotencyKey = init.idempotencyKey ?? null;
  }
}

/** A 3xx on an event stream that cannot be followed: no usable `Location`, or more than `STREAM_MAX_REDIRECTS` hops. */
export class StreamRedirectError extends APIError {
  override name = "StreamRedirectError";
  readonly status: number;
  readonly location: string | null;

  constructor(message: string, init: APIErrorInit & { status: number; location: string | null }) {
    super(message, init);
    this.status = init.status;
    this.location = init.location;
  }
}

export interface APIStatusErrorInit extends APIErrorInit {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The server answered with a non-success status; problem+json fields are lifted onto the error. */
export class APIStatusError extends APIError {
  override name = "APIStatusError";
  readonly status: number;
  readonly headers: Headers;
  /** The parsed response body (the problem object, or raw text when it was not JSON). */
  readonly body: unknown;
  readonly type: string | null;
  readonly title: string | null;
  readonly detail: string | null;
  readonly instance: string | null;
  readonly errors: ProblemFieldError[];

  constructor(message: string, init: APIStatusErrorInit) {
    const problem = asProblem(init.body);
    super(message, {
      ...init,
      requestId: problem?.request_id ?? init.requestId ?? init.headers.get(HEADERS.requestId),
    });
    this.status = init.status;
    this.headers = init.headers;
    this.body = init.body;
    this.type = problem?.type ?? null;
    this.title = problem?.title ?? null;
    this.detail = problem?.detail ?? null;
    this.instance = problem?.instance ?? null;
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
  }

  /** The same as `status`, under the name the runtime policy gives it in every SDK (`status_code`). */
  get statusCode(): number {
    return this.status;
  }

  /** The problem object when the body was one, for extension members such as `violated_policies`. */
  get problem(): Problem | null {
    return asProblem(this.body);
  }
}

export class BadRequestError extends APIStatusError {
  override name = "BadRequestError";
}
export class AuthenticationError extends APIStatusError {
  override name = "AuthenticationError";
}
export class PermissionDeniedError extends APIStatusError {
  override name = "PermissionDeniedError";
}
export class NotFoundError extends APIStatusError {
  override name = "NotFoundError";
}
export class ConflictError extends APIStatusError {
  override name = "ConflictError";
}
/** 409: a request with the same Idempotency-Key is still executing; safe to retry unchanged. */
export class IdempotencyInProgressError extends ConflictError {
  override name = "IdempotencyInProgressError";
}
export class UnprocessableEntityError extends APIStatusError {
  override name = "UnprocessableEntityError";
}
/** 422: the Idempotency-Key was already used with a different request body. */
export class IdempotencyKeyReusedError extends UnprocessableEntityError {
  override name = "IdempotencyKeyReusedError";
}
/** 422: the event `data` failed its registered schema; `errors[].pointer` says where. */
export class SchemaValidationError extends UnprocessableEntityError {
  override name = "SchemaValidationError";
}

export interface RateLimitErrorInit extends APIStatusErrorInit {
  retryAfter: number | null;
}

/** 429. `retryAfter` is how long the server asked us to wait, in seconds (null when it did not say). */
export class RateLimitError extends APIStatusError {
  override name = "RateLimitError";
  readonly retryAfter: number | null;

  constructor(message: string, init: RateLimitErrorInit) {
    super(message, init);
    this.retryAfter = init.retryAfter;
  }
}
export class InternalServerError extends APIStatusError {
  override name = "InternalServerError";
}

/** The response did not match the contract (raised only by clients built with `strict: true`). */
export class APIResponseValidationError extends APIError {
  override name = "APIResponseValidationError";
  /** Each departure from the contract, as `path: problem`. */
  readonly drift: string[];
  readonly response: Response;

  constructor(message: string, init: APIErrorInit & { drift: string[]; response: Response }) {
    super(message, init);
    this.drift = init.drift;
    this.response = init.response;
  }
}

/** No response arrived (DNS, refused connection, reset, aborted body). The request may have reached the server. */
export class APIConnectionError extends APIError {
  override name = "APIConnectionError";
}
/** The per-attempt timeout expired before a response (or the whole body) arrived. */
export class APITimeoutError extends APIConnectionError {
  override name = "APITimeoutError";
}

/** A webhook's signature, timestamp or headers did not verify. */
export class WebhookVerificationError extends TriggersError {
  override name = "WebhookVerificationError";
}

function asProblem(body: unknown): Problem | null {
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Problem) : null;
}

/** The slug of a problem type URI (`https://triggers.dev/problems/rate-limited` → `rate-limited`). */
export function problemSlug(type: string | null | undefined): string | null {
  if (!type) return null;
  return type.startsWith(PROBLEM_TYPE_BASE) ? type.slice(PROBLEM_TYPE_BASE.length) : null;
}

/** Build the most specific error class for a status and problem body. */
export function makeStatusError(init: APIStatusErrorInit & { retryAfter?: number | null }): APIStatusError {
  const problem = asProblem(init.body);
  const slug = problemSlug(problem?.type);
  const summary = problem?.detail ?? problem?.title ?? (typeof init.body === "string" && init.body ? init.body : null);
  const message = `${init.status} ${init.request.method} ${init.request.url}${summary ? `: ${summary}` : ""}`;
  const status = init.status;
  if (status === 400) return new BadRequestError(message, init);
  if (status === 401) return new AuthenticationError(message, init);
  if (status === 403) return new PermissionDeniedError(message, init);
  if (status === 404) return new NotFoundError(message, init);
  if (status === 409) {
    return slug === PROBLEM_TYPES.idempotencyInFlight
      ? new IdempotencyInProgressError(message, init)
      : new ConflictError(message, init);
  }
  if (status === 422) {
    if (slug === PROBLEM_TYPES.idempotencyKeyReuse) return new IdempotencyKeyReusedError(message, init);
    if (slug === PROBLEM_TYPES.schemaValidation) return new SchemaValidationError(message, init);
    return new UnprocessableEntityError(message, init);
  }
  if (status === 429) return new RateLimitError(message, { ...init, retryAfter: init.retryAfter ?? null });
  if (status >= 500) return new InternalServerError(message, init);
  return new APIStatusError(message, init);
}
