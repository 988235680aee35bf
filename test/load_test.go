package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadHeld sends 20,000 push deliveries at concurrency 64 to one
// instance, as Pub/Sub would: wrapped envelopes with unique message IDs and
// one reused Google token. Every delivery must be acknowledged (2xx) and
// processed exactly once, which the processed-ID file of test/faultsvc (no
// faults injected) shows; the event log is bounded and cannot. It reports
// the process's peak memory; it asserts nothing about time.
func TestLoadHeld(t *testing.T) {
	t.Parallel()
	const (
		total       = 20000
		concurrency = 64
	)
	s := newStack(t)
	processed := filepath.Join(t.TempDir(), "processed")
	s.env["FAULT_PROCESSED_FILE"] = processed
	svc := startProc(t, "faultsvc", e2e.faultBin, s.env)
	rssBefore := svc.peakRSS(t)

	token := e2e.serviceToken(t)
	client := newClient(concurrency)
	run := "load-" + randomHex(4) + "-"
	var (
		next     atomic.Int64
		mu       sync.Mutex
		statuses = map[int]int{}
		errs     []error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				id := run + strconv.FormatInt(i, 10)
				status, err := deliver(t.Context(), client, svc.url, token, envelope(id, "load message "+id, nil, 1))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					statuses[status]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak := svc.peakRSS(t)
	svc.stopOK(t)

	counts := readProcessed(t, processed)
	once, twice, lost := 0, 0, 0
	for i := range total {
		switch counts[run+strconv.Itoa(i)] {
		case 0:
			lost++
		case 1:
			once++
		default:
			twice++
		}
	}
	non2xx := 0
	for status, n := range statuses {
		if status < 200 || status > 299 {
			non2xx += n
		}
	}
	reportFigures(t,
		fmt.Sprintf("push deliveries %d at concurrency %d: non-2xx %d, transport errors %d, processed once %d, twice %d, lost %d",
			total, concurrency, non2xx, len(errs), once, twice, lost),
		fmt.Sprintf("peak RSS (VmHWM) %.1f MiB (%.1f MiB after start-up); %.0f deliveries/s on this machine (informational)",
			float64(peak)/1024, float64(rssBefore)/1024, float64(total)/elapsed.Seconds()))

	if non2xx != 0 || len(errs) != 0 {
		t.Errorf("statuses %v, %d transport errors (first: %v); want all %d acknowledged with 2xx", statuses, len(errs), first(errs), total)
	}
	if once != total {
		t.Errorf("processed once: got %d of %d (%d twice, %d lost)", once, total, twice, lost)
	}
}

// deliver POSTs one push envelope and returns the status.
func deliver(ctx context.Context, client *http.Client, url, token, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url+"/pubsub/push", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)")
	resp, err := client.Do(req)
	if err != nil {
		return 0, redactURL(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func first(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
