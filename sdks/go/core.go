package triggers

import (
	"context"
	"io"
	"iter"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/zapier/triggers-sdk-go/internal/requestconfig"
	"github.com/zapier/triggers-sdk-go/option"
)

// clientCore is the configuration shared by every service of a Client.
type clientCore struct {
	cfg *requestconfig.Config
	// err is the first error of a client option; every call returns it.
	err error
}

func newClientCore(opts []option.RequestOption) *clientCore {
	cfg := requestconfig.Defaults()
	err := cfg.Apply(opts...)
	return &clientCore{cfg: cfg, err: err}
}

// callConfig is the client's configuration with the call's options applied on top.
func (c *clientCore) callConfig(opts []option.RequestOption) (*requestconfig.Config, error) {
	if c.err != nil {
		return nil, c.err
	}
	cfg := c.cfg.Clone()
	if err := cfg.Apply(opts...); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *clientCore) execute(ctx context.Context, req requestconfig.Request, opts []option.RequestOption) (*requestconfig.RawResponse, error) {
	cfg, err := c.callConfig(opts)
	if err != nil {
		return nil, err
	}
	return requestconfig.Execute(ctx, cfg, req)
}

// doJSON sends a request and decodes the JSON response into a new T.
func doJSON[T any](ctx context.Context, c *clientCore, method, path string, query url.Values, body any, opts []option.RequestOption) (*T, error) {
	out := new(T)
	if _, err := c.execute(ctx, requestconfig.Request{Method: method, Path: path, Query: query, Body: body, Out: out}, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// doEmpty sends a request whose success response has no body (204).
func doEmpty(ctx context.Context, c *clientCore, method, path string, query url.Values, body any, opts []option.RequestOption) error {
	_, err := c.execute(ctx, requestconfig.Request{Method: method, Path: path, Query: query, Body: body}, opts)
	return err
}

// doText sends a request whose success response is plain text (the Prometheus metrics page).
func doText(ctx context.Context, c *clientCore, method, path string, query url.Values, opts []option.RequestOption) (string, error) {
	raw, err := c.execute(ctx, requestconfig.Request{Method: method, Path: path, Query: query, Accept: "text/plain", Stream: true}, opts)
	if err != nil {
		return "", err
	}
	defer raw.Body.Close()
	text, err := io.ReadAll(raw.Body)
	if err != nil {
		return "", &APIConnectionError{APIError: &APIError{Method: method, URL: raw.Request.URL.String(), Message: "reading the response body: " + err.Error(), Cause: err}}
	}
	return string(text), nil
}

// Page is one page of a list: its items and the cursor of the next page (nil on the last page).
type Page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// listPages fetches pages lazily, following next_cursor until it is null or the loop stops.
func listPages[T any](ctx context.Context, c *clientCore, path string, query url.Values, opts []option.RequestOption) iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		for {
			page, err := doJSON[Page[T]](ctx, c, "GET", path, q, nil, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || page.NextCursor == nil || *page.NextCursor == "" {
				return
			}
			q.Set("cursor", *page.NextCursor)
		}
	}
}

// listItems yields every item of every page (auto-pagination).
func listItems[T any](ctx context.Context, c *clientCore, path string, query url.Values, opts []option.RequestOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range listPages[T](ctx, c, path, query, opts) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Data {
				if !yield(item, nil) {
					return
				}
			}
		}
	}
}

// addQuery adds a query parameter from a params struct field; zero values mean "not set".
// Slices repeat the parameter (explode: true); times use RFC 3339; named string types (enums) are
// sent as their value.
func addQuery(q url.Values, name string, value any) {
	switch v := value.(type) {
	case nil:
		return
	case time.Time:
		if !v.IsZero() {
			q.Add(name, v.Format(time.RFC3339Nano))
		}
		return
	case *bool:
		if v != nil {
			q.Add(name, strconv.FormatBool(*v))
		}
		return
	}
	rv := reflect.ValueOf(value)
	switch rv.Kind() {
	case reflect.Pointer:
		if !rv.IsNil() {
			addQuery(q, name, rv.Elem().Interface())
		}
	case reflect.Slice:
		for i := range rv.Len() {
			addQuery(q, name, rv.Index(i).Interface())
		}
	case reflect.String:
		if s := rv.String(); s != "" {
			q.Add(name, s)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := rv.Int(); n != 0 {
			q.Add(name, strconv.FormatInt(n, 10))
		}
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); f != 0 {
			q.Add(name, strconv.FormatFloat(f, 'f', -1, 64))
		}
	case reflect.Bool:
		q.Add(name, strconv.FormatBool(rv.Bool()))
	}
}

// Ptr returns a pointer to v, for optional fields of request types: Subject: triggers.Ptr("order/1").
func Ptr[T any](v T) *T { return &v }
