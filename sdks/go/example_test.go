package triggers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	triggers "github.com/zapier/triggers-sdk-go"
	"github.com/zapier/triggers-sdk-go/option"
	"github.com/zapier/triggers-sdk-go/webhooks"
)

// The snippet of the Go SDK issue, as written (plus the `_ =` Go needs for values the snippet
// ignores). It is compiled by `go test`; run it against a server with examples/quickstart.
func Example() {
	ctx := context.Background()
	key, url, secret := "tk_...", "http://127.0.0.1:8080/v1", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var body []byte
	var headers http.Header

	client := triggers.NewClient(option.WithAPIKey(key), option.WithBaseURL(url)) // env fallback
	ev, err := client.Events.Create(ctx, triggers.EventCreateParams{Type: "order.created", Source: "my-app",
		Data: map[string]any{"order_id": "123"}})
	for ev, err := range client.Events.List(ctx, triggers.EventListParams{Type: []string{"order.*"}}) {
		_, _ = ev, err
	}
	for msg, err := range client.Inbox.Iterate(ctx, triggers.InboxIterateParams{BatchSize: 10}) {
		_ = err
		msg.Ack(ctx)
	}
	stream := client.Events.Stream(ctx, triggers.StreamParams{Types: []string{"order.*"}})
	for stream.Next() {
		e := stream.Current()
		_ = e
	}
	err = stream.Err()                               // resumable
	err = webhooks.New(secret).Verify(body, headers) // Standard Webhooks
	_, _ = ev, err
}

// The stream snippet of the README: the idle-timeout option, the end of a stream, the typed
// redirect error and the raw API. Compiled by `go test`, not run.
func ExampleEventsService_StreamRaw() {
	ctx := context.Background()
	client := triggers.NewClient()

	stream := client.Events.Stream(ctx, triggers.StreamParams{Types: []string{"order.*"}},
		option.WithStreamIdleTimeout(45*time.Second)) // the default, from codegen/policy.yaml
	for stream.Next() {
		_ = stream.Current().Sequence
	}
	var redirect *triggers.StreamRedirectError
	if err := stream.Err(); errors.As(err, &redirect) { // nil after Close or a 204
		fmt.Println("cannot follow", redirect.StatusCode, redirect.Location)
	}
	saved := stream.LastEventID()

	raw := client.Events.StreamRaw(ctx, triggers.StreamParams{LastEventID: saved})
	for m, err := range raw.All() {
		if err != nil {
			break
		}
		fmt.Println(m.Type, m.ID, m.Data, m.Retry) // "reset" and unknown kinds included
	}
}
