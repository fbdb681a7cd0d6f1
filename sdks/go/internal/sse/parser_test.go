package sse

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/zapier/triggers-sdk-go/internal/conformance"
)

type vectorFile struct {
	Cases []struct {
		ID        string   `json:"id"`
		Chunks    []string `json:"chunks"`
		ChunksHex []string `json:"chunks_hex"`
		Expect    []struct {
			Kind    string  `json:"kind"`
			Type    *string `json:"type"`
			Data    string  `json:"data"`
			ID      string  `json:"id"`
			Comment string  `json:"comment"`
			Value   int64   `json:"value"`
		} `json:"expect"`
		Match string `json:"match"`
	} `json:"cases"`
}

// chunkReader returns one chunk per Read, as a server flushing each chunk separately would.
type chunkReader struct{ chunks [][]byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if n == len(r.chunks[0]) {
		r.chunks = r.chunks[1:]
	} else {
		r.chunks[0] = r.chunks[0][n:]
	}
	return n, nil
}

func render(kind, typ, data, id, comment string, value int64) string {
	switch kind {
	case "event":
		if typ == "" {
			typ = "message"
		}
		b, _ := json.Marshal([]string{"event", typ, data, id})
		return string(b)
	case "comment":
		b, _ := json.Marshal([]string{"comment", comment})
		return string(b)
	default:
		b, _ := json.Marshal([]any{"retry", value})
		return string(b)
	}
}

func TestConformanceVectors(t *testing.T) {
	raw, err := os.ReadFile(conformance.Path(t, "sse/parsing-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file vectorFile
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no cases in parsing-cases.json")
	}
	for _, c := range file.Cases {
		t.Run(c.ID, func(t *testing.T) {
			var chunks [][]byte
			for _, s := range c.Chunks {
				chunks = append(chunks, []byte(s))
			}
			for _, h := range c.ChunksHex {
				b, err := hex.DecodeString(h)
				if err != nil {
					t.Fatal(err)
				}
				chunks = append(chunks, b)
			}
			p := NewParser(&chunkReader{chunks: chunks}, "")
			var got []string
			for {
				msg, err := p.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				kind := map[Kind]string{KindEvent: "event", KindComment: "comment", KindRetry: "retry"}[msg.Kind]
				if c.Match == "events-only" && kind != "event" {
					continue
				}
				got = append(got, render(kind, msg.Type, msg.Data, msg.ID, msg.Comment, msg.Retry))
			}
			var want []string
			for _, e := range c.Expect {
				if c.Match == "events-only" && e.Kind != "event" {
					continue
				}
				typ := ""
				if e.Type != nil {
					typ = *e.Type
				}
				want = append(want, render(e.Kind, typ, e.Data, e.ID, e.Comment, e.Value))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestUnterminatedEventIsDiscardedAtEOF(t *testing.T) {
	p := NewParser(strings.NewReader("data: complete\n\ndata: partial"), "")
	msg, err := p.Next()
	if err != nil || msg.Data != "complete" {
		t.Fatalf("first = %+v, %v", msg, err)
	}
	if _, err := p.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestSeededLastEventIDIsInheritedUntilAnEmptyID(t *testing.T) {
	p := NewParser(strings.NewReader("data: a\n\nid:\ndata: b\n\n"), "7")
	var ids []string
	for {
		msg, err := p.Next()
		if err != nil {
			break
		}
		ids = append(ids, msg.ID)
	}
	if strings.Join(ids, ",") != "7," {
		t.Fatalf("ids = %q", ids)
	}
}
