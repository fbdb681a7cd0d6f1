package triggers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/zapier/triggers-sdk-go/option"
)

// recorded is one request as the test server saw it.
type recorded struct {
	Method string
	Path   string
	// RawPath is the path as sent, before percent-decoding.
	RawPath string
	Query   string
	Header  http.Header
	Body    []byte
}

// scriptServer answers the n-th request with handlers[n] (the last handler repeats) and records
// every request.
type scriptServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	handlers []http.HandlerFunc
}

func newScriptServer(t *testing.T, handlers ...http.HandlerFunc) *scriptServer {
	t.Helper()
	s := &scriptServer{handlers: handlers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, recorded{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		h := s.handlers[min(n, len(s.handlers)-1)]
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) recorded() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.requests...)
}

// jsonReply writes a JSON body with a status and extra headers (name, value pairs).
func jsonReply(status int, body any, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

// problemReply writes an application/problem+json error.
func problemReply(status int, slug string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"type": "https://triggers.dev/problems/" + slug, "title": slug, "status": status,
			"detail": "detail of " + slug, "instance": "/v1/x", "request_id": "req_body",
		})
	}
}

// fakeClock is a clock that only moves when the fake sleep sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// testClient is a client for srv with a fake clock, no jitter (random = 0) and a fixed API key.
func testClient(srv *httptest.Server, clock *fakeClock, opts ...option.RequestOption) *Client {
	base := []option.RequestOption{
		option.WithAPIKey("tk_test_secret"),
		option.WithBaseURL(srv.URL + "/v1"),
		option.WithSleep(clock.Sleep),
		option.WithClock(clock.Now),
		option.WithRandom(func() float64 { return 0 }),
	}
	return NewClient(append(base, opts...)...)
}

func eventJSON(id string, seq int64) map[string]any {
	return map[string]any{
		"id": id, "external_id": nil, "type": "order.created", "source": "my-app", "subject": nil,
		"time": "2026-11-25T10:15:00Z", "data": map[string]any{"order_id": "123"}, "data_base64": nil,
		"datacontenttype": "application/json", "dataschema": nil, "specversion": "1.0",
		"correlation_id": nil, "causation_id": nil, "metadata": map[string]any{}, "extensions": map[string]any{},
		"status": "pending", "sequence": seq, "schema_version": nil, "replay_of": nil, "delivery_count": 0,
		"created_at": "2026-11-25T10:15:00.123Z",
	}
}
