package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
	"github.com/zapier/triggers-sdk-go/option"
)

// sseReply writes an event stream made of frames, flushing each, then ends the response.
func sseReply(frames ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, f := range frames {
			_, _ = w.Write([]byte(f))
			w.(http.Flusher).Flush()
		}
	}
}

func eventFrame(seq int64) string {
	data, _ := json.Marshal(eventJSON(fmt.Sprintf("evt_%d", seq), seq))
	return fmt.Sprintf("id: %d\nevent: order.created\ndata: %s\n\n", seq, data)
}

func collect(t *testing.T, s *Stream[Event], n int) []int64 {
	t.Helper()
	var seqs []int64
	for len(seqs) < n && s.Next() {
		seqs = append(seqs, s.Current().Sequence)
	}
	return seqs
}

func TestStreamResumesWithLastEventIDAndDropsDuplicates(t *testing.T) {
	srv := newScriptServer(t,
		sseReply("retry: 3000\n\n", eventFrame(1), eventFrame(2)),
		sseReply(": ping\n\n", eventFrame(2), eventFrame(3)),
	)
	clock := newFakeClock()
	stream := testClient(srv.Server, clock).Events.Stream(context.Background(), StreamParams{Types: []string{"order.*"}})
	defer stream.Close()
	if got := collect(t, stream, 3); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("got %v (err %v)", got, stream.Err())
	}
	reqs := srv.recorded()
	if reqs[0].Header.Get("Last-Event-ID") != "" || reqs[1].Header.Get("Last-Event-ID") != "2" {
		t.Fatalf("Last-Event-ID = %q then %q", reqs[0].Header.Get("Last-Event-ID"), reqs[1].Header.Get("Last-Event-ID"))
	}
	if reqs[0].Query != "types=order.%2A" || reqs[0].Header.Get("Accept") != "text/event-stream" {
		t.Fatalf("query=%q accept=%q", reqs[0].Query, reqs[0].Header.Get("Accept"))
	}
	// A clean end of stream after a healthy connection reconnects after the server's retry: 3000.
	if got := clock.Sleeps(); len(got) != 1 || got[0] != 3*time.Second {
		t.Fatalf("sleeps = %v", got)
	}
	if stream.LastEventID() != "3" {
		t.Fatalf("LastEventID = %q", stream.LastEventID())
	}
}

func TestStreamStartsFromGivenCursor(t *testing.T) {
	srv := newScriptServer(t, sseReply(eventFrame(10), eventFrame(11)))
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{LastEventID: "10"})
	defer stream.Close()
	if got := collect(t, stream, 1); !slices.Equal(got, []int64{11}) {
		t.Fatalf("got %v: event 10 was already seen", got)
	}
	r := srv.recorded()[0]
	if r.Header.Get("Last-Event-ID") != "10" || r.Query != "" {
		t.Fatalf("cursor must travel as the header only: header=%q query=%q", r.Header.Get("Last-Event-ID"), r.Query)
	}
}

func TestStreamBacksOffOnFailuresAndResetsAfterHealthyConnection(t *testing.T) {
	srv := newScriptServer(t,
		problemReply(503, "unavailable"),
		problemReply(502, "internal"),
		sseReply(eventFrame(1)),
		problemReply(500, "internal"),
		sseReply(eventFrame(2)),
	)
	clock := newFakeClock()
	stream := testClient(srv.Server, clock).Events.Stream(context.Background(), StreamParams{})
	defer stream.Close()
	if got := collect(t, stream, 2); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("got %v (err %v)", got, stream.Err())
	}
	// 1 s, 2 s (doubling), then after the healthy connection the counter restarts: 1 s, 2 s.
	want := []time.Duration{time.Second, 2 * time.Second, time.Second, 2 * time.Second}
	if !slices.Equal(clock.Sleeps(), want) {
		t.Fatalf("sleeps = %v, want %v", clock.Sleeps(), want)
	}
}

func TestStreamGivesUpAfterMaxReconnectAttempts(t *testing.T) {
	srv := newScriptServer(t, problemReply(503, "unavailable"))
	clock := newFakeClock()
	stream := testClient(srv.Server, clock).Events.Stream(context.Background(), StreamParams{})
	if stream.Next() {
		t.Fatal("unexpected event")
	}
	mustAs(t, stream.Err(), new(*InternalServerError))
	if got := len(srv.recorded()); got != 11 {
		t.Fatalf("want 1 attempt + 10 reconnects, got %d", got)
	}
	sleeps := clock.Sleeps()
	if sleeps[len(sleeps)-1] != 30*time.Second {
		t.Fatalf("reconnect delay must cap at 30 s: %v", sleeps)
	}
}

func TestStreamDoesNotRetryClientErrors(t *testing.T) {
	srv := newScriptServer(t, problemReply(401, "unauthenticated"))
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	if stream.Next() {
		t.Fatal("unexpected event")
	}
	mustAs(t, stream.Err(), new(*AuthenticationError))
	if len(srv.recorded()) != 1 {
		t.Fatalf("401 was retried %d times", len(srv.recorded())-1)
	}
}

func TestStreamResetNotice(t *testing.T) {
	srv := newScriptServer(t, sseReply("event: reset\ndata: {\"reason\":\"cursor_expired\",\"oldest_sequence\":500}\n\n", eventFrame(500)))
	var notices []StreamReset
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{LastEventID: "3"}).
		OnReset(func(r StreamReset) { notices = append(notices, r) })
	defer stream.Close()
	if got := collect(t, stream, 1); !slices.Equal(got, []int64{500}) {
		t.Fatalf("got %v", got)
	}
	if len(notices) != 1 || notices[0].OldestSequence != 500 || stream.LastReset().Reason != "cursor_expired" {
		t.Fatalf("notices = %+v", notices)
	}
}

// manualTimer is an idle watchdog the test fires by hand.
type manualTimer struct {
	mu   sync.Mutex
	fire func()
}

func (m *manualTimer) Stop() bool                 { return true }
func (m *manualTimer) Reset(_ time.Duration) bool { return true }
func (m *manualTimer) Fire() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fire()
}

func TestStreamIdleTimeoutReconnects(t *testing.T) {
	released := make(chan struct{})
	hang := func(w http.ResponseWriter, r *http.Request) {
		sseReply(eventFrame(1))(w, r)
		select { // a silent connection: no bytes until the client gives up on it
		case <-r.Context().Done():
		case <-released:
		}
	}
	srv := newScriptServer(t, hang, sseReply(eventFrame(2)))
	defer close(released)
	timers := make(chan *manualTimer, 4)
	realTimer := newIdleTimer
	t.Cleanup(func() { newIdleTimer = realTimer })
	newIdleTimer = func(d time.Duration, fire func()) stopper {
		if d != 45*time.Second {
			t.Errorf("idle timeout = %v", d)
		}
		m := &manualTimer{fire: fire}
		timers <- m
		return m
	}
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	defer stream.Close()
	if !stream.Next() || stream.Current().Sequence != 1 {
		t.Fatalf("first event missing: %v", stream.Err())
	}
	(<-timers).Fire()
	if !stream.Next() || stream.Current().Sequence != 2 {
		t.Fatalf("no event after idle reconnect: %v", stream.Err())
	}
	if got := srv.recorded()[1].Header.Get("Last-Event-ID"); got != "1" {
		t.Fatalf("reconnect Last-Event-ID = %q", got)
	}
}

func TestStreamCloseFromAnotherGoroutine(t *testing.T) {
	released := make(chan struct{})
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		sseReply(eventFrame(1))(w, r)
		select {
		case <-r.Context().Done():
		case <-released:
		}
	})
	defer close(released)
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	if !stream.Next() {
		t.Fatal(stream.Err())
	}
	done := make(chan bool)
	go func() { done <- stream.Next() }()
	_ = stream.Close()
	if <-done {
		t.Fatal("Next returned true after Close")
	}
	if stream.Err() != nil {
		t.Fatalf("Err after Close = %v", stream.Err())
	}
}

func TestStreamContextCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := newScriptServer(t, sseReply(eventFrame(1)))
	stream := testClient(srv.Server, newFakeClock(), option.WithSleep(func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	})).Events.Stream(ctx, StreamParams{})
	var seqs []int64
	for ev, err := range stream.All() {
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			break
		}
		seqs = append(seqs, ev.Sequence)
	}
	if !slices.Equal(seqs, []int64{1}) {
		t.Fatalf("seqs = %v", seqs)
	}
}

func TestStreamRejectsNonSSEResponse(t *testing.T) {
	srv := newScriptServer(t, jsonReply(200, map[string]any{}))
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	if stream.Next() {
		t.Fatal("unexpected event")
	}
	mustAs(t, stream.Err(), new(*APIError))
}

func TestStreamReconnectsAfterConnectionDropMidEvent(t *testing.T) {
	drop := func(w http.ResponseWriter, r *http.Request) {
		sseReply(eventFrame(1), "id: 2\ndata: {\"id\":")(w, r)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // the network dies in the middle of event 2
		}
	}
	srv := newScriptServer(t, drop, sseReply(eventFrame(2), eventFrame(3)))
	clock := newFakeClock()
	stream := testClient(srv.Server, clock).Events.Stream(context.Background(), StreamParams{})
	defer stream.Close()
	if got := collect(t, stream, 3); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("got %v (err %v)", got, stream.Err())
	}
	if got := srv.recorded()[1].Header.Get("Last-Event-ID"); got != "1" {
		t.Fatalf("resumed from %q: the half-received event 2 must not count as delivered", got)
	}
	if got := clock.Sleeps(); len(got) != 1 || got[0] != time.Second {
		t.Fatalf("sleeps = %v, want the 1 s default reconnect delay", got)
	}
}

func TestStreamAsksForAnUncachedEventStream(t *testing.T) {
	srv := newScriptServer(t, sseReply(eventFrame(1)))
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	defer stream.Close()
	if got := collect(t, stream, 1); !slices.Equal(got, []int64{1}) {
		t.Fatalf("got %v (err %v)", got, stream.Err())
	}
	h := srv.recorded()[0].Header
	if h.Get("Cache-Control") != "no-cache" || h.Get("Accept") != "text/event-stream" {
		t.Fatalf("Cache-Control = %q, Accept = %q", h.Get("Cache-Control"), h.Get("Accept"))
	}
}

func TestStream204NoContentEndsTheStream(t *testing.T) {
	noContent := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	srv := newScriptServer(t, sseReply(eventFrame(1)), noContent, sseReply(eventFrame(2)))
	clock := newFakeClock()
	stream := testClient(srv.Server, clock).Events.Stream(context.Background(), StreamParams{})
	defer stream.Close()
	if got := collect(t, stream, 99); !slices.Equal(got, []int64{1}) {
		t.Fatalf("got %v", got)
	}
	if stream.Err() != nil {
		t.Fatalf("a 204 is a clean end, got %v", stream.Err())
	}
	if got := len(srv.recorded()); got != 2 {
		t.Fatalf("%d requests: the stream reconnected after the 204", got)
	}
	if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Fatalf("sleeps = %v", got)
	}
}

func TestStream204OnTheFirstConnectionEndsTheStream(t *testing.T) {
	srv := newScriptServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	if stream.Next() || stream.Err() != nil || len(srv.recorded()) != 1 {
		t.Fatalf("err = %v, requests = %d", stream.Err(), len(srv.recorded()))
	}
}

// idlessFrame is an event without an id: line (it inherits the last event id in effect).
func idlessFrame(seq int64) string {
	data, _ := json.Marshal(eventJSON(fmt.Sprintf("evt_%d", seq), seq))
	return fmt.Sprintf("event: order.created\ndata: %s\n\n", data)
}

func TestStreamDedupesBySequenceNotByTheInheritedID(t *testing.T) {
	srv := newScriptServer(t,
		sseReply(eventFrame(1), idlessFrame(2)),
		// A new connection inherits the resume point too; 1 is a duplicate by its own sequence.
		sseReply(idlessFrame(1), idlessFrame(3)),
		sseReply(eventFrame(4)),
	)
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	defer stream.Close()
	if got := collect(t, stream, 4); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Fatalf("got %v (err %v): an event without id: after one with an id must be delivered once", got, stream.Err())
	}
	reqs := srv.recorded()
	if reqs[1].Header.Get("Last-Event-ID") != "1" || reqs[2].Header.Get("Last-Event-ID") != "1" {
		t.Fatalf("Last-Event-ID = %q, %q: the resume point is the last id the server set", reqs[1].Header.Get("Last-Event-ID"), reqs[2].Header.Get("Last-Event-ID"))
	}
}

func TestStreamEmptyIDResetsTheResumePoint(t *testing.T) {
	srv := newScriptServer(t, sseReply(eventFrame(1), "id:\n"+idlessFrame(2)), sseReply(eventFrame(3)))
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{LastEventID: "0"})
	defer stream.Close()
	if got := collect(t, stream, 2); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("got %v (err %v)", got, stream.Err())
	}
	if stream.LastEventID() != "" {
		t.Fatalf("LastEventID = %q after an empty id:", stream.LastEventID())
	}
	if got := collect(t, stream, 1); !slices.Equal(got, []int64{3}) {
		t.Fatalf("got %v (err %v)", got, stream.Err())
	}
	reqs := srv.recorded()
	if reqs[0].Header.Get("Last-Event-ID") != "0" {
		t.Fatalf("first Last-Event-ID = %q", reqs[0].Header.Get("Last-Event-ID"))
	}
	if _, sent := reqs[1].Header["Last-Event-Id"]; sent {
		t.Fatalf("reconnect sent Last-Event-ID %q after an empty id:", reqs[1].Header.Get("Last-Event-ID"))
	}
}

// redirectReply answers status with a Location header (absent when location is nil).
func redirectReply(status int, location *string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if location != nil {
			w.Header().Set("Location", *location)
		}
		w.WriteHeader(status)
	}
}

func TestStreamFollowsRedirectsDroppingAuthorizationAcrossOrigins(t *testing.T) {
	other := newScriptServer(t, sseReply(eventFrame(8)))
	srv := newScriptServer(t,
		redirectReply(http.StatusFound, Ptr("/v1/events/stream2")),
		redirectReply(http.StatusPermanentRedirect, Ptr("stream3")),
		redirectReply(http.StatusTemporaryRedirect, Ptr("/v1/events/stream4?x=1")),
		redirectReply(http.StatusMovedPermanently, Ptr(other.URL+"/elsewhere")),
	)
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{LastEventID: "7"})
	defer stream.Close()
	if got := collect(t, stream, 1); !slices.Equal(got, []int64{8}) {
		t.Fatalf("got %v (err %v)", got, stream.Err())
	}
	same := srv.recorded()
	if len(same) != 4 || same[1].Path != "/v1/events/stream2" || same[2].Path != "/v1/events/stream3" ||
		same[3].Path != "/v1/events/stream4" || same[3].Query != "x=1" {
		t.Fatalf("same-origin hops = %+v", same)
	}
	for _, r := range same {
		if r.Header.Get("Authorization") != "Bearer tk_test_secret" || r.Header.Get("Last-Event-ID") != "7" {
			t.Fatalf("same-origin hop %s: Authorization %q, Last-Event-ID %q", r.Path, r.Header.Get("Authorization"), r.Header.Get("Last-Event-ID"))
		}
	}
	hop := other.recorded()[0]
	if _, sent := hop.Header["Authorization"]; sent || hop.Path != "/elsewhere" {
		t.Fatalf("cross-origin hop %s sent Authorization %q", hop.Path, hop.Header.Get("Authorization"))
	}
	if hop.Header.Get("Cache-Control") != "no-cache" || hop.Header.Get("Last-Event-ID") != "7" || hop.Header.Get("Accept") != "text/event-stream" {
		t.Fatalf("cross-origin hop headers = %v", hop.Header)
	}
}

func TestStreamRedirectWithoutUsableLocationIsAStreamRedirectError(t *testing.T) {
	for name, location := range map[string]*string{
		"missing": nil, "empty": Ptr(""), "not http": Ptr("mailto:x@y.test"), "invalid": Ptr("http://[bad"),
	} {
		t.Run(name, func(t *testing.T) {
			srv := newScriptServer(t, redirectReply(http.StatusFound, location), sseReply(eventFrame(1)))
			clock := newFakeClock()
			stream := testClient(srv.Server, clock).Events.Stream(context.Background(), StreamParams{})
			if stream.Next() {
				t.Fatal("unexpected event")
			}
			var redirect *StreamRedirectError
			mustAs(t, stream.Err(), &redirect)
			mustAs(t, stream.Err(), new(*APIError))
			want := ""
			if location != nil {
				want = *location
			}
			if redirect.StatusCode != http.StatusFound || redirect.Location != want {
				t.Fatalf("status %d, location %q", redirect.StatusCode, redirect.Location)
			}
			if len(srv.recorded()) != 1 || len(clock.Sleeps()) != 0 {
				t.Fatalf("the redirect was retried: %d requests", len(srv.recorded()))
			}
		})
	}
}

func TestStreamRedirectsAreBounded(t *testing.T) {
	srv := newScriptServer(t, redirectReply(http.StatusPermanentRedirect, Ptr("/v1/loop")))
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{})
	if stream.Next() {
		t.Fatal("unexpected event")
	}
	var redirect *StreamRedirectError
	mustAs(t, stream.Err(), &redirect)
	if got := len(srv.recorded()); got != constants.StreamMaxRedirects+1 {
		t.Fatalf("%d requests, want 1 + %d redirects", got, constants.StreamMaxRedirects)
	}
}

func TestStreamIdleTimeoutIsAnOptionOfTheCall(t *testing.T) {
	released := make(chan struct{})
	silent := func(w http.ResponseWriter, r *http.Request) {
		sseReply(eventFrame(1))(w, r)
		select { // no bytes until the client gives up on the connection
		case <-r.Context().Done():
		case <-released:
		}
	}
	srv := newScriptServer(t, silent, sseReply(eventFrame(2)))
	defer close(released)
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{},
		option.WithStreamIdleTimeout(20*time.Millisecond))
	defer stream.Close()
	if got := collect(t, stream, 2); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("got %v (err %v): the 20 ms idle timeout did not replace the silent connection", got, stream.Err())
	}
	if got := srv.recorded()[1].Header.Get("Last-Event-ID"); got != "1" {
		t.Fatalf("reconnect Last-Event-ID = %q", got)
	}
}

func TestStreamIdleTimeoutMustBePositive(t *testing.T) {
	srv := newScriptServer(t, sseReply(eventFrame(1)))
	stream := testClient(srv.Server, newFakeClock()).Events.Stream(context.Background(), StreamParams{}, option.WithStreamIdleTimeout(0))
	if stream.Next() {
		t.Fatal("unexpected event")
	}
	mustAs(t, stream.Err(), new(*ConfigError))
	if len(srv.recorded()) != 0 {
		t.Fatal("a misconfigured stream sent a request")
	}
}

func TestStreamRawExposesTypeDataIDAndRetry(t *testing.T) {
	srv := newScriptServer(t, sseReply(
		"retry: 3000\n\nevent: reset\ndata: {\"reason\":\"cursor_expired\",\"oldest_sequence\":5}\n\n",
		eventFrame(5), eventFrame(5), "event: future.kind\ndata: x\ndata: y\n\n",
	))
	stream := testClient(srv.Server, newFakeClock()).Events.StreamRaw(context.Background(), StreamParams{LastEventID: "1"})
	defer stream.Close()
	var got []StreamMessage
	for len(got) < 4 && stream.Next() {
		got = append(got, stream.Current())
	}
	if len(got) != 4 {
		t.Fatalf("got %d messages (err %v)", len(got), stream.Err())
	}
	type row struct {
		Type, ID string
		Retry    time.Duration
	}
	var rows []row
	for _, m := range got {
		r := row{Type: m.Type, ID: m.ID}
		if m.Retry != nil {
			r.Retry = *m.Retry
		}
		rows = append(rows, r)
	}
	// The reset notice and the repeated event 5 are yielded as sent (no dedupe); the retry: is
	// reported on the message that follows it.
	want := []row{{"reset", "1", 3 * time.Second}, {"order.created", "5", 0}, {"order.created", "5", 0}, {"future.kind", "5", 0}}
	if !slices.Equal(rows, want) {
		t.Fatalf("messages = %+v, want %+v", rows, want)
	}
	if got[3].Data != "x\ny" || got[1].Retry != nil {
		t.Fatalf("data = %q, retry = %v", got[3].Data, got[1].Retry)
	}
	var ev Event
	if err := json.Unmarshal([]byte(got[1].Data), &ev); err != nil || ev.Sequence != 5 {
		t.Fatalf("data of event 5 = %q", got[1].Data)
	}
	if r := srv.recorded()[0]; r.Header.Get("Last-Event-ID") != "1" || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("raw stream request headers = %v", r.Header)
	}
}
