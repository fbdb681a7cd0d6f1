package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
	"github.com/zapier/triggers-sdk-go/internal/requestconfig"
	"github.com/zapier/triggers-sdk-go/internal/sse"
	"github.com/zapier/triggers-sdk-go/option"
)

// StreamParams is the query of Events.Stream (the name used in the README).
type StreamParams = EventStreamParams

// StreamReset tells the consumer the resume cursor was older than the server's retention: events
// between the cursor and OldestSequence are gone, and the stream continues from OldestSequence.
type StreamReset struct {
	Reason         string `json:"reason"`
	OldestSequence int64  `json:"oldest_sequence"`
}

// StreamMessage is one Server-Sent Events message as the server sent it, from a raw stream
// (Events.StreamRaw): nothing decoded or dropped.
type StreamMessage struct {
	// Type is the event: field ("message" when absent), e.g. "reset" or a kind this SDK does not
	// know yet.
	Type string
	// Data is the data: lines joined by "\n".
	Data string
	// ID is the last event id in effect ("" = none).
	ID string
	// Retry is the reconnection time of a retry: the server sent since the previous message, else nil.
	Retry *time.Duration
}

// Stream is a resumable Server-Sent Events stream of T. It reconnects on network errors, idle
// connections and a clean end of stream, sending Last-Event-ID so nothing is missed, and drops
// events it has already delivered (by their own sequence; a raw Stream[StreamMessage] from
// StreamRaw drops nothing and reports resets as messages).
//
// A 204 No Content answer ends the stream (Next returns false, Err nil). Redirects (301, 302, 303,
// 307, 308) are followed by the stream itself, at most 5 hops (stream_max_redirects in
// codegen/policy.yaml), without Authorization once a hop changes origin; one it cannot follow stops
// the stream with a *StreamRedirectError. A connection without a byte (events or heartbeats) for
// the idle timeout, 45 s (stream_idle_timeout_seconds) unless the call passes
// option.WithStreamIdleTimeout, is replaced by a reconnect.
//
//	stream := client.Events.Stream(ctx, triggers.StreamParams{Types: []string{"order.*"}})
//	defer stream.Close()
//	for stream.Next() {
//		ev := stream.Current()
//	}
//	if err := stream.Err(); err != nil { ... }
//
// Next, Current and Err must be called from one goroutine; Close may be called from any.
type Stream[T any] struct {
	ctx    context.Context
	cancel context.CancelFunc
	path   string
	query  url.Values

	cfg        *requestconfig.Config
	conn       *http.Response
	connCancel context.CancelFunc
	parser     *sse.Parser
	idle       stopper
	// healthy is set once the current connection delivered an event or a heartbeat.
	healthy bool
	// failures counts consecutive failed connection attempts.
	failures   int
	lastErr    error
	retryDelay time.Duration

	lastID  string
	lastSeq int64
	haveSeq bool

	// decode turns a dispatched event into the item to deliver (typed: decodeItem, raw: rawMessage).
	decode func(msg sse.Message, retry *time.Duration) (T, bool, error)
	// pendingRetry is a retry: received since the last dispatched event, for StreamMessage.Retry.
	pendingRetry *time.Duration

	current T
	err     error
	// done is set once the stream stopped: an error, its context ended, or the server sent 204.
	done      bool
	closed    atomic.Bool
	onReset   func(StreamReset)
	lastReset *StreamReset
}

// stopper is the part of *time.Timer the idle watchdog needs.
type stopper interface {
	Stop() bool
	Reset(d time.Duration) bool
}

// newIdleTimer starts the idle watchdog of a connection; tests replace it to fire without waiting.
var newIdleTimer = func(d time.Duration, fire func()) stopper { return time.AfterFunc(d, fire) }

// newStream connects at once, so events created after Stream returns are not missed (the server
// starts a cursor-less stream at "now"). A failed first attempt is retried by Next.
func newStream[T any](ctx context.Context, core *clientCore, path string, query url.Values, opts []option.RequestOption) *Stream[T] {
	s := &Stream[T]{}
	s.decode = s.decodeItem
	return s.open(ctx, core, path, query, opts)
}

// newRawStream is newStream yielding every SSE message undecoded (Events.StreamRaw).
func newRawStream(ctx context.Context, core *clientCore, path string, query url.Values, opts []option.RequestOption) *Stream[StreamMessage] {
	s := &Stream[StreamMessage]{decode: rawMessage}
	return s.open(ctx, core, path, query, opts)
}

func (s *Stream[T]) open(ctx context.Context, core *clientCore, path string, query url.Values, opts []option.RequestOption) *Stream[T] {
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.path, s.query, s.retryDelay = path, url.Values{}, constants.StreamReconnectDelay
	for k, v := range query {
		s.query[k] = v
	}
	// The resume cursor travels in the Last-Event-ID header, which the server prefers.
	s.lastID = s.query.Get("last_event_id")
	s.query.Del("last_event_id")
	if seq, err := strconv.ParseInt(s.lastID, 10, 64); err == nil {
		s.lastSeq, s.haveSeq = seq, true
	}
	cfg, err := core.callConfig(opts)
	if err != nil {
		s.stop(err)
		return s
	}
	// The stream has its own reconnect policy; the request layer must not retry underneath it.
	cfg.MaxRetries = 0
	s.cfg = cfg
	if err := s.connect(); err != nil {
		if s.fatal(err) {
			s.stop(err)
		} else {
			s.lastErr = err
		}
	}
	return s
}

// OnReset registers fn to be called when the server reports that the resume cursor expired.
// Call it before the first Next. A raw stream (StreamRaw) yields the reset message itself instead.
func (s *Stream[T]) OnReset(fn func(StreamReset)) *Stream[T] {
	s.onReset = fn
	return s
}

// LastReset is the most recent reset notice, or nil.
func (s *Stream[T]) LastReset() *StreamReset { return s.lastReset }

// LastEventID is the resume point, the last event id the server set ("" after an empty id: line):
// pass it as StreamParams.LastEventID to resume in a later process.
func (s *Stream[T]) LastEventID() string { return s.lastID }

// Current is the item read by the last successful Next.
func (s *Stream[T]) Current() T { return s.current }

// Err is the error that stopped the stream: nil after Close or a 204, the context's error after
// cancellation, or the last connection error after too many failed reconnects.
func (s *Stream[T]) Err() error {
	if s.closed.Load() {
		return nil
	}
	return s.err
}

// Close stops the stream and releases the connection. It is safe to call more than once and from
// another goroutine than the one calling Next.
func (s *Stream[T]) Close() error {
	s.closed.Store(true)
	s.cancel()
	return nil
}

// All ranges over the stream: for ev, err := range stream.All(). The last pair carries the error
// that stopped the stream, if any; breaking out of the loop closes the stream.
func (s *Stream[T]) All() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		defer s.Close()
		for s.Next() {
			if !yield(s.Current(), nil) {
				return
			}
		}
		if err := s.Err(); err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

// Next advances to the next item, reconnecting as needed. It returns false when the stream is
// closed, its context ends, or reconnecting failed too often (see Err).
func (s *Stream[T]) Next() bool {
	if s.done || s.closed.Load() {
		return false
	}
	for {
		if s.parser == nil {
			if err := s.reconnect(); err != nil {
				s.stop(err)
				return false
			}
		}
		msg, err := s.parser.Next()
		if err != nil {
			s.disconnect()
			if s.ctx.Err() != nil {
				s.stop(s.ctx.Err())
				return false
			}
			s.lastErr = &APIConnectionError{APIError: &APIError{Method: "GET", URL: s.path, Message: "stream interrupted: " + err.Error(), Cause: err}}
			continue
		}
		switch msg.Kind {
		case sse.KindRetry:
			s.retryDelay = time.Duration(msg.Retry) * time.Millisecond
			retry := s.retryDelay
			s.pendingRetry = &retry
		case sse.KindComment:
			s.healthy = true
		case sse.KindEvent:
			s.healthy = true
			if s.deliver(msg) {
				return true
			}
			if s.done {
				return false
			}
		}
	}
}

// deliver turns a dispatched event into Current; it returns false when there is nothing to deliver
// (a duplicate or a reset notice on a typed stream) or decoding failed. Every dispatched event moves
// the resume point to its id: an empty id: clears it, so the next connection sends no Last-Event-ID.
func (s *Stream[T]) deliver(msg sse.Message) bool {
	s.lastID = msg.ID
	retry := s.pendingRetry
	s.pendingRetry = nil
	item, ok, err := s.decode(msg, retry)
	if err != nil {
		s.stop(err)
		return false
	}
	if ok {
		s.current = item
	}
	return ok
}

// decodeItem is a typed stream's decode: reset notices go to OnReset, duplicates are recognised by
// the item's own sequence (never by the inherited last event id) and dropped, the rest is decoded.
func (s *Stream[T]) decodeItem(msg sse.Message, _ *time.Duration) (T, bool, error) {
	var item T
	if msg.Type == "reset" {
		var notice StreamReset
		if err := json.Unmarshal([]byte(msg.Data), &notice); err == nil {
			s.lastReset = &notice
			if s.onReset != nil {
				s.onReset(notice)
			}
		}
		return item, false, nil
	}
	seq, hasSeq := sequenceOf(msg.Data)
	if hasSeq && s.haveSeq && seq <= s.lastSeq {
		return item, false, nil
	}
	if err := json.Unmarshal([]byte(msg.Data), &item); err != nil {
		return item, false, &APIError{Method: "GET", URL: s.path, Message: "decoding stream event " + msg.ID + ": " + err.Error(), Cause: err}
	}
	if hasSeq {
		s.lastSeq, s.haveSeq = seq, true
	}
	return item, true, nil
}

// rawMessage is a raw stream's decode: every event as sent.
func rawMessage(msg sse.Message, retry *time.Duration) (StreamMessage, bool, error) {
	return StreamMessage{Type: msg.Type, Data: msg.Data, ID: msg.ID, Retry: retry}, true, nil
}

// sequenceOf is an item's own identity: the integer "sequence" member of its JSON, if it has one.
func sequenceOf(data string) (int64, bool) {
	var probe struct {
		Sequence json.RawMessage `json:"sequence"`
	}
	if json.Unmarshal([]byte(data), &probe) != nil {
		return 0, false
	}
	seq, err := strconv.ParseInt(string(probe.Sequence), 10, 64)
	return seq, err == nil
}

// reconnect opens a connection, sleeping the policy's delay before each retry.
func (s *Stream[T]) reconnect() error {
	for {
		if s.healthy {
			s.failures = 0
			s.healthy = false
		}
		if s.failures > 0 || s.lastErr != nil {
			s.failures++
			if s.failures > constants.StreamMaxReconnectAttempts {
				return s.lastErr
			}
			delay := requestconfig.Backoff(s.retryDelay, constants.StreamMaxReconnectDelay, s.failures, s.cfg.Random)
			var rl *RateLimitError
			if errors.As(s.lastErr, &rl) && rl.RetryAfter != nil && *rl.RetryAfter <= constants.RetryAfterCap {
				delay = max(delay, *rl.RetryAfter)
			}
			if err := s.cfg.Sleep(s.ctx, delay); err != nil {
				return err
			}
		}
		err := s.connect()
		if err == nil {
			return nil
		}
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		if s.fatal(err) {
			return err
		}
		s.lastErr = err
	}
}

// fatal reports connection errors that reconnecting cannot fix: 4xx other than 408 and 429, a
// response that is not an event stream, and a 204 (errNoContent).
func (s *Stream[T]) fatal(err error) bool {
	if s.ctx.Err() != nil {
		return true
	}
	var status *APIStatusError
	if errors.As(err, &status) {
		return status.StatusCode < 500 && status.StatusCode != http.StatusRequestTimeout && status.StatusCode != http.StatusTooManyRequests
	}
	var conn *APIConnectionError
	return !errors.As(err, &conn)
}

func (s *Stream[T]) connect() error {
	connCtx, connCancel := context.WithCancel(s.ctx)
	// EventSource sends no-cache so no proxy or cache answers the stream from a stored copy.
	header := http.Header{"Cache-Control": {"no-cache"}}
	if s.lastID != "" {
		header.Set(constants.HeaderLastEventID, s.lastID)
	}
	req := requestconfig.Request{
		Method: "GET", Path: s.path, Query: s.query, Accept: "text/event-stream", Header: header,
		Stream: true, ManualRedirects: true,
	}
	raw, err := requestconfig.Execute(connCtx, s.cfg, req)
	for hops := 0; err == nil && requestconfig.IsRedirect(raw.StatusCode); hops++ {
		raw.Body.Close()
		if req, err = redirect(req, raw, hops); err == nil {
			raw, err = requestconfig.Execute(connCtx, s.cfg, req)
		}
	}
	if err != nil {
		connCancel()
		return err
	}
	if raw.StatusCode == http.StatusNoContent {
		raw.Body.Close()
		connCancel()
		return errNoContent
	}
	if mediaType, _, _ := mime.ParseMediaType(raw.Header.Get("Content-Type")); mediaType != "text/event-stream" {
		raw.Body.Close()
		connCancel()
		return &APIError{Method: "GET", URL: raw.Request.URL.String(), StatusCode: raw.StatusCode, Header: raw.Header,
			RequestID: raw.RequestID, Message: "expected text/event-stream, got " + raw.Header.Get("Content-Type")}
	}
	s.conn, s.connCancel = raw.Response, connCancel
	s.idle = newIdleTimer(s.cfg.StreamIdleTimeout, connCancel)
	s.parser = sse.NewParser(&idleReader{r: raw.Body, idle: s.idle, timeout: s.cfg.StreamIdleTimeout}, s.lastID)
	s.lastErr = nil
	return nil
}

// redirect is the request for a 3xx's Location, resolved against the URL that answered it. Once a
// hop leaves the API's origin (scheme, host, port) the Authorization header is no longer sent. A
// redirect without a usable Location, or after StreamMaxRedirects hops, is a *StreamRedirectError.
func redirect(req requestconfig.Request, raw *requestconfig.RawResponse, hops int) (requestconfig.Request, error) {
	from := raw.Request.URL
	location := strings.TrimSpace(raw.Header.Get("Location"))
	fail := func(problem string) (requestconfig.Request, error) {
		return req, &StreamRedirectError{Location: location, APIError: &APIError{
			Method: "GET", URL: from.String(), StatusCode: raw.StatusCode, Header: raw.Header,
			RequestID: raw.Header.Get(constants.HeaderRequestID), Message: "event stream got " + problem,
		}}
	}
	if hops >= constants.StreamMaxRedirects {
		return fail("more than " + strconv.Itoa(constants.StreamMaxRedirects) + " redirects")
	}
	if location == "" {
		return fail("a redirect without a Location header")
	}
	target, err := from.Parse(location)
	if err != nil {
		return fail("a redirect to an invalid Location " + strconv.Quote(location))
	}
	if target.Scheme != "http" && target.Scheme != "https" || target.Host == "" {
		return fail("a redirect to an unusable Location " + strconv.Quote(location))
	}
	req.URL = target.String()
	req.OmitAuthorization = req.OmitAuthorization || origin(target) != origin(from)
	return req, nil
}

// origin is a URL's scheme, host and port, with the scheme's default port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// idleReader restarts the idle watchdog whenever bytes arrive; when it fires, the connection's
// context is cancelled, the read fails and the stream reconnects.
type idleReader struct {
	r       io.Reader
	idle    stopper
	timeout time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.idle.Reset(r.timeout)
	}
	return n, err
}

func (s *Stream[T]) disconnect() {
	if s.idle != nil {
		s.idle.Stop()
	}
	if s.conn != nil {
		s.conn.Body.Close()
	}
	if s.connCancel != nil {
		s.connCancel()
	}
	s.conn, s.connCancel, s.parser, s.idle = nil, nil, nil, nil
}

// stop ends the stream with err (errNoContent ends it without an error).
func (s *Stream[T]) stop(err error) {
	s.disconnect()
	if !s.closed.Load() && !errors.Is(err, errNoContent) {
		s.err = err
	}
	s.done = true
	s.cancel()
}

// errNoContent is a 204 No Content answer: the server has nothing more to stream, so the stream
// ends cleanly instead of reconnecting (as EventSource does).
var errNoContent = errors.New("204 No Content")
