package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// contextWithTrace returns ctx carrying t, as Traces stores it.
func contextWithTrace(ctx context.Context, t Trace) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, &requestMeta{trace: t, traced: true})
}

// accessLines encodes e with AccessLog's own encoder and with slog, through
// loggers made by NewLogger, and returns both lines.
func accessLines(t testing.TB, project string, ctx context.Context, e *accessEntry) (fast, viaSlog string) {
	t.Helper()
	var a, b bytes.Buffer
	la := NewLogger(&a, project, slog.LevelDebug)
	lb := NewLogger(&b, project, slog.LevelDebug)
	la.Handler().(*traceHandler).writeAccess(ctx, e)
	FlushLogs(la)
	if err := lb.Handler().Handle(ctx, e.record()); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String()
}

// TestAccessLineMatchesSlog holds the hand-written encoder to the bytes
// slog's JSON handler writes for the same record, for awkward strings too.
func TestAccessLineMatchesSlog(t *testing.T) {
	t.Parallel()
	traced := contextWithTrace(context.Background(),
		Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true})
	unsampled := contextWithTrace(context.Background(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	base := accessEntry{
		time: time.Date(2026, 12, 1, 18, 4, 5, 123456789, time.UTC), level: slog.LevelInfo,
		method: "POST", path: "/pubsub/push", proto: "HTTP/1.1", status: 204,
		requestSize: 1544, responseSize: 0, userAgent: "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
		remoteIP: "127.0.0.1", requestID: "0a1b2c3d4e5f-17", latency: 41234 * time.Nanosecond,
	}
	tests := []struct {
		name    string
		project string
		ctx     context.Context
		edit    func(e *accessEntry)
	}{
		{"plain", "p-1", context.Background(), func(*accessEntry) {}},
		{"traced and sampled", "p-1", traced, func(*accessEntry) {}},
		{"traced, no project", "", unsampled, func(*accessEntry) {}},
		{"warning", "p-1", traced, func(e *accessEntry) { e.status, e.level = 404, slog.LevelWarn }},
		{"error", "p-1", traced, func(e *accessEntry) { e.status, e.level = 503, slog.LevelError }},
		{"quotes and backslashes", "p-1", nil, func(e *accessEntry) { e.userAgent = `a "b" \c\` }},
		{"control characters", "p-1", nil, func(e *accessEntry) { e.userAgent = "a\x00b\x01\x1f\n\r\t\x7f" }},
		{"invalid UTF-8", "p-1", nil, func(e *accessEntry) { e.path = "/\xff\xfe/a\xe2\x80" }},
		{"line separators", "p-1", nil, func(e *accessEntry) { e.userAgent = "x\u2028y\u2029z" }},
		{"non-ASCII", "p-1", nil, func(e *accessEntry) { e.path = "/événements/日本/🙂" }},
		{"HTML characters", "p-1", nil, func(e *accessEntry) { e.userAgent = "<script>&amp;</script>" }},
		{"empty fields", "p-1", nil, func(e *accessEntry) { e.userAgent, e.requestID, e.remoteIP = "", "", "" }},
		{"long latency", "p-1", nil, func(e *accessEntry) { e.latency = 59*time.Second + 999999999 }},
		{"zone offset", "p-1", nil, func(e *accessEntry) { e.time = e.time.In(time.FixedZone("x", 5*3600+1800)) }},
		{"huge user agent", "p-1", nil, func(e *accessEntry) { e.userAgent = strings.Repeat("ü", 40000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := base
			tt.edit(&e)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			fast, want := accessLines(t, tt.project, ctx, &e)
			if fast != want {
				t.Errorf("hand-encoded line differs from slog's:\n got %s\nwant %s", fast, want)
			}
		})
	}
}

// FuzzAccessLine checks the encoder against slog on arbitrary strings.
func FuzzAccessLine(f *testing.F) {
	f.Add("/x", "curl/8", "id-1", "HTTP/1.1")
	f.Add("/\xff\"\\", "\u2028\x00", "", "HTTP/2.0")
	f.Fuzz(func(t *testing.T, path, ua, id, proto string) {
		e := accessEntry{time: time.Unix(1700000000, 5).UTC(), level: slog.LevelInfo, method: "GET",
			path: path, userAgent: ua, requestID: id, proto: proto, status: 200, remoteIP: "::1"}
		fast, want := accessLines(t, "p", context.Background(), &e)
		if fast != want {
			t.Errorf("hand-encoded line differs from slog's:\n got %q\nwant %q", fast, want)
		}
	})
}

// TestAccessLogOtherLogger: a logger that is not NewLogger's own (here one
// with attributes added) still gets one access line, through slog.
func TestAccessLogOtherLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := NewLogger(&buf, "p", slog.LevelInfo).With("component", "x")
	if logger.Handler().(*traceHandler).plain {
		t.Fatal("a derived handler claims to be plain")
	}
	fixed := time.Unix(0, 0)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := RequestID()(AccessLog(logger, func() time.Time { return fixed })(ok))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	lines := logLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	if lines[0]["component"] != "x" || lines[0]["httpRequest"] == nil || lines[0]["message"] != "GET /healthz 200" {
		t.Errorf("line: %v", lines[0])
	}
}

func BenchmarkAccessLine(b *testing.B) {
	e := accessEntry{time: time.Now(), level: slog.LevelInfo, method: "POST", path: "/pubsub/push",
		proto: "HTTP/1.1", status: 204, requestSize: 1544, remoteIP: "127.0.0.1", requestID: "0a1b2c3d4e5f-17",
		userAgent: "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)", latency: 41 * time.Microsecond}
	ctx := context.Background()
	b.Run("hand-encoded", func(b *testing.B) {
		h := NewLogger(io.Discard, "p", slog.LevelInfo).Handler().(*traceHandler)
		b.ReportAllocs()
		for b.Loop() {
			h.writeAccess(ctx, &e)
		}
	})
	b.Run("slog", func(b *testing.B) {
		h := NewLogger(io.Discard, "p", slog.LevelInfo).Handler()
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Handle(ctx, e.record())
		}
	})
}

// TestAccessLogResponseWriter: the writer AccessLog hands on behaves as the
// server's own for what handlers do with it (informational statuses, a
// superfluous WriteHeader, io.Copy, Flush, Hijack, http.ResponseController)
// and the line records the final status and the body bytes.
func TestAccessLogResponseWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int    // what the client gets
		wantBody   string // what the client reads
		logStatus  float64
		logSize    float64
	}{
		{"early hints, then 201, then a superfluous 500", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</app.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "abc")
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusCreated, "abc", 201, 3},
		{"write implies 200", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("hello"))
		}, http.StatusOK, "hello", 200, 5},
		{"io.Copy goes through ReadFrom", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := w.(io.ReaderFrom); !ok {
				t.Error("no io.ReaderFrom")
			}
			_, _ = io.Copy(w, strings.NewReader("copied"))
		}, http.StatusOK, "copied", 200, 6},
		{"Flusher and ResponseController", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "a")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("ResponseController.Flush: %v", err)
			}
			if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Errorf("ResponseController.SetWriteDeadline: %v", err)
			}
			_, _ = io.WriteString(w, "b")
		}, http.StatusOK, "ab", 200, 2},
		{"hijack", func(w http.ResponseWriter, r *http.Request) {
			conn, bw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("Hijack: %v", err)
				return
			}
			defer conn.Close()
			_, _ = bw.WriteString("HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhj")
			_ = bw.Flush()
		}, http.StatusAccepted, "hj", 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := NewLogger(&buf, "p", slog.LevelInfo)
			// AccessLog twice: the inner one must not wrap the outer's writer
			// in itself.
			h := RequestID()(AccessLog(logger, time.Now)(AccessLog(logger, time.Now)(tt.handler)))
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("client got %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			srv.Close() // the handler has returned: its lines are written
			FlushLogs(logger)
			lines := logLines(t, &buf)
			if len(lines) != 2 {
				t.Fatalf("got %d lines, want 2: %v", len(lines), lines)
			}
			for _, l := range lines {
				hr, _ := l["httpRequest"].(map[string]any)
				if hr["status"] != tt.logStatus || hr["responseSize"] != tt.logSize {
					t.Errorf("logged status %v size %v, want %v %v", hr["status"], hr["responseSize"], tt.logStatus, tt.logSize)
				}
			}
		})
	}
}

// plainWriter is a ResponseWriter with none of the optional interfaces.
type plainWriter struct{ h http.Header }

func (w *plainWriter) Header() http.Header         { return w.h }
func (w *plainWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *plainWriter) WriteHeader(int)             {}

// TestAccessLogWriterInterfaces: the writer AccessLog hands on presents the
// optional interfaces of the writer beneath, no more and no fewer, over
// net/http's HTTP/1 and HTTP/2 responses, a recorder and a plain writer.
func TestAccessLogWriterInterfaces(t *testing.T) {
	t.Parallel()
	type caps struct{ flusher, hijacker, readerFrom, pusher bool }
	// probe's handler records what it saw in got and rcFlush, then closes
	// done: its Flush sends the response before it is through, so a test
	// over a real server waits for done before reading.
	probe := func(got *caps, rcFlush *error, done chan<- struct{}) http.Handler {
		logger := NewLogger(io.Discard, "p", slog.LevelInfo)
		return AccessLog(logger, time.Now)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			_, got.flusher = w.(http.Flusher)
			_, got.hijacker = w.(http.Hijacker)
			_, got.readerFrom = w.(io.ReaderFrom)
			_, got.pusher = w.(http.Pusher)
			*rcFlush = http.NewResponseController(w).Flush()
		}))
	}
	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		var got caps
		var flushErr error
		probe(&got, &flushErr, make(chan struct{})).ServeHTTP(&plainWriter{h: http.Header{}}, httptest.NewRequest("GET", "/", nil))
		if got != (caps{}) || !errors.Is(flushErr, http.ErrNotSupported) {
			t.Errorf("got %+v, ResponseController.Flush: %v; want none and ErrNotSupported", got, flushErr)
		}
	})
	t.Run("recorder", func(t *testing.T) {
		t.Parallel()
		var got caps
		var flushErr error
		probe(&got, &flushErr, make(chan struct{})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if got != (caps{flusher: true}) || flushErr != nil {
			t.Errorf("got %+v, %v; want Flusher only", got, flushErr)
		}
	})
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("net/http h2=%v", h2), func(t *testing.T) {
			t.Parallel()
			var got caps
			var flushErr error
			done := make(chan struct{})
			srv := httptest.NewUnstartedServer(probe(&got, &flushErr, done))
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			<-done
			if resp.ProtoMajor != map[bool]int{false: 1, true: 2}[h2] {
				t.Fatalf("served over %s", resp.Proto)
			}
			want := caps{flusher: true, hijacker: true, readerFrom: true}
			if h2 {
				want = caps{flusher: true, pusher: true}
			}
			if got != want || flushErr != nil {
				t.Errorf("got %+v, %v; want %+v", got, flushErr, want)
			}
		})
	}
}

// A goroutine that writes on after its handler returned gets errors; the
// request's context, kept past the request, no longer reaches the server's
// response.
func TestAccessLogWriterAfterReturn(t *testing.T) {
	t.Parallel()
	var kept http.ResponseWriter
	var keptCtx context.Context
	logger := NewLogger(io.Discard, "p", slog.LevelInfo)
	h := RequestID()(AccessLog(logger, time.Now)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept, keptCtx = w, context.WithoutCancel(r.Context())
	})))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := kept.Write([]byte("late")); err == nil {
		t.Error("a write after the handler returned succeeded")
	}
	kept.(http.Flusher).Flush()
	if _, _, err := kept.(http.Hijacker).Hijack(); err == nil {
		t.Error("a hijack after the handler returned succeeded")
	}
	if m := metaFrom(keptCtx); m == nil || m.w.ResponseWriter != (endedWriter{}) {
		t.Errorf("the kept context's meta still holds the server's response")
	}
}
