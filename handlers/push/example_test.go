package push_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// Order is the JSON payload the publisher puts in each message's data.
type Order struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

// Example registers a typed push handler on a chi router. Pub/Sub delivers
// the same message twice (push is at-least-once); the handler runs once and
// both deliveries are acknowledged with 204.
func Example() {
	handle := push.JSON(func(ctx context.Context, m *push.Message, o Order) error {
		if o.Qty <= 0 {
			// Retrying cannot fix this: acknowledge and log it as poison.
			return push.Permanent(fmt.Errorf("order %s: quantity %d", o.ID, o.Qty))
		}
		fmt.Printf("order %s x%d (message %s, %s)\n", o.ID, o.Qty, m.ID, m.Form)
		return nil // an error here would make Pub/Sub deliver the message again
	})

	r := chi.NewRouter()
	// In the service this route also sits behind authn's RequireService.
	r.Method(http.MethodPost, "/pubsub/push", push.NewHandler(handle, push.Options{}))

	// What Pub/Sub POSTs: data is base64 of {"id":"A-1","qty":2}.
	body := `{"message":{"data":"eyJpZCI6IkEtMSIsInF0eSI6Mn0=","messageId":"1001",` +
		`"publishTime":"2025-03-01T12:00:00.123Z"},"subscription":"projects/demo/subscriptions/orders-push"}`
	for range 2 {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/pubsub/push", strings.NewReader(body)))
		fmt.Println(rec.Code)
	}

	// A delivery that is not a Pub/Sub push is refused and never processed.
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/pubsub/push", strings.NewReader(`{}`)))
	fmt.Print(rec.Code, " ", rec.Body.String())

	// Output:
	// order A-1 x2 (message 1001, wrapped)
	// 204
	// 204
	// 400 {"error":"malformed delivery: no message"}
}
