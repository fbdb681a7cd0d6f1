package requestconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/zapier/triggers-sdk-go/internal/apierror"
	"github.com/zapier/triggers-sdk-go/internal/constants"
)

// Request describes one API call; Execute turns it into one or more HTTP attempts.
type Request struct {
	Method string
	// Path is relative to the base URL and already escaped ("events/evt_1/replay").
	Path  string
	Query url.Values
	// Body is marshalled to JSON once and resent unchanged on every retry; nil sends no body.
	Body any
	// ContentType overrides application/json for Body.
	ContentType string
	// Accept overrides application/json (the stream asks for text/event-stream).
	Accept string
	// Header adds request-specific headers (Last-Event-ID).
	Header http.Header
	// Out receives the decoded 2xx JSON body; nil discards it.
	Out any
	// Stream returns the live response: the caller reads and closes RawResponse.Body.
	Stream bool
	// ManualRedirects hands a redirect (IsRedirect) back like a 2xx, body unread, for the caller to
	// follow: the request goes straight to the HTTP client's Transport, so the client's own redirect
	// handling (which also rejects a malformed Location before anyone can report it), Jar and
	// Timeout do not apply. Used with Stream.
	ManualRedirects bool
	// URL, when set, is the absolute target (a redirect's Location) instead of the base URL, Path and
	// Query.
	URL string
	// OmitAuthorization sends no Authorization header (a redirect that left the API's origin).
	OmitAuthorization bool
}

// IsRedirect reports the statuses a stream follows itself: 301, 302, 303, 307 and 308.
func IsRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

const maxErrorBody = 1 << 20

// Execute sends the request, retrying per the runtime policy, and decodes a 2xx body into req.Out.
// The returned RawResponse is nil unless the request streams or cfg.ResponseInto asks for it.
func Execute(ctx context.Context, cfg *Config, req Request) (*RawResponse, error) {
	if cfg.APIKey == "" {
		return nil, &apierror.ConfigError{Message: "no API key: pass option.WithAPIKey or set " + constants.EnvAPIKey}
	}
	if cfg.BaseURL == "" {
		return nil, &apierror.ConfigError{Message: "invalid base URL: pass option.WithBaseURL or set " + constants.EnvBaseURL}
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = json.Marshal(req.Body); err != nil {
			return nil, &apierror.ConfigError{Message: "encoding request body: " + err.Error()}
		}
	}
	target := buildURL(cfg, req)
	idempotencyKey := cfg.IdempotencyKey
	if idempotencyKey == "" && req.Method == http.MethodPost {
		idempotencyKey = cfg.NewIdempotencyKey()
	}
	safeToRepeat := idempotencyKey != ""
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		safeToRepeat = true
	}

	start := cfg.Now()
	for attempt := 0; ; attempt++ {
		resp, attemptErr := sendAttempt(ctx, cfg, req, target, body, idempotencyKey, attempt)
		if attemptErr == nil && (resp.StatusCode < 300 || req.ManualRedirects && IsRedirect(resp.StatusCode)) {
			if cfg.ResponseInto == nil && !req.Stream {
				return nil, decodeBody(cfg, req, resp, idempotencyKey)
			}
			raw := &RawResponse{
				Response:           resp,
				IdempotencyKey:     idempotencyKey,
				IdempotentReplayed: strings.EqualFold(resp.Header.Get(constants.HeaderIdempotentReplayed), "true"),
				RequestID:          resp.Header.Get(constants.HeaderRequestID),
				Attempts:           attempt + 1,
			}
			if cfg.ResponseInto != nil {
				*cfg.ResponseInto = *raw
			}
			if req.Stream {
				return raw, nil
			}
			return raw, decodeBody(cfg, req, resp, idempotencyKey)
		}
		if ctx.Err() != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}

		base := &apierror.APIError{Method: req.Method, URL: target, IdempotencyKey: idempotencyKey}
		var failure error
		var retryAfter *time.Duration
		retryable := true
		if attemptErr != nil {
			base.Cause = attemptErr
			base.Message = "connection error: " + attemptErr.Error()
			failure = &apierror.APIConnectionError{APIError: base}
			if isTimeout(attemptErr) {
				base.Message = "request timed out"
				failure = &apierror.APITimeoutError{APIError: base}
			}
		} else {
			base.StatusCode = resp.StatusCode
			base.Header = resp.Header
			base.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			retryAfter = parseRetryAfter(resp.Header, cfg.Now())
			failure = apierror.FromResponse(base, retryAfter)
			retryable = statusRetryable(resp.StatusCode, base.Slug())
			switch strings.ToLower(resp.Header.Get(constants.HeaderShouldRetry)) {
			case "true":
				retryable = true
			case "false":
				retryable = false
			}
		}
		cfg.logFailure(req.Method, target, attempt, failure)
		if !retryable || !safeToRepeat || attempt >= cfg.MaxRetries {
			return nil, failure
		}
		delay := Backoff(constants.InitialRetryDelay, constants.MaxRetryDelay, attempt+1, cfg.Random)
		if retryAfter != nil {
			if *retryAfter > constants.RetryAfterCap {
				return nil, failure
			}
			delay = *retryAfter
		}
		if cfg.Now().Sub(start)+delay > cfg.RetryBudget {
			return nil, failure
		}
		if err := cfg.Sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// Backoff is the policy's delay before retry number n (1-based): min(base·2^(n-1), limit)·(1 − jitter·random()).
// Requests use INITIAL_RETRY_DELAY/MAX_RETRY_DELAY; the stream uses its reconnect delay (or retry:) and cap.
func Backoff(base, limit time.Duration, n int, random func() float64) time.Duration {
	d := float64(base) * math.Pow(2, float64(n-1))
	d = math.Min(d, float64(limit))
	return time.Duration(d * (1 - constants.RetryJitter*random()))
}

func statusRetryable(status int, slug string) bool {
	if status == http.StatusConflict {
		return slug == constants.ProblemIdempotencyInFlight
	}
	return status >= 500 || slices.Contains(constants.RetryableStatuses, status)
}

// parseRetryAfter reads retry-after-ms, then Retry-After as delta-seconds or an HTTP-date.
// It returns nil when neither header holds a usable value; negative values count as absent.
func parseRetryAfter(h http.Header, now time.Time) *time.Duration {
	if ms := strings.TrimSpace(h.Get(constants.HeaderRetryAfterMS)); ms != "" {
		if v, err := strconv.ParseFloat(ms, 64); err == nil && v >= 0 && !math.IsInf(v, 0) {
			d := time.Duration(v * float64(time.Millisecond))
			return &d
		}
	}
	value := strings.TrimSpace(h.Get(constants.HeaderRetryAfter))
	if value == "" {
		return nil
	}
	if v, err := strconv.ParseFloat(value, 64); err == nil {
		if v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil
		}
		d := time.Duration(v * float64(time.Second))
		return &d
	}
	if at, err := http.ParseTime(value); err == nil {
		d := max(at.Sub(now), 0)
		return &d
	}
	return nil
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func buildURL(cfg *Config, req Request) string {
	if req.URL != "" {
		return req.URL
	}
	u := cfg.BaseURL + "/" + strings.TrimPrefix(req.Path, "/")
	if len(req.Query) == 0 && len(cfg.Query) == 0 {
		return u
	}
	query := url.Values{}
	for k, v := range req.Query {
		query[k] = append(query[k], v...)
	}
	for k, v := range cfg.Query {
		query[k] = v
	}
	return u + "?" + query.Encode()
}

// sendAttempt performs one HTTP exchange. For a stream the timeout covers only the response
// headers; otherwise it covers the whole attempt including reading the body.
func sendAttempt(ctx context.Context, cfg *Config, req Request, target string, body []byte, idempotencyKey string, attempt int) (*http.Response, error) {
	attemptCtx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(cfg.Timeout, func() { cancel(context.DeadlineExceeded) })
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	httpReq, err := http.NewRequestWithContext(attemptCtx, req.Method, target, reader)
	if err != nil {
		timer.Stop()
		cancel(nil)
		return nil, err
	}
	setHeaders(cfg, req, httpReq.Header, body != nil, idempotencyKey, attempt)
	cfg.logRequest(httpReq, body, attempt)
	began := cfg.Now()
	resp, err := roundTrip(cfg.HTTPClient, req.ManualRedirects, httpReq)
	if err != nil {
		timer.Stop()
		if cause := context.Cause(attemptCtx); cause != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w (after %s)", cause, cfg.Timeout)
		}
		cancel(nil)
		return nil, err
	}
	cfg.logResponse(resp, cfg.Now().Sub(began))
	if req.Stream {
		timer.Stop()
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, timer: timer, cancel: cancel, ctx: attemptCtx}
	return resp, nil
}

// roundTrip sends httpReq through client, or straight to its Transport when the caller follows
// redirects itself.
func roundTrip(client *http.Client, manualRedirects bool, httpReq *http.Request) (*http.Response, error) {
	if !manualRedirects {
		return client.Do(httpReq)
	}
	transport := client.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	resp, err := transport.RoundTrip(httpReq)
	if err == nil && resp.Request == nil {
		resp.Request = httpReq
	}
	return resp, err
}

// cancelOnClose releases the attempt's context when the body is closed, and reports a body read cut
// short by the attempt timeout as a timeout.
type cancelOnClose struct {
	io.ReadCloser
	timer  *time.Timer
	cancel context.CancelCauseFunc
	ctx    context.Context
}

func (c *cancelOnClose) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if err != nil && err != io.EOF && errors.Is(context.Cause(c.ctx), context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return n, err
}

func (c *cancelOnClose) Close() error {
	c.timer.Stop()
	err := c.ReadCloser.Close()
	c.cancel(nil)
	return err
}

func setHeaders(cfg *Config, req Request, h http.Header, hasBody bool, idempotencyKey string, attempt int) {
	h.Set("Authorization", "Bearer "+cfg.APIKey)
	h.Set("User-Agent", "zapier-triggers-go/"+constants.SDKVersion)
	h.Set(constants.HeaderSDK, "go/"+constants.SDKVersion)
	h.Set(constants.HeaderRetryCount, strconv.Itoa(attempt))
	accept := req.Accept
	if accept == "" {
		accept = "application/json"
	}
	h.Set("Accept", accept)
	if hasBody {
		contentType := req.ContentType
		if contentType == "" {
			contentType = "application/json"
		}
		h.Set("Content-Type", contentType)
	}
	if idempotencyKey != "" {
		h.Set(constants.HeaderIdempotencyKey, idempotencyKey)
	}
	for k, v := range req.Header {
		h[k] = v
	}
	for k, v := range cfg.Header {
		h[k] = v
	}
	if req.OmitAuthorization {
		h.Del("Authorization")
	}
}

func decodeBody(cfg *Config, req Request, resp *http.Response, idempotencyKey string) error {
	defer resp.Body.Close()
	if req.Out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	dec := json.NewDecoder(resp.Body)
	if cfg.StrictDecoding {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(req.Out); err != nil {
		base := &apierror.APIError{
			Method: req.Method, URL: resp.Request.URL.String(), StatusCode: resp.StatusCode, Header: resp.Header,
			RequestID: resp.Header.Get(constants.HeaderRequestID), IdempotencyKey: idempotencyKey, Cause: err,
			Message: "decoding the response body: " + err.Error(),
		}
		if isTimeout(err) {
			return &apierror.APITimeoutError{APIError: base}
		}
		return base
	}
	return nil
}

func newUUID4() string { return uuid.NewString() }
