// Command quickstart walks through the Go SDK against a running triggers-server:
//
//	TRIGGERS_API_KEY=tk_... TRIGGERS_BASE_URL=http://127.0.0.1:8080/v1 go run ./examples/quickstart
//
// It creates events, lists them with auto-pagination, consumes the pull inbox, streams live events,
// replays one into the inbox as a dry run and verifies a signed webhook.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"

	triggers "github.com/zapier/triggers-sdk-go"
	"github.com/zapier/triggers-sdk-go/option"
	"github.com/zapier/triggers-sdk-go/webhooks"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	client := triggers.NewClient(option.WithMaxRetries(3)) // TRIGGERS_API_KEY / TRIGGERS_BASE_URL
	kind := fmt.Sprintf("quickstart%d", time.Now().UnixNano())

	// Live stream first, so it sees the events created below.
	streamCtx, stopStream := context.WithTimeout(ctx, 30*time.Second)
	defer stopStream()
	stream := client.Events.Stream(streamCtx, triggers.StreamParams{Types: []string{kind + ".*"}})
	defer stream.Close()

	var first *triggers.Event
	for i := range 3 {
		// demo-snippet: start
		ev, err := client.Events.Create(ctx, triggers.EventCreateParams{
			Type: kind + ".order_created", Source: "go-quickstart",
			Data: map[string]any{"order_id": strconv.Itoa(i), "amount": 10 * (i + 1)},
		})
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		// demo-snippet: end
		if first == nil {
			first = ev
		}
		fmt.Printf("created %s (sequence %d)\n", ev.ID, ev.Sequence)
	}

	count := 0
	for ev, err := range client.Events.List(ctx, triggers.EventListParams{Type: []string{kind + ".*"}, Limit: 2}) {
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		count++
		fmt.Printf("listed %s %s\n", ev.ID, ev.Type)
	}
	fmt.Printf("listed %d events over pages of 2\n", count)

	for i := 0; i < 3 && stream.Next(); i++ {
		fmt.Printf("streamed sequence %d: %s\n", stream.Current().Sequence, stream.Current().Type)
	}
	if err := stream.Err(); err != nil {
		return fmt.Errorf("stream: %w", err)
	}

	acked := 0
	for msg, err := range client.Inbox.Iterate(ctx, triggers.InboxIterateParams{BatchSize: 10, Types: []string{kind + ".*"}, StopWhenEmpty: true}) {
		if err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
		if err := msg.Ack(ctx); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
		acked++
	}
	fmt.Printf("acknowledged %d inbox messages\n", acked)

	replay, err := client.Events.Replay(ctx, first.ID, triggers.EventReplayParams{Target: triggers.ReplayToInbox(), DryRun: triggers.Ptr(true)})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	fmt.Printf("dry-run replay: %d outcome(s)\n", len(replay.Outcomes))

	_, err = client.Events.Get(ctx, "evt_does_not_exist")
	var notFound *triggers.NotFoundError
	if !errors.As(err, &notFound) {
		return fmt.Errorf("expected NotFoundError, got %v", err)
	}
	fmt.Printf("typed error: %d %s (request %s)\n", notFound.StatusCode, notFound.Slug(), notFound.RequestID)

	wh := webhooks.New("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	body := []byte(`{"type":"order.created"}`)
	sig, err := wh.Sign("msg_1", time.Now(), body)
	if err != nil {
		return err
	}
	headers := http.Header{}
	headers.Set(webhooks.HeaderID, "msg_1")
	headers.Set(webhooks.HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
	headers.Set(webhooks.HeaderSignature, sig)
	if err := wh.Verify(body, headers); err != nil {
		return err
	}
	fmt.Println("webhook signature verified")
	if os.Getenv("TRIGGERS_LOG") == "" {
		fmt.Println("(set TRIGGERS_LOG=debug to see redacted request logs)")
	}
	return nil
}
