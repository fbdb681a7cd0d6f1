package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zapier/triggers-sdk-go/option"
)

// retryCase is one entry of tests/contract/retry-cases.json, the retry decision shared by the Python,
// TypeScript and Go SDKs: each checks the same file against its own retry loop.
type retryCase struct {
	Name         string            `json:"name"`
	Method       string            `json:"method"`
	Status       int               `json:"status"`
	ProblemType  string            `json:"problem_type"`
	Headers      map[string]string `json:"headers"`
	Attempt      int               `json:"attempt"`
	Retry        bool              `json:"retry"`
	DelaySeconds *struct {
		Min float64 `json:"min"`
		Max float64 `json:"max"`
	} `json:"delay_seconds"`
}

func loadRetryCases(t *testing.T) []retryCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "tests", "contract", "retry-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []retryCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file.Cases
}

func (c retryCase) answer() http.HandlerFunc {
	headers := make([]string, 0, 2*len(c.Headers))
	for name, value := range c.Headers {
		headers = append(headers, name, value)
	}
	if c.ProblemType != "" {
		return problemReply(c.Status, c.ProblemType, headers...)
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(c.Status)
	}
}

func TestSharedRetryCases(t *testing.T) {
	for _, c := range loadRetryCases(t) {
		// Jitter draws at both ends of [0, 1): the delay bounds must hold for any of them.
		for _, jitter := range []float64{0, 0.999} {
			t.Run(fmt.Sprintf("%s/jitter=%g", c.Name, jitter), func(t *testing.T) {
				handlers := make([]http.HandlerFunc, 0, c.Attempt+1)
				for range c.Attempt - 1 {
					handlers = append(handlers, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
				}
				handlers = append(handlers, c.answer(), jsonReply(200, map[string]any{}))
				srv := newScriptServer(t, handlers...)
				clock := newFakeClock()
				client := testClient(srv.Server, clock, option.WithRandom(func() float64 { return jitter }))
				err := client.Execute(context.Background(), strings.ToUpper(c.Method), "events/evt_1", nil, nil)
				var apiErr *APIError
				if err != nil && (!errors.As(err, &apiErr) || apiErr.StatusCode != c.Status) {
					t.Fatalf("unexpected error %v", err)
				}
				if succeeded := err == nil; succeeded != c.Retry {
					t.Fatalf("retried = %v, want %v (err %v)", succeeded, c.Retry, err)
				}
				want := c.Attempt
				if c.Retry {
					want++
				}
				if got := len(srv.recorded()); got != want {
					t.Fatalf("%d requests, want %d", got, want)
				}
				sleeps := clock.Sleeps()
				if !c.Retry {
					if len(sleeps) != c.Attempt-1 {
						t.Fatalf("slept %v before giving up, want %d backoffs", sleeps, c.Attempt-1)
					}
					return
				}
				delay := sleeps[c.Attempt-1].Seconds()
				if delay < c.DelaySeconds.Min-1e-9 || delay > c.DelaySeconds.Max+1e-9 {
					t.Fatalf("delay %gs outside [%g, %g]", delay, c.DelaySeconds.Min, c.DelaySeconds.Max)
				}
			})
		}
	}
}
