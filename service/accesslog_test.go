package service

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

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
			lines := make(lineChan, 1)
			logger := NewLogger(lines, "p", slog.LevelInfo)
			srv := httptest.NewServer(RequestID()(AccessLog(logger, AccessLogAll)(tt.handler)))
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
			// The line comes once the handler has returned, which may be
			// after the client has its answer (a hijacked connection).
			line := lines.next(t)
			hr, _ := line["httpRequest"].(map[string]any)
			if hr["status"] != tt.logStatus || hr["responseSize"] != tt.logSize {
				t.Errorf("logged status %v size %v, want %v %v", hr["status"], hr["responseSize"], tt.logStatus, tt.logSize)
			}
		})
	}
}

// lineChan is a log writer that hands each line to the test.
type lineChan chan []byte

func (c lineChan) Write(p []byte) (int, error) {
	c <- bytes.Clone(p)
	return len(p), nil
}

// next returns the next line, decoded.
func (c lineChan) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case p := <-c:
		return logLines(t, bytes.NewBuffer(p))[0]
	case <-time.After(time.Minute): // only turns a hang into a failure
		t.Fatal("no log line")
		return nil
	}
}

// TestAccessLogWriterInterfaces: over net/http's HTTP/1 and HTTP/2
// responses, the writer AccessLog hands on presents the optional interfaces
// of the server's own writer, no more and no fewer, and flushes through
// http.ResponseController.
func TestAccessLogWriterInterfaces(t *testing.T) {
	t.Parallel()
	type caps struct{ flusher, hijacker, readerFrom, pusher bool }
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			t.Parallel()
			var got caps
			var flushErr error
			// The handler's Flush sends the response before it is through:
			// done says it is.
			done := make(chan struct{})
			logger := NewLogger(io.Discard, "p", slog.LevelInfo)
			srv := httptest.NewUnstartedServer(AccessLog(logger, AccessLogAll)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				_, got.flusher = w.(http.Flusher)
				_, got.hijacker = w.(http.Hijacker)
				_, got.readerFrom = w.(io.ReaderFrom)
				_, got.pusher = w.(http.Pusher)
				flushErr = http.NewResponseController(w).Flush()
			})))
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			<-done
			if want := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != want {
				t.Fatalf("served over %s, want HTTP/%d", resp.Proto, want)
			}
			want := caps{flusher: true, hijacker: true, readerFrom: true}
			if h2 {
				want = caps{flusher: true, pusher: true}
			}
			if got != want || flushErr != nil {
				t.Errorf("got %+v, ResponseController.Flush: %v; want %+v, nil", got, flushErr, want)
			}
		})
	}
}

// TestAccessLogModes: which responses get an access line under each
// ACCESS_LOG value, and at which severity.
func TestAccessLogModes(t *testing.T) {
	t.Parallel()
	status := func(code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
	}
	codes := []int{200, 204, 302, 401, 404, 500, 503}
	tests := []struct {
		mode AccessLogMode
		want map[int]string // status → severity of its line; absent: no line
	}{
		{AccessLogErrors, map[int]string{401: "WARNING", 404: "WARNING", 500: "ERROR", 503: "ERROR"}},
		{AccessLogAll, map[int]string{200: "INFO", 204: "INFO", 302: "INFO", 401: "WARNING", 404: "WARNING", 500: "ERROR", 503: "ERROR"}},
		{AccessLogOff, map[int]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			for _, code := range codes {
				var buf bytes.Buffer
				AccessLog(NewLogger(&buf, "p", slog.LevelInfo), tt.mode)(status(code)).
					ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
				lines := logLines(t, &buf)
				want, logged := tt.want[code]
				switch {
				case !logged && len(lines) != 0:
					t.Errorf("%d: got %d lines, want none: %v", code, len(lines), lines)
				case logged && len(lines) != 1:
					t.Errorf("%d: got %d lines, want 1", code, len(lines))
				case logged && lines[0]["severity"] != want:
					t.Errorf("%d: severity %v, want %s", code, lines[0]["severity"], want)
				}
			}
		})
	}
}

func TestParseAccessLogMode(t *testing.T) {
	t.Parallel()
	for _, m := range []AccessLogMode{AccessLogErrors, AccessLogAll, AccessLogOff} {
		if got, ok := parseAccessLogMode(m.String()); !ok || got != m {
			t.Errorf("parseAccessLogMode(%q) = %v, %v; want %v, true", m.String(), got, ok, m)
		}
	}
	for _, v := range []string{"", "ERRORS", "none", "on", "4xx"} {
		if _, ok := parseAccessLogMode(v); ok {
			t.Errorf("parseAccessLogMode(%q) accepted", v)
		}
	}
}
