package dispatch

import (
	"fmt"
	"testing"
	"time"
)

func TestAttemptLog(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := newAttemptLog(time.Hour, clock.Now)
	steps := []struct {
		name  string
		id    string
		floor int
		want  int
	}{
		{"first attempt", "a", 0, 1},
		{"second attempt", "a", 0, 2},
		{"other message starts at 1", "b", 0, 1},
		{"server count above ours wins", "a", 7, 7},
		{"and counting goes on from it", "a", 0, 8},
		{"server count below ours loses", "a", 2, 9},
	}
	for _, st := range steps {
		if got := l.next(st.id, st.floor); got != st.want {
			t.Errorf("%s: next(%q, %d) = %d, want %d", st.name, st.id, st.floor, got, st.want)
		}
	}
	l.forget("a")
	if got := l.next("a", 0); got != 1 {
		t.Errorf("after forget: next = %d, want 1", got)
	}
}

func TestAttemptLogPrunesStaleIDs(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := newAttemptLog(time.Hour, clock.Now)
	for i := range minPruneAt - 1 {
		l.next(fmt.Sprint("old-", i), 0)
	}
	clock.Advance(2 * time.Hour)
	l.next("fresh", 0) // reaches minPruneAt: the old IDs go
	if got := l.len(); got != 1 {
		t.Errorf("%d IDs remembered after pruning, want 1", got)
	}
	if got := l.next("fresh", 0); got != 2 {
		t.Errorf("fresh ID: next = %d, want 2 (it must survive pruning)", got)
	}
}
