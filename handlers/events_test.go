package handlers

import (
	"fmt"
	"strings"
	"testing"
)

// listed is the log's event IDs, newest first, and the bytes of their data.
func listed(l *EventLog) (ids string, data int) {
	var out []string
	for _, e := range l.List() {
		out = append(out, e.ID)
		data += len(e.Data)
	}
	return strings.Join(out, ","), data
}

// TestEventLogBounds adds events with data of the given sizes, IDs 1, 2, …,
// to a log of at most 3 events and 10 bytes of data, and checks which stay:
// the newest, newest first, and all but as few of the oldest as both
// bounds allow.
func TestEventLogBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sizes []int
		want  string
	}{
		{name: "all fit", sizes: []int{3, 3, 3}, want: "3,2,1"},
		{name: "count bound drops the oldest", sizes: []int{1, 1, 1, 1, 1}, want: "5,4,3"},
		{name: "data exactly at the bound", sizes: []int{5, 5}, want: "2,1"},
		{name: "byte bound drops one", sizes: []int{4, 4, 4}, want: "3,2"},
		{name: "byte bound drops only as many as it must", sizes: []int{2, 2, 2, 7}, want: "4,3"},
		{name: "the oldest go, not the biggest", sizes: []int{1, 8, 2}, want: "3,2"},
		{name: "empty data counts toward the number only", sizes: []int{10, 0, 0}, want: "3,2,1"},
		{name: "both bounds at once", sizes: []int{3, 3, 3, 5}, want: "4,3"},
		{name: "an event over the byte bound alone is kept alone", sizes: []int{3, 3, 11}, want: "3"},
		{name: "the next event drops it", sizes: []int{11, 1}, want: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newEventLog(3, 10)
			for i, size := range tt.sizes {
				l.Add(Event{ID: fmt.Sprint(i + 1), Data: strings.Repeat("x", size)})
			}
			ids, data := listed(l)
			if ids != tt.want {
				t.Errorf("events = %s, want %s", ids, tt.want)
			}
			if data > 10 && l.Len() > 1 {
				t.Errorf("%d events hold %d bytes, over the bound 10", l.Len(), data)
			}
			if got := l.Len(); got != len(l.List()) {
				t.Errorf("Len() = %d, List() has %d", got, len(l.List()))
			}
		})
	}
}

// TestEventLogContractBounds: NewEventLog keeps the contract's newest 1,000
// events and 16 MiB of their data.
func TestEventLogContractBounds(t *testing.T) {
	t.Parallel()
	t.Run("1,000 events", func(t *testing.T) {
		t.Parallel()
		l := NewEventLog(0)
		for i := range DefaultEventLogSize + 5 {
			l.Add(Event{ID: fmt.Sprint(i + 1), Data: "x"})
		}
		got := l.List()
		if len(got) != 1000 || got[0].ID != "1005" || got[999].ID != "6" {
			t.Errorf("%d events from %s to %s, want 1000 from 1005 to 6", len(got), got[0].ID, got[len(got)-1].ID)
		}
	})
	t.Run("16 MiB", func(t *testing.T) {
		t.Parallel()
		l := NewEventLog(0)
		mib := strings.Repeat("x", 1<<20)
		for i := range 20 {
			l.Add(Event{ID: fmt.Sprint(i + 1), Data: mib})
		}
		ids, data := listed(l)
		if want := "20,19,18,17,16,15,14,13,12,11,10,9,8,7,6,5"; ids != want || data != MaxEventLogData {
			t.Errorf("events = %s with %d bytes, want %s with %d", ids, data, want, MaxEventLogData)
		}
	})
}
