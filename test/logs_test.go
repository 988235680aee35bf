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

// TestAccessLog: which requests get an access line under ACCESS_LOG, in
// production configuration: by default only responses of 400 or more (Cloud
// Run logs every request itself), naming the client address Google's front
// end appended to X-Forwarded-For, never the one the client wrote; with
// "off", none. The refusal is logged once with its reason either way.
func TestAccessLog(t *testing.T) {
	tests := []struct {
		value      string
		wantAccess bool // for the 401
	}{
		{"", true},
		{"off", false},
	}
	for _, tt := range tests {
		t.Run("ACCESS_LOG="+tt.value, func(t *testing.T) {
			s := newStack(t)
			if tt.value != "" {
				s.env["ACCESS_LOG"] = tt.value
			}
			svc := s.start(t)
			okID, refusedID := "ok-"+randomHex(4), "refused-"+randomHex(4)
			const xff = "6.6.6.6, 203.0.113.9" // the client wrote the first entry
			if r := send(t, request{method: "GET", url: svc.url + "/whoami", token: e2e.userToken(t),
				header: map[string]string{"X-Request-Id": okID, "X-Forwarded-For": xff}}); r.status != 200 {
				t.Fatalf("GET /whoami: got %d, want 200", r.status)
			}
			if r := send(t, request{method: "GET", url: svc.url + "/whoami",
				header: map[string]string{"X-Request-Id": refusedID, "X-Forwarded-For": xff}}); r.status != 401 {
				t.Fatalf("GET /whoami without a token: got %d, want 401", r.status)
			}
			svc.stopOK(t) // every line is in once the process has exited

			var access []map[string]any
			reasons := svc.countLogs(func(m map[string]any) bool {
				if m["httpRequest"] != nil {
					access = append(access, m)
				}
				return m["message"] == "authn: request refused" && m["reason"] != nil
			})
			if reasons != 1 {
				t.Errorf("the refusal was logged with its reason %d times, want once", reasons)
			}
			if !tt.wantAccess {
				if len(access) != 0 {
					t.Errorf("got %d access lines, want none: %v", len(access), access)
				}
				return
			}
			if len(access) != 1 || access[0]["requestId"] != refusedID {
				t.Fatalf("access lines %v, want one, of the 401 (%s)", access, refusedID)
			}
			hr, _ := access[0]["httpRequest"].(map[string]any)
			if access[0]["message"] != "GET /whoami 401" || access[0]["severity"] != "WARNING" || hr["remoteIp"] != "203.0.113.9" {
				t.Errorf("access line of the 401: %v; want GET /whoami 401 at WARNING from 203.0.113.9", access[0])
			}
		})
	}
}
