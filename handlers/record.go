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
// event whose ID is the Pub/Sub message ID, with a copy of its data (so that
// nothing that changes m.Data after the handler changes the event).
// Once-only processing is the push package's business, so a redelivered
// message is not recorded twice.
func RecordPush(log *EventLog, now func() time.Time) push.HandlerFunc {
	return func(ctx context.Context, m *push.Message) error {
		e := Event{
			ID:         m.ID,
			Source:     SourcePubSub,
			Data:       string(m.Data),
			Attributes: m.Attributes,
			ReceivedAt: now().UTC(),
		}
		if !m.PublishTime.IsZero() {
			t := m.PublishTime.UTC()
			e.PublishTime = &t
		}
		log.Add(e)
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
