package triggers

import (
	"encoding/json"
	"testing"
	"time"
)

// The generated models must round-trip the wire shapes exactly: nullable fields, free-form data,
// sub-second timestamps and the discriminated ReplayTarget. Unknown fields from a newer server are
// ignored (lenient decoding) unless option.WithStrictDecoding is set.

func TestEventRoundTrip(t *testing.T) {
	in := eventJSON("evt_1", 42)
	in["subject"] = "order/1"
	in["added_by_a_newer_server"] = map[string]any{"x": 1.0}
	in["status"] = "archived" // an enum value this SDK does not know: open enums accept it
	raw, _ := json.Marshal(in)
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Sequence != 42 || ev.Subject == nil || *ev.Subject != "order/1" || ev.ExternalID != nil || ev.Status != "archived" {
		t.Fatalf("decoded %+v", ev)
	}
	if ev.CreatedAt.Nanosecond() != 123_000_000 || ev.Data.(map[string]any)["order_id"] != "123" {
		t.Fatalf("created_at=%v data=%v", ev.CreatedAt, ev.Data)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(out, &back)
	want := map[string]any{}
	_ = json.Unmarshal(raw, &want)
	delete(want, "added_by_a_newer_server")
	for k, v := range want {
		gotJSON, _ := json.Marshal(back[k])
		wantJSON, _ := json.Marshal(v)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s: got %s, want %s", k, gotJSON, wantJSON)
		}
	}
	if len(back) != len(want) {
		t.Errorf("field count %d, want %d", len(back), len(want))
	}
}

func TestReplayTargetDiscriminatedUnion(t *testing.T) {
	for _, tc := range []struct {
		target ReplayTarget
		json   string
	}{
		{ReplayToInbox(), `{"kind":"inbox"}`},
		{ReplayToAll(), `{"kind":"all"}`},
		{ReplayToSubscription("sub_1"), `{"kind":"subscription","subscription_id":"sub_1"}`},
	} {
		out, err := json.Marshal(EventReplayParams{Target: tc.target, DryRun: Ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"dry_run":true,"target":` + tc.json + `}`
		if string(out) != want {
			t.Fatalf("got %s, want %s", out, want)
		}
		var back EventReplayRequest
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		value, err := back.Target.ValueByDiscriminator()
		if err != nil {
			t.Fatal(err)
		}
		switch v := value.(type) {
		case SubscriptionReplayTarget:
			if v.SubscriptionID != "sub_1" {
				t.Fatalf("subscription id = %q", v.SubscriptionID)
			}
		case InboxReplayTarget, AllReplayTarget:
		default:
			t.Fatalf("unexpected variant %T", v)
		}
	}
	var unknown ReplayTarget
	if err := json.Unmarshal([]byte(`{"kind":"bogus"}`), &unknown); err != nil {
		t.Fatal(err)
	}
	if _, err := unknown.ValueByDiscriminator(); err == nil {
		t.Fatal("an unknown kind must not decode to a variant")
	}
}

func TestEventCreateOmitsUnsetOptionalFields(t *testing.T) {
	out, _ := json.Marshal(EventCreateParams{Type: "a.b", Source: "s"})
	if string(out) != `{"source":"s","type":"a.b"}` {
		t.Fatalf("got %s", out)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	out, _ = json.Marshal(EventCreateParams{Type: "a.b", Source: "s", Time: &at, Subject: Ptr(""), Data: nil})
	if string(out) != `{"source":"s","subject":"","time":"2026-01-02T03:04:05Z","type":"a.b"}` {
		t.Fatalf("got %s", out)
	}
}
