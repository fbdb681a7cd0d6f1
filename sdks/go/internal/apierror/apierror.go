// Package apierror defines the SDK's error taxonomy (docs/runtime-policy.md "Errors").
//
// It lives in an internal package so both the transport (internal/requestconfig) and the public
// packages can build these errors; package triggers re-exports every type under the same name.
//
// Go has no inheritance, so the hierarchy is an Unwrap chain: a *RateLimitError unwraps to an
// *APIStatusError, which unwraps to the *APIError holding every field. errors.As therefore matches a
// specific kind and every kind above it, and all of them share one *APIError value.
package apierror

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
)

// TriggersError is implemented by every error this SDK returns on purpose.
type TriggersError interface {
	error
	triggersError()
}

// FieldError is one entry of a problem's "errors" array: which field (a JSON pointer) and why.
type FieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// ProblemDetails is an RFC 9457 problem+json body. Extensions keeps every member not named here.
type ProblemDetails struct {
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Status     int            `json:"status"`
	Detail     string         `json:"detail"`
	Instance   string         `json:"instance"`
	RequestID  string         `json:"request_id"`
	Errors     []FieldError   `json:"errors"`
	Extensions map[string]any `json:"-"`
}

// Slug is the part of Type after the problem base URI ("rate-limited"), or "" for foreign types.
func (p ProblemDetails) Slug() string {
	if slug, ok := strings.CutPrefix(p.Type, constants.ProblemTypeBase); ok {
		return slug
	}
	return ""
}

// APIError is the data behind every error caused by an API call, with or without a response.
type APIError struct {
	// Message is a one-line human description.
	Message string
	// Method and URL identify the request.
	Method string
	URL    string
	// StatusCode is 0 when no response was received (connection errors, timeouts).
	StatusCode int
	// Header and Body are the raw response, when there was one.
	Header http.Header
	Body   []byte
	// ProblemDetails holds the decoded problem+json fields; zero-valued for non-problem bodies.
	ProblemDetails
	// RequestID comes from the problem body's request_id, else the X-Request-Id header.
	RequestID string
	// IdempotencyKey is the key sent with the request (the same on every retry), if any.
	IdempotencyKey string
	// Cause is the transport error for connection failures.
	Cause error
}

func (e *APIError) triggersError() {}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	b.WriteString(e.Message)
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request_id %s)", e.RequestID)
	}
	return b.String()
}

// Unwrap exposes the transport cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *APIError) Unwrap() error { return e.Cause }

// APIStatusError is any non-2xx response. Other 4xx statuses surface as this type itself.
type APIStatusError struct{ *APIError }

func (e *APIStatusError) Unwrap() error { return e.APIError }

// BadRequestError is a 400.
type BadRequestError struct{ *APIError }

// AuthenticationError is a 401.
type AuthenticationError struct{ *APIError }

// PermissionDeniedError is a 403.
type PermissionDeniedError struct{ *APIError }

// NotFoundError is a 404.
type NotFoundError struct{ *APIError }

// ConflictError is a 409.
type ConflictError struct{ *APIError }

// IdempotencyInProgressError is a 409 whose problem type is idempotency-in-flight.
type IdempotencyInProgressError struct{ *APIError }

// UnprocessableEntityError is a 422.
type UnprocessableEntityError struct{ *APIError }

// IdempotencyKeyReusedError is a 422 for a key already used with a different request body.
type IdempotencyKeyReusedError struct{ *APIError }

// SchemaValidationError is a 422 for event data that fails its registered schema; see Errors.
type SchemaValidationError struct{ *APIError }

// RateLimitError is a 429.
type RateLimitError struct {
	*APIError
	// RetryAfter is how long the server asked the client to wait; nil when it did not say.
	RetryAfter *time.Duration
}

// InternalServerError is any 5xx.
type InternalServerError struct{ *APIError }

func (e *BadRequestError) Unwrap() error            { return &APIStatusError{e.APIError} }
func (e *AuthenticationError) Unwrap() error        { return &APIStatusError{e.APIError} }
func (e *PermissionDeniedError) Unwrap() error      { return &APIStatusError{e.APIError} }
func (e *NotFoundError) Unwrap() error              { return &APIStatusError{e.APIError} }
func (e *ConflictError) Unwrap() error              { return &APIStatusError{e.APIError} }
func (e *IdempotencyInProgressError) Unwrap() error { return &ConflictError{e.APIError} }
func (e *UnprocessableEntityError) Unwrap() error   { return &APIStatusError{e.APIError} }
func (e *IdempotencyKeyReusedError) Unwrap() error  { return &UnprocessableEntityError{e.APIError} }
func (e *SchemaValidationError) Unwrap() error      { return &UnprocessableEntityError{e.APIError} }
func (e *RateLimitError) Unwrap() error             { return &APIStatusError{e.APIError} }
func (e *InternalServerError) Unwrap() error        { return &APIStatusError{e.APIError} }

// APIConnectionError means no response was received; the request may or may not have been applied.
type APIConnectionError struct{ *APIError }

func (e *APIConnectionError) Unwrap() error { return e.APIError }

// APITimeoutError is an APIConnectionError caused by the request timeout.
type APITimeoutError struct{ *APIError }

func (e *APITimeoutError) Unwrap() error { return &APIConnectionError{e.APIError} }

// StreamRedirectError is a 3xx answer to an event stream that cannot be followed: no usable Location
// (missing, unparsable, not http or https) or more than constants.StreamMaxRedirects hops. StatusCode
// and Header are the redirect's; the stream returns it at once instead of reconnecting.
type StreamRedirectError struct {
	*APIError
	// Location is the redirect's Location header, trimmed ("" when there was none).
	Location string
}

func (e *StreamRedirectError) Unwrap() error { return e.APIError }

// WebhookVerificationError means a webhook's signature, timestamp or headers are not acceptable.
type WebhookVerificationError struct {
	Reason string
}

func (e *WebhookVerificationError) triggersError() {}

func (e *WebhookVerificationError) Error() string { return "webhook verification failed: " + e.Reason }

// ConfigError reports a client or call that cannot be sent: no API key, a bad base URL, an option
// given an invalid value, or a request body that cannot be encoded.
type ConfigError struct{ Message string }

func (e *ConfigError) triggersError() {}

func (e *ConfigError) Error() string { return "triggers: " + e.Message }

// ReceiptError reports an inbox receipt the server did not accept (status "not_found" or "expired").
type ReceiptError struct {
	Receipt string
	Status  string
	Detail  string
}

func (e *ReceiptError) triggersError() {}

func (e *ReceiptError) Error() string {
	msg := "inbox receipt " + e.Status
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// FromResponse maps a non-2xx response to the most specific error kind. retryAfter is the parsed
// Retry-After (nil when absent), used by RateLimitError.
func FromResponse(base *APIError, retryAfter *time.Duration) error {
	decodeProblem(base)
	switch s := base.StatusCode; {
	case s == http.StatusBadRequest:
		return &BadRequestError{base}
	case s == http.StatusUnauthorized:
		return &AuthenticationError{base}
	case s == http.StatusForbidden:
		return &PermissionDeniedError{base}
	case s == http.StatusNotFound:
		return &NotFoundError{base}
	case s == http.StatusConflict:
		if base.Slug() == constants.ProblemIdempotencyInFlight {
			return &IdempotencyInProgressError{base}
		}
		return &ConflictError{base}
	case s == http.StatusUnprocessableEntity:
		switch base.Slug() {
		case constants.ProblemIdempotencyKeyReuse:
			return &IdempotencyKeyReusedError{base}
		case constants.ProblemSchemaValidation:
			return &SchemaValidationError{base}
		}
		return &UnprocessableEntityError{base}
	case s == http.StatusTooManyRequests:
		return &RateLimitError{APIError: base, RetryAfter: retryAfter}
	case s >= 500:
		return &InternalServerError{base}
	}
	return &APIStatusError{base}
}

// decodeProblem fills the problem fields, request id and message from the body and headers.
// A body that is not problem+json leaves the fields empty; that is not an error.
func decodeProblem(e *APIError) {
	var raw map[string]json.RawMessage
	if json.Unmarshal(e.Body, &raw) == nil {
		_ = json.Unmarshal(e.Body, &e.ProblemDetails)
		known := map[string]bool{"type": true, "title": true, "status": true, "detail": true, "instance": true, "request_id": true, "errors": true}
		for k, v := range raw {
			if known[k] {
				continue
			}
			var value any
			if json.Unmarshal(v, &value) == nil {
				if e.Extensions == nil {
					e.Extensions = map[string]any{}
				}
				e.Extensions[k] = value
			}
		}
	}
	e.RequestID = e.ProblemDetails.RequestID
	if e.RequestID == "" && e.Header != nil {
		e.RequestID = e.Header.Get(constants.HeaderRequestID)
	}
	switch {
	case e.Detail != "":
		e.Message = e.Detail
	case e.Title != "":
		e.Message = e.Title
	default:
		e.Message = http.StatusText(e.StatusCode)
	}
}
