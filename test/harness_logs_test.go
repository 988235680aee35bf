package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// checkLogs asserts the contract's logging rules on everything the process
// wrote: every line one JSON object with severity and message, and no line
// holding any token the tests minted, whole or in part.
func (p *proc) checkLogs(t *testing.T) {
	t.Helper()
	lines, _ := p.logs.since(0)
	var texts []string
	bad := 0
	for _, l := range lines {
		texts = append(texts, l.text)
		m, ok := parseLine(l.text)
		sev, _ := m["severity"].(string)
		_, hasMsg := m["message"].(string)
		dup := ""
		if ok {
			dup = duplicateKey(l.text)
		}
		if !ok || sev == "" || !hasMsg || dup != "" {
			bad++
			if bad <= 5 {
				t.Errorf("%s: %s line is not a JSON object with one severity and one message string (duplicate key %q): %.400q",
					p.name, l.stream, dup, l.text)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d lines in all are not JSON log lines", p.name, bad)
	}
	if i, what, found := e2e.tokens.leak(texts); found {
		t.Errorf("%s: %s line %d holds %s", p.name, lines[i].stream, i, what)
	}
}

// parseLine decodes one log line as a JSON object.
func parseLine(s string) (map[string]any, bool) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// duplicateKey returns a top-level key that occurs twice in the JSON object
// s, or "". Decoders keep one of the two values (encoding/json the last),
// so a duplicate "message" hides the log line's text.
func duplicateKey(s string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	seen := map[string]bool{}
	depth, expectKey := 0, false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				expectKey = depth == 1
			case '}', ']':
				depth--
				expectKey = depth == 1
			}
			continue
		}
		if depth != 1 {
			continue
		}
		if k, ok := tok.(string); ok && expectKey {
			if seen[k] {
				return k
			}
			seen[k] = true
			expectKey = false
			continue
		}
		expectKey = true // a scalar value ends the member
	}
}

// logSink collects the lines of a process's standard output and error.
type logSink struct {
	mu      sync.Mutex
	lines   []logLine
	changed chan struct{} // closed and replaced on every new line
}

type logLine struct{ stream, text string }

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

func (s *logSink) add(stream, text string) {
	s.mu.Lock()
	s.lines = append(s.lines, logLine{stream, text})
	s.mu.Unlock()
	s.notify()
}

func (s *logSink) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// since returns the lines from index from on and a channel closed when more
// arrive.
func (s *logSink) since(from int) ([]logLine, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines[min(from, len(s.lines)):]), s.changed
}

// tail returns the last n lines, for failure messages.
func (s *logSink) tail(n int) string {
	lines, _ := s.since(0)
	var b strings.Builder
	for _, l := range lines[max(0, len(lines)-n):] {
		fmt.Fprintf(&b, "  %s: %.400s\n", l.stream, l.text)
	}
	return b.String()
}

func (s *logSink) writer(stream string) *lineWriter { return &lineWriter{sink: s, stream: stream} }

// lineWriter splits what a stream writes into lines. os/exec calls Write
// from one goroutine per stream.
type lineWriter struct {
	sink   *logSink
	stream string
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.sink.add(w.stream, string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// flush adds a last line that did not end with a newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.sink.add(w.stream, string(w.buf))
		w.buf = nil
	}
}

// jsonLines parses output as JSON log lines; it fails the test on any other
// line.
func jsonLines(t *testing.T, output string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		m, ok := parseLine(sc.Text())
		if !ok {
			t.Errorf("not a JSON log line: %.300q", sc.Text())
			continue
		}
		out = append(out, m)
	}
	return out
}
