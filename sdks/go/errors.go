package triggers

import "github.com/zapier/triggers-sdk-go/internal/apierror"

// The error taxonomy of docs/runtime-policy.md. Match with errors.As:
//
//	var rl *triggers.RateLimitError
//	if errors.As(err, &rl) && rl.RetryAfter != nil { ... }
//	var apiErr *triggers.APIError      // every API failure, with or without a response
//	if errors.As(err, &apiErr) { log(apiErr.StatusCode, apiErr.Type, apiErr.RequestID) }
//
// A specific kind also matches every kind above it (IdempotencyInProgressError is a ConflictError,
// an APIStatusError and an APIError), and all of them share one *APIError with the details.
type (
	// TriggersError is implemented by every error the SDK returns on purpose.
	TriggersError = apierror.TriggersError
	// APIError carries the request, status, problem fields, request id and idempotency key.
	APIError = apierror.APIError
	// ProblemDetails is the decoded application/problem+json body (RFC 9457).
	ProblemDetails = apierror.ProblemDetails
	// FieldError is one problem "errors" entry: a JSON pointer and what is wrong there.
	FieldError = apierror.FieldError

	APIStatusError             = apierror.APIStatusError
	BadRequestError            = apierror.BadRequestError
	AuthenticationError        = apierror.AuthenticationError
	PermissionDeniedError      = apierror.PermissionDeniedError
	NotFoundError              = apierror.NotFoundError
	ConflictError              = apierror.ConflictError
	IdempotencyInProgressError = apierror.IdempotencyInProgressError
	UnprocessableEntityError   = apierror.UnprocessableEntityError
	IdempotencyKeyReusedError  = apierror.IdempotencyKeyReusedError
	SchemaValidationError      = apierror.SchemaValidationError
	RateLimitError             = apierror.RateLimitError
	InternalServerError        = apierror.InternalServerError
	APIConnectionError         = apierror.APIConnectionError
	APITimeoutError            = apierror.APITimeoutError
	// StreamRedirectError is a redirect an event stream cannot follow (no usable Location, too many hops).
	StreamRedirectError      = apierror.StreamRedirectError
	WebhookVerificationError = apierror.WebhookVerificationError
	// ConfigError means the client or call is misconfigured (no API key, bad option value).
	ConfigError = apierror.ConfigError
	// ReceiptError means the server did not accept an inbox receipt (not_found or expired).
	ReceiptError = apierror.ReceiptError
)
