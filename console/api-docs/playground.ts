/**
 * The playground panel of /docs: send any request to this server's /v1 with the console's signed-in key, keep a
 * history of what was sent (from this panel and from Scalar's "Test Request"), and share a request as a URL.
 *
 * A share link is `/docs?request=<base64url JSON {method, path, body}>`: the request only, never the key (the key
 * stays in this tab's sessionStorage, read at send time). Opening a link fills the form and sends nothing: the
 * visitor reads the request and presses Send with their own key. History lives in sessionStorage (this tab),
 * request line and body only — no headers, no key, no response bodies (a body may hold a webhook secret, a
 * response a new API key).
 */

export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type Method = (typeof METHODS)[number];

export interface PlaygroundRequest {
  method: Method;
  /** The path after `/v1`, with its query string: `/events?limit=5`. */
  path: string;
  /** The JSON body as typed ("" for none). */
  body: string;
}

export interface HistoryEntry extends PlaygroundRequest {
  /** The response status, or null when the request failed before one arrived. */
  status: number | null;
  /** Milliseconds from send to response headers, when this page measured it. */
  durationMs: number | null;
  /** ISO time the request was sent. */
  at: string;
  via: "playground" | "try-it";
}

const HISTORY_KEY = "triggers.docs.history";
const HISTORY_LIMIT = 50;
export const SHARE_PARAM = "request";
const API_PREFIX = "/v1";
const MAX_PATH = 2048;
const MAX_SHARED_BODY = 64 * 1024;

function isMethod(value: unknown): value is Method {
  return typeof value === "string" && (METHODS as readonly string[]).includes(value);
}

/** A path this page will send: relative to this server's /v1, never another origin or a path outside /v1. */
export function isApiPath(path: string, origin: string): boolean {
  if (!path.startsWith("/") || path.startsWith("//") || path.includes("\\") || path.includes("#") || path.length > MAX_PATH) {
    return false;
  }
  try {
    const url = new URL(`${API_PREFIX}${path}`, origin);
    return url.origin === origin && url.pathname.startsWith(`${API_PREFIX}/`);
  } catch {
    return false;
  }
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
}

export function encodeShared(request: PlaygroundRequest): string {
  return toBase64Url(JSON.stringify({ method: request.method, path: request.path, body: request.body }));
}

/** The request a share link holds, or null when it is malformed or points anywhere but this server's /v1. */
export function decodeShared(text: string, origin: string): PlaygroundRequest | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(text));
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const { method, path, body } = parsed as Record<string, unknown>;
  if (!isMethod(method) || typeof path !== "string" || !isApiPath(path, origin)) return null;
  if (body !== undefined && (typeof body !== "string" || body.length > MAX_SHARED_BODY)) return null;
  return { method, path, body: body ?? "" };
}

export function shareUrl(request: PlaygroundRequest, origin: string): string {
  return `${origin}/docs?${SHARE_PARAM}=${encodeShared(request)}`;
}

export function loadHistory(): HistoryEntry[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(HISTORY_KEY) ?? "[]");
    return Array.isArray(parsed) ? (parsed as HistoryEntry[]).filter((entry) => isMethod(entry.method)) : [];
  } catch {
    return [];
  }
}

export function remember(entry: HistoryEntry): HistoryEntry[] {
  const history = [entry, ...loadHistory()].slice(0, HISTORY_LIMIT);
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history));
  return history;
}

export function clearHistory(): void {
  sessionStorage.removeItem(HISTORY_KEY);
}

/** The path after /v1 of a URL on this server (for requests Scalar's try-it sent), or null for any other URL. */
export function apiPathOf(url: string, origin: string): string | null {
  const parsed = new URL(url, origin);
  if (parsed.origin !== origin || !parsed.pathname.startsWith(`${API_PREFIX}/`)) return null;
  return parsed.pathname.slice(API_PREFIX.length) + parsed.search;
}

export interface SendResult {
  status: number;
  durationMs: number;
  body: string;
  contentType: string;
}

export async function send(request: PlaygroundRequest, key: string, origin: string): Promise<SendResult> {
  if (!isApiPath(request.path, origin)) throw new Error(`not a path of this server's API: ${request.path}`);
  const headers: Record<string, string> = { Authorization: `Bearer ${key}`, Accept: "application/json" };
  const hasBody = request.body.trim() !== "" && request.method !== "GET" && request.method !== "DELETE";
  if (hasBody) {
    JSON.parse(request.body); // a typo is reported here, not sent
    headers["Content-Type"] = "application/json";
  }
  const started = performance.now();
  const response = await fetch(`${origin}${API_PREFIX}${request.path}`, {
    method: request.method,
    headers,
    ...(hasBody ? { body: request.body } : {}),
    credentials: "omit",
    redirect: "error",
  });
  const durationMs = Math.round(performance.now() - started);
  return { status: response.status, durationMs, body: await response.text(), contentType: response.headers.get("content-type") ?? "" };
}

/** A response body for reading: pretty JSON when it is JSON, else the text as it came. */
export function prettyBody(body: string, contentType: string): string {
  if (!contentType.includes("json") || body === "") return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
