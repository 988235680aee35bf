package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

const testLease = time.Minute

func TestClaimDoneAlreadyDone(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	s := newStore(t, r, Options{})
	ctx := context.Background()

	steps := []struct {
		name string
		run  func() (push.ClaimResult, error)
		want push.ClaimResult
	}{
		{"first claim", func() (push.ClaimResult, error) { return s.Claim(ctx, "1001", testLease) }, push.Claimed},
		{"claim while leased", func() (push.ClaimResult, error) { return s.Claim(ctx, "1001", testLease) }, push.InProgress},
		{"claim after done", func() (push.ClaimResult, error) {
			if err := s.Done(ctx, "1001", 0); err != nil {
				return 0, err
			}
			return s.Claim(ctx, "1001", testLease)
		}, push.AlreadyDone},
		{"other id unaffected", func() (push.ClaimResult, error) { return s.Claim(ctx, "1002", testLease) }, push.Claimed},
	}
	for _, st := range steps {
		got, err := st.run()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Fatalf("%s: got %v, want %v", st.name, got, st.want)
		}
	}
	if got, want := get(t, r, DefaultKeyPrefix+"1001"), "done"; got != want {
		t.Errorf("value of done key: got %q, want %q", got, want)
	}
	if got := s.leases.len(); got != 1 {
		t.Errorf("leases held after Done: got %d, want 1 (only 1002)", got)
	}
}

func TestClaimReleaseClaimAgain(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	s := newStore(t, r, Options{})
	ctx := context.Background()

	for i := range 3 {
		got, err := s.Claim(ctx, "2001", testLease)
		if err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
		if got != push.Claimed {
			t.Fatalf("claim %d: got %v, want %v", i, got, push.Claimed)
		}
		if err := s.Release(ctx, "2001"); err != nil {
			t.Fatalf("release %d: %v", i, err)
		}
		if got := get(t, r, DefaultKeyPrefix+"2001"); got != "" {
			t.Fatalf("after release %d the key holds %q, want it deleted", i, got)
		}
	}
	if got := s.leases.len(); got != 0 {
		t.Errorf("leases held after release: got %d, want 0", got)
	}
}

func TestReleaseLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	ctx := context.Background()

	tests := []struct {
		name string
		// setup leaves the key in some state after a claims it.
		setup func(t *testing.T, a, b *Store, key string)
		// byB: b releases, else a does.
		byB  bool
		want func(v string) bool
		desc string
	}{
		{
			name: "another instance's lease",
			setup: func(t *testing.T, a, b *Store, key string) {
				// a's lease lapsed (deleted here), then b claimed.
				if _, err := r.command("DEL", key); err != nil {
					t.Fatal(err)
				}
				mustClaim(t, b, strings.TrimPrefix(key, DefaultKeyPrefix), push.Claimed)
			},
			want: func(v string) bool { return strings.HasPrefix(v, leasePrefix) },
			desc: "b's lease",
		},
		{
			name: "a done mark",
			setup: func(t *testing.T, a, b *Store, key string) {
				if _, err := r.command("DEL", key); err != nil {
					t.Fatal(err)
				}
				id := strings.TrimPrefix(key, DefaultKeyPrefix)
				mustClaim(t, b, id, push.Claimed)
				if err := b.Done(ctx, id, 0); err != nil {
					t.Fatal(err)
				}
			},
			want: func(v string) bool { return v == doneValue },
			desc: `"done"`,
		},
		{
			name:  "a release without a claim",
			setup: func(t *testing.T, a, b *Store, key string) {},
			byB:   true,
			want:  func(v string) bool { return strings.HasPrefix(v, leasePrefix) },
			desc:  "a's lease (b holds no claim to release)",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newStore(t, r, Options{}), newStore(t, r, Options{})
			id := fmt.Sprintf("300%d", i)
			key := DefaultKeyPrefix + id
			mustClaim(t, a, id, push.Claimed)
			tt.setup(t, a, b, key)
			before := get(t, r, key)
			releaser := a
			if tt.byB {
				releaser = b
			}
			if err := releaser.Release(ctx, id); err != nil {
				t.Fatalf("Release: %v", err)
			}
			got := get(t, r, key)
			if !tt.want(got) || got != before {
				t.Errorf("key after Release: got %q, want %s unchanged (%q)", got, tt.desc, before)
			}
		})
	}
}

func mustClaim(t testing.TB, s *Store, id string, want push.ClaimResult) {
	t.Helper()
	got, err := s.Claim(context.Background(), id, testLease)
	if err != nil {
		t.Fatalf("Claim(%s): %v", id, err)
	}
	if got != want {
		t.Fatalf("Claim(%s): got %v, want %v", id, got, want)
	}
}

func TestConcurrentClaimsAcrossInstances(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	// Two Stores, each with its own connection pool: two instances.
	instances := []*Store{newStore(t, r, Options{}), newStore(t, r, Options{})}
	const ids, perInstance = 40, 8
	ctx := context.Background()

	for n := range ids {
		id := fmt.Sprintf("4%05d", n)
		var claimed, inProgress atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, len(instances)*perInstance)
		for _, s := range instances {
			for range perInstance {
				wg.Go(func() {
					<-start
					got, err := s.Claim(ctx, id, testLease)
					switch {
					case err != nil:
						errs <- err
					case got == push.Claimed:
						claimed.Add(1)
					case got == push.InProgress:
						inProgress.Add(1)
					default:
						errs <- fmt.Errorf("unexpected result %v", got)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("id %s: %v", id, err)
		}
		if got := claimed.Load(); got != 1 {
			t.Fatalf("id %s: %d Claimed results, want exactly 1", id, got)
		}
		if got, want := inProgress.Load(), int32(len(instances)*perInstance-1); got != want {
			t.Fatalf("id %s: %d InProgress results, want %d", id, got, want)
		}
	}
}

func TestLeaseExpiryLetsLaterClaimThrough(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	log, logs := newLogger()
	dead, later := newStore(t, r, Options{Logger: log}), newStore(t, r, Options{})
	ctx := context.Background()
	const id, lease = "5001", 100 * time.Millisecond
	key := DefaultKeyPrefix + id

	if got, err := dead.Claim(ctx, id, lease); err != nil || got != push.Claimed {
		t.Fatalf("first Claim: got %v, %v; want %v", got, err, push.Claimed)
	}
	if ttl := pttl(t, r, key); ttl <= 0 || ttl > lease {
		t.Fatalf("lease key PTTL: got %v, want in (0, %v]", ttl, lease)
	}
	// The first instance "dies" without Done or Release. Poll until Redis has
	// expired the lease; until then every claim must see it in progress.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := later.Claim(ctx, id, testLease)
		if err != nil {
			t.Fatalf("later Claim: %v", err)
		}
		if got == push.Claimed {
			break
		}
		if got != push.InProgress {
			t.Fatalf("later Claim while leased: got %v, want %v", got, push.InProgress)
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease of %v never expired within 10s", lease)
		}
		<-tick.C
	}

	// The first instance was only slow, and finishes now: its Done marks the
	// ID done even though the later delivery holds the lease, and warns.
	if err := dead.Done(ctx, id, 0); err != nil {
		t.Fatalf("slow Done: %v", err)
	}
	if got := get(t, r, key); got != doneValue {
		t.Errorf("key after slow Done: got %q, want %q", got, doneValue)
	}
	if !strings.Contains(logs.String(), "another delivery is processing the message again") {
		t.Errorf("no warning about the lapsed lease; logs:\n%s", logs)
	}
	// The later delivery fails: its Release must leave the done mark.
	if err := later.Release(ctx, id); err != nil {
		t.Fatalf("later Release: %v", err)
	}
	mustClaim(t, later, id, push.AlreadyDone)
}

func TestDoneOutcomes(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	ctx := context.Background()

	tests := []struct {
		name    string
		between func(t *testing.T, other *Store, id, key string) // after our claim, before our Done
		wantLog string
	}{
		{"lease held", func(*testing.T, *Store, string, string) {}, ""},
		{"lease lapsed, nobody else", func(t *testing.T, _ *Store, _, key string) {
			if _, err := r.command("DEL", key); err != nil {
				t.Fatal(err)
			}
		}, "lease lapsed before the message was done"},
		{"lease lapsed, other delivery done", func(t *testing.T, other *Store, id, key string) {
			if _, err := r.command("DEL", key); err != nil {
				t.Fatal(err)
			}
			mustClaim(t, other, id, push.Claimed)
			if err := other.Done(ctx, id, 0); err != nil {
				t.Fatal(err)
			}
		}, "another delivery processed the message too"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := newLogger()
			s, other := newStore(t, r, Options{Logger: log}), newStore(t, r, Options{})
			id := fmt.Sprintf("600%d", i)
			key := DefaultKeyPrefix + id
			mustClaim(t, s, id, push.Claimed)
			tt.between(t, other, id, key)
			if err := s.Done(ctx, id, 0); err != nil {
				t.Fatalf("Done: %v", err)
			}
			if got := get(t, r, key); got != doneValue {
				t.Errorf("key after Done: got %q, want %q", got, doneValue)
			}
			got := logs.String()
			if tt.wantLog == "" && got != "" {
				t.Errorf("unexpected log: %s", got)
			}
			if tt.wantLog != "" && !strings.Contains(got, tt.wantLog) {
				t.Errorf("log: got %q, want it to contain %q", got, tt.wantLog)
			}
		})
	}
}

func TestRetentionOnDoneKeys(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	ctx := context.Background()

	tests := []struct {
		name   string
		opts   Options
		retain time.Duration
		want   time.Duration
	}{
		{"default 7 days", Options{}, 0, 7 * 24 * time.Hour},
		{"options retention", Options{Retention: time.Hour}, 0, time.Hour},
		{"done's retain wins", Options{Retention: time.Hour}, 90 * time.Second, 90 * time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, r, tt.opts)
			id := fmt.Sprintf("700%d", i)
			mustClaim(t, s, id, push.Claimed)
			if err := s.Done(ctx, id, tt.retain); err != nil {
				t.Fatalf("Done: %v", err)
			}
			got := pttl(t, r, DefaultKeyPrefix+id)
			// The key was set moments ago: its TTL is at most want and
			// within a minute of it.
			if got > tt.want || got < tt.want-time.Minute {
				t.Errorf("PTTL of done key: got %v, want about %v", got, tt.want)
			}
		})
	}
}

func TestKeyPrefix(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	ctx := context.Background()
	a := newStore(t, r, Options{KeyPrefix: "svc-a:"})
	b := newStore(t, r, Options{KeyPrefix: "svc-b:"})

	mustClaim(t, a, "8001", push.Claimed)
	if err := a.Done(ctx, "8001", 0); err != nil {
		t.Fatal(err)
	}
	if got := get(t, r, "svc-a:8001"); got != doneValue {
		t.Errorf("svc-a:8001: got %q, want %q", got, doneValue)
	}
	// Another prefix is another namespace: the same ID is new there.
	mustClaim(t, b, "8001", push.Claimed)
}

func TestForeignValueIsAnError(t *testing.T) {
	t.Parallel()
	r := startRedis(t, "")
	s := newStore(t, r, Options{})
	if _, err := r.command("SET", DefaultKeyPrefix+"9001", "something else"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Claim(context.Background(), "9001", testLease)
	if err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Fatalf("Claim of a foreign key: got %v, want an error about the value", err)
	}
	if errors.Is(err, push.ErrStoreUnavailable) {
		t.Errorf("foreign value reported as unavailable: %v", err)
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	// No Redis at this address; argument checks come first.
	s, err := New(context.Background(), "redis://127.0.0.1:1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"claim empty id", func() error { _, err := s.Claim(ctx, "", testLease); return err }},
		{"claim zero lease", func() error { _, err := s.Claim(ctx, "1", 0); return err }},
		{"done empty id", func() error { return s.Done(ctx, "", 0) }},
		{"release empty id", func() error { return s.Release(ctx, "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("got nil error, want one")
			}
			if errors.Is(err, push.ErrStoreUnavailable) {
				t.Errorf("got %v, want an argument error, not unavailable", err)
			}
		})
	}
	// Releasing what this Store never claimed makes no call at all.
	if err := s.Release(ctx, "never-claimed"); err != nil {
		t.Errorf("Release of an unclaimed ID: got %v, want nil", err)
	}
}
