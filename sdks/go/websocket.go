package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/zapier/triggers-sdk-go/internal/apierror"
	"github.com/zapier/triggers-sdk-go/internal/constants"
	"github.com/zapier/triggers-sdk-go/internal/requestconfig"
	"github.com/zapier/triggers-sdk-go/option"
)

// The WebSocket session under Events.Subscribe and Inbox.Stream (asyncapi.yaml, subprotocol triggers.v1): it
// dials with Authorization on the upgrade (the key never goes into the URL), waits for welcome, answers the
// server's pings, declares a server dead after WSDeadAfterIntervals silent heartbeat intervals, and reconnects
// with the stream backoff of the runtime policy after a lost connection or a reconnectable close code. What to
// (re)send after each welcome belongs to the owner (onWelcome).

// WebSocketClosedError is a WebSocket connection that closed with a code the contract does not mark
// reconnectable and without a problem frame, or that kept failing to reconnect.
type WebSocketClosedError struct {
	*APIError
	// Code is the close code (-1 when the connection dropped without a close frame).
	Code   int
	Reason string
}

func (e *WebSocketClosedError) Unwrap() error { return &APIConnectionError{APIError: e.APIError} }

// wsHeartbeatUnit is the unit of welcome.heartbeat_interval (seconds); tests shorten it.
var wsHeartbeatUnit = time.Second

type wsHandlers struct {
	// onWelcome runs after every welcome, on the reading goroutine: (re)send subscriptions, leases, requests.
	onWelcome func(w *WelcomeFrame)
	// onFrame gets every other server frame (not ping/pong), in order, on the reading goroutine. It may block
	// (a full buffer): reading stops meanwhile, so the server sees backpressure.
	onFrame func(frame any)
	// onDisconnect, if set, runs after each connection that ended with a reconnect to follow.
	onDisconnect func(err error)
}

type wsSession struct {
	cfg      *requestconfig.Config
	url      string
	handlers wsHandlers

	mu      sync.Mutex
	conn    *websocket.Conn
	welcome *WelcomeFrame
	stopped atomic.Bool
}

func newWSSession(core *clientCore, opts []option.RequestOption, handlers wsHandlers) (*wsSession, error) {
	cfg, err := core.callConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" {
		return nil, &ConfigError{Message: "no API key: pass option.WithAPIKey or set " + constants.EnvAPIKey}
	}
	target := cfg.BaseURL + constants.WSPath
	switch {
	case strings.HasPrefix(target, "https://"):
		target = "wss://" + strings.TrimPrefix(target, "https://")
	case strings.HasPrefix(target, "http://"):
		target = "ws://" + strings.TrimPrefix(target, "http://")
	}
	return &wsSession{cfg: cfg, url: target, handlers: handlers}, nil
}

// send writes one frame on the current welcomed connection; false when there is none right now.
func (s *wsSession) send(ctx context.Context, frame any) bool {
	s.mu.Lock()
	conn, welcomed := s.conn, s.welcome != nil
	s.mu.Unlock()
	if conn == nil || !welcomed {
		return false
	}
	data, err := json.Marshal(frame)
	if err != nil {
		return false
	}
	return conn.Write(ctx, websocket.MessageText, data) == nil
}

func (s *wsSession) limits() *WelcomeFrame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.welcome
}

// outcome is how one connection ended.
type wsOutcome struct {
	code     int
	reason   string
	problem  *Problem
	welcomed bool
	dead     bool
	err      error
	// http is set when the upgrade was answered with a status instead of 101.
	http *http.Response
	body []byte
}

// run connects and reconnects until ctx ends (nil) or the server refuses the connection for good.
func (s *wsSession) run(ctx context.Context) error {
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		out := s.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if out.code == int(CloseCodeNormal) && out.problem == nil && out.http == nil {
			return nil
		}
		fatal, err := s.failure(out)
		if fatal {
			return err
		}
		if s.handlers.onDisconnect != nil {
			s.handlers.onDisconnect(err)
		}
		if out.welcomed {
			failures = 0
		}
		failures++
		if failures > constants.StreamMaxReconnectAttempts {
			return err
		}
		delay := requestconfig.Backoff(constants.StreamReconnectDelay, constants.StreamMaxReconnectDelay, failures, s.cfg.Random)
		if s.cfg.Logger != nil {
			s.cfg.Logger.Debug("websocket reconnecting", "url", s.url, "attempt", failures, "delay", delay, "error", err)
		}
		if s.cfg.Sleep(ctx, delay) != nil {
			return nil
		}
	}
}

func (s *wsSession) apiError(status int, body []byte) error {
	return apierror.FromResponse(&APIError{Method: "GET", URL: s.url, StatusCode: status, Header: http.Header{}, Body: body}, nil)
}

func (s *wsSession) problemError(p Problem) error {
	body, _ := json.Marshal(p)
	status := p.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	return s.apiError(status, body)
}

// failure says whether an ended connection is final, and the error to report either way.
func (s *wsSession) failure(out wsOutcome) (bool, error) {
	if out.http != nil {
		status := out.http.StatusCode
		err := s.apiError(status, out.body)
		return status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests, err
	}
	closed := &WebSocketClosedError{
		APIError: &APIError{Method: "GET", URL: s.url, Message: fmt.Sprintf("websocket closed with %d %s", out.code, out.reason), Cause: out.err},
		Code:     out.code, Reason: out.reason,
	}
	if out.dead {
		closed.Message = fmt.Sprintf("no frame from the server for %d heartbeat intervals", constants.WSDeadAfterIntervals)
		return false, closed
	}
	// -1: no close frame (the network or the server process went away); 1005/1006 likewise.
	reconnectable := out.code == -1 || out.code == 1005 || out.code == 1006 || CloseCode(out.code).Reconnect()
	if reconnectable {
		return false, closed
	}
	if out.problem != nil {
		return true, s.problemError(*out.problem)
	}
	return true, closed
}

func (s *wsSession) connect(ctx context.Context) (out wsOutcome) {
	out.code = -1
	header := http.Header{}
	for k, v := range s.cfg.Header {
		header[k] = v
	}
	header.Set("Authorization", "Bearer "+s.cfg.APIKey)
	header.Set("User-Agent", "zapier-triggers-go/"+constants.SDKVersion)
	header.Set(constants.HeaderSDK, "go/"+constants.SDKVersion)
	dialCtx, cancelDial := context.WithTimeout(ctx, constants.WSConnectTimeout)
	conn, resp, err := websocket.Dial(dialCtx, s.url, &websocket.DialOptions{
		HTTPClient:   s.cfg.HTTPClient,
		HTTPHeader:   header,
		Subprotocols: []string{constants.WSSubprotocol},
	})
	cancelDial()
	if err != nil {
		out.err = err
		out.reason = err.Error()
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != 0 {
			out.http = resp
			if resp.Body != nil {
				out.body = readAllLimited(resp)
			}
		}
		return out
	}
	// The largest frame accepted from the server (docs/runtime-policy.md, ws_max_frame_bytes).
	conn.SetReadLimit(constants.WSMaxFrameBytes)
	s.mu.Lock()
	s.conn, s.welcome = conn, nil
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.conn, s.welcome = nil, nil
		s.mu.Unlock()
		if ctx.Err() != nil {
			_ = conn.Close(websocket.StatusNormalClosure, "client closed")
			out.code = int(CloseCodeNormal)
		} else {
			_ = conn.CloseNow()
		}
	}()
	// Until welcome the connect timeout, then two heartbeat intervals, bound every read.
	silence := constants.WSConnectTimeout
	for {
		readCtx, cancel := context.WithTimeout(ctx, silence)
		kind, data, err := conn.Read(readCtx)
		timedOut := readCtx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return out
			}
			out.err = err
			if timedOut {
				out.dead = out.welcomed
				out.code = int(CloseCodeHeartbeatTimeout)
				out.reason = "no frame within " + silence.String()
				return out
			}
			if code := websocket.CloseStatus(err); code != -1 {
				out.code = int(code)
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					out.reason = ce.Reason
				}
			}
			return out
		}
		if kind != websocket.MessageText {
			continue
		}
		frame, err := DecodeServerFrame(data)
		if err != nil {
			continue
		}
		switch f := frame.(type) {
		case *WelcomeFrame:
			out.welcomed = true
			s.mu.Lock()
			s.welcome = f
			s.mu.Unlock()
			interval := constants.WSHeartbeatInterval
			if f.HeartbeatInterval > 0 {
				interval = time.Duration(f.HeartbeatInterval) * wsHeartbeatUnit
			}
			silence = time.Duration(constants.WSDeadAfterIntervals) * interval
			s.handlers.onWelcome(f)
		case *PingFrame:
			pong, _ := json.Marshal(PongFrame{Type: "pong", ID: f.ID})
			_ = conn.Write(ctx, websocket.MessageText, pong)
		case *PongFrame:
		case *ErrorFrame:
			if f.ID == nil {
				problem := f.Problem
				out.problem = &problem
			}
			s.handlers.onFrame(f)
		default:
			s.handlers.onFrame(f)
		}
	}
}

func readAllLimited(resp *http.Response) []byte {
	defer resp.Body.Close()
	buf := make([]byte, 0, 1024)
	chunk := make([]byte, 1024)
	for len(buf) < 1024 {
		n, err := resp.Body.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			break
		}
	}
	return buf
}

// wsIDs numbers the client-chosen ids of subscriptions, leases and requests.
var wsIDs atomic.Int64

func wsID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, wsIDs.Add(1)) }
