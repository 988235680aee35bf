package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHandlerOutcomes(t *testing.T) {
	t.Parallel()
	unavailable := fmt.Errorf("redisstore: dial tcp: connection refused: %w", ErrStoreUnavailable)
	tests := []struct {
		name       string
		fnErr      error
		claimErr   error
		preClaim   bool // another instance holds the ID's lease
		preDone    bool // the ID was processed before
		wantStatus int
		wantError  string // the JSON error, "" for no body
		wantCalls  int
		wantLevel  string // a log line at this level mentions the message
		wantLog    string // ... with this text in its message
	}{
		{name: "nil acknowledges", wantStatus: 204, wantCalls: 1, wantLevel: "DEBUG", wantLog: "message processed"},
		{name: "error redelivers", fnErr: errors.New("database down"), wantStatus: 500,
			wantError: "message processing failed", wantCalls: 1, wantLevel: "WARN", wantLog: "Pub/Sub will redeliver"},
		{name: "permanent error acknowledges as poison", fnErr: Permanent(errors.New("unknown order type")), wantStatus: 204,
			wantCalls: 1, wantLevel: "ERROR", wantLog: "poison"},
		{name: "store unavailable", claimErr: unavailable, wantStatus: 503,
			wantError: "de-duplication store unavailable", wantLevel: "ERROR", wantLog: "de-duplication store unavailable"},
		{name: "in progress elsewhere", preClaim: true, wantStatus: 409,
			wantError: "message is being processed", wantLevel: "INFO", wantLog: "another instance"},
		{name: "already done", preDone: true, wantStatus: 204, wantLevel: "INFO", wantLog: "duplicate delivery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := NewMemoryStore(10, time.Hour, nil)
			ctx := context.Background()
			if tt.preClaim {
				if _, err := mem.Claim(ctx, "42", time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			if tt.preDone {
				if err := mem.Done(ctx, "42", 0); err != nil {
					t.Fatal(err)
				}
			}
			logger, logs := newTestLogger()
			var calls counter
			h := NewHandler(func(ctx context.Context, m *Message) error {
				calls.inc()
				return tt.fnErr
			}, Options{Store: &faultyStore{Store: mem, claimErr: tt.claimErr}, Logger: logger})

			rec := serve(h, newPushRequest(wrappedBody("42", "top-secret-payload"), nil))

			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantError != "" {
				if got := errorBody(t, rec); got != tt.wantError {
					t.Errorf("error = %q, want %q", got, tt.wantError)
				}
			} else if rec.Body.Len() != 0 {
				t.Errorf("body = %q, want none", rec.Body.String())
			}
			if tt.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if got := calls.get(); got != tt.wantCalls {
				t.Errorf("handler calls = %d, want %d", got, tt.wantCalls)
			}
			if strings.Contains(logs.String(), "top-secret-payload") || strings.Contains(logs.String(), b64("top-secret-payload")) {
				t.Errorf("logs contain the message data:\n%s", logs)
			}
			line := findLog(t, logs, tt.wantLevel, tt.wantLog)
			msg, _ := line["pushMessage"].(map[string]any)
			if msg["id"] != "42" || msg["subscription"] != "projects/p/subscriptions/s" || msg["form"] != "wrapped" {
				t.Errorf("log line %v: message = %v, want id 42, the subscription and form wrapped", line, msg)
			}
		})
	}
}

// findLog returns the first log line at level whose message contains text.
func findLog(t *testing.T, logs *logBuffer, level, text string) map[string]any {
	t.Helper()
	for _, line := range logs.lines(t) {
		if line["level"] == level && strings.Contains(line["msg"].(string), text) {
			return line
		}
	}
	t.Fatalf("no %s log line containing %q in:\n%s", level, text, logs)
	return nil
}

func TestHandlerPoisonLogLine(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	h := NewHandler(func(ctx context.Context, m *Message) error {
		return Permanent(fmt.Errorf("order %q: unknown type", "A-1"))
	}, Options{Logger: logger})
	body := `{"message":{"data":"e30=","messageId":"77"},"subscription":"projects/p/subscriptions/s","deliveryAttempt":5}`
	if rec := serve(h, newPushRequest(body, nil)); rec.Code != http.StatusNoContent {
		t.Fatalf("status = %d, want 204", rec.Code)
	}
	line := findLog(t, logs, "ERROR", "poison")
	if line["poison"] != true {
		t.Errorf("poison = %v, want true", line["poison"])
	}
	if got, want := line["error"], `order "A-1": unknown type`; got != want {
		t.Errorf("error = %v, want %q", got, want)
	}
	msg, _ := line["pushMessage"].(map[string]any)
	if msg["id"] != "77" || msg["subscription"] != "projects/p/subscriptions/s" || msg["attempt"] != 5.0 {
		t.Errorf("message = %v, want id 77, subscription and attempt 5", msg)
	}
	// A poison message is done: its redelivery is not processed again.
	if rec := serve(h, newPushRequest(body, nil)); rec.Code != http.StatusNoContent {
		t.Errorf("redelivery status = %d, want 204", rec.Code)
	}
	findLog(t, logs, "INFO", "duplicate delivery")
}

func TestHandlerMalformedNeverCallsHandler(t *testing.T) {
	t.Parallel()
	for _, tt := range malformedCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls counter
			h := NewHandler(func(ctx context.Context, m *Message) error {
				calls.inc()
				return nil
			}, Options{})
			rec := serve(h, newPushRequest(tt.body, tt.header))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", rec.Code)
			}
			if got, want := errorBody(t, rec), "malformed delivery: "+tt.reason; got != want {
				t.Errorf("error = %q, want %q", got, want)
			}
			if calls.get() != 0 {
				t.Errorf("handler called %d times, want 0", calls.get())
			}
		})
	}
}

func TestHandlerBodyOverLimit(t *testing.T) {
	t.Parallel()
	var calls counter
	h := NewHandler(func(ctx context.Context, m *Message) error { calls.inc(); return nil }, Options{})
	r := newPushRequest(wrappedBody("1", strings.Repeat("x", 1000)), nil)
	r.Body = http.MaxBytesReader(nil, r.Body, 100)
	rec := serve(h, r)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", rec.Code)
	}
	if got := errorBody(t, rec); got != "body too large" {
		t.Errorf("error = %q, want %q", got, "body too large")
	}
	if calls.get() != 0 {
		t.Errorf("handler called %d times, want 0", calls.get())
	}
}

func TestHandlerRedeliveryOfProcessedID(t *testing.T) {
	t.Parallel()
	var calls counter
	h := NewHandler(func(ctx context.Context, m *Message) error { calls.inc(); return nil }, Options{})
	for i := range 3 {
		if rec := serve(h, newPushRequest(wrappedBody("500", "x"), nil)); rec.Code != http.StatusNoContent {
			t.Fatalf("delivery %d: status = %d, want 204", i, rec.Code)
		}
	}
	// The same ID in another form is the same message.
	rec := serve(h, newPushRequest("x", map[string]string{"X-Goog-Pubsub-Message-Id": "500"}))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("unwrapped redelivery: status = %d, want 204", rec.Code)
	}
	if got := calls.get(); got != 1 {
		t.Errorf("handler calls = %d, want 1", got)
	}
}

func TestHandlerFailedAttemptIsRetried(t *testing.T) {
	t.Parallel()
	var calls counter
	h := NewHandler(func(ctx context.Context, m *Message) error {
		calls.inc()
		if calls.get() == 1 {
			return errors.New("transient")
		}
		return nil
	}, Options{})
	want := []int{500, 204, 204}
	for i, status := range want {
		if rec := serve(h, newPushRequest(wrappedBody("7", "x"), nil)); rec.Code != status {
			t.Errorf("delivery %d: status = %d, want %d", i, rec.Code, status)
		}
	}
	if got := calls.get(); got != 2 {
		t.Errorf("handler calls = %d, want 2 (the failure, then the redelivery)", got)
	}
}

func TestHandlerPanicReleasesClaim(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore(10, time.Hour, nil)
	var calls counter
	h := NewHandler(func(ctx context.Context, m *Message) error {
		calls.inc()
		if calls.get() == 1 {
			panic("boom")
		}
		return nil
	}, Options{Store: store})

	func() {
		defer func() {
			if got := recover(); got != "boom" {
				t.Errorf("recovered %v, want the handler's panic to propagate", got)
			}
		}()
		serve(h, newPushRequest(wrappedBody("13", "x"), nil))
	}()
	if got, err := store.Claim(context.Background(), "13", time.Minute); err != nil || got != Claimed {
		t.Fatalf("after the panic Claim = %v, %v; want the ID released (claimed)", got, err)
	}
	if err := store.Release(context.Background(), "13"); err != nil {
		t.Fatal(err)
	}
	if rec := serve(h, newPushRequest(wrappedBody("13", "x"), nil)); rec.Code != http.StatusNoContent {
		t.Errorf("redelivery status = %d, want 204", rec.Code)
	}
	if got := calls.get(); got != 2 {
		t.Errorf("handler calls = %d, want 2", got)
	}
}

func TestHandlerContextDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{name: "default", want: DefaultTimeout},
		{name: "configured", timeout: 3 * time.Second, want: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			type ctxKey struct{}
			var got time.Duration
			var hasDeadline bool
			var value any
			h := NewHandler(func(ctx context.Context, m *Message) error {
				var dl time.Time
				dl, hasDeadline = ctx.Deadline()
				got = time.Until(dl)
				value = ctx.Value(ctxKey{})
				return nil
			}, Options{Timeout: tt.timeout})
			r := newPushRequest(wrappedBody("1", "x"), nil)
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, "from the request"))
			serve(h, r)
			if !hasDeadline {
				t.Fatal("handler context has no deadline")
			}
			if got <= 0 || got > tt.want {
				t.Errorf("deadline in %v, want within (0, %v]", got, tt.want)
			}
			if value != "from the request" {
				t.Errorf("context value = %v, want the request's", value)
			}
		})
	}
}

func TestHandlerDoneFailureStillAcknowledges(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	store := &faultyStore{Store: NewMemoryStore(10, time.Hour, nil), doneErr: fmt.Errorf("timeout: %w", ErrStoreUnavailable)}
	h := NewHandler(func(ctx context.Context, m *Message) error { return nil }, Options{Store: store, Logger: logger})
	if rec := serve(h, newPushRequest(wrappedBody("1", "x"), nil)); rec.Code != http.StatusNoContent {
		t.Errorf("status = %d, want 204: the message was processed", rec.Code)
	}
	findLog(t, logs, "ERROR", "could not mark message done")
}

// concurrentDuplicates delivers n copies of one message at once to a
// handler whose fn blocks until every other delivery is either waiting for
// it or has answered, and returns their statuses and how often fn ran.
func concurrentDuplicates(t *testing.T, n int, fnErr error) (statuses []int, calls int) {
	t.Helper()
	var count counter
	release := make(chan struct{})
	h := newHandler(func(ctx context.Context, m *Message) error {
		count.inc()
		<-release
		return fnErr
	}, Options{})
	// Each delivery reports once: when it starts waiting, or when it has
	// answered without waiting (which only a broken handler does while fn
	// is blocked). n-1 reports mean all but the running one are accounted for.
	events := make(chan struct{}, 2*n)
	h.waitHook = func() { events <- struct{}{} }
	go func() {
		for range n - 1 {
			<-events
		}
		close(release)
	}()

	statuses = make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = serve(h, newPushRequest(wrappedBody("dup", "x"), nil)).Code
			if !isClosed(release) {
				events <- struct{}{}
			}
		})
	}
	wg.Wait()
	return statuses, count.get()
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestHandlerConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fnErr error
		want  int
	}{
		{name: "success", want: http.StatusNoContent},
		{name: "failure", fnErr: errors.New("transient"), want: http.StatusInternalServerError},
		{name: "poison", fnErr: Permanent(errors.New("bad")), want: http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			statuses, calls := concurrentDuplicates(t, 16, tt.fnErr)
			if calls != 1 {
				t.Errorf("handler calls = %d, want 1", calls)
			}
			for i, got := range statuses {
				if got != tt.want {
					t.Errorf("delivery %d: status = %d, want %d", i, got, tt.want)
				}
			}
		})
	}
}

func TestHandlerWaiterGivesUpWithRequest(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	h := newHandler(func(ctx context.Context, m *Message) error {
		close(started)
		<-release
		return nil
	}, Options{})
	waiting := make(chan struct{})
	h.waitHook = func() { close(waiting) }

	leader := make(chan int)
	go func() { leader <- serve(h, newPushRequest(wrappedBody("w", "x"), nil)).Code }()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-waiting
		cancel()
	}()
	r := newPushRequest(wrappedBody("w", "x"), nil).WithContext(ctx)
	if got := serve(h, r).Code; got != http.StatusConflict {
		t.Errorf("waiting duplicate whose request ended: status = %d, want 409", got)
	}
	close(release)
	if got := <-leader; got != http.StatusNoContent {
		t.Errorf("leader status = %d, want 204", got)
	}
}
