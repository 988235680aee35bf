package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// newTestClient returns a plain go-redis client for url.
func newTestClient(url string) *redis.Client {
	opt, err := redis.ParseURL(url)
	if err != nil {
		panic(err)
	}
	return redis.NewClient(opt)
}

// newStore returns a Store on r, closed at cleanup.
func newStore(t testing.TB, r *redisServer, opts Options) *Store {
	t.Helper()
	s, err := New(context.Background(), r.url(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// logBuffer is a concurrency-safe buffer behind a JSON slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLogger returns a JSON logger at DEBUG writing to a fresh buffer.
func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// pttl returns the remaining time to live of key, or a negative value when
// it has none (-1) or does not exist (-2 ms).
func pttl(t testing.TB, r *redisServer, key string) time.Duration {
	t.Helper()
	v, err := r.command("PTTL", key)
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	return time.Duration(v.(int64)) * time.Millisecond
}

// get returns key's value, or "" when it does not exist.
func get(t testing.TB, r *redisServer, key string) string {
	t.Helper()
	v, err := r.command("GET", key)
	if err == redis.Nil {
		return ""
	}
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	return v.(string)
}
