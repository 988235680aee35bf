package test

import (
	"testing"
)

// TestLogsCarryTrace: a request that carries a trace header is logged with
// Cloud Logging's trace field, projects/<project>/traces/<id>, so that its
// lines group together; one without a header has none. (Every test also
// checks, when its processes stop, that every line they wrote is a JSON
// object with severity and message and holds no token.)
func TestLogsCarryTrace(t *testing.T) {
	s := newStack(t)
	s.env["ACCESS_LOG"] = "all" // so that a 200 has a line
	svc := s.start(t)
	const traceID = "105445aa7843bc8bf206b12000100000"
	tests := []struct {
		name      string
		header    map[string]string
		wantTrace string
	}{
		{"X-Cloud-Trace-Context", map[string]string{"X-Cloud-Trace-Context": traceID + "/1;o=1"}, "projects/" + project + "/traces/" + traceID},
		{"traceparent", map[string]string{"Traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"}, "projects/" + project + "/traces/" + traceID},
		{"no trace header", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "trace-test-" + randomHex(4)
			h := map[string]string{"X-Request-Id": id}
			for k, v := range tt.header {
				h[k] = v
			}
			if r := send(t, request{method: "GET", url: svc.url + "/whoami", token: e2e.userToken(t), header: h}); r.status != 200 {
				t.Fatalf("GET /whoami: got %d, want 200", r.status)
			}
			line, ok := svc.waitLog(func(m map[string]any) bool { return m["requestId"] == id })
			if !ok {
				t.Fatalf("no log line with requestId %s", id)
			}
			got, _ := line["logging.googleapis.com/trace"].(string)
			if got != tt.wantTrace {
				t.Errorf("trace: got %q, want %q", got, tt.wantTrace)
			}
		})
	}
	svc.stopOK(t)
}
