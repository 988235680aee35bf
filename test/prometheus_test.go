package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// prometheusServer is a real Prometheus server (Debian's prometheus
// package) on a loopback port, scraping one target every second, with its
// storage in the test's temporary directory.
type prometheusServer struct {
	url  string
	logs *syncBuffer
}

// startPrometheus starts Prometheus scraping target (host:port). Without
// the binary the test fails in CI (where .ci/run installs it) and is
// skipped elsewhere.
func startPrometheus(t *testing.T, target string) *prometheusServer {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus missing: .ci/run must install it (Debian's prometheus package)")
		}
		t.Skip("prometheus is not installed (apt-get install prometheus); skipping the test that scrapes the service")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: pushgate
    static_configs:
      - targets: [%q]
`, target), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := &prometheusServer{url: "http://127.0.0.1:" + port, logs: &syncBuffer{}}
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+port, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	killWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(waitLimit)
	for {
		resp, err := e2e.client.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus never became ready; its log:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiResponse is the envelope of Prometheus's HTTP API.
type apiResponse struct {
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Data   json.RawMessage `json:"data"`
}

func (p *prometheusServer) api(t *testing.T, path string, query url.Values) json.RawMessage {
	t.Helper()
	resp, err := e2e.client.Get(p.url + path + "?" + query.Encode())
	if err != nil {
		t.Fatalf("prometheus %s: %v", path, err)
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("prometheus %s %v: status %d %s %v", path, query, resp.StatusCode, r.Error, err)
	}
	return r.Data
}

// query runs an instant query whose result is a vector, and returns each
// sample's value keyed by the values of the labels named in by, joined
// with spaces.
func (p *prometheusServer) query(t *testing.T, q string, by ...string) map[string]float64 {
	t.Helper()
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(p.api(t, "/api/v1/query", url.Values{"query": {q}}), &data); err != nil {
		t.Fatalf("prometheus query %q: %v", q, err)
	}
	out := map[string]float64{}
	for _, r := range data.Result {
		var key bytes.Buffer
		for i, l := range by {
			if i > 0 {
				key.WriteByte(' ')
			}
			key.WriteString(r.Metric[l])
		}
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("prometheus query %q: value %v", q, r.Value)
		}
		out[key.String()] += v
	}
	return out
}

// labelValues returns every value of every label Prometheus holds.
func (p *prometheusServer) labelValues(t *testing.T) []string {
	t.Helper()
	var names []string
	if err := json.Unmarshal(p.api(t, "/api/v1/labels", nil), &names); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, n := range names {
		var values []string
		if err := json.Unmarshal(p.api(t, "/api/v1/label/"+url.PathEscape(n)+"/values", nil), &values); err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			all = append(all, n+"="+v)
		}
	}
	return all
}
