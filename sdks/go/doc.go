// Package triggers is the Go SDK of the Triggers API: ingest events, consume the pull inbox, stream
// events live with automatic resume, manage subscriptions, deliveries, the dead-letter queue,
// replays and schemas.
//
//	client := triggers.NewClient() // TRIGGERS_API_KEY, TRIGGERS_BASE_URL
//	ev, err := client.Events.Create(ctx, triggers.EventCreateParams{Type: "order.created", Source: "my-app"})
//
// Every call retries transient failures with backoff, sends an idempotency key on POST, and returns
// typed errors to match with errors.As (see APIError). Lists are iterators (iter.Seq2) that fetch
// pages on demand; streams reconnect and resume by themselves. Configure the client or a single
// call with package option; verify webhooks with package webhooks.
package triggers
