package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

func TestRedisDownThenRecovers(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	s := newStore(t, r, Options{})
	ctx := context.Background()
	mustClaim(t, s, "10001", push.Claimed)
	mustClaim(t, s, "10002", push.Claimed)

	r.stop()

	calls := []struct {
		name string
		call func() error
	}{
		{"claim", func() error { _, err := s.Claim(ctx, "10003", testLease); return err }},
		{"done", func() error { return s.Done(ctx, "10001", 0) }},
		{"release", func() error { return s.Release(ctx, "10002") }},
		{"ping", func() error { return s.Ping(ctx) }},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, push.ErrStoreUnavailable) {
			t.Fatalf("%s with redis stopped: got %v, want an error wrapping push.ErrStoreUnavailable", c.name, err)
		}
		var ue *UnavailableError
		if !errors.As(err, &ue) || ue.Op != c.name || ue.Addr != r.addr() {
			t.Errorf("%s: got %#v, want an *UnavailableError for op %q at %s", c.name, ue, c.name, r.addr())
		}
		if want := "redis unreachable at " + r.addr(); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not say %q", c.name, err, want)
		}
	}

	// Redis comes back on the same port: the store recovers by itself
	// (go-redis probes a failing address about once a second).
	r.start()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := s.Claim(ctx, "10003", testLease)
		if err == nil {
			if got != push.Claimed {
				t.Fatalf("Claim after recovery: got %v, want %v", got, push.Claimed)
			}
			break
		}
		if !errors.Is(err, push.ErrStoreUnavailable) {
			t.Fatalf("Claim while recovering: got %v, want unavailable or success", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover within 20s: %v", err)
		}
		<-tick.C
	}
	if err := s.Done(ctx, "10003", 0); err != nil {
		t.Fatalf("Done after recovery: %v", err)
	}
	mustClaim(t, s, "10003", push.AlreadyDone)
}

func TestPasswordNeverShown(t *testing.T) {
	t.Parallel()
	const password = "s3cret-Zq8n3vXk"
	r := startRedis(t, password)
	ctx := context.Background()

	good := newStore(t, r, Options{})
	mustClaim(t, good, "11001", push.Claimed)

	wrongPassword := "wr0ng-Pq7m2cYt"
	bad, err := New(ctx, "redis://:"+wrongPassword+"@"+r.addr(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, err = bad.Claim(ctx, "11002", testLease)
	if !errors.Is(err, push.ErrStoreUnavailable) {
		t.Fatalf("Claim with a wrong password: got %v, want unavailable", err)
	}
	if !strings.Contains(err.Error(), "rejected the credentials") {
		t.Errorf("wrong password error %q does not say the credentials were rejected", err)
	}
	if strings.Contains(err.Error(), wrongPassword) {
		t.Errorf("error shows the password: %q", err)
	}

	// Errors, string form and log value of a store whose Redis is down.
	r.stop()
	_, claimErr := good.Claim(ctx, "11003", testLease)
	pingErr := good.Ping(ctx)
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("store", "store", good, "err", claimErr)
	shown := map[string]string{
		"claim error": claimErr.Error(),
		"ping error":  pingErr.Error(),
		"String":      good.String(),
		"log line":    logs.String(),
	}
	for name, text := range shown {
		if strings.Contains(text, password) {
			t.Errorf("%s shows the password: %s", name, text)
		}
		if !strings.Contains(text, r.addr()) {
			t.Errorf("%s does not name the address %s: %s", name, r.addr(), text)
		}
	}
}

func TestScrubbedEvenIfCauseQuotesPassword(t *testing.T) {
	t.Parallel()
	err := &UnavailableError{Op: "claim", ID: "1", Reason: "redis unreachable at h:1",
		Err: errors.New("cause quoting hunter2-secret"), password: "hunter2-secret"}
	if got := err.Error(); strings.Contains(got, "hunter2-secret") {
		t.Errorf("Error() shows the password: %q", got)
	}
}

func TestOutOfMemoryIsUnavailable(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	s := newStore(t, r, Options{})
	if _, err := r.command("CONFIG", "SET", "maxmemory-policy", "noeviction"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.command("CONFIG", "SET", "maxmemory", "1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Claim(context.Background(), "12001", testLease)
	if !errors.Is(err, push.ErrStoreUnavailable) {
		t.Fatalf("Claim on a full redis: got %v, want unavailable", err)
	}
	if !strings.Contains(err.Error(), "out of memory") {
		t.Errorf("error %q does not say redis is out of memory", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	s, err := New(context.Background(), r.url(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = s.Claim(context.Background(), "13001", testLease)
	if !errors.Is(err, push.ErrStoreUnavailable) || !strings.Contains(err.Error(), "store closed") {
		t.Fatalf("Claim after Close: got %v, want unavailable, store closed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
