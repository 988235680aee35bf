package service

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"
)

// Cloud Logging's structured-log field names.
const (
	traceKey   = "logging.googleapis.com/trace"
	spanKey    = "logging.googleapis.com/spanId"
	sampledKey = "logging.googleapis.com/trace_sampled"
)

// NewLogger returns a JSON logger shaped for Cloud Logging: severity,
// message and time, plus the trace of the request in the context, as
// projects/<project>/traces/<id>, so that a request's lines group together.
//
// Every line reaches w in one Write call, and no two calls overlap, whether
// the line comes from slog or from AccessLog's own encoder.
func NewLogger(w io.Writer, project string, level slog.Leveler) *slog.Logger {
	out := &lineWriter{w: w}
	h := slog.NewJSONHandler(out, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: cloudLoggingAttr,
	})
	return slog.New(&traceHandler{Handler: h, project: project, out: out, plain: true})
}

// lineWriter serializes the writes of whole lines to w. Lines written with
// Write go out at once, after any that writeLater holds; writeLater holds
// lines for up to batchDelay and writes them together, so that under load
// the access lines of many requests cost one write(2).
type lineWriter struct {
	w io.Writer

	writeMu sync.Mutex // held across every w.Write, so that lines keep their order
	mu      sync.Mutex // guards the fields below
	held    []byte     // lines writeLater holds, in order
	spare   []byte     // the buffer held had before its last flush, for reuse
	timer   bool       // a flush of held is scheduled
}

// Batching bounds: a held line waits at most batchDelay, and the lines
// held never pass maxHeld bytes (the writer that would pass it writes
// them itself).
const (
	batchDelay = time.Millisecond
	maxHeld    = 256 << 10
)

// Write writes p, after every line held before it, in one call to w.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	if len(l.held) == 0 {
		l.mu.Unlock()
		return l.w.Write(p)
	}
	b := append(l.take(), p...)
	l.mu.Unlock()
	_, err := l.w.Write(b)
	l.giveBack(b)
	return len(p), err
}

// writeLater copies p to be written within batchDelay, with the lines
// written around the same time.
func (l *lineWriter) writeLater(p []byte) {
	l.mu.Lock()
	if len(l.held)+len(p) > maxHeld {
		l.mu.Unlock()
		_, _ = l.Write(p)
		return
	}
	l.held = append(l.held, p...)
	if !l.timer {
		l.timer = true
		time.AfterFunc(batchDelay, l.flushHeld)
	}
	l.mu.Unlock()
}

// flushHeld writes the lines held now.
func (l *lineWriter) flushHeld() {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	l.timer = false
	if len(l.held) == 0 {
		l.mu.Unlock()
		return
	}
	b := l.take()
	l.mu.Unlock()
	_, _ = l.w.Write(b)
	l.giveBack(b)
}

// take returns the held lines and starts an empty buffer. l.mu is held.
func (l *lineWriter) take() []byte {
	b := l.held
	l.held, l.spare = l.spare[:0], nil
	return b
}

// giveBack keeps a written buffer for the next batch, unless it grew past
// what a batch needs (append may double maxHeld).
func (l *lineWriter) giveBack(b []byte) {
	if cap(b) > 2*maxHeld {
		return
	}
	l.mu.Lock()
	if l.spare == nil {
		l.spare = b[:0]
	}
	l.mu.Unlock()
}

// FlushLogs writes every line a logger made by NewLogger still holds. Run
// calls it before returning; a program that builds its own server on the
// framework calls it before exiting.
func FlushLogs(logger *slog.Logger) {
	if h, ok := logger.Handler().(*traceHandler); ok {
		h.out.flushHeld()
	}
}

// cloudLoggingAttr renames slog's keys to Cloud Logging's.
func cloudLoggingAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case "message", "severity":
		// An attribute of that name would collide with Cloud Logging's own
		// field (the record's text or level): keep it, under another key.
		a.Key += "_attr"
	case slog.LevelKey:
		a.Key = "severity"
		lvl, _ := a.Value.Any().(slog.Level)
		a.Value = slog.StringValue(severity(lvl))
	case slog.MessageKey:
		a.Key = "message"
	}
	return a
}

// severity maps a slog level to Cloud Logging's LogSeverity names.
func severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError+4:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// traceHandler adds the request's trace fields to every record logged with
// its context.
type traceHandler struct {
	slog.Handler
	project string
	out     *lineWriter // where Handler writes
	// plain is true for NewLogger's own handler: no attributes or groups
	// were added, so AccessLog may encode its lines itself.
	plain bool
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if t, ok := traceFrom(ctx); ok {
		name := t.TraceID
		if h.project != "" {
			name = "projects/" + h.project + "/traces/" + t.TraceID
		}
		r.AddAttrs(slog.String(traceKey, name))
		if t.SpanID != "" {
			r.AddAttrs(slog.String(spanKey, t.SpanID))
		}
		if t.Sampled {
			r.AddAttrs(slog.Bool(sampledKey, true))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithAttrs(attrs), project: h.project, out: h.out}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithGroup(name), project: h.project, out: h.out}
}

// appendJSONString appends s escaped for the inside of a JSON string
// exactly as log/slog's JSON handler escapes it: '"', '\\' and control
// characters escaped (\n, \r, \t by name), invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped; everything else as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
