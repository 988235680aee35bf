package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/cloudrun-authn/pushgate/handlers/push"
	"github.com/cloudrun-authn/pushgate/handlers/scheduler"
)

// RecordPush returns the reference push handler: every message becomes an
// event whose ID is the Pub/Sub message ID. Once-only processing is the push
// package's business, so a redelivered message is not recorded twice. The
// event keeps m.Data itself: a WrapPush wrapper must not change those bytes
// in place once the handler has returned.
func RecordPush(log *EventLog, now func() time.Time) push.HandlerFunc {
	return func(ctx context.Context, m *push.Message) error {
		e := Event{
			ID:         m.ID,
			Source:     SourcePubSub,
			Attributes: m.Attributes,
			ReceivedAt: now().UTC(),
		}
		if !m.PublishTime.IsZero() {
			t := m.PublishTime.UTC()
			e.PublishTime = &t
		}
		// m.Data is the delivery's own (push never reuses it) and no one
		// writes to it after this handler: the log keeps it as it is.
		log.addWithData(e, m.Data)
		return nil
	}
}

// RecordSchedule returns the reference scheduler handler: every call becomes
// an event for its job, named by a random ID (a caller's header could
// repeat).
func RecordSchedule(log *EventLog, now func() time.Time) scheduler.HandlerFunc {
	return func(ctx context.Context, c *scheduler.Call) error {
		var id [8]byte
		_, _ = rand.Read(id[:])
		e := Event{
			ID:         "sched-" + hex.EncodeToString(id[:]),
			Source:     SourceScheduler,
			Data:       string(c.Body),
			ReceivedAt: now().UTC(),
			Job:        c.Job,
		}
		if !c.ScheduleTime.IsZero() {
			t := c.ScheduleTime.UTC()
			e.PublishTime = &t
		}
		log.Add(e)
		return nil
	}
}
