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
// package's business, so a redelivered message is not recorded twice.
func RecordPush(log *EventLog, now func() time.Time) push.HandlerFunc {
	return recordPush(log, now, false)
}

// RecordPushKeep is RecordPush keeping each message's data bytes in the
// event, instead of a copy, until the event is first listed: a copy less
// per delivery. Use it only when nothing sees the message once the handler
// has returned (no wrapper that scrubs or reuses m.Data, no goroutine): the
// service does, unless a WrapPush hook is set.
func RecordPushKeep(log *EventLog, now func() time.Time) push.HandlerFunc {
	return recordPush(log, now, true)
}

func recordPush(log *EventLog, now func() time.Time, keep bool) push.HandlerFunc {
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
		if keep {
			log.addWithData(e, m.Data)
			return nil
		}
		e.Data = string(m.Data)
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
