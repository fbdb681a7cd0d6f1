/**
 * The retry decision and delay rules of docs/runtime-policy.md ("Retries"), as pure functions so the
 * matrix can be tested without a network or a clock.
 */
import {
  HEADERS,
  INITIAL_RETRY_DELAY_MS,
  MAX_RETRY_DELAY_MS,
  PROBLEM_TYPES,
  RETRYABLE_STATUSES,
  RETRY_AFTER_CAP_MS,
  RETRY_JITTER,
} from "./constants.js";
import { problemSlug } from "./errors.js";

/** Methods that may be repeated without an idempotency key. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** Whether repeating the request cannot create a second side effect. */
export function isRepeatable(method: string, idempotencyKey: string | null): boolean {
  return SAFE_METHODS.has(method.toUpperCase()) || idempotencyKey !== null;
}

/** Whether a status (plus problem type) is one the policy retries. */
export function isRetryableStatus(status: number, problemType: string | null): boolean {
  if (status === 409) return problemSlug(problemType) === PROBLEM_TYPES.idempotencyInFlight;
  return RETRYABLE_STATUSES.has(status) || status >= 500;
}

/** `X-Should-Retry` overrides the status rule: `true` forces, `false` forbids, absent defers. */
export function shouldRetryHeader(headers: Headers): boolean | null {
  const value = headers.get(HEADERS.shouldRetry)?.trim().toLowerCase();
  if (value === "true") return true;
  if (value === "false") return false;
  return null;
}

/**
 * The delay the server asked for, in ms: `retry-after-ms`, else `Retry-After` as delta-seconds or an
 * HTTP-date. Null when absent or unparseable. Negative dates (already past) count as 0.
 */
export function parseRetryAfter(headers: Headers, nowMs: number): number | null {
  const millis = headers.get(HEADERS.retryAfterMs);
  if (millis !== null && /^\s*\d+(\.\d+)?\s*$/.test(millis)) return Number(millis);
  const value = headers.get(HEADERS.retryAfter);
  if (value === null) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/** Whether a server-requested delay may be honoured by sleeping (above the cap it is not). */
export function withinRetryAfterCap(delayMs: number): boolean {
  return delayMs >= 0 && delayMs <= RETRY_AFTER_CAP_MS;
}

/**
 * Exponential backoff with jitter for retry number `retry` (1, 2, 3, …):
 * `min(INITIAL * 2**(retry-1), MAX) * (1 - JITTER * random())`.
 */
export function backoffDelay(
  retry: number,
  random: () => number,
  initialMs: number = INITIAL_RETRY_DELAY_MS,
  maxMs: number = MAX_RETRY_DELAY_MS,
): number {
  const base = Math.min(initialMs * 2 ** (retry - 1), maxMs);
  return base * (1 - RETRY_JITTER * random());
}
