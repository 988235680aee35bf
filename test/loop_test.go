package test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFullLoop follows an event the whole way: a user publishes it with
// POST /api/events (Clerk token), the service publishes to Pub/Sub
// (pstest), the push subscription (dispatcher) delivers it to /pubsub/push
// with a Google token, and the user sees it in GET /api/events.
func TestFullLoop(t *testing.T) {
	s := newStack(t)
	svc := s.start(t)
	push := s.startPusher(t, svc.url+"/pubsub/push", pushOptions{})
	user := e2e.userToken(t)

	tests := []struct {
		name        string
		contentType string
		body        string
		wantData    string
		wantAttrs   map[string]string
	}{
		{"json", "application/json", `{"data":"hello from the loop","attributes":{"origin":"e2e","n":"1"}}`,
			"hello from the loop", map[string]string{"origin": "e2e", "n": "1"}},
		{"text", "text/plain; charset=utf-8", "plain text event", "plain text event", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, request{method: "POST", url: svc.url + "/api/events", token: user,
				header: map[string]string{"Content-Type": tt.contentType}, body: tt.body})
			if r.status != http.StatusAccepted {
				t.Fatalf("POST /api/events: got %d, want 202: %.300s", r.status, r.body)
			}
			id, _ := r.object(t)["messageId"].(string)
			if id == "" {
				t.Fatalf("POST /api/events: no messageId in %s", r.body)
			}
			e := waitEvent(t, svc.url, "with the published message ID", func(e event) bool { return e.ID == id })
			if e.Source != "pubsub" || e.Data != tt.wantData {
				t.Errorf("event: got source %q data %q, want pubsub %q", e.Source, e.Data, tt.wantData)
			}
			for k, v := range tt.wantAttrs {
				if e.Attributes[k] != v {
					t.Errorf("event attribute %s: got %q, want %q", k, e.Attributes[k], v)
				}
			}
			if _, err := time.Parse(time.RFC3339Nano, e.PublishTime); err != nil {
				t.Errorf("event publishTime %q: %v", e.PublishTime, err)
			}
			if _, err := time.Parse(time.RFC3339Nano, e.ReceivedAt); err != nil {
				t.Errorf("event receivedAt %q: %v", e.ReceivedAt, err)
			}
		})
	}

	push.stop()
	st := push.d.Stats()
	if st.Acked != int64(len(tests)) || st.Nacked != 0 {
		t.Errorf("dispatcher: got %d acked and %d nacked, want %d and 0", st.Acked, st.Nacked, len(tests))
	}
	for _, m := range s.pubsub.srv.Messages() {
		if m.Acks == 0 {
			t.Errorf("pstest: message %s was never acknowledged", m.ID)
		}
	}
	svc.stopOK(t)
}

// TestSchedulerCall: a Cloud Scheduler call becomes an event for the job
// its X-CloudScheduler-JobName header names, or {job} of the path when the
// header is absent.
func TestSchedulerCall(t *testing.T) {
	s := newStack(t)
	svc := s.start(t)
	tests := []struct {
		name    string
		path    string
		header  map[string]string
		wantJob string
		want    string // publishTime the event carries ("" when none)
	}{
		{
			name: "scheduler headers",
			path: "/scheduler/from-path",
			header: map[string]string{
				"X-CloudScheduler":              "true",
				"X-CloudScheduler-JobName":      "nightly-report",
				"X-CloudScheduler-ScheduleTime": "2026-11-23T03:00:00Z",
				"User-Agent":                    "Google-Cloud-Scheduler",
			},
			wantJob: "nightly-report",
			want:    "2026-11-23T03:00:00Z",
		},
		{name: "no job header", path: "/scheduler/cleanup", wantJob: "cleanup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "scheduler call " + randomHex(8)
			r := send(t, request{method: "POST", url: svc.url + tt.path, token: e2e.serviceToken(t),
				header: tt.header, body: body})
			if r.status != http.StatusNoContent {
				t.Fatalf("POST %s: got %d, want 204: %.300s", tt.path, r.status, r.body)
			}
			e := waitEvent(t, svc.url, "for the call", func(e event) bool { return e.Data == body })
			if e.Source != "scheduler" || e.Job != tt.wantJob || e.PublishTime != tt.want {
				t.Errorf("event: got source %q job %q publishTime %q, want scheduler %q %q",
					e.Source, e.Job, e.PublishTime, tt.wantJob, tt.want)
			}
		})
	}
	svc.stopOK(t)
}

// TestPushDeliveries sends what Pub/Sub and Eventarc send straight to
// /pubsub/push: each form becomes one event with the Pub/Sub message ID; a
// redelivery is acknowledged and not processed twice; a body that is not a
// delivery gets 400 and becomes no event.
func TestPushDeliveries(t *testing.T) {
	s := newStack(t)
	svc := s.start(t)
	token := e2e.serviceToken(t)
	run := "r" + randomHex(4)

	wrapped := envelope(run+"-wrapped", "wrapped data", map[string]string{"k": "v"}, 1)
	tests := []struct {
		name     string
		header   map[string]string
		body     string
		want     int
		wantID   string // event expected with this ID ("" none)
		wantData string
	}{
		{name: "wrapped", body: wrapped, want: 204, wantID: run + "-wrapped", wantData: "wrapped data"},
		{name: "wrapped redelivered", body: wrapped, want: 204},
		{
			name: "unwrapped",
			header: map[string]string{
				"Content-Type":                    "text/plain",
				"X-Goog-Pubsub-Message-Id":        run + "-unwrapped",
				"X-Goog-Pubsub-Publish-Time":      "2026-11-23T10:00:00Z",
				"X-Goog-Pubsub-Subscription-Name": "projects/" + project + "/subscriptions/raw",
			},
			body: "raw data", want: 204, wantID: run + "-unwrapped", wantData: "raw data",
		},
		{
			name: "eventarc",
			header: map[string]string{
				"Ce-Id":          "ce-" + run,
				"Ce-Type":        "google.cloud.pubsub.topic.v1.messagePublished",
				"Ce-Source":      "//pubsub.googleapis.com/projects/" + project + "/topics/" + topicID,
				"Ce-Specversion": "1.0",
			},
			body: envelope(run+"-eventarc", "eventarc data", nil, 0), want: 204, wantID: run + "-eventarc", wantData: "eventarc data",
		},
		{name: "not JSON", body: "{not json", want: 400},
		{name: "no message ID", body: `{"message":{"data":"aGk="},"subscription":"s"}`, want: 400},
		{name: "data not base64", body: `{"message":{"data":"***","messageId":"` + run + `-bad"},"subscription":"s"}`, want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, request{method: "POST", url: svc.url + "/pubsub/push", token: token, header: tt.header, body: tt.body})
			if r.status != tt.want {
				t.Fatalf("got %d, want %d: %.300s", r.status, tt.want, r.body)
			}
			if tt.want == 400 {
				if msg, _ := r.object(t)["error"].(string); msg == "" {
					t.Errorf("400 without an error reason: %s", r.body)
				}
			}
		})
	}

	// Every delivery above has been answered, so the log is complete.
	count := map[string]int{}
	data := map[string]string{}
	for _, e := range listEvents(t, svc.url, e2e.userToken(t)) {
		if strings.HasPrefix(e.ID, run) {
			count[e.ID]++
			data[e.ID] = e.Data
		}
	}
	want := map[string]string{}
	for _, tt := range tests {
		if tt.wantID != "" {
			want[tt.wantID] = tt.wantData
		}
	}
	for id, d := range want {
		if count[id] != 1 || data[id] != d {
			t.Errorf("event %s: got %d events with data %q, want exactly 1 with %q", id, count[id], data[id], d)
		}
	}
	if len(count) != len(want) {
		t.Errorf("got events %v, want only %d events (malformed bodies must become none)", count, len(want))
	}
	svc.stopOK(t)
}
