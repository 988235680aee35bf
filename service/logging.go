package service

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Cloud Logging's structured-log field names of a line's trace.
const (
	traceField        = "logging.googleapis.com/trace"
	spanIDField       = "logging.googleapis.com/spanId"
	traceSampledField = "logging.googleapis.com/trace_sampled"
)

// NewLogger returns a JSON logger shaped for Cloud Logging: severity,
// message and time, plus the trace of the request in the context, as
// projects/<project>/traces/<id>, so that a request's lines group together.
// It is slog's JSON handler, which writes each line to w in one Write call.
func NewLogger(w io.Writer, project string, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: cloudLoggingAttr,
	})
	return slog.New(&traceHandler{Handler: h, project: project})
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

// traceHandler adds the trace fields to every record logged with a
// request's context: of the span this process made for it when traces are
// exported, else of the request's trace headers.
type traceHandler struct {
	slog.Handler
	project string
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if t, ok := spanTrace(ctx); ok {
		h.addTrace(&r, t)
	} else if t, ok := traceFrom(ctx); ok {
		h.addTrace(&r, t)
	}
	return h.Handler.Handle(ctx, r)
}

// spanTrace is the trace of the span in ctx when this process made it
// (traces are exported): the request's span, or a push delivery's, which
// may belong to the publisher's trace. A span context only extracted from
// the request's headers (remote) is left to traceFrom, which reads those
// headers as they were.
func spanTrace(ctx context.Context) (Trace, bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || sc.IsRemote() {
		return Trace{}, false
	}
	return Trace{TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String(), Sampled: sc.IsSampled()}, true
}

// addTrace adds t's Cloud Logging fields to r.
func (h *traceHandler) addTrace(r *slog.Record, t Trace) {
	name := t.TraceID
	if h.project != "" {
		name = "projects/" + h.project + "/traces/" + t.TraceID
	}
	r.AddAttrs(slog.String(traceField, name))
	if t.SpanID != "" {
		r.AddAttrs(slog.String(spanIDField, t.SpanID))
	}
	if t.Sampled {
		r.AddAttrs(slog.Bool(traceSampledField, true))
	}
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithAttrs(attrs), project: h.project}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithGroup(name), project: h.project}
}
