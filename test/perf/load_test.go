package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// TestDriveQuota checks that a run with a quota sends exactly that many
// requests, each with its own message ID: what filling the once-only store
// relies on.
func TestDriveQuota(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, rest, _ := strings.Cut(string(b), `"messageId":"`)
		id, _, _ := strings.Cut(rest, `"`)
		mu.Lock()
		seen[id]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	body, idAt := pushEnvelope()
	sc := &scenario{id: scenarioPush, method: http.MethodPost, path: "/pubsub/push", want: http.StatusNoContent,
		tokens: []string{"t"}, body: body, idAt: idAt}
	tg := newTarget(strings.TrimPrefix(srv.URL, "http://"), true, 4, 1<<40)
	defer tg.close()

	const quota = 501
	res := drive(tg, sc, time.Minute, quota)
	if res.requests != quota || res.errors != 0 {
		t.Fatalf("drive with quota %d: %d requests, %d errors (first: %s)", quota, res.requests, res.errors, res.firstError)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != quota {
		t.Errorf("got %d distinct message IDs, want %d", len(seen), quota)
	}
}

// The full-store run must send more deliveries than the store keeps, or
// the store is never full.
func TestDefaultFullStoreFillsTheStore(t *testing.T) {
	t.Parallel()
	if defaultFullStore <= push.DefaultMemoryStoreSize {
		t.Errorf("defaultFullStore = %d, want more than push.DefaultMemoryStoreSize (%d)",
			defaultFullStore, push.DefaultMemoryStoreSize)
	}
}
