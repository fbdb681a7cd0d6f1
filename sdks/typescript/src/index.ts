/**
 * `@zapier-triggers/sdk`: the Triggers API client for Node 20+.
 *
 *     import { TriggersClient } from "@zapier-triggers/sdk";
 *     const client = new TriggersClient();            // TRIGGERS_API_KEY / TRIGGERS_BASE_URL
 *     const event = await client.events.create({ type: "order.created", source: "my-app", data: { order_id: "123" } });
 *
 * Webhook verification lives in `@zapier-triggers/sdk/webhooks`.
 */
export { TriggersClient } from "./generated/client.js";
export * from "./generated/resources.js";
export type * from "./generated/types.js";

export { APIPromise, type WithResponse } from "./core/api-promise.js";
export type { Cancel, Clock } from "./core/clock.js";
export type { ClientOptions, Fetch, HTTPMethod, QueryValue, RequestOptions, RequestSpec } from "./core/client.js";
export * as constants from "./core/constants.js";
export {
  APIConnectionError,
  APIError,
  APIResponseValidationError,
  APIStatusError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  SchemaValidationError,
  StreamRedirectError,
  TriggersError,
  UnprocessableEntityError,
  WebhookVerificationError,
  type RequestInfo,
} from "./core/errors.js";
export type { LogFields, Logger } from "./core/logger.js";
export { CursorPage, PagePromise } from "./core/pagination.js";
export { EventStream, type StreamMessage, type StreamOptions, type StreamResetNotice } from "./core/stream.js";
export { EventSubscription, InboxStream, type InboxStreamParams, type SubscribeParams } from "./core/subscription.js";
export { WebSocketClosedError, type WebSocketLike, type WebSocketTransport } from "./core/websocket.js";
export * as frames from "./generated/frames.js";
export {
  InboxConsumer,
  LeasedMessage,
  type ConsumeSummary,
  type InboxConsumeParams,
  type InboxIterateParams,
  type MessageSettler,
} from "./helpers/inbox-consumer.js";
export type { CloudEventInput } from "./helpers/cloud-events.js";
