package triggers_test

// Per-call overhead of the SDK (events.create) against raw net/http + encoding/json doing the same
// POST and decoding the same Event, both through one shared http.Client:
//
//	go test -run '^$' -bench . .      # writes <repo>/bench/results/go-sdk.json
//
// "in_process_http" goes through a loopback httptest server; "no_network" answers from a canned
// RoundTripper so only client-side work (encoding, headers, retries bookkeeping, decoding) is timed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	triggers "github.com/zapier/triggers-sdk-go"
	"github.com/zapier/triggers-sdk-go/option"
)

const benchEvent = `{"id":"evt_01JD2X7Q4M8K3R5T6V7W8X9Y0Z","external_id":null,"type":"order.created","source":"my-app",` +
	`"subject":"order/123","time":"2026-11-25T10:15:00Z","data":{"order_id":"123","amount":42.5},"data_base64":null,` +
	`"datacontenttype":"application/json","dataschema":null,"specversion":"1.0","correlation_id":"wf_9f8e7d",` +
	`"causation_id":null,"metadata":{"tenant":"acme"},"extensions":{},"status":"pending","sequence":1234,` +
	`"schema_version":2,"replay_of":null,"delivery_count":0,"created_at":"2026-11-25T10:15:00.123Z"}`

func benchParams() triggers.EventCreateParams {
	return triggers.EventCreateParams{Type: "order.created", Source: "my-app", Data: map[string]any{"order_id": "123", "amount": 42.5}}
}

// cannedTransport answers every request with the stored event, without a network.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: 201, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(benchEvent)), Request: req}, nil
}

type benchTarget struct {
	url    string
	client *http.Client
}

func newBenchTarget(b testing.TB, network bool) (benchTarget, func()) {
	if !network {
		return benchTarget{url: "http://bench.invalid/v1", client: &http.Client{Transport: cannedTransport{}}}, func() {}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, _ = io.WriteString(w, benchEvent)
	}))
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	return benchTarget{url: srv.URL + "/v1", client: &http.Client{Transport: transport}}, srv.Close
}

func sdkCreate(target benchTarget) func(*testing.B) {
	return func(b *testing.B) {
		client := triggers.NewClient(option.WithAPIKey("tk_bench"), option.WithBaseURL(target.url), option.WithHTTPClient(target.client))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := client.Events.Create(ctx, benchParams()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// rawCreate is what a careful user would write without the SDK: same body, auth and idempotency key.
func rawCreate(target benchTarget) func(*testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			body, err := json.Marshal(benchParams())
			if err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.url+"/events", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer tk_bench")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", uuid.NewString())
			resp, err := target.client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var ev triggers.Event
			err = json.NewDecoder(resp.Body).Decode(&ev)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 201 {
				b.Fatal(err, resp.StatusCode)
			}
		}
	}
}

// BenchmarkEventsCreate runs SDK and raw calls in interleaved rounds for both modes and writes the
// median figures to bench/results/go-sdk.json.
func BenchmarkEventsCreate(b *testing.B) {
	const rounds = 5
	report := map[string]any{"language": "go", "go": runtime.Version(), "rounds": rounds, "target_ratio": 1.3}
	within, complete := true, true
	for _, mode := range []struct {
		name    string
		network bool
	}{{"in_process_http", true}, {"no_network", false}} {
		target, stop := newBenchTarget(b, mode.network)
		var sdk, raw, ratios []float64
		for round := range rounds {
			var sdkNs, rawNs float64
			b.Run(fmt.Sprintf("%s/round%d/sdk", mode.name, round+1), func(b *testing.B) {
				sdkCreate(target)(b)
				sdkNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run(fmt.Sprintf("%s/round%d/raw", mode.name, round+1), func(b *testing.B) {
				rawCreate(target)(b)
				rawNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			if sdkNs == 0 || rawNs == 0 {
				break // filtered out by -bench
			}
			sdk, raw, ratios = append(sdk, sdkNs/1000), append(raw, rawNs/1000), append(ratios, sdkNs/rawNs)
		}
		stop()
		if len(ratios) < rounds {
			complete = false
			continue
		}
		slices.Sort(sdk)
		slices.Sort(raw)
		slices.Sort(ratios)
		ratio := ratios[rounds/2]
		report[mode.name] = map[string]any{
			"raw_us_per_call": round2(raw[rounds/2]), "sdk_us_per_call": round2(sdk[rounds/2]),
			"overhead_us_per_call": round2(sdk[rounds/2] - raw[rounds/2]), "ratio": round3(ratio),
		}
		if mode.network {
			within = ratio <= 1.3
		}
	}
	if !complete {
		return // a -bench filter skipped some runs: keep the last complete report
	}
	report["within_target"] = within
	_, here, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(here), "..", "..", "bench", "results", "go-sdk.json")
	out, _ := json.MarshalIndent(report, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %s: %s", path, out)
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
