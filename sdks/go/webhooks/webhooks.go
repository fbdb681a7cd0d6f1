// Package webhooks verifies and signs webhooks the Standard Webhooks way: headers webhook-id,
// webhook-timestamp and webhook-signature ("v1,<base64 HMAC-SHA256>", space-separated), signed
// content "<id>.<timestamp>.<raw body>", secret "whsec_<base64>", a timestamp tolerance both ways
// and constant-time comparison.
//
//	wh := webhooks.New(os.Getenv("WEBHOOK_SECRET"))
//	if err := wh.Verify(body, r.Header); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/apierror"
	"github.com/zapier/triggers-sdk-go/internal/constants"
)

// Header names of the Standard Webhooks scheme.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

// VerificationError is returned for every rejected webhook (same type as triggers.WebhookVerificationError).
type VerificationError = apierror.WebhookVerificationError

// Webhook verifies and signs with one secret. It is safe for concurrent use.
type Webhook struct {
	key       []byte
	err       error
	now       func() time.Time
	tolerance time.Duration
}

// Option configures a Webhook.
type Option func(*Webhook)

// WithClock replaces the clock used for the timestamp tolerance (tests freeze time with it).
func WithClock(now func() time.Time) Option { return func(w *Webhook) { w.now = now } }

// WithTolerance replaces the default tolerance (WEBHOOK_TOLERANCE, 300 s) between the
// webhook-timestamp and now.
func WithTolerance(d time.Duration) Option { return func(w *Webhook) { w.tolerance = d } }

// New makes a verifier for secret ("whsec_<base64>" or the bare base64). An unusable secret makes
// every Verify and Sign fail; use Parse to get that error up front.
func New(secret string, opts ...Option) *Webhook {
	w := &Webhook{now: time.Now, tolerance: constants.WebhookTolerance}
	w.key, w.err = decodeSecret(secret)
	for _, opt := range opts {
		opt(w)
	}
	return w
}

// Parse is New that reports an unusable secret immediately.
func Parse(secret string, opts ...Option) (*Webhook, error) {
	w := New(secret, opts...)
	if w.err != nil {
		return nil, w.err
	}
	return w, nil
}

func decodeSecret(secret string) ([]byte, error) {
	encoded := strings.TrimPrefix(secret, secretPrefix)
	if encoded == "" {
		return nil, &VerificationError{Reason: "empty webhook secret"}
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// Secrets are sometimes stored without '=' padding.
		if key, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(encoded, "=")); err != nil {
			return nil, &VerificationError{Reason: "webhook secret is not base64"}
		}
	}
	if len(key) == 0 {
		return nil, &VerificationError{Reason: "empty webhook secret"}
	}
	return key, nil
}

// Verify checks the signature and the timestamp of a webhook. body must be the raw request body,
// byte for byte as received. It returns a *VerificationError when the webhook must be rejected.
func (w *Webhook) Verify(body []byte, headers http.Header) error {
	return w.verify(body, headers, true)
}

// VerifyIgnoringTimestamp checks only the signature, for replaying stored webhooks later.
func (w *Webhook) VerifyIgnoringTimestamp(body []byte, headers http.Header) error {
	return w.verify(body, headers, false)
}

func (w *Webhook) verify(body []byte, headers http.Header, checkTimestamp bool) error {
	if w.err != nil {
		return w.err
	}
	id, timestamp, signatures := header(headers, HeaderID), header(headers, HeaderTimestamp), header(headers, HeaderSignature)
	if id == "" || timestamp == "" || signatures == "" {
		return &VerificationError{Reason: "missing webhook-id, webhook-timestamp or webhook-signature header"}
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return &VerificationError{Reason: "invalid webhook-timestamp"}
	}
	if checkTimestamp {
		age := w.now().Sub(time.Unix(seconds, 0))
		if age > w.tolerance {
			return &VerificationError{Reason: "webhook timestamp too old"}
		}
		if age < -w.tolerance {
			return &VerificationError{Reason: "webhook timestamp too new"}
		}
	}
	expected := w.mac(id, timestamp, body)
	for _, entry := range strings.Fields(signatures) {
		version, encoded, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		given, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		if hmac.Equal(given, expected) {
			return nil
		}
	}
	return &VerificationError{Reason: "no matching signature"}
}

// Sign returns the webhook-signature value ("v1,<base64>") for a message.
func (w *Webhook) Sign(msgID string, timestamp time.Time, body []byte) (string, error) {
	if w.err != nil {
		return "", w.err
	}
	if timestamp.Unix() < 0 {
		return "", &VerificationError{Reason: "negative webhook timestamp"}
	}
	return "v1," + base64.StdEncoding.EncodeToString(w.mac(msgID, strconv.FormatInt(timestamp.Unix(), 10), body)), nil
}

func (w *Webhook) mac(id, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, w.key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// header reads a header case-insensitively, also from maps built without canonical keys.
func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
