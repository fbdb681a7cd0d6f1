// Package requestconfig holds the settings of one API call and the transport that executes it:
// headers, idempotency keys, retries with backoff and Retry-After, the retry budget, error mapping
// and redacted debug logging (docs/runtime-policy.md). Package option edits a Config; package
// triggers builds one per call from the client's options followed by the call's options.
package requestconfig

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
)

// Option changes a Config; package option exposes constructors for it.
type Option func(*Config) error

// SleepFunc waits for d or until ctx is done, whichever comes first.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Config is everything one call needs. Clone it before applying per-call options.
type Config struct {
	APIKey string
	// BaseURL is the validated API root without a trailing slash ("" when invalid).
	BaseURL     string
	HTTPClient  *http.Client
	MaxRetries  int
	Timeout     time.Duration
	RetryBudget time.Duration
	// Header and Query are shared between a client and its calls: never modify them in place,
	// replace them (WithHeaderValue, WithQueryValue).
	Header         http.Header
	Query          url.Values
	IdempotencyKey string
	StrictDecoding bool
	Logger         *slog.Logger
	ResponseInto   *RawResponse
	// StreamIdleTimeout is how long a stream may stay silent before it reconnects.
	StreamIdleTimeout time.Duration

	// Sleep, Random and Now are injectable so tests never wait for real.
	Sleep  SleepFunc
	Random func() float64
	Now    func() time.Time
	// NewIdempotencyKey creates the key sent on a POST without a caller-supplied one.
	NewIdempotencyKey func() string
}

// RawResponse is the HTTP response of a successful call, with the idempotency details the runtime
// policy promises to expose.
type RawResponse struct {
	*http.Response
	// IdempotencyKey is the key that was sent (the same on every retry); "" for non-POST calls.
	IdempotencyKey string
	// IdempotentReplayed is true when the server answered from its idempotency store.
	IdempotentReplayed bool
	// RequestID is the server's X-Request-Id.
	RequestID string
	// Attempts is how many HTTP requests the call made (1 + retries).
	Attempts int
}

// defaultHTTPClient is shared by every client that does not bring its own, to keep connections alive.
var defaultHTTPClient = &http.Client{Transport: newDefaultTransport()}

func newDefaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: constants.DefaultConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConnsPerHost = 64
	return t
}

// Defaults returns the configuration before any option: policy defaults plus the environment.
func Defaults() *Config {
	cfg := &Config{
		APIKey:            os.Getenv(constants.EnvAPIKey),
		HTTPClient:        defaultHTTPClient,
		MaxRetries:        constants.DefaultMaxRetries,
		Timeout:           constants.DefaultTimeout,
		RetryBudget:       constants.RetryBudget,
		StreamIdleTimeout: constants.StreamIdleTimeout,
		Sleep:             SleepContext,
		Random:            rand.Float64,
		Now:               time.Now,
		NewIdempotencyKey: newUUID4,
	}
	base := os.Getenv(constants.EnvBaseURL)
	if base == "" {
		base = constants.DefaultBaseURL
	}
	cfg.BaseURL, _ = ParseBaseURL(base)
	if strings.EqualFold(os.Getenv(constants.EnvLog), "debug") {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

var errUnsupportedScheme = errors.New("base URL must be an absolute http or https URL")

// ParseBaseURL validates an http(s) base URL and returns it without a trailing slash, ready for
// "<base>/<path>" joins.
func ParseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", &url.Error{Op: "parse", URL: raw, Err: errUnsupportedScheme}
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// Clone copies the config so per-call options cannot leak into the client. Header and Query are
// copied on write by the options, so cloning them here is unnecessary.
func (c *Config) Clone() *Config {
	out := *c
	out.ResponseInto = nil
	out.IdempotencyKey = ""
	return &out
}

// WithHeaderValue replaces the header map by a copy with name set to value.
func (c *Config) WithHeaderValue(name, value string) {
	h := c.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(name, value)
	c.Header = h
}

// WithQueryValue replaces the query map by a copy with value added under name.
func (c *Config) WithQueryValue(name, value string) {
	q := url.Values{}
	for k, v := range c.Query {
		q[k] = append([]string(nil), v...)
	}
	q.Add(name, value)
	c.Query = q
}

// Apply runs options in order and returns the first error.
func (c *Config) Apply(opts ...Option) error {
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return err
		}
	}
	return nil
}

// SleepContext waits for d unless ctx ends first (the policy: sleeps honour cancellation).
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
