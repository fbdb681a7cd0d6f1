/**
 * Standard Webhooks signing and verification (`@zapier-triggers/sdk/webhooks`): HMAC-SHA256 over
 * `{webhook-id}.{webhook-timestamp}.{raw body}`, `v1,<base64>` signatures, a ±300 s timestamp tolerance
 * and constant-time comparison. Verify against the raw request body, never a re-serialised object.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

import { WEBHOOK_TOLERANCE_SECONDS } from "./core/constants.js";
import { WebhookVerificationError } from "./core/errors.js";

export { WebhookVerificationError };

const SECRET_PREFIX = "whsec_";
const SIGNATURE_VERSION = "v1";
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Incoming headers: a fetch `Headers`, or Node's `req.headers` (any letter case). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface WebhookOptions {
  /** Accepted clock skew in seconds, both ways (default 300). */
  tolerance?: number | undefined;
  /** Current time in ms since the epoch (tests freeze it). */
  now?: (() => number) | undefined;
}

export class Webhook {
  readonly #key: Buffer;
  readonly #tolerance: number;
  readonly #now: () => number;

  /** `secret` is `whsec_<base64>` (the prefix is optional). Throws WebhookVerificationError if unusable. */
  constructor(secret: string, options: WebhookOptions = {}) {
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    if (encoded === "" || !BASE64.test(encoded)) {
      throw new WebhookVerificationError("Webhook secret must be non-empty base64, optionally prefixed with whsec_");
    }
    this.#key = Buffer.from(encoded, "base64");
    if (this.#key.length === 0) throw new WebhookVerificationError("Webhook secret decodes to no bytes");
    this.#tolerance = options.tolerance ?? WEBHOOK_TOLERANCE_SECONDS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Verify and parse a webhook: returns the JSON body. Throws WebhookVerificationError when a header is
   * missing, the timestamp is outside the tolerance, no `v1` signature matches, or the body is not JSON.
   */
  verify<T = unknown>(payload: string | Uint8Array, headers: WebhookHeaders): T {
    this.verifySignature(payload, headers);
    const text = typeof payload === "string" ? payload : Buffer.from(payload).toString("utf8");
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new WebhookVerificationError("Webhook body is signed correctly but is not JSON");
    }
  }

  /**
   * Verify a fetch-API `Request` (Next.js route handlers, Hono, Deno, Bun, Workers): reads the raw body
   * once and returns it parsed. Do not read the body before calling this.
   */
  async verifyRequest<T = unknown>(request: Request): Promise<T> {
    const payload = new Uint8Array(await request.arrayBuffer());
    return this.verify<T>(payload, request.headers);
  }

  /** Verify the signature and timestamp only (any body, including empty). */
  verifySignature(payload: string | Uint8Array, headers: WebhookHeaders): void {
    const id = header(headers, "webhook-id");
    const timestamp = header(headers, "webhook-timestamp");
    const signatures = header(headers, "webhook-signature");
    if (id === null || timestamp === null || signatures === null) {
      throw new WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header");
    }
    if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError("Invalid webhook-timestamp");
    const sentAt = Number(timestamp);
    const now = Math.floor(this.#now() / 1000);
    if (now - sentAt > this.#tolerance) throw new WebhookVerificationError("Webhook timestamp is too old");
    if (sentAt - now > this.#tolerance) throw new WebhookVerificationError("Webhook timestamp is too far in the future");

    const expected = this.#digest(id, timestamp, payload);
    for (const entry of signatures.split(" ")) {
      const comma = entry.indexOf(",");
      if (comma === -1 || entry.slice(0, comma) !== SIGNATURE_VERSION) continue;
      const candidate = entry.slice(comma + 1);
      if (!BASE64.test(candidate)) continue;
      const received = Buffer.from(candidate, "base64");
      if (received.length === expected.length && timingSafeEqual(received, expected)) return;
    }
    throw new WebhookVerificationError("No matching webhook signature");
  }

  /** The `webhook-signature` value for a message: `v1,<base64 HMAC-SHA256>`. `timestamp` is Unix seconds. */
  sign(id: string, timestamp: number | Date, payload: string | Uint8Array): string {
    const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
    if (typeof seconds !== "number" || !Number.isSafeInteger(seconds) || seconds < 0) {
      throw new WebhookVerificationError("Webhook timestamp must be a non-negative integer number of seconds");
    }
    return `${SIGNATURE_VERSION},${this.#digest(id, String(seconds), payload).toString("base64")}`;
  }

  #digest(id: string, timestamp: string, payload: string | Uint8Array): Buffer {
    return createHmac("sha256", this.#key).update(`${id}.${timestamp}.`).update(payload).digest();
  }
}

function header(headers: WebhookHeaders, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) return value[0] ?? null;
    return value ?? null;
  }
  return null;
}
