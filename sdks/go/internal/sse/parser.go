// Package sse parses a text/event-stream per the WHATWG HTML standard, section 9.2 "Server-sent
// events": line endings CRLF, LF or CR (also split across reads), a leading BOM, comments, the id
// field ignoring values with NUL, retry with digits only, and multi-line data.
//
// It is hand-written because the Go standard library has no SSE parser; it is tested against
// ../shared/conformance/sse/parsing-cases.json.
package sse

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
)

// Kind says what a Message is.
type Kind int

const (
	// KindEvent is a dispatched event.
	KindEvent Kind = iota
	// KindComment is a line starting with ':' (heartbeats).
	KindComment
	// KindRetry is a valid retry field: the reconnection time in milliseconds.
	KindRetry
)

// Message is one thing the parser surfaces, in stream order.
type Message struct {
	Kind Kind
	// Type is the event type ("message" when the stream gave none).
	Type string
	Data string
	// ID is the last event ID in effect when the event was dispatched ("" = none).
	ID string
	// Comment is the text after ':' for a KindComment.
	Comment string
	// Retry is the reconnection time in milliseconds for a KindRetry.
	Retry int64
}

// Parser reads messages from a stream. It is not safe for concurrent use.
type Parser struct {
	r           *bufio.Reader
	started     bool
	pendingCR   bool
	lastEventID string
	eventType   string
	data        strings.Builder
	hasData     bool
	queue       []Message
}

// NewParser reads from r. lastEventID seeds the last event ID buffer, as a browser carries it
// across reconnections: an event without an id field on the new connection inherits it.
func NewParser(r io.Reader, lastEventID string) *Parser {
	return &Parser{r: bufio.NewReaderSize(r, 4096), lastEventID: lastEventID}
}

// LastEventID is the stream's current last event ID.
func (p *Parser) LastEventID() string { return p.lastEventID }

// Next returns the next message, or the reader's error (io.EOF at the end of the stream).
// An event not terminated by a blank line before the end of the stream is discarded, as the
// standard requires.
func (p *Parser) Next() (Message, error) {
	for len(p.queue) == 0 {
		line, err := p.readLine()
		if err != nil {
			return Message{}, err
		}
		p.processLine(line)
	}
	msg := p.queue[0]
	p.queue = p.queue[1:]
	return msg, nil
}

// readLine returns one line without its terminator, handling CR, LF and CRLF (a CRLF split
// across two reads counts once). A final line without terminator is dropped at EOF.
func (p *Parser) readLine() (string, error) {
	var line []byte
	for {
		b, err := p.r.ReadByte()
		if err != nil {
			return "", err
		}
		if p.pendingCR {
			p.pendingCR = false
			if b == '\n' {
				continue
			}
		}
		if !p.started {
			p.started = true
			// A UTF-8 BOM (EF BB BF) is stripped once, at the very start of the stream.
			if b == 0xEF {
				rest, peekErr := p.r.Peek(2)
				if peekErr == nil && rest[0] == 0xBB && rest[1] == 0xBF {
					_, _ = p.r.Discard(2)
					continue
				}
			}
		}
		switch b {
		case '\n':
			return string(line), nil
		case '\r':
			p.pendingCR = true
			return string(line), nil
		default:
			line = append(line, b)
			// Read the rest of a long run of ordinary bytes at once.
			for {
				chunk, peekErr := p.r.Peek(p.r.Buffered())
				if peekErr != nil || len(chunk) == 0 {
					break
				}
				i := bytes.IndexAny(chunk, "\r\n")
				if i < 0 {
					line = append(line, chunk...)
					_, _ = p.r.Discard(len(chunk))
					break
				}
				line = append(line, chunk[:i]...)
				_, _ = p.r.Discard(i)
				break
			}
		}
	}
}

func (p *Parser) processLine(line string) {
	if line == "" {
		p.dispatch()
		return
	}
	if strings.HasPrefix(line, ":") {
		p.queue = append(p.queue, Message{Kind: KindComment, Comment: line[1:]})
		return
	}
	field, value, found := strings.Cut(line, ":")
	if found {
		value = strings.TrimPrefix(value, " ")
	}
	switch field {
	case "event":
		p.eventType = value
	case "data":
		p.data.WriteString(value)
		p.data.WriteByte('\n')
		p.hasData = true
	case "id":
		if !strings.ContainsRune(value, 0) {
			p.lastEventID = value
		}
	case "retry":
		if value != "" && strings.Trim(value, "0123456789") == "" {
			if ms, err := strconv.ParseInt(value, 10, 64); err == nil {
				p.queue = append(p.queue, Message{Kind: KindRetry, Retry: ms})
			}
		}
	}
}

func (p *Parser) dispatch() {
	eventType := p.eventType
	p.eventType = ""
	if !p.hasData {
		p.data.Reset()
		return
	}
	data := strings.TrimSuffix(p.data.String(), "\n")
	p.data.Reset()
	p.hasData = false
	if eventType == "" {
		eventType = "message"
	}
	p.queue = append(p.queue, Message{Kind: KindEvent, Type: eventType, Data: data, ID: p.lastEventID})
}
