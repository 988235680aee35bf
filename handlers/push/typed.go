package push

import (
	"context"
	"encoding/json"
	"fmt"
)

// JSON adapts a handler of a typed payload to a HandlerFunc: it decodes the
// message data as JSON into a T and calls fn with it. Data that does not
// decode is poison: the error is marked Permanent, so the message is
// acknowledged and logged rather than redelivered forever.
func JSON[T any](fn func(ctx context.Context, m *Message, v T) error) HandlerFunc {
	return func(ctx context.Context, m *Message) error {
		var v T
		if err := json.Unmarshal(m.Data, &v); err != nil {
			return Permanent(fmt.Errorf("push: message data is not a valid %T: %w", v, err))
		}
		return fn(ctx, m, v)
	}
}
