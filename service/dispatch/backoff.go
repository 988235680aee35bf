package dispatch

import "time"

// Backoff is the wait before a message whose delivery attempt number attempt
// (1 for the first) failed is offered again: minimum after the first failure,
// doubled after each further one, and never more than maximum. An attempt
// below 1 counts as 1. There is no jitter, so the schedule is predictable.
func Backoff(attempt int, minimum, maximum time.Duration) time.Duration {
	d := minimum
	if d <= 0 {
		return 0
	}
	for i := 1; i < attempt && d < maximum; i++ {
		if d > maximum/2 {
			return maximum
		}
		d *= 2
	}
	return min(d, maximum)
}

// Acknowledges reports whether a push endpoint's status code acknowledges
// the message: 102, 200, 201, 202 and 204 do, as for Pub/Sub push; every
// other status means "deliver it again".
func Acknowledges(status int) bool {
	switch status {
	case 102, 200, 201, 202, 204:
		return true
	}
	return false
}
