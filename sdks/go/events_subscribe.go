package triggers

import (
	"context"
	"iter"
	"strconv"
	"sync"

	"github.com/zapier/triggers-sdk-go/option"
)

// SubscribeParams configures Events.Subscribe.
type SubscribeParams struct {
	// Types are event type globs (OR); none = every type.
	Types []string
	// Filter is a filter expression (CloudEvents Subscriptions dialects), as for webhook subscriptions.
	Filter *Filter
	// Since starts after this cursor (an event's sequence, e.g. a saved LastCursor); "" = new events only.
	Since string
}

// subItem is what the reading goroutine hands to Next: an event, or a reset notice (so OnReset runs on the
// caller's goroutine).
type subItem struct {
	event  Event
	cursor string
	reset  *StreamReset
}

// EventSubscription is a live event subscription over the WebSocket (GET /events/ws, subprotocol triggers.v1). It
// reconnects with the stream backoff of the runtime policy and subscribes again from the last cursor it
// received (the subscribed cursor before the first event), dropping anything at or below it, so each matching
// event arrives once, in commit order:
//
//	sub := client.Events.Subscribe(ctx, triggers.SubscribeParams{Types: []string{"order.*"}})
//	defer sub.Close()
//	for sub.Next() {
//		ev := sub.Current()
//	}
//	if err := sub.Err(); err != nil { ... }
//
// Next, Current and Err must be called from one goroutine; Close may be called from any.
type EventSubscription struct {
	ctx     context.Context
	cancel  context.CancelFunc
	params  SubscribeParams
	session *wsSession
	id      string
	items   chan subItem
	done    chan struct{}
	ready   chan struct{}
	once    sync.Once

	// Owned by the reading goroutine.
	cursor  string
	lastSeq int64
	haveSeq bool

	current    Event
	lastCursor string
	err        error
	runErr     error
	onReset    func(StreamReset)
	lastReset  *StreamReset
	closedByUs bool
	mu         sync.Mutex
}

// Subscribe opens a live subscription and waits until the server confirmed it, so events created after
// Subscribe returns are not missed. When the first connection fails it returns at once and Next keeps
// reconnecting (as Events.Stream does).
func (s *EventsService) Subscribe(ctx context.Context, params SubscribeParams, opts ...option.RequestOption) *EventSubscription {
	sub := &EventSubscription{params: params, id: wsID("sub"), done: make(chan struct{}), ready: make(chan struct{})}
	sub.ctx, sub.cancel = context.WithCancel(ctx)
	sub.cursor = params.Since
	if seq, err := strconv.ParseInt(params.Since, 10, 64); err == nil {
		sub.lastSeq, sub.haveSeq = seq, true
	}
	session, err := newWSSession(s.core, opts, wsHandlers{
		onWelcome: sub.subscribe, onFrame: sub.onFrame, onDisconnect: func(error) { sub.markReady() },
	})
	if err != nil {
		sub.err = err
		close(sub.done)
		sub.items = make(chan subItem)
		close(sub.items)
		return sub
	}
	sub.session = session
	// Unbuffered: the socket is the buffer, so a slow consumer slows reading and the server sees backpressure.
	sub.items = make(chan subItem)
	go func() {
		if err := session.run(sub.ctx); err != nil {
			sub.mu.Lock()
			sub.runErr = err
			sub.mu.Unlock()
		}
		close(sub.done)
		sub.markReady()
	}()
	select {
	case <-sub.ready:
	case <-sub.ctx.Done():
	}
	return sub
}

func (s *EventSubscription) markReady() { s.once.Do(func() { close(s.ready) }) }

func (s *EventSubscription) subscribe(*WelcomeFrame) {
	frame := SubscribeFrame{Type: "subscribe", ID: s.id, Types: s.params.Types, Filter: s.params.Filter}
	if s.cursor != "" {
		frame.Since = Ptr(s.cursor)
	}
	s.session.send(s.ctx, frame)
}

func (s *EventSubscription) onFrame(frame any) {
	switch f := frame.(type) {
	case *SubscribedFrame:
		if f.ID != s.id {
			return
		}
		if s.cursor == "" {
			s.cursor = f.Cursor
		}
		s.markReady()
	case *EventFrame:
		if f.Subscription != s.id {
			return
		}
		seq, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err == nil {
			if s.haveSeq && seq <= s.lastSeq {
				return
			}
			s.lastSeq, s.haveSeq = seq, true
		}
		s.cursor = f.Cursor
		// A full buffer blocks here: reading stops and the server sees a slow consumer.
		select {
		case s.items <- subItem{event: f.Event, cursor: f.Cursor}:
		case <-s.ctx.Done():
		}
	case *ResetFrame:
		if f.Subscription != s.id {
			return
		}
		notice := &StreamReset{Reason: f.Reason, OldestSequence: int64(f.OldestSequence)}
		select {
		case s.items <- subItem{reset: notice}:
		case <-s.ctx.Done():
		}
	case *ErrorFrame:
		if f.ID == nil || *f.ID != s.id {
			return
		}
		// A refused subscribe (bad filter, missing scope) cannot succeed by reconnecting.
		s.mu.Lock()
		s.runErr = s.session.problemError(f.Problem)
		s.mu.Unlock()
		s.markReady()
		s.cancel()
	}
}

// OnReset registers fn to be called (from Next) when the server reports that Since was older than retention.
func (s *EventSubscription) OnReset(fn func(StreamReset)) *EventSubscription {
	s.onReset = fn
	return s
}

// LastReset is the most recent reset notice, or nil.
func (s *EventSubscription) LastReset() *StreamReset { return s.lastReset }

// LastCursor is the cursor of the last event Next returned: pass it as SubscribeParams.Since to resume later.
func (s *EventSubscription) LastCursor() string { return s.lastCursor }

// Current is the event read by the last successful Next.
func (s *EventSubscription) Current() Event { return s.current }

// Err is the error that stopped the subscription: nil after Close, the context's error after cancellation, a
// typed API error when the server refused the key, scope or subscription, or the last connection error after
// too many failed reconnects.
func (s *EventSubscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedByUs {
		return nil
	}
	return s.err
}

// Close stops the subscription and closes the connection; safe to call more than once, from any goroutine.
func (s *EventSubscription) Close() error {
	s.mu.Lock()
	s.closedByUs = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	return nil
}

// Next waits for the next event; false when the subscription stopped (see Err).
func (s *EventSubscription) Next() bool {
	for {
		select {
		case item, ok := <-s.items:
			if !ok {
				return false
			}
			if s.deliver(item) {
				return true
			}
			continue
		default:
		}
		select {
		case item := <-s.items:
			if s.deliver(item) {
				return true
			}
		case <-s.done:
			// Drain what was received before the end.
			select {
			case item := <-s.items:
				if s.deliver(item) {
					return true
				}
				continue
			default:
			}
			s.mu.Lock()
			if s.err == nil {
				s.err = s.runErr
				if s.err == nil && !s.closedByUs {
					s.err = s.ctx.Err()
				}
			}
			s.mu.Unlock()
			return false
		}
	}
}

func (s *EventSubscription) deliver(item subItem) bool {
	if item.reset != nil {
		s.lastReset = item.reset
		if s.onReset != nil {
			s.onReset(*item.reset)
		}
		return false
	}
	s.current, s.lastCursor = item.event, item.cursor
	return true
}

// All ranges over the subscription: for ev, err := range sub.All(). The last pair carries the error that
// stopped it, if any; breaking out of the loop closes it.
func (s *EventSubscription) All() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		defer s.Close()
		for s.Next() {
			if !yield(s.Current(), nil) {
				return
			}
		}
		if err := s.Err(); err != nil {
			yield(Event{}, err)
		}
	}
}
