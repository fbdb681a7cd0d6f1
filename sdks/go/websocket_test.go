package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/zapier/triggers-sdk-go/internal/constants"
	"github.com/zapier/triggers-sdk-go/option"
)

// fakeWS is a real local WebSocket server (coder/websocket) speaking enough of triggers.v1 to test the
// client: Bearer auth, welcome, subscriptions with since/types (optionally replaying an overlap the client
// must drop), resets, error frames, a push inbox answering ack/nack/extend, and hooks to drop connections.
type fakeWS struct {
	t      *testing.T
	server *httptest.Server
	mu     sync.Mutex
	events []map[string]any
	conns  []*fakeConn
	// inbox entries not leased yet; receipts counter.
	inbox    []fakeEntry
	receipts int
	acked    []string
	nacked   []string
	extended []string

	heartbeat int
	overlap   int
	oldest    int
	// onFrame runs before the default handling of a client frame; true skips it.
	onFrame func(c *fakeConn, frame map[string]any) bool
}

type fakeEntry struct {
	receipt    string
	event      map[string]any
	deliveries int
}

type fakeConn struct {
	conn     *websocket.Conn
	auth     string
	url      string
	mu       sync.Mutex
	received []map[string]any
	subs     map[string]*fakeSub
	leases   map[string]*fakeLease
	closed   atomic.Bool
}

type fakeSub struct {
	types  []string
	cursor int
}

type fakeLease struct {
	max      int
	inFlight map[string]fakeEntry
}

func newFakeWS(t *testing.T) *fakeWS {
	f := &fakeWS{t: t, heartbeat: 3600}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeWS) client(opts ...option.RequestOption) *Client {
	base := []option.RequestOption{
		option.WithAPIKey("tk_ws_test"), option.WithBaseURL(f.server.URL + "/v1"),
		option.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		option.WithRandom(func() float64 { return 0 }),
	}
	return NewClient(append(base, opts...)...)
}

func (f *fakeWS) send(c *fakeConn, frame map[string]any) {
	data, _ := json.Marshal(frame)
	_ = c.conn.Write(context.Background(), websocket.MessageText, data)
}

func (f *fakeWS) connections() []*fakeConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*fakeConn(nil), f.conns...)
}

func (f *fakeWS) open() []*fakeConn {
	var open []*fakeConn
	for _, c := range f.connections() {
		if !c.closed.Load() {
			open = append(open, c)
		}
	}
	return open
}

func (c *fakeConn) frames(kind string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, frame := range c.received {
		if frame["type"] == kind {
			out = append(out, frame)
		}
	}
	return out
}

func (f *fakeWS) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/events/ws" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") == "Bearer tk_refused_by_http" {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"https://triggers.dev/problems/unauthenticated","title":"Unauthenticated","status":401,"detail":"unknown API key"}`))
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"triggers.v1"}})
	if err != nil {
		return
	}
	c := &fakeConn{conn: conn, auth: r.Header.Get("Authorization"), url: r.URL.String(), subs: map[string]*fakeSub{}, leases: map[string]*fakeLease{}}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	defer c.closed.Store(true)
	if c.auth != "Bearer tk_ws_test" {
		f.send(c, map[string]any{"type": "error", "id": nil, "problem": map[string]any{
			"type": "https://triggers.dev/problems/unauthenticated", "title": "Unauthenticated", "status": 401, "detail": "unknown API key"}})
		_ = conn.Close(websocket.StatusCode(4401), "unauthenticated")
		return
	}
	f.send(c, map[string]any{"type": "welcome", "connection_id": "wsc_1", "account_id": "acc_1", "scopes": []string{"admin"},
		"heartbeat_interval": f.heartbeat, "max_frame_bytes": 1048576, "send_queue_limit": 256})
	for {
		_, data, err := conn.Read(context.Background())
		if err != nil {
			return
		}
		var frame map[string]any
		if json.Unmarshal(data, &frame) != nil {
			continue
		}
		c.mu.Lock()
		c.received = append(c.received, frame)
		c.mu.Unlock()
		if f.onFrame != nil && f.onFrame(c, frame) {
			continue
		}
		f.handle(c, frame)
	}
}

func matches(types []string, kind string) bool {
	if len(types) == 0 {
		return true
	}
	for _, glob := range types {
		pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(glob), `\*`, ".*") + "$"
		if regexp.MustCompile(pattern).MatchString(kind) {
			return true
		}
	}
	return false
}

func (f *fakeWS) handle(c *fakeConn, frame map[string]any) {
	id, _ := frame["id"].(string)
	var receipts []string
	if list, ok := frame["receipts"].([]any); ok {
		for _, r := range list {
			receipts = append(receipts, r.(string))
		}
	}
	results := func() []map[string]any {
		out := []map[string]any{}
		for _, r := range receipts {
			out = append(out, map[string]any{"receipt": r, "status": "ok", "detail": nil})
		}
		return out
	}
	switch frame["type"] {
	case "subscribe":
		var types []string
		if list, ok := frame["types"].([]any); ok {
			for _, t := range list {
				types = append(types, t.(string))
			}
		}
		if len(types) == 1 && types[0] == "bad[" {
			f.send(c, map[string]any{"type": "error", "id": id, "problem": map[string]any{
				"type": "https://triggers.dev/problems/validation", "title": "Invalid", "status": 422, "detail": "bad glob"}})
			return
		}
		f.mu.Lock()
		since := len(f.events)
		if s, ok := frame["since"].(string); ok {
			fmt.Sscan(s, &since)
		}
		sub := &fakeSub{types: types, cursor: since}
		f.send(c, map[string]any{"type": "subscribed", "id": id, "cursor": fmt.Sprint(since)})
		start := max(0, since-f.overlap)
		if f.oldest > 0 && since < f.oldest-1 {
			f.send(c, map[string]any{"type": "reset", "subscription": id, "reason": "cursor_expired", "oldest_sequence": f.oldest})
			start = f.oldest - 1
		}
		for _, ev := range f.events[start:] {
			f.deliver(c, id, sub, ev, true)
		}
		c.mu.Lock()
		c.subs[id] = sub
		c.mu.Unlock()
		f.mu.Unlock()
	case "unsubscribe":
		c.mu.Lock()
		delete(c.subs, id)
		delete(c.leases, id)
		c.mu.Unlock()
	case "lease":
		c.mu.Lock()
		c.leases[id] = &fakeLease{max: int(frame["max_in_flight"].(float64)), inFlight: map[string]fakeEntry{}}
		c.mu.Unlock()
		f.pump()
	case "ack":
		f.mu.Lock()
		f.acked = append(f.acked, receipts...)
		f.mu.Unlock()
		f.settled(receipts, false)
		f.send(c, map[string]any{"type": "acked", "id": id, "results": results()})
	case "nack":
		f.mu.Lock()
		f.nacked = append(f.nacked, receipts...)
		f.mu.Unlock()
		f.settled(receipts, true)
		f.send(c, map[string]any{"type": "nacked", "id": id, "results": results()})
	case "extend":
		f.mu.Lock()
		f.extended = append(f.extended, receipts...)
		f.mu.Unlock()
		f.send(c, map[string]any{"type": "extended", "id": id, "results": results()})
	case "pong":
	}
}

// deliver sends ev to one subscription; the caller holds f.mu.
func (f *fakeWS) deliver(c *fakeConn, id string, sub *fakeSub, ev map[string]any, replay bool) {
	seq := int(ev["sequence"].(int64))
	if (!replay && seq <= sub.cursor) || !matches(sub.types, ev["type"].(string)) {
		return
	}
	sub.cursor = max(sub.cursor, seq)
	f.send(c, map[string]any{"type": "event", "subscription": id, "cursor": fmt.Sprint(seq), "event": ev})
}

func (f *fakeWS) publish(kind string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := int64(len(f.events) + 1)
	ev := eventJSON(fmt.Sprintf("evt_%d", seq), seq)
	ev["type"] = kind
	f.events = append(f.events, ev)
	for _, c := range f.conns {
		if c.closed.Load() {
			continue
		}
		c.mu.Lock()
		for id, sub := range c.subs {
			f.deliver(c, id, sub, ev, false)
		}
		c.mu.Unlock()
	}
	return ev
}

func (f *fakeWS) enqueue(kind string) {
	ev := f.publish(kind)
	f.mu.Lock()
	f.receipts++
	f.inbox = append(f.inbox, fakeEntry{receipt: fmt.Sprintf("rcpt_%d", f.receipts), event: ev})
	f.mu.Unlock()
	f.pump()
}

func (f *fakeWS) settled(receipts []string, requeue bool) {
	f.mu.Lock()
	for _, c := range f.conns {
		c.mu.Lock()
		for _, lease := range c.leases {
			for _, r := range receipts {
				if entry, ok := lease.inFlight[r]; ok {
					delete(lease.inFlight, r)
					if requeue {
						f.receipts++
						entry.receipt = fmt.Sprintf("rcpt_%d", f.receipts)
						f.inbox = append(f.inbox, entry)
					}
				}
			}
		}
		c.mu.Unlock()
	}
	f.mu.Unlock()
	f.pump()
}

func (f *fakeWS) pump() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		if c.closed.Load() {
			continue
		}
		c.mu.Lock()
		for id, lease := range c.leases {
			for len(lease.inFlight) < lease.max && len(f.inbox) > 0 {
				entry := f.inbox[0]
				f.inbox = f.inbox[1:]
				entry.deliveries++
				lease.inFlight[entry.receipt] = entry
				f.send(c, map[string]any{"type": "message", "lease": id, "receipt": entry.receipt, "delivery_count": entry.deliveries, "event": entry.event})
			}
		}
		c.mu.Unlock()
	}
}

func (f *fakeWS) dropAll() {
	for _, c := range f.open() {
		_ = c.conn.CloseNow()
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSubscribeAuthenticatesAndYieldsMatchingEventsInOrder(t *testing.T) {
	f := newFakeWS(t)
	sub := f.client().Events.Subscribe(context.Background(), SubscribeParams{Types: []string{"order.*"}})
	defer sub.Close()
	c := f.connections()[0]
	if c.auth != "Bearer tk_ws_test" || strings.Contains(c.url, "tk_ws_test") {
		t.Fatalf("auth %q url %q: want the key in Authorization only", c.auth, c.url)
	}
	f.publish("order.created")
	f.publish("user.created")
	f.publish("order.paid")
	var got []string
	for len(got) < 2 && sub.Next() {
		ev := sub.Current()
		got = append(got, fmt.Sprintf("%s/%d", ev.Type, ev.Sequence))
	}
	if strings.Join(got, ",") != "order.created/1,order.paid/3" || sub.LastCursor() != "3" {
		t.Fatalf("got %v cursor %q", got, sub.LastCursor())
	}
}

func TestSubscribeResumesWithoutGapOrDuplicateAcrossDrops(t *testing.T) {
	f := newFakeWS(t)
	f.overlap = 2
	sub := f.client().Events.Subscribe(context.Background(), SubscribeParams{Types: []string{"order.*"}})
	defer sub.Close()
	for range 3 {
		f.publish("order.created")
	}
	var seqs []int64
	for ev, err := range sub.All() {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ev.Sequence)
		if len(seqs) == 2 || len(seqs) == 5 {
			f.dropAll()
			for range 3 {
				f.publish("order.created")
			}
		}
		if len(seqs) == 9 {
			break
		}
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("sequences %v: want 1..9 once each", seqs)
	}
	conns := f.connections()
	if len(conns) < 3 {
		t.Fatalf("%d connections: want a reconnect after each drop", len(conns))
	}
	for _, c := range conns[1:] {
		if subs := c.frames("subscribe"); len(subs) == 0 || subs[0]["since"] == nil {
			t.Fatalf("resubscribe without since: %v", subs)
		}
	}
}

func TestSubscribeResetErrorAndRefusedKey(t *testing.T) {
	t.Run("reset", func(t *testing.T) {
		f := newFakeWS(t)
		f.oldest = 3
		for range 4 {
			f.publish("order.created")
		}
		var resets []StreamReset
		sub := f.client().Events.Subscribe(context.Background(), SubscribeParams{Since: "0"}).OnReset(func(r StreamReset) { resets = append(resets, r) })
		defer sub.Close()
		var seqs []int64
		for len(seqs) < 2 && sub.Next() {
			seqs = append(seqs, sub.Current().Sequence)
		}
		if fmt.Sprint(seqs) != "[3 4]" || len(resets) != 1 || resets[0].OldestSequence != 3 || resets[0].Reason != "cursor_expired" {
			t.Fatalf("seqs %v resets %+v", seqs, resets)
		}
	})
	t.Run("error frame", func(t *testing.T) {
		f := newFakeWS(t)
		sub := f.client().Events.Subscribe(context.Background(), SubscribeParams{Types: []string{"bad["}})
		defer sub.Close()
		if sub.Next() {
			t.Fatal("want no event")
		}
		var unprocessable *UnprocessableEntityError
		if !errors.As(sub.Err(), &unprocessable) || unprocessable.Detail != "bad glob" {
			t.Fatalf("err %v: want UnprocessableEntityError bad glob", sub.Err())
		}
		if n := len(f.connections()); n != 1 {
			t.Fatalf("%d connections: a refused subscription is not retried", n)
		}
	})
	for name, key := range map[string]string{"4401 close": "tk_wrong", "HTTP 401": "tk_refused_by_http"} {
		t.Run(name, func(t *testing.T) {
			f := newFakeWS(t)
			sub := f.client(option.WithAPIKey(key)).Events.Subscribe(context.Background(), SubscribeParams{})
			defer sub.Close()
			if sub.Next() {
				t.Fatal("want no event")
			}
			var auth *AuthenticationError
			if !errors.As(sub.Err(), &auth) {
				t.Fatalf("err %v: want AuthenticationError", sub.Err())
			}
		})
	}
}

func TestSubscribeAnswersPingsAndReplacesADeadServer(t *testing.T) {
	defer func(unit time.Duration) { wsHeartbeatUnit = unit }(wsHeartbeatUnit)
	wsHeartbeatUnit = 20 * time.Millisecond
	f := newFakeWS(t)
	f.heartbeat = 1
	sub := f.client().Events.Subscribe(context.Background(), SubscribeParams{})
	defer sub.Close()
	first := f.connections()[0]
	f.send(first, map[string]any{"type": "ping", "id": "p1"})
	eventually(t, "the pong", func() bool { return len(first.frames("pong")) == 1 })
	if pong := first.frames("pong")[0]; pong["id"] != "p1" {
		t.Fatalf("pong %v: want id p1", pong)
	}
	// The server never pings: after two 20 ms intervals the client gives up on it and reconnects.
	eventually(t, "a second connection", func() bool { return len(f.connections()) >= 2 })
}

func TestSubscribeCloseEndsWithoutError(t *testing.T) {
	f := newFakeWS(t)
	sub := f.client().Events.Subscribe(context.Background(), SubscribeParams{})
	time.AfterFunc(10*time.Millisecond, func() { sub.Close() })
	if sub.Next() || sub.Err() != nil {
		t.Fatalf("Next after Close: err %v", sub.Err())
	}
}

func TestInboxStreamSettlesOverTheConnection(t *testing.T) {
	f := newFakeWS(t)
	for range 3 {
		f.enqueue("job.run")
	}
	ctx := context.Background()
	stream := f.client().Inbox.Stream(ctx, InboxStreamParams{MaxInFlight: 2, VisibilityTimeout: 5 * time.Second, Types: []string{"job.*"}})
	n := 0
	for msg, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		n++
		switch n {
		case 1:
			if err := msg.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := msg.Extend(ctx, time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := msg.Nack(ctx, 7*time.Second); err != nil {
				t.Fatal(err)
			}
		case 3:
			if err := msg.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n == 3 {
			break
		}
	}
	c := f.connections()[0]
	lease := c.frames("lease")[0]
	if lease["max_in_flight"] != 2.0 || lease["visibility_timeout"] != 5.0 {
		t.Fatalf("lease frame %v", lease)
	}
	if nack := c.frames("nack")[0]; nack["delay"] != 7.0 {
		t.Fatalf("nack frame %v", nack)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fmt.Sprint(f.acked) != "[rcpt_1 rcpt_3]" || fmt.Sprint(f.extended) != "[rcpt_2]" || f.nacked[0] != "rcpt_2" {
		t.Fatalf("acked %v extended %v nacked %v", f.acked, f.extended, f.nacked)
	}
	eventually(t, "the unsubscribe", func() bool { return len(c.frames("unsubscribe")) == 1 })
}

func TestInboxStreamResendsAnAckWhoseAnswerWasLost(t *testing.T) {
	f := newFakeWS(t)
	var dropped atomic.Bool
	f.onFrame = func(c *fakeConn, frame map[string]any) bool {
		if frame["type"] == "ack" && dropped.CompareAndSwap(false, true) {
			_ = c.conn.CloseNow()
			return true
		}
		return false
	}
	f.enqueue("job.run")
	ctx := context.Background()
	stream := f.client().Inbox.Stream(ctx, InboxStreamParams{})
	defer stream.Close()
	if !stream.Next() {
		t.Fatal(stream.Err())
	}
	if err := stream.Current().Ack(ctx); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !dropped.Load() || fmt.Sprint(f.acked) != "[rcpt_1]" {
		t.Fatalf("dropped %v acked %v", dropped.Load(), f.acked)
	}
}

func TestInboxStreamSettlesOverHTTPAfterClose(t *testing.T) {
	f := newFakeWS(t)
	f.enqueue("job.run")
	var httpAcks atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/inbox/ack" {
			httpAcks.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"results":[{"receipt":"rcpt_1","status":"ok","detail":null}]}`))
			return
		}
		f.serve(w, r)
	}))
	defer api.Close()
	ctx := context.Background()
	stream := f.client(option.WithBaseURL(api.URL+"/v1")).Inbox.Stream(ctx, InboxStreamParams{})
	if !stream.Next() {
		t.Fatal(stream.Err())
	}
	msg := stream.Current()
	_ = stream.Close()
	if err := msg.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if httpAcks.Load() != 1 {
		t.Fatalf("%d HTTP acks: want 1", httpAcks.Load())
	}
}

func TestConsumeWebSocketMode(t *testing.T) {
	f := newFakeWS(t)
	for range 6 {
		f.enqueue("job.run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running, peak, handled atomic.Int32
	err := f.client().Inbox.Consume(ctx, InboxConsumeParams{Concurrency: 2, Transport: InboxTransportWebSocket}, func(_ context.Context, msg *Message) error {
		now := running.Add(1)
		for {
			old := peak.Load()
			if now <= old || peak.CompareAndSwap(old, now) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		// The first delivery of event 2 fails: it is nacked, comes back (delivery 2) and succeeds.
		if msg.Event.Sequence == 2 && msg.DeliveryCount == 1 {
			return errors.New("handler failed")
		}
		if handled.Add(1) == 6 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.acked) != 6 || fmt.Sprint(f.nacked) != "[rcpt_2]" || peak.Load() > 2 {
		t.Fatalf("acked %v nacked %v peak %d", f.acked, f.nacked, peak.Load())
	}
	if lease := f.conns[0].frames("lease")[0]; lease["max_in_flight"] != 2.0 {
		t.Fatalf("lease %v", lease)
	}
}

func TestSubscribeToAnUnreachableServerGivesUpAfterTheReconnectPolicy(t *testing.T) {
	f := newFakeWS(t)
	unreachable := f.server.URL + "/v1"
	f.server.Close()
	var sleeps atomic.Int32
	client := f.client(option.WithBaseURL(unreachable), option.WithSleep(func(ctx context.Context, _ time.Duration) error {
		sleeps.Add(1)
		return ctx.Err()
	}))
	sub := client.Events.Subscribe(context.Background(), SubscribeParams{}) // returns after the first failure
	defer sub.Close()
	if sub.Next() {
		t.Fatal("an event from a closed server")
	}
	var conn *APIConnectionError
	if !errors.As(sub.Err(), &conn) {
		t.Fatalf("err %v: want an APIConnectionError", sub.Err())
	}
	if got := sleeps.Load(); got != constants.StreamMaxReconnectAttempts {
		t.Fatalf("%d reconnect sleeps: want StreamMaxReconnectAttempts (%d)", got, constants.StreamMaxReconnectAttempts)
	}
}
