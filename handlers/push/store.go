package push

import (
	"context"
	"errors"
	"time"
)

// ClaimResult says what Store.Claim found for a message ID.
type ClaimResult int

const (
	// Claimed means the caller now holds the ID's lease and must process the
	// message, then call Done on success or Release on failure.
	Claimed ClaimResult = iota
	// AlreadyDone means the ID was processed successfully before: acknowledge
	// without processing again.
	AlreadyDone
	// InProgress means another delivery of the ID holds a live lease.
	InProgress
)

// String returns the result's name, for logs.
func (c ClaimResult) String() string {
	switch c {
	case Claimed:
		return "claimed"
	case AlreadyDone:
		return "already-done"
	case InProgress:
		return "in-progress"
	}
	return "unknown"
}

// ErrStoreUnavailable is wrapped by a Store's errors when the store cannot be
// reached. The push handler then answers 503 so that Pub/Sub delivers the
// message again later, rather than processing it without de-duplication.
var ErrStoreUnavailable = errors.New("push: de-duplication store unavailable")

// Store remembers which message IDs are being processed and which are done,
// so that a message delivered again is processed once. The in-memory store is
// per instance; a shared store (handlers/push/redisstore) spans instances.
type Store interface {
	// Claim takes the ID for processing with a lease that lapses after lease,
	// so that a delivery whose processor died can be claimed again later.
	// It returns AlreadyDone for an ID marked done and still remembered, and
	// InProgress while another claim's lease is live. An error means the
	// store could not answer; it should wrap ErrStoreUnavailable.
	Claim(ctx context.Context, id string, lease time.Duration) (ClaimResult, error)
	// Done marks the ID processed, remembered for retain; retain <= 0 means
	// the store's own default retention. Done on an ID that is not claimed
	// (its lease lapsed, or it was evicted) still marks it done.
	Done(ctx context.Context, id string, retain time.Duration) error
	// Release gives a claimed ID back after a failed attempt, so that a
	// redelivery can run it. It leaves an ID that is marked done as it is.
	Release(ctx context.Context, id string) error
}
