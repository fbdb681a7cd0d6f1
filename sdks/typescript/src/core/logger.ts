/**
 * Debug logging that is safe to leave on: credentials never reach the sink (docs/runtime-policy.md,
 * last section). Enabled by `TRIGGERS_LOG=debug` or the `logger` client option.
 */
import { ENV_LOG, HEADERS } from "./constants.js";

export type LogFields = Record<string, unknown>;

/** Where debug records go. The default writes one JSON line per record to stderr. */
export interface Logger {
  debug(message: string, fields: LogFields): void;
}

export const REDACTED = "[REDACTED]";

const SENSITIVE_NAME = /secret|key|token|authorization|password|cookie/i;
const KEPT_NAMES: ReadonlySet<string> = new Set([HEADERS.idempotencyKey.toLowerCase()]);

/** Whether a header or field of this name must be hidden. `Idempotency-Key` is kept: it is not a secret. */
export function isSensitiveName(name: string): boolean {
  return !KEPT_NAMES.has(name.toLowerCase()) && SENSITIVE_NAME.test(name);
}

/** Headers as a plain object with sensitive values replaced. */
export function redactHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers instanceof Headers ? headers : Object.entries(headers)) {
    out[name] = isSensitiveName(name) ? REDACTED : value;
  }
  return out;
}

/** A deep copy of a JSON-like value with every sensitive-looking member replaced. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      out[name] = isSensitiveName(name) ? REDACTED : redactValue(member, depth + 1);
    }
    return out;
  }
  return value;
}

/** The default sink: JSON lines on stderr. */
export const stderrLogger: Logger = {
  debug(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: "debug", logger: "zapier-triggers", message, ...fields })}\n`);
  },
};

/** The logger a client uses: the caller's, else stderr when the environment asks for debug, else none. */
export function resolveLogger(explicit: Logger | null | undefined, env: Readonly<Record<string, string | undefined>>): Logger | null {
  if (explicit !== undefined) return explicit;
  return env[ENV_LOG]?.toLowerCase() === "debug" ? stderrLogger : null;
}
