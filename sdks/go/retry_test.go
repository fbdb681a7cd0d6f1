package triggers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zapier/triggers-sdk-go/option"
)

func createParams() EventCreateParams {
	return EventCreateParams{Type: "order.created", Source: "my-app", Data: map[string]any{"order_id": "123"}}
}

func TestRetryMatrix(t *testing.T) {
	cases := []struct {
		name      string
		first     http.HandlerFunc
		retried   bool
		wantError any
	}{
		{"408", problemReply(408, "internal"), true, nil},
		{"429", problemReply(429, "rate-limited"), true, nil},
		{"500", problemReply(500, "internal"), true, nil},
		{"502", problemReply(502, "internal"), true, nil},
		{"503", problemReply(503, "unavailable"), true, nil},
		{"504", problemReply(504, "internal"), true, nil},
		{"507 other 5xx", problemReply(507, "internal"), true, nil},
		{"409 in flight", problemReply(409, "idempotency-in-flight"), true, nil},
		{"409 conflict", problemReply(409, "conflict"), false, new(*ConflictError)},
		{"400", problemReply(400, "malformed-request"), false, new(*BadRequestError)},
		{"401", problemReply(401, "unauthenticated"), false, new(*AuthenticationError)},
		{"403", problemReply(403, "forbidden"), false, new(*PermissionDeniedError)},
		{"404", problemReply(404, "not-found"), false, new(*NotFoundError)},
		{"422", problemReply(422, "validation"), false, new(*UnprocessableEntityError)},
		{"503 X-Should-Retry false", problemReply(503, "unavailable", "X-Should-Retry", "false"), false, new(*InternalServerError)},
		{"400 X-Should-Retry true", problemReply(400, "malformed-request", "X-Should-Retry", "true"), true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, tc.first, jsonReply(201, eventJSON("evt_1", 1)))
			clock := newFakeClock()
			ev, err := testClient(srv.Server, clock).Events.Create(context.Background(), createParams())
			attempts := len(srv.recorded())
			if tc.retried {
				if err != nil || ev.ID != "evt_1" || attempts != 2 {
					t.Fatalf("want success after one retry, got err=%v attempts=%d", err, attempts)
				}
				return
			}
			if attempts != 1 {
				t.Fatalf("want no retry, got %d attempts", attempts)
			}
			target := tc.wantError
			switch p := target.(type) {
			case **ConflictError:
				mustAs(t, err, p)
			case **BadRequestError:
				mustAs(t, err, p)
			case **AuthenticationError:
				mustAs(t, err, p)
			case **PermissionDeniedError:
				mustAs(t, err, p)
			case **NotFoundError:
				mustAs(t, err, p)
			case **UnprocessableEntityError:
				mustAs(t, err, p)
			case **InternalServerError:
				mustAs(t, err, p)
			}
		})
	}
}

func mustAs[T error](t *testing.T, err error, target *T) {
	t.Helper()
	if !errors.As(err, target) {
		t.Fatalf("error %T (%v) is not a %T", err, err, *target)
	}
}

func TestBackoffDelaysFollowPolicy(t *testing.T) {
	srv := newScriptServer(t, problemReply(503, "unavailable"))
	clock := newFakeClock()
	_, err := testClient(srv.Server, clock).Events.Get(context.Background(), "evt_1")
	mustAs(t, err, new(*InternalServerError))
	if got := len(srv.recorded()); got != 4 {
		t.Fatalf("want 4 attempts (max_retries 3), got %d", got)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}
	if !slices.Equal(clock.Sleeps(), want) {
		t.Fatalf("sleeps = %v, want %v", clock.Sleeps(), want)
	}
	for i, r := range srv.recorded() {
		if got := r.Header.Get("X-Triggers-Retry-Count"); got != fmt.Sprint(i) {
			t.Fatalf("attempt %d sent retry count %q", i, got)
		}
	}
}

func TestBackoffJitterAndCap(t *testing.T) {
	srv := newScriptServer(t, problemReply(500, "internal"))
	clock := newFakeClock()
	client := testClient(srv.Server, clock, option.WithRandom(func() float64 { return 1 }), option.WithMaxRetries(6))
	_, _ = client.Events.Get(context.Background(), "evt_1")
	// min(0.5 * 2^(n-1), 8) * (1 - 0.25)
	want := []time.Duration{375 * time.Millisecond, 750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 6 * time.Second}
	if !slices.Equal(clock.Sleeps(), want) {
		t.Fatalf("sleeps = %v, want %v", clock.Sleeps(), want)
	}
}

func TestRetryAfterHeaders(t *testing.T) {
	httpDate := newFakeClock().Now().Add(7 * time.Second).Format(http.TimeFormat)
	cases := []struct {
		name    string
		headers []string
		want    time.Duration
	}{
		{"delta seconds", []string{"Retry-After", "2"}, 2 * time.Second},
		{"fractional seconds", []string{"Retry-After", "1.5"}, 1500 * time.Millisecond},
		{"http date", []string{"Retry-After", httpDate}, 7 * time.Second},
		{"retry-after-ms wins", []string{"retry-after-ms", "250", "Retry-After", "9"}, 250 * time.Millisecond},
		{"zero", []string{"Retry-After", "0"}, 0},
		{"garbage falls back to backoff", []string{"Retry-After", "soon"}, 500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, problemReply(429, "rate-limited", tc.headers...), jsonReply(200, eventJSON("evt_1", 1)))
			clock := newFakeClock()
			if _, err := testClient(srv.Server, clock).Events.Get(context.Background(), "evt_1"); err != nil {
				t.Fatal(err)
			}
			if got := clock.Sleeps(); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("sleeps = %v, want [%v]", got, tc.want)
			}
		})
	}
}

func TestRetryAfterAboveCapIsRaisedAtOnce(t *testing.T) {
	srv := newScriptServer(t, problemReply(429, "rate-limited", "Retry-After", "120"))
	clock := newFakeClock()
	_, err := testClient(srv.Server, clock).Events.Get(context.Background(), "evt_1")
	var rl *RateLimitError
	mustAs(t, err, &rl)
	if rl.RetryAfter == nil || *rl.RetryAfter != 120*time.Second {
		t.Fatalf("RetryAfter = %v", rl.RetryAfter)
	}
	if len(srv.recorded()) != 1 || len(clock.Sleeps()) != 0 {
		t.Fatalf("want one attempt and no sleep, got %d attempts, sleeps %v", len(srv.recorded()), clock.Sleeps())
	}
}

func TestRetryBudgetStopsRetries(t *testing.T) {
	srv := newScriptServer(t, problemReply(503, "unavailable", "Retry-After", "30"))
	clock := newFakeClock()
	_, err := testClient(srv.Server, clock, option.WithMaxRetries(10)).Events.Get(context.Background(), "evt_1")
	mustAs(t, err, new(*InternalServerError))
	// 30 s + 30 s fit the 60 s budget; a third sleep would end at 90 s.
	if got := len(srv.recorded()); got != 3 {
		t.Fatalf("want 3 attempts within the budget, got %d (sleeps %v)", got, clock.Sleeps())
	}
}

func TestIdempotencyKeyReusedAcrossRetries(t *testing.T) {
	srv := newScriptServer(t, problemReply(500, "internal"), problemReply(409, "idempotency-in-flight", "Retry-After", "1"),
		jsonReply(200, eventJSON("evt_1", 1), "Idempotent-Replayed", "true", "X-Request-Id", "req_1"))
	clock := newFakeClock()
	var raw RawResponse
	_, err := testClient(srv.Server, clock).Events.Create(context.Background(), createParams(), option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.recorded()
	key := reqs[0].Header.Get("Idempotency-Key")
	if len(key) != 36 {
		t.Fatalf("want a generated UUID key, got %q", key)
	}
	for _, r := range reqs {
		if r.Header.Get("Idempotency-Key") != key {
			t.Fatalf("key changed across retries: %q vs %q", r.Header.Get("Idempotency-Key"), key)
		}
		if string(r.Body) != string(reqs[0].Body) {
			t.Fatal("body changed across retries")
		}
	}
	if !raw.IdempotentReplayed || raw.IdempotencyKey != key || raw.RequestID != "req_1" || raw.Attempts != 3 {
		t.Fatalf("raw response = %+v", raw)
	}
}

func TestCallerIdempotencyKeyAndErrorsCarryIt(t *testing.T) {
	srv := newScriptServer(t, problemReply(422, "idempotency-key-reuse"))
	clock := newFakeClock()
	_, err := testClient(srv.Server, clock).Events.Create(context.Background(), createParams(), option.WithIdempotencyKey("order-123"))
	var reused *IdempotencyKeyReusedError
	mustAs(t, err, &reused)
	mustAs(t, err, new(*UnprocessableEntityError))
	if reused.IdempotencyKey != "order-123" || srv.recorded()[0].Header.Get("Idempotency-Key") != "order-123" {
		t.Fatalf("key not sent or not on the error: %q", reused.IdempotencyKey)
	}
}

func TestGetHasNoIdempotencyKeyAndPatchIsNotRetried(t *testing.T) {
	srv := newScriptServer(t, problemReply(503, "unavailable"))
	clock := newFakeClock()
	client := testClient(srv.Server, clock)
	_, _ = client.Subscriptions.Update(context.Background(), "sub_1", SubscriptionUpdateParams{})
	if n := len(srv.recorded()); n != 1 {
		t.Fatalf("PATCH without an idempotency key was retried: %d attempts", n)
	}
	_, _ = client.Events.Get(context.Background(), "evt_1", option.WithMaxRetries(0))
	if got := srv.recorded()[1].Header.Get("Idempotency-Key"); got != "" {
		t.Fatalf("GET sent Idempotency-Key %q", got)
	}
}

// failingTransport fails every request with err, counting attempts.
type failingTransport struct {
	err      error
	attempts int
}

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.attempts++
	return nil, f.err
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestConnectionErrorsAreRetriedThenTyped(t *testing.T) {
	srv := newScriptServer(t, jsonReply(200, nil))
	clock := newFakeClock()
	transport := &failingTransport{err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	client := testClient(srv.Server, clock, option.WithHTTPClient(&http.Client{Transport: transport}))
	_, err := client.Events.Create(context.Background(), createParams(), option.WithIdempotencyKey("k1"))
	var conn *APIConnectionError
	mustAs(t, err, &conn)
	var timeout *APITimeoutError
	if errors.As(err, &timeout) {
		t.Fatal("a refused connection is not a timeout")
	}
	if transport.attempts != 4 || conn.IdempotencyKey != "k1" || conn.StatusCode != 0 {
		t.Fatalf("attempts=%d key=%q status=%d", transport.attempts, conn.IdempotencyKey, conn.StatusCode)
	}
}

func TestTimeoutIsAPITimeoutError(t *testing.T) {
	srv := newScriptServer(t, jsonReply(200, nil))
	clock := newFakeClock()
	transport := &failingTransport{err: timeoutError{}}
	client := testClient(srv.Server, clock, option.WithHTTPClient(&http.Client{Transport: transport}), option.WithMaxRetries(1))
	_, err := client.Events.Get(context.Background(), "evt_1")
	var timeout *APITimeoutError
	mustAs(t, err, &timeout)
	mustAs(t, err, new(*APIConnectionError))
	mustAs(t, err, new(*APIError))
	if transport.attempts != 2 {
		t.Fatalf("timeouts are retried: want 2 attempts, got %d", transport.attempts)
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	srv := newScriptServer(t, problemReply(503, "unavailable"))
	ctx, cancel := context.WithCancel(context.Background())
	sleep := func(ctx context.Context, _ time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	client := testClient(srv.Server, newFakeClock(), option.WithSleep(sleep))
	_, err := client.Events.Get(ctx, "evt_1")
	if !errors.Is(err, context.Canceled) || len(srv.recorded()) != 1 {
		t.Fatalf("err = %v after %d attempts", err, len(srv.recorded()))
	}
}

func TestSleepContextHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	began := time.Now()
	srv := newScriptServer(t, problemReply(503, "unavailable"))
	// The real sleep (no WithSleep) must return as soon as the context is done, not after 500 ms.
	client := NewClient(option.WithAPIKey("k"), option.WithBaseURL(srv.URL), option.WithMaxRetries(1))
	_, err := client.Events.Get(ctx, "evt_1")
	if err == nil || time.Since(began) > 400*time.Millisecond {
		t.Fatalf("err=%v after %v", err, time.Since(began))
	}
}

func TestHeadersSentOnEveryRequest(t *testing.T) {
	srv := newScriptServer(t, jsonReply(201, eventJSON("evt_1", 1)))
	client := testClient(srv.Server, newFakeClock(), option.WithHeader("X-Custom", "yes"))
	if _, err := client.Events.Create(context.Background(), createParams(), option.WithHeader("X-Per-Call", "1")); err != nil {
		t.Fatal(err)
	}
	h := srv.recorded()[0].Header
	checks := map[string]string{
		"Authorization": "Bearer tk_test_secret", "User-Agent": "zapier-triggers-go/0.1.0", "X-Triggers-Sdk": "go/0.1.0",
		"Accept": "application/json", "Content-Type": "application/json", "X-Custom": "yes", "X-Per-Call": "1",
		"X-Triggers-Retry-Count": "0",
	}
	for name, want := range checks {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if srv.recorded()[0].Path != "/v1/events" {
		t.Fatalf("path = %q", srv.recorded()[0].Path)
	}
	body := string(srv.recorded()[0].Body)
	if !strings.Contains(body, `"type":"order.created"`) || strings.Contains(body, "subject") || strings.Contains(body, `"time"`) {
		t.Fatalf("body = %s (optional fields must be omitted)", body)
	}
}

func TestEnvironmentFallbackAndMissingKey(t *testing.T) {
	srv := newScriptServer(t, jsonReply(200, eventJSON("evt_1", 1)))
	t.Setenv("TRIGGERS_API_KEY", "tk_from_env")
	t.Setenv("TRIGGERS_BASE_URL", srv.URL+"/v1")
	if _, err := NewClient().Events.Get(context.Background(), "evt_1"); err != nil {
		t.Fatal(err)
	}
	if got := srv.recorded()[0].Header.Get("Authorization"); got != "Bearer tk_from_env" {
		t.Fatalf("Authorization = %q", got)
	}
	t.Setenv("TRIGGERS_API_KEY", "")
	_, err := NewClient().Events.Get(context.Background(), "evt_1")
	var cfgErr *ConfigError
	mustAs(t, err, &cfgErr)
	var te TriggersError
	mustAs(t, err, &te)
}

func TestInvalidOptionIsReportedByCalls(t *testing.T) {
	client := NewClient(option.WithAPIKey("k"), option.WithBaseURL("ftp://nowhere"))
	_, err := client.Events.Get(context.Background(), "evt_1")
	mustAs(t, err, new(*ConfigError))
	srv := newScriptServer(t, jsonReply(200, eventJSON("evt_1", 1)))
	_, err = testClient(srv.Server, newFakeClock()).Events.Get(context.Background(), "evt_1", option.WithTimeout(0))
	mustAs(t, err, new(*ConfigError))
}

func TestPathParametersAreEscaped(t *testing.T) {
	srv := newScriptServer(t, jsonReply(200, map[string]any{}))
	client := testClient(srv.Server, newFakeClock())
	if _, err := client.Schemas.GetVersion(context.Background(), "order/created", "latest"); err != nil {
		t.Fatal(err)
	}
	if got := srv.recorded()[0].RawPath; got != "/v1/schemas/order%2Fcreated/versions/latest" {
		t.Fatalf("path = %q", got)
	}
}

func TestExecuteAndCloudEventHelper(t *testing.T) {
	srv := newScriptServer(t, jsonReply(201, eventJSON("evt_1", 1)), jsonReply(200, map[string]any{"ok": true}))
	client := testClient(srv.Server, newFakeClock())
	ev, err := client.Events.CreateCloudEvent(context.Background(), CloudEvent{ID: "ce-1", Source: "/s", Type: "a.b"})
	if err != nil || ev.ID != "evt_1" {
		t.Fatalf("%v %v", ev, err)
	}
	first := srv.recorded()[0]
	if first.Header.Get("Content-Type") != "application/cloudevents+json" || !strings.Contains(string(first.Body), `"specversion":"1.0"`) {
		t.Fatalf("content-type %q body %s", first.Header.Get("Content-Type"), first.Body)
	}
	var out map[string]any
	if err := client.Execute(context.Background(), "post", "filters/test", map[string]any{"x": 1}, &out); err != nil || out["ok"] != true {
		t.Fatalf("%v %v", out, err)
	}
	second := srv.recorded()[1]
	if second.Method != "POST" || second.Path != "/v1/filters/test" || second.Header.Get("Idempotency-Key") == "" {
		t.Fatalf("%+v", second)
	}
}
