package triggers

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
	"github.com/zapier/triggers-sdk-go/option"
)

// InboxConsumeParams configures Inbox.Consume.
type InboxConsumeParams struct {
	InboxIterateParams
	// Concurrency is how many handlers run at once (0 means constants.InboxConsumeConcurrency, 8,
	// from codegen/policy.yaml, the same default as the Python and TypeScript consumers).
	Concurrency int
	// NackDelay is how long a failed message stays invisible before redelivery (0 = at once).
	NackDelay time.Duration
	// OnSettleError is told about acks and nacks the server refused (e.g. an expired lease);
	// nil ignores them, since the message is redelivered anyway.
	OnSettleError func(msg *Message, err error)
	// Transport is InboxTransportHTTP (the default: lease batches with long polling) or
	// InboxTransportWebSocket: a push inbox (Inbox.Stream) with Concurrency messages in flight, settled over
	// the connection. BatchSize, Wait and StopWhenEmpty do not apply to the WebSocket; it runs until ctx ends.
	Transport InboxTransport
}

// InboxTransport is how Inbox.Consume receives messages.
type InboxTransport string

const (
	InboxTransportHTTP      InboxTransport = "http"
	InboxTransportWebSocket InboxTransport = "websocket"
)

// Consume leases messages and runs handler on each, up to Concurrency at a time: a nil result acks
// the message, an error nacks it. When ctx ends, Consume stops leasing, lets running handlers finish
// and settles them (graceful stop), then returns nil. A lease error stops it the same way and is
// returned.
func (s *InboxService) Consume(ctx context.Context, params InboxConsumeParams, handler func(context.Context, *Message) error, opts ...option.RequestOption) error {
	workers := params.Concurrency
	if workers <= 0 {
		workers = constants.InboxConsumeConcurrency
	}
	if params.BatchSize == 0 {
		params.BatchSize = workers
	}
	messages := s.Iterate(ctx, params.InboxIterateParams, opts...)
	if params.Transport == InboxTransportWebSocket {
		// The connection outlives ctx until the running handlers have settled over it.
		stream := s.Stream(context.WithoutCancel(ctx), InboxStreamParams{
			MaxInFlight: min(workers, 100), VisibilityTimeout: params.VisibilityTimeout, Types: params.Types,
		}, opts...)
		defer stream.Close()
		stop := context.AfterFunc(ctx, stream.stopReceiving)
		defer stop()
		messages = func(yield func(*Message, error) bool) {
			for stream.Next() {
				if !yield(stream.Current(), nil) {
					return
				}
			}
			if err := stream.Err(); err != nil {
				yield(nil, err)
			}
		}
	}
	return s.consume(ctx, params, workers, messages, handler, opts)
}

func (s *InboxService) consume(ctx context.Context, params InboxConsumeParams, workers int, messages iter.Seq2[*Message, error], handler func(context.Context, *Message) error, opts []option.RequestOption) error {
	// Settling must outlive ctx: a handler that finished during shutdown still gets its ack.
	settleCtx := context.WithoutCancel(ctx)
	slots := make(chan struct{}, workers)
	var wg sync.WaitGroup
	var leaseErr error
	for msg, err := range messages {
		if err != nil {
			leaseErr = err
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			// Not started: leave it leased; it becomes visible again when the lease ends.
			wg.Wait()
			return nil
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			var settleErr error
			if handlerErr := handler(ctx, msg); handlerErr != nil {
				settleErr = msg.Nack(settleCtx, params.NackDelay, opts...)
			} else {
				settleErr = msg.Ack(settleCtx, opts...)
			}
			if settleErr != nil && params.OnSettleError != nil {
				params.OnSettleError(msg, settleErr)
			}
		}()
	}
	wg.Wait()
	return leaseErr
}
