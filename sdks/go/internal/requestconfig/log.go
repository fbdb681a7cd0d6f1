package requestconfig

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/constants"
)

// Redacted replaces every secret value in debug logs.
const Redacted = "[REDACTED]"

// IsSensitiveName reports whether a header or JSON field must be redacted in logs: Authorization and
// anything named like *secret*, *key* or *token*, except Idempotency-Key which helps debugging.
func IsSensitiveName(name string) bool {
	lower := strings.ToLower(name)
	if lower == strings.ToLower(constants.HeaderIdempotencyKey) {
		return false
	}
	return lower == "authorization" || strings.Contains(lower, "secret") ||
		strings.Contains(lower, "key") || strings.Contains(lower, "token")
}

// RedactHeaders returns a copy of h that is safe to log.
func RedactHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if IsSensitiveName(k) {
			out[k] = []string{Redacted}
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

// RedactJSON returns body with sensitive fields replaced at any depth; non-JSON bodies are summarised.
func RedactJSON(body []byte) string {
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return "<non-JSON body>"
	}
	out, _ := json.Marshal(redactValue(value))
	return string(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, inner := range t {
			if IsSensitiveName(k) {
				t[k] = Redacted
			} else {
				t[k] = redactValue(inner)
			}
		}
	case []any:
		for i, inner := range t {
			t[i] = redactValue(inner)
		}
	}
	return v
}

func (c *Config) logRequest(req *http.Request, body []byte, attempt int) {
	if c.Logger == nil || !c.Logger.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	attrs := []any{"method", req.Method, "url", req.URL.String(), "attempt", attempt, "headers", RedactHeaders(req.Header)}
	if body != nil {
		attrs = append(attrs, "body", RedactJSON(body))
	}
	c.Logger.Debug("triggers request", attrs...)
}

func (c *Config) logResponse(resp *http.Response, took time.Duration) {
	if c.Logger == nil {
		return
	}
	c.Logger.Debug("triggers response", "status", resp.StatusCode, "request_id", resp.Header.Get(constants.HeaderRequestID),
		"elapsed", took, "headers", RedactHeaders(resp.Header))
}

func (c *Config) logFailure(method, url string, attempt int, err error) {
	if c.Logger == nil {
		return
	}
	c.Logger.Debug("triggers attempt failed", "method", method, "url", url, "attempt", attempt, "error", err.Error())
}
