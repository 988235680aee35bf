package dispatch

import (
	"math"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	const s = time.Second
	tests := []struct {
		name     string
		attempt  int
		min, max time.Duration
		want     time.Duration
	}{
		{"first failure waits the minimum", 1, 10 * s, 600 * s, 10 * s},
		{"attempt 0 counts as 1", 0, 10 * s, 600 * s, 10 * s},
		{"negative attempt counts as 1", -3, 10 * s, 600 * s, 10 * s},
		{"second doubles", 2, 10 * s, 600 * s, 20 * s},
		{"third doubles again", 3, 10 * s, 600 * s, 40 * s},
		{"sixth", 6, 10 * s, 600 * s, 320 * s},
		{"seventh is capped", 7, 10 * s, 600 * s, 600 * s},
		{"far past the cap stays capped", 1000, 10 * s, 600 * s, 600 * s},
		{"huge attempt does not overflow", math.MaxInt, time.Nanosecond, time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)},
		{"min equal to max", 5, 3 * s, 3 * s, 3 * s},
		{"min above max is capped", 1, 10 * s, 5 * s, 5 * s},
		{"small values for tests", 4, time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond},
		{"zero min", 9, 0, 5 * s, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Backoff(tt.attempt, tt.min, tt.max); got != tt.want {
				t.Errorf("Backoff(%d, %v, %v) = %v, want %v", tt.attempt, tt.min, tt.max, got, tt.want)
			}
		})
	}
}

func TestBackoffNeverShrinksAndStaysInBounds(t *testing.T) {
	t.Parallel()
	minimum, maximum := 7*time.Millisecond, 900*time.Millisecond
	prev := time.Duration(0)
	for attempt := 1; attempt <= 100; attempt++ {
		got := Backoff(attempt, minimum, maximum)
		if got < prev || got < minimum || got > maximum {
			t.Fatalf("Backoff(%d) = %v after %v; want non-decreasing within [%v, %v]", attempt, got, prev, minimum, maximum)
		}
		prev = got
	}
}

func TestAcknowledges(t *testing.T) {
	t.Parallel()
	acking := map[int]bool{102: true, 200: true, 201: true, 202: true, 204: true}
	for status := 100; status < 600; status++ {
		if got := Acknowledges(status); got != acking[status] {
			t.Errorf("Acknowledges(%d) = %v, want %v", status, got, acking[status])
		}
	}
}
