package triggers_test

// Contract tests: every scenario of tests/contract/scenarios.yaml against a live reference server,
// through the SDK's public surface. They run only when TRIGGERS_BASE_URL is set (with an admin
// TRIGGERS_API_KEY) and write {"language": "go", "results": {...}} to TRIGGERS_CONTRACT_REPORT.
//
//	TRIGGERS_BASE_URL=http://127.0.0.1:8080/v1 TRIGGERS_API_KEY=tk_... go test -run TestContract -v .

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	triggers "github.com/zapier/triggers-sdk-go"
	"github.com/zapier/triggers-sdk-go/option"
)

type harness struct {
	ctx    context.Context
	admin  *triggers.Client
	base   string
	prefix string
	seq    atomic.Int64
}

// kind returns a fresh event-type prefix ("gc123x4"), so scenarios never see each other's events.
func (h *harness) kind() string {
	return fmt.Sprintf("%sx%d", h.prefix, h.seq.Add(1))
}

func (h *harness) client(key string, opts ...option.RequestOption) *triggers.Client {
	return triggers.NewClient(append([]option.RequestOption{option.WithAPIKey(key), option.WithBaseURL(h.base)}, opts...)...)
}

func (h *harness) create(t *testing.T, typ string, data map[string]any, opts ...option.RequestOption) *triggers.Event {
	t.Helper()
	ev, err := h.admin.Events.Create(h.ctx, triggers.EventCreateParams{Type: typ, Source: "go-contract", Data: data}, opts...)
	if err != nil {
		t.Fatalf("create %s: %v", typ, err)
	}
	return ev
}

func must(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func scenarioIDs(t *testing.T) []string {
	_, here, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "tests", "contract", "scenarios.yaml"))
	if err != nil {
		t.Fatalf("scenario catalogue: %v", err)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- id:\s*(\S+)\s*$`).FindAllStringSubmatch(string(raw), -1) {
		ids = append(ids, strings.Trim(m[1], `"'`))
	}
	return ids
}

func TestContract(t *testing.T) {
	base, key := os.Getenv("TRIGGERS_BASE_URL"), os.Getenv("TRIGGERS_API_KEY")
	if base == "" || key == "" {
		t.Skip("contract tests need a live server: set TRIGGERS_BASE_URL and TRIGGERS_API_KEY (admin)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := &harness{ctx: ctx, base: base, prefix: fmt.Sprintf("gc%d", time.Now().UnixNano()%1_000_000_000)}
	h.admin = h.client(key)
	results := map[string]string{}
	for _, id := range scenarioIDs(t) {
		run, ok := scenarios[id]
		if !ok {
			results[id] = "skip"
			t.Errorf("scenario %s is not implemented by the Go contract suite", id)
			continue
		}
		skipped := false
		passed := t.Run(id, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			run(t, h)
		})
		switch {
		case skipped:
			results[id] = "skip"
		case passed:
			results[id] = "pass"
		default:
			results[id] = "fail"
		}
	}
	if path := os.Getenv("TRIGGERS_CONTRACT_REPORT"); path != "" {
		out, _ := json.MarshalIndent(map[string]any{"language": "go", "results": results}, "", "  ")
		noErr(t, os.WriteFile(path, out, 0o644), "write report")
	}
}

var scenarios = map[string]func(t *testing.T, h *harness){
	"event-create-get": func(t *testing.T, h *harness) {
		typ := h.kind() + ".created"
		ev, err := h.admin.Events.Create(h.ctx, triggers.EventCreateParams{Type: typ, Source: "go-contract",
			Data: map[string]any{"order_id": "123"}, Subject: triggers.Ptr("order/123"), Metadata: map[string]string{"tenant": "acme"}})
		noErr(t, err, "create")
		must(t, strings.HasPrefix(ev.ID, "evt_") && ev.Sequence >= 1 && ev.Status == triggers.EventStatusPending, "created %+v", ev)
		got, err := h.admin.Events.Get(h.ctx, ev.ID)
		noErr(t, err, "get")
		must(t, got.ID == ev.ID && got.Type == typ && got.Data.(map[string]any)["order_id"] == "123", "got %+v", got)
	},
	"event-create-cloudevents-structured": func(t *testing.T, h *harness) {
		ceID := uuid.NewString()
		var raw triggers.RawResponse
		ev, err := h.admin.Events.CreateCloudEvent(h.ctx, triggers.CloudEvent{ID: ceID, Source: "/go-contract", Type: h.kind() + ".ce",
			Data: map[string]any{"order_id": "1"}}, option.WithResponseInto(&raw))
		noErr(t, err, "create cloudevent")
		must(t, raw.StatusCode == 201 && ev.ExternalID != nil && *ev.ExternalID == ceID && ev.Specversion == "1.0", "status %d event %+v", raw.StatusCode, ev)
	},
	"idempotent-retry-returns-original": func(t *testing.T, h *harness) {
		key := uuid.NewString()
		params := triggers.EventCreateParams{Type: h.kind() + ".idem", Source: "go-contract", Data: map[string]any{"n": 1}}
		first, err := h.admin.Events.Create(h.ctx, params, option.WithIdempotencyKey(key))
		noErr(t, err, "first")
		var raw triggers.RawResponse
		second, err := h.admin.Events.Create(h.ctx, params, option.WithIdempotencyKey(key), option.WithResponseInto(&raw))
		noErr(t, err, "second")
		must(t, first.ID == second.ID && raw.IdempotentReplayed, "ids %s/%s replayed=%v", first.ID, second.ID, raw.IdempotentReplayed)
	},
	"idempotency-key-reuse-different-body": func(t *testing.T, h *harness) {
		key := uuid.NewString()
		typ := h.kind() + ".reuse"
		h.create(t, typ, map[string]any{"n": 1}, option.WithIdempotencyKey(key))
		_, err := h.admin.Events.Create(h.ctx, triggers.EventCreateParams{Type: typ, Source: "go-contract", Data: map[string]any{"n": 2}}, option.WithIdempotencyKey(key))
		var reused *triggers.IdempotencyKeyReusedError
		must(t, errors.As(err, &reused), "got %v", err)
		must(t, reused.Slug() == "idempotency-key-reuse" && reused.RequestID != "" && reused.IdempotencyKey == key, "error %+v", reused.APIError)
	},
	"idempotency-auto-key": func(t *testing.T, h *harness) {
		var raw triggers.RawResponse
		ev := h.create(t, h.kind()+".auto", nil, option.WithResponseInto(&raw))
		_, err := uuid.Parse(raw.IdempotencyKey)
		noErr(t, err, "generated key is a UUID")
		status, err := h.admin.IdempotencyKeys.Get(h.ctx, raw.IdempotencyKey)
		noErr(t, err, "idempotency_keys.get")
		must(t, status.Status == triggers.IdempotencyKeyStateCompleted && status.Route == "/events" && status.ResponseStatus != nil &&
			*status.ResponseStatus == 201 && status.ResourceID != nil && *status.ResourceID == ev.ID,
			"status=%s route=%s response_status=%v resource_id=%v (event %s)", status.Status, status.Route, deref(status.ResponseStatus), deref(status.ResourceID), ev.ID)
	},
	"duplicate-source-id-conflict": func(t *testing.T, h *harness) {
		params := triggers.EventCreateParams{Type: h.kind() + ".dup", Source: "go-contract", ID: triggers.Ptr(uuid.NewString())}
		first, err := h.admin.Events.Create(h.ctx, params)
		noErr(t, err, "first")
		_, err = h.admin.Events.Create(h.ctx, params)
		var conflict *triggers.ConflictError
		must(t, errors.As(err, &conflict), "got %v", err)
		must(t, conflict.Extensions["existing_event_id"] == first.ID, "extensions %v", conflict.Extensions)
	},
	"event-batch-mixed-results": func(t *testing.T, h *harness) {
		valid := triggers.EventCreate{Type: h.kind() + ".batch", Source: "go-contract", ID: triggers.Ptr(uuid.NewString())}
		res, err := h.admin.Events.CreateBatch(h.ctx, triggers.EventCreateBatchParams{Events: []triggers.EventCreate{valid, valid, {Type: "", Source: "go-contract"}}})
		noErr(t, err, "create_batch")
		must(t, len(res.Results) == 3, "results %+v", res.Results)
		want := []triggers.BatchItemStatus{triggers.BatchItemStatusCreated, triggers.BatchItemStatusDuplicate, triggers.BatchItemStatusRejected}
		for i, r := range res.Results {
			must(t, r.Index == i && r.Status == want[i], "result %d: %+v", i, r)
		}
		must(t, res.Results[2].Problem != nil && res.Created == 1 && res.Duplicates == 1 && res.Rejected == 1, "batch %+v", res)
	},
	"event-list-type-glob-pagination": func(t *testing.T, h *harness) {
		k := h.kind()
		for range 5 {
			h.create(t, k+".a", nil)
		}
		for range 2 {
			h.create(t, k+".b", nil)
		}
		params := triggers.EventListParams{Type: []string{k + ".a*"}, Limit: 2}
		seen := map[string]bool{}
		for ev, err := range h.admin.Events.List(h.ctx, params) {
			noErr(t, err, "list")
			must(t, !seen[ev.ID] && ev.Type == k+".a", "duplicate or foreign event %s %s", ev.ID, ev.Type)
			seen[ev.ID] = true
		}
		must(t, len(seen) == 5, "auto-pagination yielded %d events", len(seen))
		pages := 0
		var last *triggers.Page[triggers.Event]
		for page, err := range h.admin.Events.ListPages(h.ctx, params) {
			noErr(t, err, "pages")
			pages++
			last = page
		}
		must(t, pages == 3 && last.NextCursor == nil, "pages=%d last cursor %v", pages, last.NextCursor)
	},
	"event-validation-error": func(t *testing.T, h *harness) {
		err := h.admin.Execute(h.ctx, "POST", "events", map[string]any{"type": h.kind() + ".invalid"}, nil)
		var unprocessable *triggers.UnprocessableEntityError
		must(t, errors.As(err, &unprocessable) && unprocessable.Slug() == "validation", "got %v", err)
		must(t, slices.ContainsFunc(unprocessable.Errors, func(e triggers.FieldError) bool { return e.Pointer == "/source" }), "errors %+v", unprocessable.Errors)
	},
	"correlation-causal-order": func(t *testing.T, h *harness) {
		k, corr := h.kind(), "wf_"+uuid.NewString()
		mk := func(name string, cause *string) *triggers.Event {
			ev, err := h.admin.Events.Create(h.ctx, triggers.EventCreateParams{Type: k + "." + name, Source: "go-contract", CorrelationID: &corr, CausationID: cause})
			noErr(t, err, "create "+name)
			return ev
		}
		root := mk("root", nil)
		child := mk("child", &root.ID)
		grandchild := mk("grandchild", &child.ID)
		c, err := h.admin.Events.GetCorrelation(h.ctx, corr)
		noErr(t, err, "get_correlation")
		var order []string
		for _, e := range c.Events {
			order = append(order, e.ID)
		}
		must(t, slices.Equal(order, []string{root.ID, child.ID, grandchild.ID}), "order %v", order)
		must(t, len(c.Roots) == 1 && c.Roots[0].EventID == root.ID && len(c.Roots[0].Children) == 1 && c.Roots[0].Children[0].EventID == child.ID, "roots %+v", c.Roots)
	},
	"event-not-found": func(t *testing.T, h *harness) {
		_, err := h.admin.Events.Get(h.ctx, "evt_00000000000000000000000000")
		var nf *triggers.NotFoundError
		must(t, errors.As(err, &nf) && nf.Slug() == "not-found" && nf.RequestID != "", "got %v", err)
	},
	"stream-receives-live-events": func(t *testing.T, h *harness) {
		k := h.kind()
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		stream := h.admin.Events.Stream(ctx, triggers.StreamParams{Types: []string{k + ".*"}})
		defer stream.Close()
		a := h.create(t, k+".one", nil)
		h.create(t, h.kind()+".other", nil)
		b := h.create(t, k+".two", nil)
		var got []triggers.Event
		for len(got) < 2 && stream.Next() {
			got = append(got, stream.Current())
		}
		noErr(t, stream.Err(), "stream")
		must(t, len(got) == 2 && got[0].ID == a.ID && got[1].ID == b.ID && got[0].Sequence < got[1].Sequence, "got %v", got)
	},
	"stream-resume-last-event-id": func(t *testing.T, h *harness) {
		k := h.kind()
		ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
		defer cancel()
		stream := h.admin.Events.Stream(ctx, triggers.StreamParams{Types: []string{k + ".*"}})
		h.create(t, k+".a", nil)
		h.create(t, k+".a", nil)
		for i := 0; i < 2 && stream.Next(); i++ {
		}
		noErr(t, stream.Err(), "first stream")
		last := stream.LastEventID()
		_ = stream.Close()
		c := h.create(t, k+".b", nil)
		d := h.create(t, k+".b", nil)
		resumed := h.admin.Events.Stream(ctx, triggers.StreamParams{Types: []string{k + ".*"}, LastEventID: last})
		defer resumed.Close()
		var ids []string
		for len(ids) < 2 && resumed.Next() {
			ids = append(ids, resumed.Current().ID)
		}
		noErr(t, resumed.Err(), "resumed stream")
		must(t, slices.Equal(ids, []string{c.ID, d.ID}), "resumed with %v, want %s %s", ids, c.ID, d.ID)
	},
	"inbox-lease-ack": func(t *testing.T, h *harness) {
		typ := h.kind() + ".lease"
		ev := h.create(t, typ, nil)
		lease, err := h.admin.Inbox.Lease(h.ctx, triggers.InboxLeaseParams{Types: []string{typ}})
		noErr(t, err, "lease")
		must(t, len(lease.Messages) == 1 && lease.Messages[0].Event.ID == ev.ID && lease.Messages[0].DeliveryCount == 1, "lease %+v", lease)
		res, err := h.admin.Inbox.Ack(h.ctx, triggers.InboxAckParams{Receipts: []string{lease.Messages[0].Receipt}})
		noErr(t, err, "ack")
		must(t, res.Results[0].Status == triggers.ReceiptStatusOk, "ack %+v", res)
		got, err := h.admin.Events.Get(h.ctx, ev.ID)
		noErr(t, err, "get")
		must(t, got.Status == triggers.EventStatusAcknowledged, "status %s", got.Status)
		for e, err := range h.admin.Inbox.List(h.ctx, triggers.InboxListParams{Type: []string{typ}}) {
			noErr(t, err, "inbox list")
			must(t, e.ID != ev.ID, "acknowledged event still in the inbox")
		}
	},
	"inbox-nack-redelivers": func(t *testing.T, h *harness) {
		typ := h.kind() + ".nack"
		ev := h.create(t, typ, nil)
		msg := leaseOne(t, h, typ, nil)
		noErr(t, msg.Nack(h.ctx, 0), "nack")
		again := leaseOne(t, h, typ, nil)
		must(t, again.Event.ID == ev.ID && again.DeliveryCount == 2, "second lease %+v", again.InboxMessage)
	},
	"inbox-extend": func(t *testing.T, h *harness) {
		typ := h.kind() + ".extend"
		h.create(t, typ, nil)
		msg := leaseOne(t, h, typ, triggers.Ptr(5))
		noErr(t, msg.Extend(h.ctx, 600*time.Second), "extend")
		lease, err := h.admin.Inbox.Lease(h.ctx, triggers.InboxLeaseParams{Types: []string{typ}})
		noErr(t, err, "lease again")
		must(t, len(lease.Messages) == 0, "extended event leased again")
	},
	"inbox-ack-unknown-receipt": func(t *testing.T, h *harness) {
		res, err := h.admin.Inbox.Ack(h.ctx, triggers.InboxAckParams{Receipts: []string{"rcpt_made_up_" + h.kind()}})
		noErr(t, err, "ack")
		must(t, len(res.Results) == 1 && res.Results[0].Status == triggers.ReceiptStatusNotFound, "results %+v", res.Results)
	},
	"inbox-simple-acknowledge": func(t *testing.T, h *harness) {
		ev := h.create(t, h.kind()+".simple", nil)
		noErr(t, h.admin.Inbox.Acknowledge(h.ctx, ev.ID), "acknowledge")
		got, err := h.admin.Events.Get(h.ctx, ev.ID)
		noErr(t, err, "get")
		must(t, got.Status == triggers.EventStatusAcknowledged, "status %s", got.Status)
		noErr(t, h.admin.Inbox.Acknowledge(h.ctx, ev.ID), "acknowledge again")
	},
	"inbox-iterate-helper": func(t *testing.T, h *harness) {
		typ := h.kind() + ".iter"
		want := map[string]bool{}
		for range 3 {
			want[h.create(t, typ, nil).ID] = true
		}
		seen := map[string]int{}
		for msg, err := range h.admin.Inbox.Iterate(h.ctx, triggers.InboxIterateParams{BatchSize: 2, Types: []string{typ}, StopWhenEmpty: true}) {
			noErr(t, err, "iterate")
			seen[msg.Event.ID]++
			noErr(t, msg.Ack(h.ctx), "ack")
		}
		must(t, len(seen) == 3, "seen %v", seen)
		for id, n := range seen {
			must(t, want[id] && n == 1, "event %s seen %d times", id, n)
			ev, err := h.admin.Events.Get(h.ctx, id)
			noErr(t, err, "get")
			must(t, ev.Status == triggers.EventStatusAcknowledged, "status %s", ev.Status)
		}
	},
	"inbox-max-deliveries-to-dlq": func(t *testing.T, h *harness) {
		typ := h.kind() + ".dlq"
		ev := h.create(t, typ, nil)
		entry := deadLetter(t, h, typ, ev.ID)
		must(t, entry.Origin == triggers.DLQOriginInbox && entry.Reason == triggers.DLQReasonMaxDeliveriesExceeded, "entry %+v", entry)
	},
	"dlq-retry-returns-to-inbox": func(t *testing.T, h *harness) {
		typ := h.kind() + ".dlqretry"
		ev := h.create(t, typ, nil)
		entry := deadLetter(t, h, typ, ev.ID)
		_, err := h.admin.DLQ.Retry(h.ctx, entry.ID)
		noErr(t, err, "dlq retry")
		_, err = h.admin.DLQ.Get(h.ctx, entry.ID)
		must(t, errors.As(err, new(*triggers.NotFoundError)), "entry still there: %v", err)
		got, err := h.admin.Events.Get(h.ctx, ev.ID)
		noErr(t, err, "get")
		must(t, got.Status == triggers.EventStatusPending, "status %s", got.Status)
		msg := leaseOne(t, h, typ, nil)
		must(t, msg.Event.ID == ev.ID && msg.DeliveryCount == 1, "lease %+v", msg.InboxMessage)
	},
	"dlq-dismiss": func(t *testing.T, h *harness) {
		typ := h.kind() + ".dismiss"
		ev := h.create(t, typ, nil)
		entry := deadLetter(t, h, typ, ev.ID)
		noErr(t, h.admin.DLQ.Dismiss(h.ctx, entry.ID), "dismiss")
		_, err := h.admin.DLQ.Get(h.ctx, entry.ID)
		must(t, errors.As(err, new(*triggers.NotFoundError)), "got %v", err)
	},
	"subscription-crud": func(t *testing.T, h *harness) {
		sub, err := h.admin.Subscriptions.Create(h.ctx, triggers.SubscriptionCreateParams{URL: "http://127.0.0.1:9/hook", EventTypes: []string{h.kind() + ".*"}})
		noErr(t, err, "create")
		must(t, sub.Secret != nil && strings.HasPrefix(*sub.Secret, "whsec_"), "secret %v", sub.Secret)
		got, err := h.admin.Subscriptions.Get(h.ctx, sub.ID)
		noErr(t, err, "get")
		must(t, got.Secret == nil, "get returned the secret")
		updated, err := h.admin.Subscriptions.Update(h.ctx, sub.ID, triggers.SubscriptionUpdateParams{Enabled: triggers.Ptr(false)})
		noErr(t, err, "update")
		must(t, !updated.Enabled, "update not applied")
		found := false
		for s, err := range h.admin.Subscriptions.List(h.ctx, triggers.SubscriptionListParams{}) {
			noErr(t, err, "list")
			found = found || (s.ID == sub.ID && !s.Enabled)
		}
		must(t, found, "subscription missing from list")
		noErr(t, h.admin.Subscriptions.Delete(h.ctx, sub.ID), "delete")
		_, err = h.admin.Subscriptions.Get(h.ctx, sub.ID)
		must(t, errors.As(err, new(*triggers.NotFoundError)), "after delete: %v", err)
	},
	"subscription-rotate-secret": func(t *testing.T, h *harness) {
		sub, err := h.admin.Subscriptions.Create(h.ctx, triggers.SubscriptionCreateParams{URL: "http://127.0.0.1:9/hook", EventTypes: []string{h.kind() + ".*"}})
		noErr(t, err, "create")
		rotated, err := h.admin.Subscriptions.RotateSecret(h.ctx, sub.ID, triggers.SubscriptionRotateSecretParams{})
		noErr(t, err, "rotate")
		must(t, rotated.Secret != nil && strings.HasPrefix(*rotated.Secret, "whsec_") && *rotated.Secret != *sub.Secret, "rotated %v (old %v)", rotated.Secret, *sub.Secret)
	},
	"subscription-invalid-filter": func(t *testing.T, h *harness) {
		body := map[string]any{"url": "http://127.0.0.1:9/hook", "filter": map[string]any{"regex": map[string]string{"type": ".*"}}}
		err := h.admin.Execute(h.ctx, "POST", "subscriptions", body, nil)
		var unprocessable *triggers.UnprocessableEntityError
		must(t, errors.As(err, &unprocessable), "got %v", err)
		must(t, slices.ContainsFunc(unprocessable.Errors, func(e triggers.FieldError) bool { return strings.HasPrefix(e.Pointer, "/filter") }), "errors %+v", unprocessable.Errors)
	},
	"delivery-listed-for-event": func(t *testing.T, h *harness) {
		k := h.kind()
		sub, err := h.admin.Subscriptions.Create(h.ctx, triggers.SubscriptionCreateParams{URL: "http://127.0.0.1:1/unreachable", EventTypes: []string{k + ".*"}})
		noErr(t, err, "subscribe")
		ev := h.create(t, k+".delivered", nil)
		var deliveries []triggers.Delivery
		for d, err := range h.admin.Events.ListDeliveries(h.ctx, ev.ID, triggers.EventListDeliveriesParams{}) {
			noErr(t, err, "list deliveries")
			deliveries = append(deliveries, d)
		}
		must(t, len(deliveries) == 1 && deliveries[0].SubscriptionID == sub.ID, "deliveries %+v", deliveries)
		d, err := h.admin.Deliveries.Get(h.ctx, deliveries[0].ID)
		noErr(t, err, "get delivery")
		must(t, d.Attempts != nil, "delivery has no attempts array")
	},
	"replay-dry-run": func(t *testing.T, h *harness) {
		k := h.kind()
		matching, err := h.admin.Subscriptions.Create(h.ctx, triggers.SubscriptionCreateParams{URL: "http://127.0.0.1:9/a", EventTypes: []string{k + ".*"},
			Filter: &triggers.Filter{Exact: map[string]string{"data.country": "DE"}}})
		noErr(t, err, "matching subscription")
		excluded, err := h.admin.Subscriptions.Create(h.ctx, triggers.SubscriptionCreateParams{URL: "http://127.0.0.1:9/b", EventTypes: []string{k + ".*"},
			Filter: &triggers.Filter{Exact: map[string]string{"data.country": "FR"}}})
		noErr(t, err, "excluded subscription")
		ev := h.create(t, k+".order", map[string]any{"country": "DE"})
		res, err := h.admin.Events.Replay(h.ctx, ev.ID, triggers.EventReplayParams{Target: triggers.ReplayToAll(), DryRun: triggers.Ptr(true)})
		noErr(t, err, "replay")
		must(t, res.Event == nil && res.DryRun, "dry run stored %+v", res.Event)
		decisions := map[string]triggers.ReplayOutcome{}
		for _, o := range res.Outcomes {
			key := o.Target
			if o.SubscriptionID != nil {
				key = *o.SubscriptionID
			}
			decisions[key] = o
		}
		must(t, decisions["inbox"].Decision == triggers.ReplayDecisionWouldDeliver, "inbox outcome %+v", decisions["inbox"])
		must(t, decisions[matching.ID].Decision == triggers.ReplayDecisionWouldDeliver, "matching outcome %+v", decisions[matching.ID])
		must(t, decisions[excluded.ID].Decision == triggers.ReplayDecisionFiltered && len(decisions[excluded.ID].Trace) > 0, "excluded outcome %+v", decisions[excluded.ID])
		count := 0
		for _, err := range h.admin.Events.List(h.ctx, triggers.EventListParams{Type: []string{k + ".*"}}) {
			noErr(t, err, "list")
			count++
		}
		must(t, count == 1, "dry run stored events: %d", count)
	},
	"replay-to-inbox-with-patch": func(t *testing.T, h *harness) {
		ev := h.create(t, h.kind()+".patch", map[string]any{"order_id": "7", "amount": 10})
		res, err := h.admin.Events.Replay(h.ctx, ev.ID, triggers.EventReplayParams{Target: triggers.ReplayToInbox(), DataPatch: map[string]any{"amount": 99}})
		noErr(t, err, "replay")
		must(t, res.Event != nil && res.Event.ID != ev.ID && res.Event.ReplayOf != nil && *res.Event.ReplayOf == ev.ID, "copy %+v", res.Event)
		data := res.Event.Data.(map[string]any)
		must(t, data["amount"] == float64(99) && data["order_id"] == "7", "data %v", data)
	},
	"replay-job-lifecycle": func(t *testing.T, h *harness) {
		k := h.kind()
		from := time.Now().Add(-time.Minute)
		h.create(t, k+".a", nil)
		h.create(t, k+".b", nil)
		job, err := h.admin.Replays.Create(h.ctx, triggers.ReplayCreateParams{From: from, To: time.Now().Add(time.Second), EventTypes: []string{k + ".*"}, Target: triggers.ReplayToInbox()})
		noErr(t, err, "create replay")
		final := pollReplay(t, h, job.ID)
		must(t, final.Status == triggers.ReplayStatusCOMPLETED && final.Progress.Matched == 2, "status %s, progress %+v (2 events in range)", final.Status, final.Progress)
	},
	"replay-job-cancel": func(t *testing.T, h *harness) {
		k := h.kind()
		h.create(t, k+".a", nil)
		job, err := h.admin.Replays.Create(h.ctx, triggers.ReplayCreateParams{From: time.Now().Add(-time.Minute), To: time.Now().Add(time.Second), EventTypes: []string{k + ".*"}, Target: triggers.ReplayToInbox()})
		noErr(t, err, "create replay")
		cancelled, err := h.admin.Replays.Cancel(h.ctx, job.ID)
		if err != nil {
			var conflict *triggers.ConflictError
			must(t, errors.As(err, &conflict), "cancel: %v", err)
			got, err := h.admin.Replays.Get(h.ctx, job.ID)
			noErr(t, err, "get")
			must(t, got.Status == triggers.ReplayStatusCOMPLETED, "conflict on a %s job", got.Status)
			return
		}
		must(t, slices.Contains([]triggers.ReplayStatus{triggers.ReplayStatusCANCELLING, triggers.ReplayStatusCANCELLED, triggers.ReplayStatusCOMPLETED}, cancelled.Status), "status %s", cancelled.Status)
	},
	"schema-register-and-validate": func(t *testing.T, h *harness) {
		typ := h.kind() + ".schema"
		v, err := h.admin.Schemas.Register(h.ctx, typ, triggers.SchemaRegisterParams{JSONSchema: map[string]any{
			"type": "object", "required": []string{"order_id"}, "properties": map[string]any{"order_id": map[string]any{"type": "string"}}}})
		noErr(t, err, "register")
		must(t, v.Version == 1, "version %d", v.Version)
		ok := h.create(t, typ, map[string]any{"order_id": "1"})
		must(t, ok.SchemaVersion != nil && *ok.SchemaVersion == 1, "schema_version %v", ok.SchemaVersion)
		_, err = h.admin.Events.Create(h.ctx, triggers.EventCreateParams{Type: typ, Source: "go-contract", Data: map[string]any{"order_id": 5}})
		var sv *triggers.SchemaValidationError
		must(t, errors.As(err, &sv), "got %v", err)
		must(t, slices.ContainsFunc(sv.Errors, func(e triggers.FieldError) bool { return strings.HasPrefix(e.Pointer, "/data") }), "errors %+v", sv.Errors)
	},
	"schema-incompatible-rejected": func(t *testing.T, h *harness) {
		typ := h.kind() + ".compat"
		registerV1(t, h, typ)
		_, err := h.admin.Schemas.Register(h.ctx, typ, triggers.SchemaRegisterParams{JSONSchema: propertySchema("integer")})
		var conflict *triggers.ConflictError
		must(t, errors.As(err, &conflict) && conflict.Slug() == "schema-incompatible", "got %v", err)
		list, _ := conflict.Extensions["incompatibilities"].([]any)
		must(t, len(list) > 0, "incompatibilities %v", conflict.Extensions["incompatibilities"])
	},
	"schema-compatibility-check": func(t *testing.T, h *harness) {
		typ := h.kind() + ".check"
		closed := map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{"a": map[string]any{"type": "string"}}}
		_, err := h.admin.Schemas.Register(h.ctx, typ, triggers.SchemaRegisterParams{JSONSchema: closed})
		noErr(t, err, "register")
		candidate := map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
			"a": map[string]any{"type": "string"}, "b": map[string]any{"type": "string"}}}
		res, err := h.admin.Schemas.CheckCompatibility(h.ctx, typ, triggers.SchemaCheckCompatibilityParams{JSONSchema: candidate})
		noErr(t, err, "check")
		must(t, res.Compatible && res.Mode == triggers.CompatibilityModeBACKWARD && len(res.Incompatibilities) == 0, "result %+v", res)
		versions := 0
		for _, err := range h.admin.Schemas.ListVersions(h.ctx, typ, triggers.SchemaListVersionsParams{}) {
			noErr(t, err, "versions")
			versions++
		}
		must(t, versions == 1, "check registered a version (%d versions)", versions)
	},
	"schema-config-modes": func(t *testing.T, h *harness) {
		typ := h.kind() + ".modes"
		registerV1(t, h, typ)
		_, err := h.admin.Schemas.UpdateConfig(h.ctx, typ, triggers.SchemaUpdateConfigParams{Compatibility: triggers.CompatibilityModeNONE})
		noErr(t, err, "update config")
		cfg, err := h.admin.Schemas.GetConfig(h.ctx, typ)
		noErr(t, err, "get config")
		must(t, cfg.Compatibility == triggers.CompatibilityModeNONE, "mode %s", cfg.Compatibility)
		v2, err := h.admin.Schemas.Register(h.ctx, typ, triggers.SchemaRegisterParams{JSONSchema: propertySchema("integer")})
		noErr(t, err, "register v2")
		must(t, v2.Version == 2, "version %d", v2.Version)
	},
	"filter-test-trace": func(t *testing.T, h *harness) {
		typ := h.kind() + ".filter"
		res, err := h.admin.Filters.Test(h.ctx, triggers.FilterTestParams{
			Event:  triggers.EventCreate{Type: typ, Source: "go-contract", Data: map[string]any{"country": "DE"}},
			Filter: &triggers.Filter{All: []triggers.Filter{{Exact: map[string]string{"type": typ}}, {Prefix: map[string]string{"data.country": "D"}}}},
		})
		noErr(t, err, "filters.test")
		leaves := 0
		for _, e := range res.Trace {
			if (e.Dialect == "exact" || e.Dialect == "prefix") && e.Matched {
				leaves++
			}
		}
		must(t, res.Matched && leaves >= 2, "result %+v", res)
	},
	"account-get": func(t *testing.T, h *harness) {
		acct, err := h.admin.Account.Get(h.ctx)
		noErr(t, err, "account")
		u := acct.Usage
		must(t, acct.Limits.MaxDeliveries == 5 && u.EventsTotal >= 0 && u.EventsToday >= 0 && u.InboxDepth >= 0 && u.DLQDepth >= 0 && u.Subscriptions >= 0, "account %+v", acct)
	},
	"api-key-scopes-enforced": func(t *testing.T, h *harness) {
		key, err := h.admin.APIKeys.Create(h.ctx, triggers.APIKeyCreateParams{Name: "go-read-only", Scopes: []triggers.APIKeyScope{triggers.APIKeyScopeEventsRead}})
		noErr(t, err, "create key")
		must(t, key.Key != nil, "key secret not returned")
		reader := h.client(*key.Key)
		for _, err := range reader.Events.ListPages(h.ctx, triggers.EventListParams{Limit: 1}) {
			noErr(t, err, "list with events:read")
			break
		}
		_, err = reader.Events.Create(h.ctx, triggers.EventCreateParams{Type: h.kind() + ".denied", Source: "go-contract"})
		var denied *triggers.PermissionDeniedError
		must(t, errors.As(err, &denied) && denied.Slug() == "forbidden", "got %v", err)
	},
	"auth-invalid-key": func(t *testing.T, h *harness) {
		_, err := h.client("tk_made_up_key_for_go_contract").Account.Get(h.ctx)
		var unauth *triggers.AuthenticationError
		must(t, errors.As(err, &unauth) && unauth.Slug() == "unauthenticated", "got %v", err)
	},
	"tenant-isolation": func(t *testing.T, h *harness) {
		ev := h.create(t, h.kind()+".private", nil)
		other := newAccountClient(t, h, "go-tenant")
		_, err := other.Events.Get(h.ctx, ev.ID)
		must(t, errors.As(err, new(*triggers.NotFoundError)), "other account read the event: %v", err)
	},
	"rate-limit-retry-after": func(t *testing.T, h *harness) {
		limited := newAccountClient(t, h, "go-ratelimit", option.WithMaxRetries(0))
		var rl *triggers.RateLimitError
		for i := 0; i < 5000 && rl == nil; i++ {
			_, err := limited.Account.Get(h.ctx)
			if err != nil && !errors.As(err, &rl) {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		must(t, rl != nil && rl.RetryAfter != nil && *rl.RetryAfter > 0, "no 429 with Retry-After (last %v)", rl)
		_, err := limited.Account.Get(h.ctx, option.WithMaxRetries(3), option.WithRetryBudget(10*time.Second))
		noErr(t, err, "with retries the SDK waits and succeeds")
	},
	"health-and-stats": func(t *testing.T, h *harness) {
		health, err := h.admin.Ops.Health(h.ctx)
		noErr(t, err, "health")
		stats, err := h.admin.Ops.Stats(h.ctx, triggers.OpsStatsParams{})
		noErr(t, err, "stats")
		must(t, health.Status == "ok" && stats.IngestLatencyMS.P50 <= stats.IngestLatencyMS.P99, "health %+v stats %+v", health, stats)
	},
	"request-id-on-errors": func(t *testing.T, h *harness) {
		_, err := h.admin.Subscriptions.Get(h.ctx, "sub_does_not_exist")
		var apiErr *triggers.APIError
		must(t, errors.As(err, &apiErr) && apiErr.StatusCode == 404, "got %v", err)
		must(t, apiErr.RequestID != "" && apiErr.RequestID == apiErr.Header.Get("X-Request-Id"), "request_id %q header %q", apiErr.RequestID, apiErr.Header.Get("X-Request-Id"))
	},
}

func leaseOne(t *testing.T, h *harness, typ string, visibility *int) *triggers.Message {
	t.Helper()
	for msg, err := range h.admin.Inbox.Iterate(h.ctx, triggers.InboxIterateParams{BatchSize: 1, Types: []string{typ}, StopWhenEmpty: true,
		VisibilityTimeout: time.Duration(valueOr(visibility, 0)) * time.Second}) {
		noErr(t, err, "lease")
		return msg
	}
	t.Fatalf("nothing to lease for %s", typ)
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func valueOr(p *int, fallback int) int {
	if p == nil {
		return fallback
	}
	return *p
}

// deadLetter leases and nacks an event until the inbox gives up on it, then returns its DLQ entry.
func deadLetter(t *testing.T, h *harness, typ, eventID string) triggers.DLQEntry {
	t.Helper()
	acct, err := h.admin.Account.Get(h.ctx)
	noErr(t, err, "account")
	for i := 0; i < acct.Limits.MaxDeliveries; i++ {
		msg := leaseOne(t, h, typ, nil)
		must(t, msg.Event.ID == eventID && msg.DeliveryCount == i+1, "lease %d: %+v", i+1, msg.InboxMessage)
		noErr(t, msg.Nack(h.ctx, 0), "nack")
	}
	lease, err := h.admin.Inbox.Lease(h.ctx, triggers.InboxLeaseParams{Types: []string{typ}})
	noErr(t, err, "final lease")
	must(t, len(lease.Messages) == 0, "event leased beyond max_deliveries")
	for entry, err := range h.admin.DLQ.List(h.ctx, triggers.DLQListParams{EventType: typ}) {
		noErr(t, err, "dlq list")
		if entry.EventID == eventID {
			return entry
		}
	}
	t.Fatalf("no DLQ entry for %s", eventID)
	return triggers.DLQEntry{}
}

func pollReplay(t *testing.T, h *harness, id string) *triggers.Replay {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		job, err := h.admin.Replays.Get(h.ctx, id)
		noErr(t, err, "get replay")
		switch job.Status {
		case triggers.ReplayStatusCOMPLETED, triggers.ReplayStatusFAILED, triggers.ReplayStatusCANCELLED:
			return job
		}
		time.Sleep(100 * time.Millisecond) // polling a live server, not a unit test
	}
	t.Fatalf("replay %s did not finish", id)
	return nil
}

func propertySchema(typ string) map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": typ}}}
}

func registerV1(t *testing.T, h *harness, typ string) {
	t.Helper()
	_, err := h.admin.Schemas.Register(h.ctx, typ, triggers.SchemaRegisterParams{JSONSchema: propertySchema("string")})
	noErr(t, err, "register v1")
}

func newAccountClient(t *testing.T, h *harness, name string, opts ...option.RequestOption) *triggers.Client {
	t.Helper()
	key, err := h.admin.APIKeys.Create(h.ctx, triggers.APIKeyCreateParams{Name: name, NewAccount: triggers.Ptr(name + "-" + h.kind()),
		Scopes: []triggers.APIKeyScope{triggers.APIKeyScopeAdmin}})
	noErr(t, err, "create account key")
	must(t, key.Key != nil, "no key secret")
	return h.client(*key.Key, opts...)
}
