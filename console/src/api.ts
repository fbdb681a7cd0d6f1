/** The console's one way to the server: the project's TypeScript SDK, same origin, the signed-in key. */
import { APIStatusError, TriggersClient } from "@zapier-triggers/sdk";
import { createContext } from "preact";
import { useContext } from "preact/hooks";

/** The API base on the server that serves this page (the console is always same-origin with its API). */
export function apiBase(): string {
  return new URL("/v1", window.location.origin).href;
}

/** Dispatched on `window` when the API answers 401 to the signed-in key (revoked or expired): the shell signs out. */
export const UNAUTHORIZED_EVENT = "console:unauthorized";

/** `onUnauthorized` is called for every 401 response (the sign-in form's own check passes none). */
export function makeClient(apiKey: string, onUnauthorized?: () => void): TriggersClient {
  const watched =
    onUnauthorized === undefined
      ? undefined
      : async (input: string, init: RequestInit): Promise<Response> => {
          const response = await fetch(input, init);
          if (response.status === 401) onUnauthorized();
          return response;
        };
  return new TriggersClient({ apiKey, baseURL: apiBase(), logger: null, fetch: watched });
}

export const ClientContext = createContext<TriggersClient | null>(null);

export function useClient(): TriggersClient {
  const client = useContext(ClientContext);
  if (client === null) throw new Error("useClient outside a signed-in console");
  return client;
}

/** One line for the user: the problem's detail for API errors, the message otherwise. */
export function describeError(error: unknown): string {
  if (error instanceof APIStatusError) return `${error.status}: ${error.detail ?? error.title ?? error.message}`;
  return error instanceof Error ? error.message : String(error);
}
