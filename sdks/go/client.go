package triggers

import (
	"context"
	"strings"

	"github.com/zapier/triggers-sdk-go/internal/requestconfig"
	"github.com/zapier/triggers-sdk-go/option"
)

// Execute sends a request to any path under the base URL with the client's runtime policy
// (auth, retries, idempotency key on POST, typed errors) and decodes a JSON response into out
// (nil discards it). It is the escape hatch for endpoints or body shapes the typed methods do not
// cover; override the media type with option.WithHeader("Content-Type", ...).
//
//	var out map[string]any
//	err := client.Execute(ctx, "POST", "events", map[string]any{"type": "a.b"}, &out)
func (c *Client) Execute(ctx context.Context, method, path string, body, out any, opts ...option.RequestOption) error {
	_, err := c.core.execute(ctx, requestconfig.Request{Method: strings.ToUpper(method), Path: path, Body: body, Out: out}, opts)
	return err
}
