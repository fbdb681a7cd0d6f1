package triggers

import (
	"context"

	"github.com/zapier/triggers-sdk-go/internal/requestconfig"
	"github.com/zapier/triggers-sdk-go/option"
)

// CreateCloudEvent ingests one event in CloudEvents structured mode
// (application/cloudevents+json): ce.ID becomes the stored event's ExternalID.
func (s *EventsService) CreateCloudEvent(ctx context.Context, ce CloudEvent, opts ...option.RequestOption) (*Event, error) {
	if ce.Specversion == "" {
		ce.Specversion = "1.0"
	}
	out := new(Event)
	_, err := s.core.execute(ctx, requestconfig.Request{Method: "POST", Path: "events", Body: ce, ContentType: "application/cloudevents+json", Out: out}, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}
