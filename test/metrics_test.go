package test

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMetricsScrapedByPrometheus runs the service (test/faultsvc, for its
// poison and failing messages) with OTEL_METRICS_EXPORTER=prometheus on a
// loopback port of its own, has a real Prometheus server scrape it every
// second, sends a known load, and finds in Prometheus's HTTP API the counts
// that load caused. No label value holds a token or a part of one.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	metricsPort := freePort(t)
	s.env["OTEL_METRICS_EXPORTER"] = "prometheus"
	s.env["OTEL_EXPORTER_PROMETHEUS_HOST"] = "127.0.0.1"
	s.env["OTEL_EXPORTER_PROMETHEUS_PORT"] = metricsPort
	s.env["OTEL_SERVICE_NAME"] = "pushgate-e2e"
	prom := startPrometheus(t, net.JoinHostPort("127.0.0.1", metricsPort))
	p := startProc(t, "faultsvc", e2e.faultBin, s.env)

	// The load, and what it must count.
	const processed, duplicates = 5, 2
	token := e2e.serviceToken(t)
	pushes := 0
	deliver := func(tok, id string, attrs map[string]string, body string, want int) {
		t.Helper()
		if body == "" {
			body = envelope(id, "metrics", attrs, 1)
		}
		pushes++
		if got := send(t, request{method: http.MethodPost, url: p.url + "/pubsub/push", token: tok, body: body}).status; got != want {
			t.Fatalf("push %s: got %d, want %d", id, got, want)
		}
	}
	ids := make([]string, processed)
	for i := range ids {
		ids[i] = "metrics-" + randomHex(6)
		deliver(token, ids[i], nil, "", http.StatusNoContent)
	}
	for _, id := range ids[:duplicates] {
		deliver(token, id, nil, "", http.StatusNoContent)
	}
	deliver(token, "poison-"+randomHex(6), map[string]string{"poison": "true"}, "", http.StatusNoContent)
	deliver(token, "fail-"+randomHex(6), map[string]string{"fail": "true"}, "", http.StatusInternalServerError)
	deliver(token, "", nil, `{"message":{"data":"!!"},"subscription":"projects/`+project+`/subscriptions/`+subscriptionID+`"}`, http.StatusBadRequest)
	deliver("", "no-token", nil, "", http.StatusUnauthorized)
	deliver(e2e.sign(t, e2e.attacker, serviceClaims()), "forged", nil, "", http.StatusUnauthorized)
	deliver(e2e.serviceToken(t, set("aud", "https://someone-else.example")), "elsewhere", nil, "", http.StatusUnauthorized)
	deliver(e2e.userToken(t), "a-user", nil, "", http.StatusForbidden)

	sub := "projects/" + project + "/subscriptions/" + subscriptionID
	want := map[string]map[string]float64{
		`sum by (outcome, subscription) (pushgate_push_deliveries_total{job="pushgate"})`: {
			"processed " + sub: processed, "duplicate " + sub: duplicates, "poison " + sub: 1,
			"failed " + sub: 1, "malformed unknown": 1,
		},
		`sum by (outcome) (pushgate_push_handler_duration_seconds_count)`: {
			"processed": processed, "duplicate": duplicates, "poison": 1, "failed": 1, "malformed": 1,
		},
		`sum by (subscription) (pushgate_push_message_age_seconds_count)`: {sub: processed + duplicates + 2},
		`sum by (decision, provider, reason) (pushgate_auth_decisions_total)`: {
			// One decision a request: every push with a valid service
			// token is allowed; the user's push, authenticated and then
			// refused by the route's policy, is refused (wrong_kind).
			"allowed google ":               processed + duplicates + 3,
			"refused none no_token":         1,
			"refused google bad_signature":  1,
			"refused google wrong_audience": 1,
			"refused clerk wrong_kind":      1,
		},
		`sum by (http_route, http_response_status_code) (http_server_request_duration_seconds_count{http_request_method="POST"})`: {
			"/pubsub/push 204": processed + duplicates + 1, "/pubsub/push 500": 1, "/pubsub/push 400": 1,
			"/pubsub/push 401": 3, "/pubsub/push 403": 1,
		},
	}
	byLabels := map[string][]string{}
	for q := range want {
		byLabels[q] = labelsOf(q)
	}
	got := map[string]map[string]float64{}
	deadline := time.Now().Add(waitLimit)
	for {
		same := true
		for q, w := range want {
			got[q] = prom.query(t, q, byLabels[q]...)
			same = same && maps.Equal(got[q], w)
		}
		if same || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	for q, w := range want {
		if !maps.Equal(got[q], w) {
			t.Errorf("%s:\n got %v\nwant %v", q, got[q], w)
		}
	}
	if t.Failed() {
		t.Logf("prometheus log:\n%s", prom.logs)
	}
	if up := prom.query(t, `up{job="pushgate"}`, "instance"); up[net.JoinHostPort("127.0.0.1", metricsPort)] != 1 {
		t.Errorf("up = %v, want 1 for the service's /metrics", up)
	}
	if info := prom.query(t, `target_info{service_name="pushgate-e2e"}`, "service_name"); info["pushgate-e2e"] != 1 {
		t.Errorf("target_info = %v, want the service's resource", info)
	}

	values := prom.labelValues(t)
	if i, what, found := e2e.tokens.leak(values); found {
		t.Errorf("label value %d (%.40q…) holds %s", i, values[i], what)
	}
	for _, id := range ids {
		for _, v := range values {
			if strings.Contains(v, id) {
				t.Errorf("label %q holds a message ID", v)
			}
		}
	}
	reportFigures(t, fmt.Sprintf("prometheus: %d pushes scraped into %d label values, none holding a token or a message ID", pushes, len(values)))
}

// labelsOf returns the labels of a "sum by (a, b) (…)" query, in order.
func labelsOf(q string) []string {
	inner := q[strings.IndexByte(q, '(')+1 : strings.IndexByte(q, ')')]
	var out []string
	for _, l := range strings.Split(inner, ",") {
		out = append(out, strings.TrimSpace(l))
	}
	return out
}
