package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/push"
)

// Claim takes the message ID with a lease that Redis expires after lease
// (rounded up to a millisecond), in one atomic round trip: SET NX PX, or the
// key's current value when it exists. A lease that expires, because the
// instance holding it died mid-message, lets a later delivery claim the ID.
//
// A command go-redis re-sends after a network error may find the lease its
// first attempt set; Claim recognises its own token and answers Claimed.
func (s *Store) Claim(ctx context.Context, id string, lease time.Duration) (push.ClaimResult, error) {
	key, err := keyFor(s.prefix, id)
	if err != nil {
		return push.InProgress, err
	}
	if lease <= 0 {
		return push.InProgress, fmt.Errorf("redisstore: claim %s: lease %s is not positive", id, lease)
	}
	value := leasePrefix + rand.Text()
	start := s.now()
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	res, err := s.scripts.claim.Run(ctx, s.client, []string{key}, value, millis(lease)).Result()
	if err != nil {
		return push.InProgress, s.unavailable("claim", id, err)
	}
	switch v := res.(type) {
	case int64:
		if v == 1 {
			s.leases.put(id, heldLease{value: value, until: start.Add(lease)}, start)
			return push.Claimed, nil
		}
	case string:
		switch {
		case v == value:
			s.leases.put(id, heldLease{value: value, until: start.Add(lease)}, start)
			return push.Claimed, nil
		case v == doneValue:
			return push.AlreadyDone, nil
		case strings.HasPrefix(v, leasePrefix):
			return push.InProgress, nil
		}
	}
	// Not a value this package writes: another program uses the prefix.
	return push.InProgress, fmt.Errorf("redisstore: claim %s: key %s holds a value this store did not write; "+
		"is the key prefix shared with another program?", id, key)
}

// Done marks the message ID processed; the mark expires after retain (0
// means Options.Retention).
//
// Done marks the ID done whatever the key holds, because the message has been
// processed and its effects cannot be taken back:
//   - our lease (the usual case): marked done;
//   - nothing (our lease lapsed and nobody claimed since): marked done, and a
//     warning logged, since a redelivery could have run it meanwhile;
//   - another delivery's lease (ours lapsed, it claimed and is now running a
//     duplicate we cannot stop): marked done anyway, so that if it fails its
//     Release leaves the mark and no third delivery runs the message; its own
//     Done then finds "done". A warning is logged;
//   - already done (ours lapsed, another delivery claimed and finished
//     first): the mark is renewed, and a warning logged.
//
// Each warning means processing outlived the lease: raise Lease above the
// handler's time.
func (s *Store) Done(ctx context.Context, id string, retain time.Duration) error {
	key, err := keyFor(s.prefix, id)
	if err != nil {
		return err
	}
	if retain <= 0 {
		retain = s.retention
	}
	value := s.leases.get(id)
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	outcome, err := s.scripts.done.Run(ctx, s.client, []string{key}, value, millis(retain)).Int()
	if err != nil {
		return s.unavailable("done", id, err)
	}
	s.leases.drop(id, value)
	if value == "" {
		// Done without a claim held by this Store: nothing to compare.
		return nil
	}
	switch outcome {
	case doneLapsed:
		s.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: lease lapsed before the message was done; a redelivery could have processed it too",
			slog.String("message_id", id))
	case doneOtherLease:
		s.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: lease lapsed and another delivery is processing the message again; marked done anyway",
			slog.String("message_id", id))
	case doneAlreadyDone:
		s.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: lease lapsed and another delivery processed the message too",
			slog.String("message_id", id))
	}
	return nil
}

// Release gives back this Store's claim of the message ID after a failed
// attempt, so that a redelivery can run it. It deletes the key only while it
// still holds this Store's lease: never another delivery's lease, never a
// done mark. Releasing an ID this Store holds no claim on does nothing.
func (s *Store) Release(ctx context.Context, id string) error {
	key, err := keyFor(s.prefix, id)
	if err != nil {
		return err
	}
	value := s.leases.get(id)
	if value == "" {
		return nil
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	deleted, err := s.scripts.release.Run(ctx, s.client, []string{key}, value).Int()
	if err != nil {
		return s.unavailable("release", id, err)
	}
	s.leases.drop(id, value)
	if deleted == 0 {
		s.log.LogAttrs(ctx, slog.LevelDebug, "redisstore: release found the lease no longer ours; left the key alone",
			slog.String("message_id", id))
	}
	return nil
}

// millis returns d in whole milliseconds, rounded up, at least 1.
func millis(d time.Duration) int64 {
	return max(1, int64((d+time.Millisecond-1)/time.Millisecond))
}
