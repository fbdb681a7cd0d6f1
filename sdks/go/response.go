package triggers

import "github.com/zapier/triggers-sdk-go/internal/requestconfig"

// RawResponse is the HTTP response of a successful call with its idempotency details; fill one with
// option.WithResponseInto(&raw).
type RawResponse = requestconfig.RawResponse
