/** The base of every generated resource class: holds the client core the methods send through. */
import type { CoreClient } from "./client.js";

export abstract class APIResource {
  protected readonly _client: CoreClient;

  constructor(client: CoreClient) {
    this._client = client;
  }
}

/** Encode one path parameter (event types such as `order.created` and keys may contain reserved characters). */
export function pathParam(value: string | number): string {
  return encodeURIComponent(String(value));
}
