package service

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// AccessLog writes one line per request with Cloud Logging's httpRequest
// fields. It logs the path only, never the query string or any header that
// could carry a credential.
//
// With a logger made by NewLogger (and not derived with With or WithGroup)
// the line is encoded here, by hand, into the same bytes slog's JSON
// handler would write: it is written on every request, and slog's generic
// encoder costs five times as much. Any other logger gets the line through
// slog.
func AccessLog(logger *slog.Logger, now func() time.Time) func(http.Handler) http.Handler {
	fast, _ := logger.Handler().(*traceHandler)
	if fast != nil && !fast.plain {
		fast = nil
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			r, m := withMeta(r)
			ww := &m.w
			if ww.ResponseWriter != nil {
				ww = &statusWriter{} // AccessLog inside AccessLog
			}
			ww.ResponseWriter = w
			defer func() {
				e := accessEntry{status: ww.status, responseSize: ww.bytes}
				// The meta is the request's context, which may be kept
				// after the request (context.WithoutCancel): let it not
				// keep the server's response and connection. A handler's
				// goroutine that writes on after its handler returned (which
				// net/http forbids) gets errors, not a nil dereference.
				ww.ResponseWriter = endedWriter{}
				if e.status == 0 {
					e.status = http.StatusOK
				}
				e.level = slog.LevelInfo
				switch {
				case e.status >= 500:
					e.level = slog.LevelError
				case e.status >= 400:
					e.level = slog.LevelWarn
				}
				ctx := r.Context()
				if !logger.Enabled(ctx, e.level) {
					return
				}
				e.time = now()
				e.latency = e.time.Sub(start)
				e.method, e.path, e.proto = r.Method, r.URL.Path, r.Proto
				e.requestID = RequestIDFrom(ctx)
				e.requestSize = max(r.ContentLength, 0)
				e.userAgent = r.UserAgent()
				e.remoteIP = remoteIP(r)
				if fast != nil {
					fast.writeAccess(ctx, &e)
					return
				}
				_ = logger.Handler().Handle(ctx, e.record())
			}()
			next.ServeHTTP(ww.handOn(), r)
		})
	}
}

// statusWriter is the access log's view of a response: its status and how
// many body bytes were written. It lives in the request's requestMeta, so it
// costs no allocation of its own. Like chi's WrapResponseWriter it passes
// informational (1xx) statuses on, keeps the first final status and drops
// later ones (net/http would only log them as superfluous), and what it
// hands on (see handOn) presents exactly the optional interfaces of the
// writer beneath among http.Flusher, http.Hijacker, io.ReaderFrom and
// http.Pusher; Unwrap gives http.ResponseController the rest.
type statusWriter struct {
	http.ResponseWriter
	status int // 0 until a final status is written or implied
	bytes  int
}

// handOn returns w as the handlers are to see it, with the optional
// interfaces of the writer beneath: net/http's HTTP/1 response (Flusher,
// Hijacker, ReaderFrom), its HTTP/2 one (Flusher, Pusher), or a subset.
// Each is a one-pointer struct, which an interface holds without an
// allocation.
func (w *statusWriter) handOn() http.ResponseWriter {
	_, fl := w.ResponseWriter.(http.Flusher)
	_, hj := w.ResponseWriter.(http.Hijacker)
	_, rf := w.ResponseWriter.(io.ReaderFrom)
	_, ps := w.ResponseWriter.(http.Pusher)
	switch {
	case fl && hj && rf:
		return http1Writer{w}
	case fl && ps:
		return http2Writer{w}
	case fl && hj:
		return flushHijackWriter{w}
	case fl:
		return flushWriter{w}
	case hj:
		return hijackWriter{w}
	}
	return w
}

func (w *statusWriter) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.status != 0 {
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.implyOK()
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// implyOK records the 200 that net/http sends when the body starts before
// any status.
func (w *statusWriter) implyOK() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
}

func (w *statusWriter) flush() {
	w.implyOK()
	w.ResponseWriter.(http.Flusher).Flush()
}

func (w *statusWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// readFrom keeps io.Copy onto the response on the server's own ReadFrom
// (sendfile for files).
func (w *statusWriter) readFrom(src io.Reader) (int64, error) {
	w.implyOK()
	n, err := w.ResponseWriter.(io.ReaderFrom).ReadFrom(src)
	w.bytes += int(n)
	return n, err
}

// endedWriter stands in for the server's response once the request has
// ended: writes fail, and it has every optional method the wrappers call.
type endedWriter struct{}

var errResponseEnded = errors.New("service: write after the handler returned")

func (endedWriter) Header() http.Header                          { return http.Header{} }
func (endedWriter) Write([]byte) (int, error)                    { return 0, errResponseEnded }
func (endedWriter) WriteHeader(int)                              {}
func (endedWriter) Flush()                                       {}
func (endedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, errResponseEnded }
func (endedWriter) ReadFrom(io.Reader) (int64, error)            { return 0, errResponseEnded }
func (endedWriter) Push(string, *http.PushOptions) error         { return errResponseEnded }

type (
	http1Writer       struct{ *statusWriter }
	http2Writer       struct{ *statusWriter }
	flushHijackWriter struct{ *statusWriter }
	flushWriter       struct{ *statusWriter }
	hijackWriter      struct{ *statusWriter }
)

func (w http1Writer) Flush()                                       { w.flush() }
func (w http1Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w http1Writer) ReadFrom(src io.Reader) (int64, error)        { return w.readFrom(src) }

func (w http2Writer) Flush() { w.flush() }
func (w http2Writer) Push(target string, opts *http.PushOptions) error {
	return w.ResponseWriter.(http.Pusher).Push(target, opts)
}

func (w flushHijackWriter) Flush()                                       { w.flush() }
func (w flushHijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

func (w flushWriter) Flush() { w.flush() }

func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

// accessEntry is what one access line says.
type accessEntry struct {
	time                time.Time
	level               slog.Level
	method, path, proto string
	status              int
	requestSize         int64
	responseSize        int
	userAgent, remoteIP string
	requestID           string
	latency             time.Duration
}

// message is the line's text, "GET /path 200".
func (e *accessEntry) message(buf []byte) []byte {
	buf = append(buf, e.method...)
	buf = append(buf, ' ')
	buf = append(buf, e.path...)
	buf = append(buf, ' ')
	return strconv.AppendInt(buf, int64(e.status), 10)
}

// appendLatency writes the latency as Cloud Logging's Duration JSON form,
// seconds with up to nine decimals and an "s" ("0.000412s").
func (e *accessEntry) appendLatency(buf []byte) []byte {
	buf = strconv.AppendFloat(buf, e.latency.Seconds(), 'f', 6, 64)
	return append(buf, 's')
}

// record is the line as a slog record, for loggers of other kinds.
func (e *accessEntry) record() slog.Record {
	var msgBuf [128]byte
	var latBuf [32]byte
	rec := slog.NewRecord(e.time, e.level, string(e.message(msgBuf[:0])), 0)
	rec.AddAttrs(
		slog.String("requestId", e.requestID),
		slog.Attr{Key: "httpRequest", Value: slog.GroupValue(
			slog.String("requestMethod", e.method),
			slog.String("requestUrl", e.path),
			slog.Int("status", e.status),
			slog.Int64("requestSize", e.requestSize),
			slog.Int("responseSize", e.responseSize),
			slog.String("userAgent", e.userAgent),
			slog.String("remoteIp", e.remoteIP),
			slog.String("protocol", e.proto),
			slog.String("latency", string(e.appendLatency(latBuf[:0]))),
		)},
	)
	return rec
}

// accessBufs recycles the buffers access lines are encoded in.
var accessBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeAccess encodes e exactly as h's slog handler encodes e.record()
// (TestAccessLineMatchesSlog holds it to that) and writes it in one call.
func (h *traceHandler) writeAccess(ctx context.Context, e *accessEntry) {
	bp := accessBufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = e.time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","severity":"`...)
	b = append(b, severity(e.level)...)
	b = append(b, `","message":"`...)
	b = appendJSONString(b, e.method)
	b = append(b, ' ')
	b = appendJSONString(b, e.path)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `","requestId":"`...)
	b = appendJSONString(b, e.requestID)
	b = append(b, `","httpRequest":{"requestMethod":"`...)
	b = appendJSONString(b, e.method)
	b = append(b, `","requestUrl":"`...)
	b = appendJSONString(b, e.path)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"requestSize":`...)
	b = strconv.AppendInt(b, e.requestSize, 10)
	b = append(b, `,"responseSize":`...)
	b = strconv.AppendInt(b, int64(e.responseSize), 10)
	b = append(b, `,"userAgent":"`...)
	b = appendJSONString(b, e.userAgent)
	b = append(b, `","remoteIp":"`...)
	b = appendJSONString(b, e.remoteIP)
	b = append(b, `","protocol":"`...)
	b = appendJSONString(b, e.proto)
	b = append(b, `","latency":"`...)
	b = e.appendLatency(b)
	b = append(b, `"}`...)
	b = h.appendTrace(b, ctx)
	b = append(b, "}\n"...)
	if e.level < slog.LevelWarn {
		h.out.writeLater(b) // see lineWriter: up to batchDelay late, with others
	} else {
		_, _ = h.out.Write(b)
	}
	if cap(b) <= 64<<10 { // a huge user agent does not pin a huge buffer
		*bp = b
		accessBufs.Put(bp)
	}
}

// appendTrace writes the trace fields traceHandler.Handle adds, in its order.
func (h *traceHandler) appendTrace(b []byte, ctx context.Context) []byte {
	t, ok := traceFrom(ctx)
	if !ok {
		return b
	}
	b = append(b, `,"`+traceKey+`":"`...)
	if h.project != "" {
		b = append(b, "projects/"...)
		b = appendJSONString(b, h.project)
		b = append(b, "/traces/"...)
	}
	b = appendJSONString(b, t.TraceID)
	b = append(b, '"')
	if t.SpanID != "" {
		b = append(b, `,"`+spanKey+`":"`...)
		b = appendJSONString(b, t.SpanID)
		b = append(b, '"')
	}
	if t.Sampled {
		b = append(b, `,"`+sampledKey+`":true`...)
	}
	return b
}

// remoteIP is the first X-Forwarded-For hop (Cloud Run's front end sets it),
// else the peer address.
func remoteIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		for i := 0; i < len(xff); i++ {
			if xff[i] == ',' {
				return xff[:i]
			}
		}
		return xff
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
