package redisstore

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// benchStores returns the stores compared by the benchmarks: the in-memory
// store of one instance, and this package's store on a real redis-server
// over loopback (in production a Memorystore round trip adds a few hundred
// microseconds per call on top).
func benchStores(b *testing.B) []struct {
	name  string
	store push.Store
} {
	b.Helper()
	r := startRedis(b, "")
	return []struct {
		name  string
		store push.Store
	}{
		{"memory", push.NewMemoryStore(0, 0, nil)},
		{"redis", newStore(b, r, Options{})},
	}
}

// BenchmarkClaimDone is the cost per message of once-only processing: a
// Claim of a new ID and its Done (two round trips for Redis).
func BenchmarkClaimDone(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b) {
		var next atomic.Int64
		cycle := func() error {
			id := strconv.FormatInt(1e15+next.Add(1), 10)
			got, err := st.store.Claim(ctx, id, 10*time.Second)
			if err != nil || got != push.Claimed {
				return fmt.Errorf("Claim: %v, %v", got, err)
			}
			if err := st.store.Done(ctx, id, 0); err != nil {
				return fmt.Errorf("Done: %w", err)
			}
			return nil
		}
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := cycle(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(st.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8) // 8 × GOMAXPROCS goroutines, like concurrent requests
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := cycle(); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
				}
			})
		})
	}
}

// BenchmarkClaimDuplicate is the cost of a redelivery of a done message: one
// Claim that answers AlreadyDone.
func BenchmarkClaimDuplicate(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b) {
		const id = "1999999999999999"
		if _, err := st.store.Claim(ctx, id, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		if err := st.store.Done(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := st.store.Claim(ctx, id, 10*time.Second)
				if err != nil || got != push.AlreadyDone {
					b.Fatalf("Claim: %v, %v", got, err)
				}
			}
		})
	}
}

// BenchmarkPushHandler is the whole push path of handlers/push (decode,
// claim, handler, done, 204) with each store: what once-only processing
// across instances costs per delivery.
func BenchmarkPushHandler(b *testing.B) {
	for _, st := range benchStores(b) {
		h := push.NewHandler(func(ctx context.Context, m *push.Message) error { return nil }, push.Options{Store: st.store})
		var next atomic.Int64
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				id := strconv.FormatInt(next.Add(1), 10)
				body := `{"message":{"data":"aGVsbG8=","messageId":"` + id + `","publishTime":"2026-11-23T12:00:00Z"},"subscription":"projects/p/subscriptions/s"}`
				req := httptest.NewRequest(http.MethodPost, "/pubsub/push", strings.NewReader(body))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
