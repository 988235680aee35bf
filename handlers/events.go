package handlers

import (
	"sync"
	"time"
)

// Event sources, as GET /api/events lists them.
const (
	SourcePubSub    = "pubsub"
	SourceScheduler = "scheduler"
)

// Event is one thing the service received: a Pub/Sub message or a scheduler
// call.
type Event struct {
	ID          string            `json:"id"`
	Source      string            `json:"source"`
	Data        string            `json:"data"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	PublishTime *time.Time        `json:"publishTime,omitempty"`
	ReceivedAt  time.Time         `json:"receivedAt"`
	Job         string            `json:"job,omitempty"`
}

// EventLog keeps the most recent events in memory, bounded: when full, the
// oldest event makes room for the newest. It is safe for concurrent use.
type EventLog struct {
	mu   sync.Mutex
	ring []Event
	// raw holds, for events added by addWithData (RecordPushKeep), the
	// data bytes the event's Data string is made of when the event is
	// first listed: a push delivery's data kept as it came instead of
	// being copied on every delivery for a list that is read far less
	// often than it is written.
	raw   [][]byte
	next  int // index the next event goes to
	count int
}

// DefaultEventLogSize is how many events NewEventLog keeps when given 0.
const DefaultEventLogSize = 1000

// NewEventLog returns a log that keeps the last size events.
func NewEventLog(size int) *EventLog {
	if size <= 0 {
		size = DefaultEventLogSize
	}
	return &EventLog{ring: make([]Event, size), raw: make([][]byte, size)}
}

// Add records e.
func (l *EventLog) Add(e Event) {
	l.addWithData(e, nil)
}

// addWithData records e with data as its Data, which it keeps: the caller
// must not change data afterwards.
func (l *EventLog) addWithData(e Event, data []byte) {
	l.mu.Lock()
	l.ring[l.next] = e
	l.raw[l.next] = data
	l.next = (l.next + 1) % len(l.ring)
	if l.count < len(l.ring) {
		l.count++
	}
	l.mu.Unlock()
}

// List returns the events, newest first.
func (l *EventLog) List() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Event, 0, l.count)
	for i := 1; i <= l.count; i++ {
		j := (l.next - i + len(l.ring)) % len(l.ring)
		if l.raw[j] != nil {
			l.ring[j].Data = string(l.raw[j])
			l.raw[j] = nil
		}
		out = append(out, l.ring[j])
	}
	return out
}

// Len returns how many events the log holds.
func (l *EventLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}
