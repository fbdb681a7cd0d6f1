package webhooks

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/conformance"
)

type vectors struct {
	SignCases []struct {
		ID               string `json:"id"`
		Secret           string `json:"secret"`
		MsgID            string `json:"msg_id"`
		Timestamp        int64  `json:"timestamp"`
		Payload          string `json:"payload"`
		PayloadGenerator *struct {
			Repeat string `json:"repeat"`
			Count  int    `json:"count"`
		} `json:"payload_generator"`
		ExpectedSignature string `json:"expected_signature"`
	} `json:"sign_cases"`
	VerifyCases []struct {
		ID              string            `json:"id"`
		Secret          string            `json:"secret"`
		Payload         string            `json:"payload"`
		Headers         map[string]string `json:"headers"`
		Now             int64             `json:"now"`
		Expected        string            `json:"expected"`
		IgnoreTolerance bool              `json:"ignore_tolerance"`
	} `json:"verify_cases"`
	SecretCases []struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	} `json:"secret_cases"`
	SignErrorCases []struct {
		ID        string          `json:"id"`
		Secret    string          `json:"secret"`
		Timestamp json.RawMessage `json:"timestamp"`
	} `json:"sign_error_cases"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile(conformance.Path(t, "standard-webhooks/vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.SignCases {
		t.Run(c.ID, func(t *testing.T) {
			payload := c.Payload
			if c.PayloadGenerator != nil {
				payload = strings.Repeat(c.PayloadGenerator.Repeat, c.PayloadGenerator.Count)
			}
			got, err := New(c.Secret).Sign(c.MsgID, time.Unix(c.Timestamp, 0), []byte(payload))
			if err != nil || got != c.ExpectedSignature {
				t.Fatalf("Sign = %q, %v; want %q", got, err, c.ExpectedSignature)
			}
		})
	}
}

func TestVerifyVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.VerifyCases {
		t.Run(c.ID, func(t *testing.T) {
			headers := http.Header{}
			for k, val := range c.Headers {
				headers[k] = []string{val} // keep the vector's spelling: lookups must be case-insensitive
			}
			wh := New(c.Secret, WithClock(func() time.Time { return time.Unix(c.Now, 0) }))
			verify := wh.Verify
			if c.IgnoreTolerance {
				verify = wh.VerifyIgnoringTimestamp
			}
			err := verify([]byte(c.Payload), headers)
			if c.Expected == "valid" && err != nil {
				t.Fatalf("rejected a valid webhook: %v", err)
			}
			if c.Expected == "invalid" {
				var ve *VerificationError
				if !errors.As(err, &ve) {
					t.Fatalf("accepted an invalid webhook (err=%v)", err)
				}
			}
		})
	}
}

func TestSecretVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.SecretCases {
		t.Run(c.ID, func(t *testing.T) {
			if _, err := Parse(c.Secret); err == nil {
				t.Fatal("unusable secret accepted")
			}
			if err := New(c.Secret).Verify([]byte("{}"), http.Header{}); err == nil {
				t.Fatal("Verify with an unusable secret succeeded")
			}
		})
	}
}

func TestSignErrorVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.SignErrorCases {
		t.Run(c.ID, func(t *testing.T) {
			// Go's Sign takes a time.Time, so non-integer timestamps cannot be expressed; only a
			// negative integer timestamp reaches the signer.
			var text string
			if json.Unmarshal(c.Timestamp, &text) != nil {
				t.Skip("numeric timestamp case")
			}
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				t.Skipf("timestamp %q is not representable as time.Time: the type system rejects it", text)
			}
			if _, err := New(c.Secret).Sign("msg", time.Unix(n, 0), []byte("{}")); err == nil {
				t.Fatal("signing with a negative timestamp succeeded")
			}
		})
	}
}

func TestSignThenVerifyRoundTrip(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	wh := New("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WithClock(func() time.Time { return now }))
	sig, err := wh.Sign("msg_1", now, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderID, "msg_1")
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, "v1,bm90IGl0 "+sig)
	if err := wh.Verify([]byte(`{"a":1}`), h); err != nil {
		t.Fatal(err)
	}
}
