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

const (
	// DefaultEventLogSize is how many events NewEventLog keeps when given 0.
	DefaultEventLogSize = 1000
	// MaxEventLogData bounds the bytes of Data that an EventLog's events hold
	// together.
	MaxEventLogData = 16 << 20
)

// EventLog keeps the newest events in memory, bounded both in number and in
// the bytes of their Data together (MaxEventLogData): an event that would
// pass either bound drops the oldest events, only as many as it must. The
// newest event is always kept, even one whose Data alone is over the byte
// bound: it is then the only event, until the next one drops it. It is safe
// for concurrent use.
type EventLog struct {
	maxData int

	mu    sync.Mutex
	ring  []Event // the events, oldest at head, in a ring of the log's size
	head  int
	count int
	data  int // bytes of the events' Data
}

// NewEventLog returns a log that keeps the newest size events (<= 0 →
// DefaultEventLogSize) and at most MaxEventLogData bytes of their data.
func NewEventLog(size int) *EventLog {
	return newEventLog(size, MaxEventLogData)
}

func newEventLog(size, maxData int) *EventLog {
	if size <= 0 {
		size = DefaultEventLogSize
	}
	return &EventLog{maxData: maxData, ring: make([]Event, size)}
}

// Add records e as the newest event.
func (l *EventLog) Add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.count > 0 && (l.count == len(l.ring) || l.data+len(e.Data) > l.maxData) {
		l.data -= len(l.ring[l.head].Data)
		l.ring[l.head] = Event{} // let go of its data
		l.head = (l.head + 1) % len(l.ring)
		l.count--
	}
	l.ring[(l.head+l.count)%len(l.ring)] = e
	l.count++
	l.data += len(e.Data)
}

// List returns the events, newest first.
func (l *EventLog) List() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Event, l.count)
	for i := range out {
		out[i] = l.ring[(l.head+l.count-1-i)%len(l.ring)]
	}
	return out
}

// Len returns how many events the log holds.
func (l *EventLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}
