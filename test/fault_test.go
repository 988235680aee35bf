package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNothingLostUnderFaults publishes 2,000 messages while the handler
// (test/faultsvc) fails a random 10% of first delivery attempts and the
// service is sent SIGTERM and restarted mid-stream. Every message must end
// up processed at least once and acknowledged; with the in-memory
// de-duplication store only deliveries in flight at the restart may be
// processed twice.
func TestNothingLostUnderFaults(t *testing.T) {
	t.Parallel()
	const (
		messages      = 2000
		maxConcurrent = 16
	)
	s := newStack(t)
	processed := filepath.Join(t.TempDir(), "processed")
	s.env["FAULT_RATE"] = "0.1"
	s.env["FAULT_PROCESSED_FILE"] = processed

	first := startProc(t, "faultsvc#1", e2e.faultBin, s.env)
	push := s.startPusher(t, first.url+"/pubsub/push", pushOptions{maxConcurrent: maxConcurrent})
	published := make(map[string]bool, messages)
	for i := range messages {
		published[s.pubsub.publish("fault message "+strconv.Itoa(i), map[string]string{"n": strconv.Itoa(i)})] = true
	}
	if len(published) != messages {
		t.Fatalf("pstest gave %d distinct IDs for %d messages", len(published), messages)
	}

	// Restart mid-stream: SIGTERM once a third has been processed.
	waitProcessed(t, processed, "a third of the messages", func(c map[string]int) bool { return len(c) >= messages/3 })
	first.terminate(t)
	if code := first.wait(t); code != 0 {
		t.Errorf("faultsvc#1: exit status after SIGTERM: got %d, want 0", code)
	}
	atRestart := len(readProcessed(t, processed))
	env := cloneEnv(s.env)
	env["PORT"] = first.port // the push endpoint stays where it was
	second := startProc(t, "faultsvc#2", e2e.faultBin, env)

	// Once every message is acknowledged nothing more will come: a message
	// acknowledged but never processed is lost, and counted below.
	waitProcessed(t, processed, "every message acknowledged", func(map[string]int) bool {
		return push.d.Stats().Acked >= messages
	})
	push.stop()
	second.stopOK(t)

	counts := readProcessed(t, processed)
	lost, twice, unknown := 0, 0, 0
	for id := range published {
		switch n := counts[id]; {
		case n == 0:
			lost++
			if lost <= 5 {
				t.Errorf("message %s was never processed", id)
			}
		case n > 1:
			twice++
		}
	}
	for id := range counts {
		if !published[id] {
			unknown++
		}
	}
	unacked := 0
	for _, m := range s.pubsub.srv.Messages() {
		if m.Acks == 0 {
			unacked++
		}
	}
	st := push.d.Stats()
	injected := injectedFaults(t, first, second)
	reportFigures(t,
		fmt.Sprintf("messages %d, processed %d distinct (%d at the restart), processed twice %d, lost %d",
			messages, len(counts), atRestart, twice, lost),
		fmt.Sprintf("faults injected %d, push requests %d, acked %d, nacked %d, unacknowledged in pstest %d",
			injected, st.Delivered, st.Acked, st.Nacked, unacked))

	if lost > 0 {
		t.Errorf("lost %d of %d messages", lost, messages)
	}
	if unknown > 0 {
		t.Errorf("%d processed IDs were never published", unknown)
	}
	if unacked > 0 || st.Acked != messages {
		t.Errorf("acknowledged: dispatcher %d, pstest %d unacknowledged; want all %d acknowledged once",
			st.Acked, unacked, messages)
	}
	if twice > maxConcurrent {
		t.Errorf("processed twice: got %d, want at most %d (only deliveries in flight at the restart may repeat)", twice, maxConcurrent)
	}
	if injected == 0 || st.Nacked < int64(injected) {
		t.Errorf("faults injected %d, nacked %d: want some faults, each one redelivered", injected, st.Nacked)
	}
}

// injectedFaults counts the "fault injected" log lines of the processes and
// checks that no message failed twice: faults hit deliveryAttempt 1 only,
// so each one must arrive with a higher attempt after a failure.
func injectedFaults(t *testing.T, procs ...*proc) int {
	t.Helper()
	perID := map[string]int{}
	total := 0
	for _, p := range procs {
		p.countLogs(func(m map[string]any) bool {
			if m["message"] != "fault injected" {
				return false
			}
			id, _ := m["messageId"].(string)
			perID[id]++
			total++
			return true
		})
	}
	for id, n := range perID {
		if n > 1 {
			t.Errorf("message %s failed %d times on deliveryAttempt 1: the attempt number did not grow", id, n)
		}
	}
	return total
}

// readProcessed counts the IDs in a faultsvc processed file.
func readProcessed(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("read %s: %v", path, err)
	}
	counts := map[string]int{}
	for line := range strings.Lines(string(b)) {
		if !strings.HasSuffix(line, "\n") {
			break // a line being written
		}
		counts[strings.TrimSuffix(line, "\n")]++
	}
	return counts
}

// waitProcessed polls the processed file until done is true of its counts.
func waitProcessed(t *testing.T, path, what string, done func(map[string]int) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c := readProcessed(t, path)
		if done(c) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not processed within %v: %d distinct IDs so far", what, waitLimit, len(c))
		}
		<-tick.C
	}
}
