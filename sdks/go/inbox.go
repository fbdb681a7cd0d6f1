package triggers

import (
	"context"
	"iter"
	"math"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
	"github.com/zapier/triggers-sdk-go/option"
)

// InboxIterateParams configures Inbox.Iterate.
type InboxIterateParams struct {
	// BatchSize is the most events leased per request (1–100; 0 lets the server choose).
	BatchSize int
	// VisibilityTimeout is how long a leased event stays invisible to other consumers before it is
	// redelivered unless acknowledged (whole seconds, 1 s–1 h; 0 lets the server choose).
	VisibilityTimeout time.Duration
	// Wait is the long-poll time of each lease (0–20 s). Zero means constants.InboxLeaseWait (20 s,
	// from codegen/policy.yaml), so an idle consumer does not spin; no wait with StopWhenEmpty.
	Wait time.Duration
	// Types only leases events whose type matches one of these globs.
	Types []string
	// StopWhenEmpty ends the iteration when a lease returns no events (drain mode); otherwise it
	// runs until ctx ends or the loop breaks.
	StopWhenEmpty bool
}

// Message is a leased inbox event. Settle it with Ack, Nack or Extend before LeasedUntil, or it
// becomes visible again and is redelivered (at-least-once).
type Message struct {
	InboxMessage
	LeaseID     string
	LeasedUntil time.Time
	inbox       *InboxService
	// ws is the push inbox (Inbox.Stream) the message came from: settling goes over its connection.
	ws *InboxStream
}

// Ack marks the event done; it will not be delivered again.
func (m *Message) Ack(ctx context.Context, opts ...option.RequestOption) error {
	if m.ws != nil {
		return receiptOutcome(m.ws.ack(ctx, m))
	}
	res, err := m.inbox.Ack(ctx, InboxAckParams{Receipts: []string{m.Receipt}}, opts...)
	return receiptOutcome(res, err)
}

// Nack returns the event to the inbox, visible again after delay (0 = at once).
func (m *Message) Nack(ctx context.Context, delay time.Duration, opts ...option.RequestOption) error {
	params := InboxNackParams{Receipts: []string{m.Receipt}}
	if delay > 0 {
		params.Delay = Ptr(wholeSeconds(delay))
	}
	if m.ws != nil {
		return receiptOutcome(m.ws.nack(ctx, m, params.Delay))
	}
	res, err := m.inbox.Nack(ctx, params, opts...)
	return receiptOutcome(res, err)
}

// Extend keeps the event invisible for visibilityTimeout from now (whole seconds, rounded up).
func (m *Message) Extend(ctx context.Context, visibilityTimeout time.Duration, opts ...option.RequestOption) error {
	if m.ws != nil {
		return receiptOutcome(m.ws.extend(ctx, m, wholeSeconds(visibilityTimeout)))
	}
	res, err := m.inbox.Extend(ctx, InboxExtendParams{Receipts: []string{m.Receipt}, VisibilityTimeout: wholeSeconds(visibilityTimeout)}, opts...)
	return receiptOutcome(res, err)
}

func receiptOutcome(res *ReceiptResults, err error) error {
	if err != nil {
		return err
	}
	for _, r := range res.Results {
		if r.Status != ReceiptStatusOk {
			detail := ""
			if r.Detail != nil {
				detail = *r.Detail
			}
			return &ReceiptError{Receipt: r.Receipt, Status: string(r.Status), Detail: detail}
		}
	}
	return nil
}

// Iterate leases inbox events batch after batch and yields them one by one, for a pull consumer:
//
//	for msg, err := range client.Inbox.Iterate(ctx, triggers.InboxIterateParams{BatchSize: 10}) {
//		if err != nil { return err }
//		handle(msg.Event)
//		msg.Ack(ctx)
//	}
//
// A lease error (after the usual retries) is yielded once and ends the iteration.
func (s *InboxService) Iterate(ctx context.Context, params InboxIterateParams, opts ...option.RequestOption) iter.Seq2[*Message, error] {
	lease := InboxLeaseParams{Types: params.Types}
	if params.BatchSize > 0 {
		lease.MaxEvents = Ptr(params.BatchSize)
	}
	if params.VisibilityTimeout > 0 {
		lease.VisibilityTimeout = Ptr(wholeSeconds(params.VisibilityTimeout))
	}
	wait := params.Wait
	if wait == 0 && !params.StopWhenEmpty {
		wait = constants.InboxLeaseWait
	}
	lease.Wait = Ptr(wholeSeconds(wait))
	return func(yield func(*Message, error) bool) {
		for ctx.Err() == nil {
			batch, err := s.Lease(ctx, lease, opts...)
			if err != nil {
				if ctx.Err() == nil {
					yield(nil, err)
				}
				return
			}
			if len(batch.Messages) == 0 && params.StopWhenEmpty {
				return
			}
			for _, m := range batch.Messages {
				msg := &Message{InboxMessage: m, LeaseID: batch.LeaseID, LeasedUntil: batch.LeasedUntil, inbox: s}
				if !yield(msg, nil) {
					return
				}
			}
		}
	}
}

// wholeSeconds converts a duration to the whole seconds the API takes, rounding up.
func wholeSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
