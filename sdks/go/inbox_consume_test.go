package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zapier/triggers-sdk-go/internal/constants"
)

// inboxServer serves one lease of n events, then empty leases, and records settlements.
func inboxServer(t *testing.T, n int) (*scriptServer, func() (acked, nacked []string)) {
	var mu sync.Mutex
	var acked, nacked []string
	leased := false
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Receipts []string `json:"receipts"`
		}
		switch r.URL.Path {
		case "/v1/inbox/lease":
			mu.Lock()
			first := !leased
			leased = true
			mu.Unlock()
			messages := []any{}
			for i := 1; first && i <= n; i++ {
				id := "evt_" + string(rune('0'+i))
				messages = append(messages, map[string]any{"event": eventJSON(id, int64(i)), "receipt": "rcpt_" + id, "delivery_count": 1})
			}
			jsonReply(200, map[string]any{"lease_id": "lse_1", "leased_until": "2026-11-25T12:00:30Z", "messages": messages})(w, r)
			return
		case "/v1/inbox/ack", "/v1/inbox/nack":
			_ = json.NewDecoder(r.Body).Decode(&body)
			mu.Lock()
			if r.URL.Path == "/v1/inbox/ack" {
				acked = append(acked, body.Receipts...)
			} else {
				nacked = append(nacked, body.Receipts...)
			}
			mu.Unlock()
			jsonReply(200, map[string]any{"results": []any{map[string]any{"receipt": body.Receipts[0], "status": "ok"}}})(w, r)
		}
	})
	return srv, func() ([]string, []string) {
		mu.Lock()
		defer mu.Unlock()
		a, n := slices.Clone(acked), slices.Clone(nacked)
		slices.Sort(a)
		slices.Sort(n)
		return a, n
	}
}

func TestConsumeAcksSuccessesAndNacksFailures(t *testing.T) {
	srv, settled := inboxServer(t, 4)
	client := testClient(srv.Server, newFakeClock())
	var running, peak atomic.Int32
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	handler := func(_ context.Context, msg *Message) error {
		now := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		if msg.Event.ID == "evt_1" || msg.Event.ID == "evt_2" {
			started.Done()
			<-release // hold two handlers at once to prove concurrency
		}
		if msg.Event.ID == "evt_3" {
			return errors.New("handler failed")
		}
		return nil
	}
	go func() { started.Wait(); close(release) }()
	err := client.Inbox.Consume(context.Background(), InboxConsumeParams{InboxIterateParams: InboxIterateParams{StopWhenEmpty: true}, Concurrency: 2}, handler)
	if err != nil {
		t.Fatal(err)
	}
	acked, nacked := settled()
	if !slices.Equal(acked, []string{"rcpt_evt_1", "rcpt_evt_2", "rcpt_evt_4"}) || !slices.Equal(nacked, []string{"rcpt_evt_3"}) {
		t.Fatalf("acked %v nacked %v", acked, nacked)
	}
	if peak.Load() != 2 {
		t.Fatalf("peak concurrency %d, want 2", peak.Load())
	}
}

func TestConsumeStopsGracefullyAndSettlesInFlight(t *testing.T) {
	srv, settled := inboxServer(t, 1)
	client := testClient(srv.Server, newFakeClock())
	ctx, cancel := context.WithCancel(context.Background())
	handler := func(context.Context, *Message) error {
		cancel() // shutdown requested while this handler runs
		return nil
	}
	if err := client.Inbox.Consume(ctx, InboxConsumeParams{}, handler); err != nil {
		t.Fatal(err)
	}
	if acked, _ := settled(); !slices.Equal(acked, []string{"rcpt_evt_1"}) {
		t.Fatalf("in-flight message not acked on shutdown: %v", acked)
	}
}

func TestConsumeReturnsLeaseErrors(t *testing.T) {
	srv := newScriptServer(t, problemReply(401, "unauthenticated"))
	err := testClient(srv.Server, newFakeClock()).Inbox.Consume(context.Background(), InboxConsumeParams{}, func(context.Context, *Message) error { return nil })
	mustAs(t, err, new(*AuthenticationError))
}

func TestConsumeDefaultConcurrencyComesFromPolicy(t *testing.T) {
	srv, _ := inboxServer(t, 0)
	client := testClient(srv.Server, newFakeClock())
	err := client.Inbox.Consume(context.Background(), InboxConsumeParams{InboxIterateParams: InboxIterateParams{StopWhenEmpty: true}}, func(context.Context, *Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var lease map[string]any
	_ = json.Unmarshal(srv.recorded()[0].Body, &lease)
	// One lease fills every worker: the default is the policy's, shared with Python and TypeScript.
	if constants.InboxConsumeConcurrency != 8 || lease["max_events"] != float64(constants.InboxConsumeConcurrency) {
		t.Fatalf("lease body = %v, policy concurrency = %d", lease, constants.InboxConsumeConcurrency)
	}
}
