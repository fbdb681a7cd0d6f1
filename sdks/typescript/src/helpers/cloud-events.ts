/**
 * `client.events.createCloudEvent()`: ingest one CloudEvent in structured mode
 * (`application/cloudevents+json`), with the retries and Idempotency-Key of every POST. The generated
 * `events.create()` sends the native envelope; the Python and Go SDKs have the same helper.
 */
import type { APIPromise } from "../core/api-promise.js";
import type { RequestOptions } from "../core/client.js";
import { APIResource } from "../core/resource.js";
import { EventSubscription, type SubscribeParams } from "../core/subscription.js";
import type { CloudEvent, Event } from "../generated/types.js";

/** A CloudEvent to send; `specversion` defaults to "1.0". */
export type CloudEventInput = Omit<CloudEvent, "specversion"> & { specversion?: CloudEvent["specversion"] | undefined };

/** The hand-written methods of `client.events` (declared in codegen/config/typescript.yaml). */
export abstract class EventsHelpers extends APIResource {
  /**
   * Live events over the WebSocket (`GET /events/ws`, subprotocol `triggers.v1`): an async iterator that
   * reconnects with the stream backoff and resumes from the last cursor it received, so each matching event
   * arrives once, in commit order. `subscription.lastCursor` is the resume point to persist.
   *
   *     for await (const event of client.events.subscribe({ types: ["order.*"] })) { ... }
   */
  subscribe(params: SubscribeParams = {}): EventSubscription {
    return new EventSubscription(this._client, params);
  }

  /** Ingest `event`; its `id` becomes the stored event's `external_id`. */
  createCloudEvent(event: CloudEventInput, options?: RequestOptions): APIPromise<Event> {
    return this._client.request<Event>(
      {
        method: "post",
        path: "/events",
        contentType: "application/cloudevents+json",
        body: { ...event, specversion: event.specversion ?? "1.0" },
        schema: "Event",
      },
      options,
    );
  }
}
