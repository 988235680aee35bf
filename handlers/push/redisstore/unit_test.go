package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestKeyFor(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", maxRawID+1)
	tests := []struct {
		name, id string
		want     string // "" with hashed: a hashed key
		hashed   bool
	}{
		{"pubsub id", "11937223987512345", "p:11937223987512345", false},
		{"longest raw", strings.Repeat("7", maxRawID), "p:" + strings.Repeat("7", maxRawID), false},
		{"too long", long, "", true},
		{"space", "a b", "", true},
		{"control byte", "a\nb", "", true},
		{"non-ascii", "é", "", true},
		{"looks hashed", hashedMark + "abc", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := keyFor("p:", tt.id)
			if err != nil {
				t.Fatalf("keyFor: %v", err)
			}
			if !tt.hashed {
				if got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				return
			}
			if !strings.HasPrefix(got, "p:"+hashedMark) || len(got) != len("p:"+hashedMark)+64 {
				t.Errorf("got %q, want p:%s<64 hex>", got, hashedMark)
			}
			again, _ := keyFor("p:", tt.id)
			if again != got {
				t.Errorf("not stable: %q then %q", got, again)
			}
		})
	}
	if _, err := keyFor("p:", ""); err == nil {
		t.Error("empty id: got nil error")
	}
	a, _ := keyFor("p:", long)
	b, _ := keyFor("p:", long+"0")
	if a == b {
		t.Error("two long ids share a key")
	}
}

func TestMillis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want int64
	}{
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{10 * time.Second, 10000},
	}
	for _, tt := range tests {
		if got := millis(tt.in); got != tt.want {
			t.Errorf("millis(%v): got %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestReasonFor(t *testing.T) {
	t.Parallel()
	const addr = "10.0.0.3:6379"
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"dial", dial, "redis unreachable at " + addr},
		{"pool timeout", redis.ErrPoolTimeout, "all 6 connections"},
		{"closed", redis.ErrClosed, "store closed"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), "did not answer in time"},
		{"cancelled", context.Canceled, "request cancelled"},
		{"eof", io.EOF, "closed the connection"},
		{"loading", errors.New("LOADING Redis is loading the dataset in memory"), "loading its data set"},
		{"readonly", errors.New("READONLY You can't write against a read only replica."), "failover"},
		{"masterdown", errors.New("MASTERDOWN Link with MASTER is down"), "failover"},
		{"max clients", errors.New("ERR max number of clients reached"), "max number of clients"},
		{"auth", errors.New("WRONGPASS invalid username-password pair"), "rejected the credentials"},
		{"noauth", errors.New("NOAUTH Authentication required."), "rejected the credentials"},
		{"oom", errors.New("OOM command not allowed when used memory > 'maxmemory'."), "out of memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := reasonFor(tt.err, addr, 6); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestLeaseTableSweepsExpired(t *testing.T) {
	t.Parallel()
	var tb leaseTable
	now := time.Unix(1_700_000_000, 0)
	// minSweep-1 leases that expired long ago, left behind.
	for i := range minSweep - 1 {
		tb.put(fmt.Sprint("old", i), heldLease{value: "leased:x", until: now.Add(-time.Minute)}, now.Add(-2*time.Minute))
	}
	if got := tb.len(); got != minSweep-1 {
		t.Fatalf("before sweep: got %d, want %d", got, minSweep-1)
	}
	tb.put("live", heldLease{value: "leased:y", until: now.Add(time.Minute)}, now)
	if got := tb.len(); got != 1 {
		t.Fatalf("after sweep: got %d entries, want 1 (the live one)", got)
	}
	if got := tb.get("live"); got != "leased:y" {
		t.Errorf("live lease: got %q, want %q", got, "leased:y")
	}
	tb.drop("live", "leased:other")
	if tb.get("live") == "" {
		t.Error("drop with another value removed the lease")
	}
	tb.drop("live", "leased:y")
	if tb.get("live") != "" {
		t.Error("drop with the lease's value kept it")
	}
}

func TestLibraryLog(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	l := libraryLog{l: slog.New(slog.NewJSONHandler(&b, nil))}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 2, "refused")
	got := b.String()
	for _, want := range []string{`"level":"WARN"`, `failed to dial after 2 attempts: refused`, `"component":"go-redis"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log line %s lacks %s", got, want)
		}
	}
}
