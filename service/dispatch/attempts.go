package dispatch

import (
	"sync"
	"time"
)

// attemptLog counts delivery attempts per message ID, because neither pstest
// nor the emulator counts them for a subscription without a dead-letter
// policy. An ID is forgotten when its message is acknowledged or
// dead-lettered; an ID that was retried and then went to another subscriber
// is dropped once not seen for retain.
type attemptLog struct {
	retain time.Duration
	now    func() time.Time

	mu      sync.Mutex
	ids     map[string]attemptEntry
	pruneAt int // prune when the map reaches this size
}

type attemptEntry struct {
	n    int
	seen time.Time
}

// minPruneAt is the smallest map size worth a pruning pass.
const minPruneAt = 1024

func newAttemptLog(retain time.Duration, now func() time.Time) *attemptLog {
	return &attemptLog{retain: retain, now: now, ids: make(map[string]attemptEntry), pruneAt: minPruneAt}
}

// next records an attempt to deliver the message id and returns its number:
// one more than the last one recorded, and at least floor (the server's own
// count when it keeps one).
func (l *attemptLog) next(id string, floor int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	n := max(l.ids[id].n+1, floor)
	l.ids[id] = attemptEntry{n: n, seen: now}
	if len(l.ids) >= l.pruneAt {
		for k, e := range l.ids {
			if now.Sub(e.seen) > l.retain {
				delete(l.ids, k)
			}
		}
		l.pruneAt = max(minPruneAt, 2*len(l.ids))
	}
	return n
}

// forget drops id once its message is settled for good.
func (l *attemptLog) forget(id string) {
	l.mu.Lock()
	delete(l.ids, id)
	l.mu.Unlock()
}

// len is the number of IDs remembered.
func (l *attemptLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
}
