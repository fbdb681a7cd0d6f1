// Package option configures a triggers.Client, or a single call when passed to a method.
//
// Client options are applied first and call options after them, so a call option wins:
//
//	client := triggers.NewClient(option.WithAPIKey(key), option.WithMaxRetries(5))
//	ev, err := client.Events.Create(ctx, params, option.WithTimeout(2*time.Second))
package option

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/apierror"
	"github.com/zapier/triggers-sdk-go/internal/requestconfig"
)

// RequestOption changes the configuration of a client or of one call.
type RequestOption = requestconfig.Option

// WithAPIKey sets the bearer token; without it the client reads TRIGGERS_API_KEY.
func WithAPIKey(key string) RequestOption {
	return func(c *requestconfig.Config) error {
		c.APIKey = key
		return nil
	}
}

// WithBaseURL sets the API root (".../v1"); without it the client reads TRIGGERS_BASE_URL,
// then falls back to the policy default.
func WithBaseURL(base string) RequestOption {
	return func(c *requestconfig.Config) error {
		u, err := requestconfig.ParseBaseURL(base)
		if err != nil {
			return &apierror.ConfigError{Message: "invalid base URL " + base + ": " + err.Error()}
		}
		c.BaseURL = u
		return nil
	}
}

// WithHTTPClient sends requests through client (custom transport, proxy, TLS, test server).
func WithHTTPClient(client *http.Client) RequestOption {
	return func(c *requestconfig.Config) error {
		if client == nil {
			return &apierror.ConfigError{Message: "WithHTTPClient: nil client"}
		}
		c.HTTPClient = client
		return nil
	}
}

// WithMaxRetries sets how many times a failed request may be retried (0 disables retries).
func WithMaxRetries(n int) RequestOption {
	return func(c *requestconfig.Config) error {
		if n < 0 {
			return &apierror.ConfigError{Message: "WithMaxRetries: negative retries"}
		}
		c.MaxRetries = n
		return nil
	}
}

// WithTimeout bounds each HTTP attempt (for a stream: until the response headers arrive).
// Use a context deadline to bound a whole call including retries.
func WithTimeout(d time.Duration) RequestOption {
	return func(c *requestconfig.Config) error {
		if d <= 0 {
			return &apierror.ConfigError{Message: "WithTimeout: the timeout must be positive"}
		}
		c.Timeout = d
		return nil
	}
}

// WithStreamIdleTimeout sets how long an event stream (Events.Stream, Events.StreamRaw) may go
// without a byte, events or heartbeats, before its connection is treated as dead and replaced by a
// reconnect that resumes with Last-Event-ID. The default is constants.StreamIdleTimeout (45 s, three
// heartbeat intervals, from codegen/policy.yaml). Other calls ignore it.
func WithStreamIdleTimeout(d time.Duration) RequestOption {
	return func(c *requestconfig.Config) error {
		if d <= 0 {
			return &apierror.ConfigError{Message: "WithStreamIdleTimeout: the timeout must be positive"}
		}
		c.StreamIdleTimeout = d
		return nil
	}
}

// WithRetryBudget bounds the total time spent on one call across attempts, sleeps included.
func WithRetryBudget(d time.Duration) RequestOption {
	return func(c *requestconfig.Config) error {
		if d < 0 {
			return &apierror.ConfigError{Message: "WithRetryBudget: negative budget"}
		}
		c.RetryBudget = d
		return nil
	}
}

// WithHeader sets a header on every request (it replaces any header of the same name).
func WithHeader(name, value string) RequestOption {
	return func(c *requestconfig.Config) error {
		c.WithHeaderValue(name, value)
		return nil
	}
}

// WithQuery adds a query parameter to every request.
func WithQuery(name, value string) RequestOption {
	return func(c *requestconfig.Config) error {
		c.WithQueryValue(name, value)
		return nil
	}
}

// WithIdempotencyKey sends key instead of a generated UUID. Use it on a single call: the same key
// is sent on every retry, and resending the call with the same key is safe.
func WithIdempotencyKey(key string) RequestOption {
	return func(c *requestconfig.Config) error {
		if strings.TrimSpace(key) == "" {
			return &apierror.ConfigError{Message: "WithIdempotencyKey: empty key"}
		}
		c.IdempotencyKey = key
		return nil
	}
}

// WithResponseInto stores the raw HTTP response of a successful call (status, headers, idempotency
// key, Idempotent-Replayed flag) into dst. Use with triggers.RawResponse.
func WithResponseInto(dst *requestconfig.RawResponse) RequestOption {
	return func(c *requestconfig.Config) error {
		c.ResponseInto = dst
		return nil
	}
}

// WithStrictDecoding makes responses with fields the SDK does not know fail to decode. The default
// is lenient (new server fields are ignored); strict mode is for tests that catch contract drift.
func WithStrictDecoding() RequestOption {
	return func(c *requestconfig.Config) error {
		c.StrictDecoding = true
		return nil
	}
}

// WithLogger logs every request and response at debug level, with secrets redacted.
// Setting TRIGGERS_LOG=debug does the same with a stderr logger.
func WithLogger(logger *slog.Logger) RequestOption {
	return func(c *requestconfig.Config) error {
		c.Logger = logger
		return nil
	}
}

// WithSleep replaces the function that waits between retries (tests pass a fake that does not sleep).
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) RequestOption {
	return func(c *requestconfig.Config) error {
		c.Sleep = sleep
		return nil
	}
}

// WithRandom replaces the jitter source (a function returning values in [0, 1)).
func WithRandom(random func() float64) RequestOption {
	return func(c *requestconfig.Config) error {
		c.Random = random
		return nil
	}
}

// WithClock replaces the clock used for the retry budget and HTTP-date Retry-After values.
func WithClock(now func() time.Time) RequestOption {
	return func(c *requestconfig.Config) error {
		c.Now = now
		return nil
	}
}
