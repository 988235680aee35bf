package service

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingWriter keeps every Write call separately.
type recordingWriter struct {
	mu    sync.Mutex
	calls []string
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func (w *recordingWriter) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.calls, "")
}

func (w *recordingWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}

func TestLineWriterHeldLinesGoOutBeforeTheNextWrite(t *testing.T) {
	t.Parallel()
	rec := &recordingWriter{}
	lw := &lineWriter{w: rec}
	lw.writeLater([]byte("a\n"))
	lw.writeLater([]byte("b\n"))
	if _, err := lw.Write([]byte("c\n")); err != nil {
		t.Fatal(err)
	}
	// Write returned: everything held before it is out, in order, in one call.
	if got, want := rec.all(), "a\nb\nc\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := rec.count(); got != 1 {
		t.Errorf("%d writes, want 1", got)
	}
}

func TestLineWriterFlushesHeldLinesOnItsOwn(t *testing.T) {
	t.Parallel()
	rec := &recordingWriter{}
	lw := &lineWriter{w: rec}
	for i := range 100 {
		lw.writeLater(fmt.Appendf(nil, "line %d\n", i))
	}
	// Poll for the background flush (not timing it).
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(rec.all(), "\n") < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 100 held lines were written", strings.Count(rec.all(), "\n"))
		}
		time.Sleep(time.Millisecond)
	}
	want := ""
	for i := range 100 {
		want += fmt.Sprintf("line %d\n", i)
	}
	if got := rec.all(); got != want {
		t.Errorf("flushed lines out of order or torn: %.80q…", got)
	}
}

func TestLineWriterHoldsAtMostMaxHeld(t *testing.T) {
	t.Parallel()
	rec := &recordingWriter{}
	lw := &lineWriter{w: rec}
	line := []byte(strings.Repeat("x", 1023) + "\n")
	n := 2*maxHeld/len(line) + 1
	for i := range n {
		lw.writeLater(line)
		lw.mu.Lock()
		held := len(lw.held)
		lw.mu.Unlock()
		if held > maxHeld {
			t.Fatalf("after %d lines %d bytes are held, over %d", i+1, held, maxHeld)
		}
	}
	lw.flushHeld()
	if got := len(rec.all()); got != n*len(line) {
		t.Errorf("wrote %d bytes, want %d", got, n*len(line))
	}
}

// TestLineWriterConcurrent: lines from many goroutines, held or not, each
// come out once, whole, in the order each goroutine wrote them.
func TestLineWriterConcurrent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := NewLogger(&buf, "p", slog.LevelInfo)
	lw := logger.Handler().(*traceHandler).out
	const workers, lines = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range lines {
				line := fmt.Appendf(nil, "w%d-%d\n", w, i)
				if i%7 == 0 {
					_, _ = lw.Write(line)
				} else {
					lw.writeLater(line)
				}
			}
		})
	}
	wg.Wait()
	FlushLogs(logger)
	next := make([]int, workers)
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(got) != workers*lines {
		t.Fatalf("got %d lines, want %d", len(got), workers*lines)
	}
	for _, l := range got {
		var w, i int
		if _, err := fmt.Sscanf(l, "w%d-%d", &w, &i); err != nil || w < 0 || w >= workers {
			t.Fatalf("torn line %q", l)
		}
		if i != next[w] {
			t.Fatalf("worker %d: line %d came where %d was due", w, i, next[w])
		}
		next[w]++
	}
}
