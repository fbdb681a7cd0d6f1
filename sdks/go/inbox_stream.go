package triggers

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
	"github.com/zapier/triggers-sdk-go/option"
)

// InboxStreamParams configures Inbox.Stream.
type InboxStreamParams struct {
	// MaxInFlight is the most unsettled messages at a time (1–100; 0 means constants.InboxStreamMaxInFlight, 10).
	MaxInFlight int
	// VisibilityTimeout is how long each message stays leased unless settled (whole seconds, 1 s–1 h; 0 means
	// constants.InboxStreamVisibilityTimeout, 30 s).
	VisibilityTimeout time.Duration
	// Types only leases events whose type matches one of these globs.
	Types []string
}

type wsResult struct {
	res *ReceiptResults
	err error
}

type wsRequest struct {
	frame  any
	result chan wsResult
}

// InboxStream is a push inbox over the WebSocket: the server sends messages while fewer than MaxInFlight are
// unsettled, and Message.Ack, Nack and Extend travel over the same connection. It reconnects with the stream
// backoff and leases again; a settle request whose answer a dropped connection lost is sent again on the next
// one (settling is idempotent), and one made after the stream closed goes over HTTP with the same receipt.
// Unsettled messages come back after their visibility timeout (at-least-once).
//
//	stream := client.Inbox.Stream(ctx, triggers.InboxStreamParams{MaxInFlight: 20})
//	defer stream.Close()
//	for stream.Next() {
//		msg := stream.Current()
//		handle(msg.Event)
//		msg.Ack(ctx)
//	}
//
// Next, Current and Err must be called from one goroutine; Close, and the messages' Ack/Nack/Extend, from any.
type InboxStream struct {
	ctx     context.Context
	cancel  context.CancelFunc
	inbox   *InboxService
	opts    []option.RequestOption
	params  InboxStreamParams
	session *wsSession
	id      string
	// queue holds received messages until Next takes them. It is not bounded by a channel: the reader must
	// never block, or the answers to the acks the consumer waits for could not be read (the server bounds it
	// with max_in_flight).
	queue   []*Message
	notify  chan struct{}
	done    chan struct{}
	stop    chan struct{}
	stopped sync.Once

	mu         sync.Mutex
	pending    map[string]*wsRequest
	runErr     error
	closedByUs bool
	current    *Message
	err        error
}

// Stream opens a push inbox; messages arrive through Next.
func (s *InboxService) Stream(ctx context.Context, params InboxStreamParams, opts ...option.RequestOption) *InboxStream {
	if params.MaxInFlight <= 0 {
		params.MaxInFlight = constants.InboxStreamMaxInFlight
	}
	if params.VisibilityTimeout <= 0 {
		params.VisibilityTimeout = constants.InboxStreamVisibilityTimeout
	}
	st := &InboxStream{
		inbox: s, opts: opts, params: params, id: wsID("lease"),
		notify: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{}),
		pending: map[string]*wsRequest{},
	}
	st.ctx, st.cancel = context.WithCancel(ctx)
	session, err := newWSSession(s.core, opts, wsHandlers{onWelcome: st.lease, onFrame: st.onFrame})
	if err != nil {
		st.err = err
		close(st.done)
		return st
	}
	st.session = session
	go func() {
		if err := session.run(st.ctx); err != nil {
			st.mu.Lock()
			st.runErr = err
			st.mu.Unlock()
		}
		close(st.done)
		// Whatever still waits for an answer goes over HTTP now (see settle).
	}()
	return st
}

func (st *InboxStream) stopping() bool {
	select {
	case <-st.stop:
		return true
	default:
		return false
	}
}

func (st *InboxStream) lease(*WelcomeFrame) {
	if !st.stopping() {
		st.session.send(st.ctx, LeaseFrame{
			Type: "lease", ID: st.id, MaxInFlight: Ptr(st.params.MaxInFlight),
			VisibilityTimeout: Ptr(wholeSeconds(st.params.VisibilityTimeout)), Types: st.params.Types,
		})
	}
	// Requests whose answers the last connection lost: settling is idempotent, so send them again.
	st.mu.Lock()
	frames := make([]any, 0, len(st.pending))
	for _, req := range st.pending {
		frames = append(frames, req.frame)
	}
	st.mu.Unlock()
	for _, frame := range frames {
		st.session.send(st.ctx, frame)
	}
}

func (st *InboxStream) answer(id string, res wsResult) {
	st.mu.Lock()
	req := st.pending[id]
	delete(st.pending, id)
	st.mu.Unlock()
	if req != nil {
		req.result <- res
	}
}

func (st *InboxStream) onFrame(frame any) {
	switch f := frame.(type) {
	case *MessageFrame:
		if f.Lease != st.id {
			return
		}
		msg := &Message{
			InboxMessage: InboxMessage{Receipt: f.Receipt, DeliveryCount: f.DeliveryCount, Event: f.Event},
			LeaseID:      st.id,
			LeasedUntil:  st.session.cfg.Now().Add(st.params.VisibilityTimeout),
			inbox:        st.inbox,
			ws:           st,
		}
		if st.stopping() {
			// Stopped meanwhile: give it back at once instead of after the visibility timeout.
			st.session.send(st.ctx, NackFrame{Type: "nack", ID: wsID("nack"), Receipts: []string{f.Receipt}})
			return
		}
		st.mu.Lock()
		st.queue = append(st.queue, msg)
		st.mu.Unlock()
		select {
		case st.notify <- struct{}{}:
		default:
		}
	case *AckedFrame:
		st.answer(f.ID, wsResult{res: &ReceiptResults{Results: f.Results}})
	case *NackedFrame:
		st.answer(f.ID, wsResult{res: &ReceiptResults{Results: f.Results}})
	case *ExtendedFrame:
		st.answer(f.ID, wsResult{res: &ReceiptResults{Results: f.Results}})
	case *ErrorFrame:
		if f.ID == nil {
			return
		}
		if *f.ID == st.id {
			st.mu.Lock()
			st.runErr = st.session.problemError(f.Problem)
			st.mu.Unlock()
			st.cancel()
			return
		}
		st.answer(*f.ID, wsResult{err: st.session.problemError(f.Problem)})
	}
}

// settle sends an ack, nack or extend over the connection and waits for its answer; once the stream has
// ended (or ends while waiting) the same request goes over HTTP.
func (st *InboxStream) settle(ctx context.Context, id string, frame any, viaHTTP func() (*ReceiptResults, error)) (*ReceiptResults, error) {
	if st.session == nil {
		return viaHTTP()
	}
	select {
	case <-st.done:
		return viaHTTP()
	default:
	}
	req := &wsRequest{frame: frame, result: make(chan wsResult, 1)}
	st.mu.Lock()
	st.pending[id] = req
	st.mu.Unlock()
	// Not connected right now: sent again after the next welcome (see lease).
	st.session.send(ctx, frame)
	select {
	case res := <-req.result:
		return res.res, res.err
	case <-st.done:
		st.mu.Lock()
		delete(st.pending, id)
		st.mu.Unlock()
		select {
		case res := <-req.result:
			return res.res, res.err
		default:
		}
		return viaHTTP()
	case <-ctx.Done():
		st.mu.Lock()
		delete(st.pending, id)
		st.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (st *InboxStream) ack(ctx context.Context, m *Message) (*ReceiptResults, error) {
	id := wsID("ack")
	return st.settle(ctx, id, AckFrame{Type: "ack", ID: id, Receipts: []string{m.Receipt}}, func() (*ReceiptResults, error) {
		return st.inbox.Ack(ctx, InboxAckParams{Receipts: []string{m.Receipt}}, st.opts...)
	})
}

func (st *InboxStream) nack(ctx context.Context, m *Message, delay *int) (*ReceiptResults, error) {
	id := wsID("nack")
	return st.settle(ctx, id, NackFrame{Type: "nack", ID: id, Receipts: []string{m.Receipt}, Delay: delay}, func() (*ReceiptResults, error) {
		return st.inbox.Nack(ctx, InboxNackParams{Receipts: []string{m.Receipt}, Delay: delay}, st.opts...)
	})
}

func (st *InboxStream) extend(ctx context.Context, m *Message, seconds int) (*ReceiptResults, error) {
	id := wsID("extend")
	return st.settle(ctx, id, ExtendFrame{Type: "extend", ID: id, Receipts: []string{m.Receipt}, VisibilityTimeout: seconds}, func() (*ReceiptResults, error) {
		return st.inbox.Extend(ctx, InboxExtendParams{Receipts: []string{m.Receipt}, VisibilityTimeout: seconds}, st.opts...)
	})
}

// stopReceiving ends Next and unsubscribes the lease; messages sent meanwhile are given back. The connection
// stays open, so messages already handed out still settle over it.
func (st *InboxStream) stopReceiving() {
	st.stopped.Do(func() {
		close(st.stop)
		if st.session == nil {
			return
		}
		st.session.send(st.ctx, UnsubscribeFrame{Type: "unsubscribe", ID: st.id})
		st.mu.Lock()
		unseen := make([]string, 0, len(st.queue))
		for _, msg := range st.queue {
			unseen = append(unseen, msg.Receipt)
		}
		st.queue = nil
		st.mu.Unlock()
		if len(unseen) > 0 {
			st.session.send(st.ctx, NackFrame{Type: "nack", ID: wsID("nack"), Receipts: unseen})
		}
	})
}

// Current is the message read by the last successful Next.
func (st *InboxStream) Current() *Message { return st.current }

// Err is the error that stopped the stream: nil after Close, the context's error after cancellation, a typed
// API error when the server refused the key, scope or lease, or the last connection error after too many
// failed reconnects.
func (st *InboxStream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closedByUs {
		return nil
	}
	return st.err
}

// Close stops receiving, gives back messages that arrived meanwhile and closes the connection. Messages
// already handed out can still be settled afterwards (over HTTP). Safe to call more than once.
func (st *InboxStream) Close() error {
	st.mu.Lock()
	st.closedByUs = true
	st.mu.Unlock()
	st.stopReceiving()
	st.cancel()
	<-st.done
	return nil
}

// Next waits for the next message; false when the stream stopped (see Err).
func (st *InboxStream) Next() bool {
	for {
		if st.stopping() {
			return false
		}
		st.mu.Lock()
		if len(st.queue) > 0 {
			st.current = st.queue[0]
			st.queue = st.queue[1:]
			st.mu.Unlock()
			return true
		}
		st.mu.Unlock()
		select {
		case <-st.notify:
			continue
		case <-st.stop:
			return false
		case <-st.done:
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if len(st.queue) > 0 {
			// Received before the end: still worth handing out (settling falls back to HTTP).
			st.current = st.queue[0]
			st.queue = st.queue[1:]
			return true
		}
		if st.err == nil {
			st.err = st.runErr
			if st.err == nil && !st.closedByUs {
				st.err = st.ctx.Err()
			}
		}
		return false
	}
}

// All ranges over the stream: for msg, err := range stream.All(). The last pair carries the error that
// stopped it, if any; breaking out of the loop closes the stream.
func (st *InboxStream) All() iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		defer st.Close()
		for st.Next() {
			if !yield(st.Current(), nil) {
				return
			}
		}
		if err := st.Err(); err != nil {
			yield(nil, err)
		}
	}
}
