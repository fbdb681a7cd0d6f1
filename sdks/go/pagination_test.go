package triggers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zapier/triggers-sdk-go/option"
)

func pageReply(next any, ids ...string) http.HandlerFunc {
	data := []any{}
	for i, id := range ids {
		data = append(data, eventJSON(id, int64(i)))
	}
	return jsonReply(200, map[string]any{"data": data, "next_cursor": next})
}

func TestListFollowsCursorsAcrossPages(t *testing.T) {
	srv := newScriptServer(t, pageReply("c1", "evt_1", "evt_2"), pageReply("c2", "evt_3"), pageReply(nil, "evt_4"))
	client := testClient(srv.Server, newFakeClock())
	since := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	var ids []string
	for ev, err := range client.Events.List(context.Background(), EventListParams{Type: []string{"order.*", "user.*"}, Status: EventStatusPending, Since: since, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	if !slices.Equal(ids, []string{"evt_1", "evt_2", "evt_3", "evt_4"}) {
		t.Fatalf("ids = %v", ids)
	}
	reqs := srv.recorded()
	first, _ := url.ParseQuery(reqs[0].Query)
	if !slices.Equal(first["type"], []string{"order.*", "user.*"}) || first.Get("status") != "pending" ||
		first.Get("limit") != "2" || first.Get("since") != "2026-11-24T00:00:00Z" || first.Has("cursor") || first.Has("source") {
		t.Fatalf("first query = %v", first)
	}
	for i, want := range []string{"c1", "c2"} {
		q, _ := url.ParseQuery(reqs[i+1].Query)
		if q.Get("cursor") != want || q.Get("limit") != "2" || len(q["type"]) != 2 {
			t.Fatalf("page %d query = %v", i+2, q)
		}
	}
}

func TestListStopsFetchingWhenTheLoopBreaks(t *testing.T) {
	srv := newScriptServer(t, pageReply("c1", "evt_1", "evt_2"), pageReply(nil, "evt_3"))
	client := testClient(srv.Server, newFakeClock())
	for ev, err := range client.Events.List(context.Background(), EventListParams{}) {
		if err != nil || ev.ID != "evt_1" {
			t.Fatalf("%v %v", ev.ID, err)
		}
		break
	}
	if n := len(srv.recorded()); n != 1 {
		t.Fatalf("fetched %d pages for one item", n)
	}
}

func TestListYieldsErrorAndStops(t *testing.T) {
	srv := newScriptServer(t, pageReply("c1", "evt_1"), problemReply(400, "malformed-request"))
	client := testClient(srv.Server, newFakeClock())
	var ids []string
	var errs []error
	for ev, err := range client.Events.List(context.Background(), EventListParams{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, ev.ID)
	}
	if !slices.Equal(ids, []string{"evt_1"}) || len(errs) != 1 {
		t.Fatalf("ids=%v errs=%v", ids, errs)
	}
	mustAs(t, errs[0], new(*BadRequestError))
}

func TestListPages(t *testing.T) {
	srv := newScriptServer(t, pageReply("c1", "evt_1", "evt_2"), pageReply(nil, "evt_3"))
	client := testClient(srv.Server, newFakeClock())
	var sizes []int
	var cursors []string
	for page, err := range client.Inbox.ListPages(context.Background(), InboxListParams{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page.Data))
		if page.NextCursor != nil {
			cursors = append(cursors, *page.NextCursor)
		}
	}
	if !slices.Equal(sizes, []int{2, 1}) || !slices.Equal(cursors, []string{"c1"}) {
		t.Fatalf("sizes=%v cursors=%v", sizes, cursors)
	}
	if srv.recorded()[0].Path != "/v1/inbox" {
		t.Fatalf("path = %s", srv.recorded()[0].Path)
	}
}

func TestInboxIterateAcksNacksAndExtends(t *testing.T) {
	lease := map[string]any{
		"lease_id": "lse_1", "leased_until": "2026-11-25T12:00:30Z",
		"messages": []any{
			map[string]any{"event": eventJSON("evt_1", 1), "receipt": "rcpt_1", "delivery_count": 1},
			map[string]any{"event": eventJSON("evt_2", 2), "receipt": "rcpt_2", "delivery_count": 2},
			map[string]any{"event": eventJSON("evt_3", 3), "receipt": "rcpt_3", "delivery_count": 1},
		},
	}
	ok := func(receipt string) http.HandlerFunc {
		return jsonReply(200, map[string]any{"results": []any{map[string]any{"receipt": receipt, "status": "ok"}}})
	}
	srv := newScriptServer(t,
		jsonReply(200, lease),
		ok("rcpt_1"),
		ok("rcpt_2"),
		jsonReply(200, map[string]any{"results": []any{map[string]any{"receipt": "rcpt_3", "status": "expired", "detail": "lease over"}}}),
		jsonReply(200, map[string]any{"lease_id": "lse_2", "leased_until": "2026-11-25T12:00:30Z", "messages": []any{}}),
	)
	client := testClient(srv.Server, newFakeClock())
	ctx := context.Background()
	var settled []error
	for msg, err := range client.Inbox.Iterate(ctx, InboxIterateParams{BatchSize: 10, VisibilityTimeout: 90 * time.Second, Types: []string{"order.*"}, StopWhenEmpty: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if msg.LeaseID != "lse_1" {
			t.Fatalf("lease id = %q", msg.LeaseID)
		}
		switch msg.Event.ID {
		case "evt_1":
			settled = append(settled, msg.Ack(ctx))
		case "evt_2":
			settled = append(settled, msg.Nack(ctx, 1500*time.Millisecond))
		case "evt_3":
			settled = append(settled, msg.Extend(ctx, time.Minute))
		}
	}
	if settled[0] != nil || settled[1] != nil {
		t.Fatalf("settled = %v", settled)
	}
	var receiptErr *ReceiptError
	mustAs(t, settled[2], &receiptErr)
	if receiptErr.Status != "expired" || receiptErr.Receipt != "rcpt_3" {
		t.Fatalf("receipt error = %+v", receiptErr)
	}
	reqs := srv.recorded()
	bodies := make([]map[string]any, len(reqs))
	for i, r := range reqs {
		_ = json.Unmarshal(r.Body, &bodies[i])
	}
	wantPaths := []string{"/v1/inbox/lease", "/v1/inbox/ack", "/v1/inbox/nack", "/v1/inbox/extend", "/v1/inbox/lease"}
	for i, p := range wantPaths {
		if reqs[i].Path != p {
			t.Fatalf("request %d path %s, want %s", i, reqs[i].Path, p)
		}
	}
	if bodies[0]["max_events"] != float64(10) || bodies[0]["visibility_timeout"] != float64(90) || bodies[0]["wait"] != float64(0) {
		t.Fatalf("lease body = %v", bodies[0])
	}
	if bodies[2]["delay"] != float64(2) || bodies[3]["visibility_timeout"] != float64(60) {
		t.Fatalf("durations must be whole seconds rounded up: nack=%v extend=%v", bodies[2], bodies[3])
	}
	if !strings.Contains(string(reqs[1].Body), `"receipts":["rcpt_1"]`) {
		t.Fatalf("ack body = %s", reqs[1].Body)
	}
}

func TestInboxIterateLongPollsByDefaultAndReportsErrors(t *testing.T) {
	srv := newScriptServer(t, problemReply(403, "forbidden"))
	client := testClient(srv.Server, newFakeClock())
	var errs []error
	for _, err := range client.Inbox.Iterate(context.Background(), InboxIterateParams{}, option.WithMaxRetries(0)) {
		errs = append(errs, err)
	}
	if len(errs) != 1 {
		t.Fatalf("errs = %v", errs)
	}
	mustAs(t, errs[0], new(*PermissionDeniedError))
	if body := string(srv.recorded()[0].Body); body != `{"wait":20}` {
		t.Fatalf("lease body = %s", body)
	}
}
