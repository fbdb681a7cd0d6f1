package triggers_test

// The WebSocket scenarios of tests/contract/scenarios.yaml (tag websocket): Events.Subscribe and Inbox.Stream
// against the live reference server's GET /events/ws.

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	triggers "github.com/zapier/triggers-sdk-go"
)

func init() {
	for id, run := range wsScenarios {
		scenarios[id] = run
	}
}

// marker creates an event of its own type and returns its sequence: a subscription since it sees exactly what
// is created afterwards.
func marker(t *testing.T, h *harness) string {
	t.Helper()
	return strconv.FormatInt(h.create(t, h.kind()+".marker", nil).Sequence, 10)
}

func takeEvents(t *testing.T, sub *triggers.EventSubscription, n int) []triggers.Event {
	t.Helper()
	var got []triggers.Event
	for len(got) < n && sub.Next() {
		got = append(got, sub.Current())
	}
	noErr(t, sub.Err(), "subscription")
	must(t, len(got) == n, "got %d events, want %d", len(got), n)
	return got
}

func takeMessage(t *testing.T, stream *triggers.InboxStream) *triggers.Message {
	t.Helper()
	must(t, stream.Next(), "no message: %v", stream.Err())
	return stream.Current()
}

func ids(events []triggers.Event) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.ID
	}
	return out
}

func visible(t *testing.T, h *harness, typ string) []string {
	t.Helper()
	var out []string
	for ev, err := range h.admin.Inbox.List(h.ctx, triggers.InboxListParams{Type: []string{typ}}) {
		noErr(t, err, "inbox list")
		out = append(out, ev.ID)
	}
	return out
}

var wsScenarios = map[string]func(t *testing.T, h *harness){
	"ws-subscribe-live-events": func(t *testing.T, h *harness) {
		k := h.kind()
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		sub := h.admin.Events.Subscribe(ctx, triggers.SubscribeParams{Types: []string{k + ".*"}, Since: marker(t, h)})
		defer sub.Close()
		a := h.create(t, k+".a", nil)
		b := h.create(t, k+".b", nil)
		h.create(t, k+"x.other", nil)
		got := takeEvents(t, sub, 2)
		must(t, slices.Equal(ids(got), []string{a.ID, b.ID}) && got[0].Sequence < got[1].Sequence, "got %v", ids(got))
		must(t, sub.LastCursor() == strconv.FormatInt(b.Sequence, 10), "cursor %q, want %d", sub.LastCursor(), b.Sequence)
	},
	"ws-subscribe-filter": func(t *testing.T, h *harness) {
		k := h.kind()
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		sub := h.admin.Events.Subscribe(ctx, triggers.SubscribeParams{
			Types: []string{k + ".*"}, Filter: &triggers.Filter{Exact: map[string]string{"source": k + "-b"}}, Since: marker(t, h),
		})
		defer sub.Close()
		for range 2 {
			_, err := h.admin.Events.Create(h.ctx, triggers.EventCreateParams{Type: k + ".f", Source: k + "-a"})
			noErr(t, err, "create -a")
		}
		wanted, err := h.admin.Events.Create(h.ctx, triggers.EventCreateParams{Type: k + ".f", Source: k + "-b"})
		noErr(t, err, "create -b")
		got := takeEvents(t, sub, 1)
		must(t, got[0].ID == wanted.ID, "got %v, want %s", ids(got), wanted.ID)
	},
	"ws-resume-without-gap": func(t *testing.T, h *harness) {
		k := h.kind()
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		since := marker(t, h)
		var want []string
		for range 4 {
			want = append(want, h.create(t, k+".r", nil).ID)
		}
		sub := h.admin.Events.Subscribe(ctx, triggers.SubscribeParams{Types: []string{k + ".*"}, Since: since})
		head := takeEvents(t, sub, 2)
		_ = sub.Close()
		for range 2 {
			want = append(want, h.create(t, k+".r", nil).ID)
		}
		resumed := h.admin.Events.Subscribe(ctx, triggers.SubscribeParams{Types: []string{k + ".*"}, Since: sub.LastCursor()})
		defer resumed.Close()
		tail := takeEvents(t, resumed, 4)
		must(t, slices.Equal(append(ids(head), ids(tail)...), want), "got %v + %v, want %v", ids(head), ids(tail), want)
	},
	"ws-push-inbox-ack": func(t *testing.T, h *harness) {
		typ := h.kind() + ".p"
		var created []string
		for range 3 {
			created = append(created, h.create(t, typ, nil).ID)
		}
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		stream := h.admin.Inbox.Stream(ctx, triggers.InboxStreamParams{MaxInFlight: 2, Types: []string{typ}})
		defer stream.Close()
		first, second := takeMessage(t, stream), takeMessage(t, stream)
		must(t, first.Event.ID == created[0] && second.Event.ID == created[1] && first.DeliveryCount == 1 && second.DeliveryCount == 1,
			"got %s/%d %s/%d", first.Event.ID, first.DeliveryCount, second.Event.ID, second.DeliveryCount)
		must(t, slices.Equal(visible(t, h, typ), created[2:]), "inbox shows %v: nothing beyond max_in_flight may be leased", visible(t, h, typ))
		noErr(t, first.Ack(ctx), "ack in-band")
		third := takeMessage(t, stream)
		must(t, third.Event.ID == created[2], "third %s", third.Event.ID)
		noErr(t, second.Ack(ctx), "ack second")
		noErr(t, third.Ack(ctx), "ack third")
		ev, err := h.admin.Events.Get(h.ctx, created[0])
		noErr(t, err, "get")
		must(t, ev.Status == triggers.EventStatusAcknowledged, "status %s", ev.Status)
	},
	"ws-push-inbox-nack-extend": func(t *testing.T, h *harness) {
		typ := h.kind() + ".n"
		ev := h.create(t, typ, nil)
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		stream := h.admin.Inbox.Stream(ctx, triggers.InboxStreamParams{Types: []string{typ}})
		defer stream.Close()
		msg := takeMessage(t, stream)
		noErr(t, msg.Extend(ctx, time.Minute), "extend")
		noErr(t, msg.Nack(ctx, 0), "nack")
		again := takeMessage(t, stream)
		must(t, again.Event.ID == ev.ID && again.DeliveryCount == 2, "again %s/%d", again.Event.ID, again.DeliveryCount)
		noErr(t, again.Ack(ctx), "ack")
	},
	"ws-redelivery-after-disconnect": func(t *testing.T, h *harness) {
		typ := h.kind() + ".d"
		ev := h.create(t, typ, nil)
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		stream := h.admin.Inbox.Stream(ctx, triggers.InboxStreamParams{VisibilityTimeout: time.Second, Types: []string{typ}})
		msg := takeMessage(t, stream)
		_ = stream.Close()
		must(t, msg.Event.ID == ev.ID && msg.DeliveryCount == 1, "msg %s/%d", msg.Event.ID, msg.DeliveryCount)
		must(t, len(visible(t, h, typ)) == 0, "closing the stream released the message early")
		waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
		defer cancelWait()
		again := h.admin.Inbox.Stream(waitCtx, triggers.InboxStreamParams{Types: []string{typ}})
		defer again.Close()
		redelivered := takeMessage(t, again)
		must(t, redelivered.Event.ID == ev.ID && redelivered.DeliveryCount == 2, "redelivered %s/%d", redelivered.Event.ID, redelivered.DeliveryCount)
		noErr(t, redelivered.Ack(ctx), "ack")
	},
	"ws-auth-failure": func(t *testing.T, h *harness) {
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		sub := h.client("tk_made_up_key").Events.Subscribe(ctx, triggers.SubscribeParams{})
		defer sub.Close()
		must(t, !sub.Next(), "an event with a made-up key")
		var unauth *triggers.AuthenticationError
		must(t, errors.As(sub.Err(), &unauth) && unauth.Slug() == "unauthenticated", "got %v", sub.Err())
	},
	"ws-error-frame": func(t *testing.T, h *harness) {
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		// The typed Filter cannot name an unknown dialect; a filter naming none is refused the same way.
		sub := h.admin.Events.Subscribe(ctx, triggers.SubscribeParams{Filter: &triggers.Filter{}})
		defer sub.Close()
		must(t, !sub.Next(), "an event despite the bad filter")
		var bad *triggers.BadRequestError
		must(t, errors.As(sub.Err(), &bad) && bad.Slug() == "malformed-request" && bad.RequestID != "", "got %v", sub.Err())
	},
	"ws-scope-missing": func(t *testing.T, h *harness) {
		key, err := h.admin.APIKeys.Create(h.ctx, triggers.APIKeyCreateParams{Name: "go-ws-reader", Scopes: []triggers.APIKeyScope{triggers.APIKeyScopeEventsRead}})
		noErr(t, err, "create key")
		must(t, key.Key != nil, "key secret not returned")
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		stream := h.client(*key.Key).Inbox.Stream(ctx, triggers.InboxStreamParams{})
		defer stream.Close()
		must(t, !stream.Next(), "a message without inbox:consume")
		var denied *triggers.PermissionDeniedError
		must(t, errors.As(stream.Err(), &denied) && denied.Slug() == "forbidden", "got %v", stream.Err())
	},
}
