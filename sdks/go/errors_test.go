package triggers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/zapier/triggers-sdk-go/option"
)

func TestErrorMappingForEveryStatus(t *testing.T) {
	cases := []struct {
		status int
		slug   string
		check  func(error) bool
	}{
		{400, "malformed-request", func(e error) bool { var x *BadRequestError; return errors.As(e, &x) }},
		{401, "unauthenticated", func(e error) bool { var x *AuthenticationError; return errors.As(e, &x) }},
		{403, "forbidden", func(e error) bool { var x *PermissionDeniedError; return errors.As(e, &x) }},
		{404, "not-found", func(e error) bool { var x *NotFoundError; return errors.As(e, &x) }},
		{405, "method-not-allowed", func(e error) bool {
			var x *APIStatusError
			var nf *NotFoundError
			return errors.As(e, &x) && !errors.As(e, &nf)
		}},
		{409, "conflict", func(e error) bool {
			var x *ConflictError
			var inflight *IdempotencyInProgressError
			return errors.As(e, &x) && !errors.As(e, &inflight)
		}},
		{409, "idempotency-in-flight", func(e error) bool {
			var x *IdempotencyInProgressError
			var c *ConflictError
			return errors.As(e, &x) && errors.As(e, &c)
		}},
		{413, "payload-too-large", func(e error) bool { var x *APIStatusError; return errors.As(e, &x) }},
		{422, "validation", func(e error) bool { var x *UnprocessableEntityError; return errors.As(e, &x) }},
		{422, "idempotency-key-reuse", func(e error) bool { var x *IdempotencyKeyReusedError; return errors.As(e, &x) }},
		{422, "schema-validation", func(e error) bool {
			var x *SchemaValidationError
			var u *UnprocessableEntityError
			return errors.As(e, &x) && errors.As(e, &u)
		}},
		{429, "rate-limited", func(e error) bool { var x *RateLimitError; return errors.As(e, &x) && x.RetryAfter == nil }},
		{500, "internal", func(e error) bool { var x *InternalServerError; return errors.As(e, &x) }},
		{503, "unavailable", func(e error) bool { var x *InternalServerError; return errors.As(e, &x) }},
	}
	for _, tc := range cases {
		t.Run(tc.slug, func(t *testing.T) {
			srv := newScriptServer(t, problemReply(tc.status, tc.slug))
			_, err := testClient(srv.Server, newFakeClock(), option.WithMaxRetries(0)).Events.Get(context.Background(), "evt_1")
			if !tc.check(err) {
				t.Fatalf("%d %s mapped to %T", tc.status, tc.slug, err)
			}
			var apiErr *APIError
			var te TriggersError
			if !errors.As(err, &apiErr) || !errors.As(err, &te) {
				t.Fatalf("%T does not unwrap to *APIError and TriggersError", err)
			}
			if apiErr.StatusCode != tc.status || apiErr.Type != "https://triggers.dev/problems/"+tc.slug || apiErr.Slug() != tc.slug ||
				apiErr.Detail != "detail of "+tc.slug || apiErr.RequestID != "req_body" || apiErr.Title != tc.slug || apiErr.Instance != "/v1/x" {
				t.Fatalf("fields not decoded: %+v", apiErr)
			}
			if !strings.Contains(err.Error(), "detail of "+tc.slug) || !strings.Contains(err.Error(), "req_body") {
				t.Fatalf("message %q lacks detail or request id", err.Error())
			}
		})
	}
}

func TestSchemaValidationErrorCarriesPointersAndExtensions(t *testing.T) {
	body := map[string]any{
		"type": "https://triggers.dev/problems/schema-validation", "title": "Schema validation failed", "status": 422,
		"detail": "data does not match", "errors": []map[string]string{{"pointer": "/data/order_id", "detail": "must be string"}},
		"schema_version": 3,
	}
	srv := newScriptServer(t, jsonReply(422, body, "X-Request-Id", "req_hdr"))
	_, err := testClient(srv.Server, newFakeClock()).Events.Create(context.Background(), createParams())
	var sv *SchemaValidationError
	mustAs(t, err, &sv)
	if len(sv.Errors) != 1 || sv.Errors[0].Pointer != "/data/order_id" || sv.Errors[0].Detail != "must be string" {
		t.Fatalf("errors = %+v", sv.Errors)
	}
	if sv.Extensions["schema_version"] != float64(3) {
		t.Fatalf("extensions = %v", sv.Extensions)
	}
	if sv.RequestID != "req_hdr" {
		t.Fatalf("request id should fall back to X-Request-Id, got %q", sv.RequestID)
	}
}

func TestNonProblemErrorBody(t *testing.T) {
	srv := newScriptServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
	})
	_, err := testClient(srv.Server, newFakeClock(), option.WithMaxRetries(0)).Events.Get(context.Background(), "evt_1")
	var ise *InternalServerError
	mustAs(t, err, &ise)
	if ise.Message != "Bad Gateway" || string(ise.Body) != "<html>bad gateway</html>" {
		t.Fatalf("message=%q body=%q", ise.Message, ise.Body)
	}
}

func TestMalformedSuccessBodyIsATypedError(t *testing.T) {
	srv := newScriptServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"id": 12`))
	})
	_, err := testClient(srv.Server, newFakeClock()).Events.Get(context.Background(), "evt_1")
	var apiErr *APIError
	mustAs(t, err, &apiErr)
	if apiErr.StatusCode != 200 || apiErr.Cause == nil {
		t.Fatalf("got %+v", apiErr)
	}
}

func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	srv := newScriptServer(t, jsonReply(200, map[string]any{"status": "ok", "version": "1", "added_later": 1}))
	client := testClient(srv.Server, newFakeClock())
	if _, err := client.Ops.Health(context.Background()); err != nil {
		t.Fatalf("lenient decoding must ignore unknown fields: %v", err)
	}
	if _, err := client.Ops.Health(context.Background(), option.WithStrictDecoding()); err == nil {
		t.Fatal("strict decoding accepted an unknown field")
	}
}

func TestDebugLogRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := newScriptServer(t, jsonReply(201, map[string]any{"id": "key_1", "secret": "tk_live_returned"}))
	client := testClient(srv.Server, newFakeClock(), option.WithLogger(logger), option.WithHeader("X-Api-Token", "tok_hidden"))
	_, _ = client.APIKeys.Create(context.Background(), APIKeyCreateParams{Name: "ci"}, option.WithIdempotencyKey("idem-visible"))
	out := buf.String()
	for _, secret := range []string{"tk_test_secret", "tok_hidden"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log leaks %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "[REDACTED]") || !strings.Contains(out, "idem-visible") || !strings.Contains(out, "triggers request") {
		t.Fatalf("log lacks redaction marker, idempotency key or request line:\n%s", out)
	}
}

func TestTriggersLogDebugEnvironment(t *testing.T) {
	srv := newScriptServer(t, jsonReply(200, eventJSON("evt_1", 1)))
	t.Setenv("TRIGGERS_LOG", "debug")
	reader, writer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = writer
	client := testClient(srv.Server, newFakeClock()) // the env logger binds to os.Stderr here
	os.Stderr = stderr
	if _, err := client.Events.Get(context.Background(), "evt_1"); err != nil {
		t.Fatal(err)
	}
	writer.Close()
	out, _ := io.ReadAll(reader)
	if !strings.Contains(string(out), "triggers request") || strings.Contains(string(out), "tk_test_secret") ||
		!strings.Contains(string(out), "Authorization:[[REDACTED]]") {
		t.Fatalf("debug log:\n%s", out)
	}
}
