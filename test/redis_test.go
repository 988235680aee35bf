package test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// redisServer is a real redis-server on a loopback port, stoppable and
// restartable on the same port.
type redisServer struct {
	port string
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts redis-server. Without it the test fails in CI (where
// .ci/run installs it) and is skipped elsewhere.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server missing: .ci/run must install it")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server); skipping the shared-store tests")
	}
	r := &redisServer{port: freePort(t), dir: t.TempDir()}
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

func (r *redisServer) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	killWithParent(r.cmd)
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	deadline := time.Now().Add(waitLimit)
	for !r.answers() {
		if time.Now().After(deadline) {
			t.Fatal("redis-server never answered PING")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answers sends PING and expects PONG.
func (r *redisServer) answers() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+r.port, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func (r *redisServer) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// sharedStack is two faultsvc processes sharing one Redis, each recording
// the IDs it processed in its own file.
type sharedStack struct {
	redis     *redisServer
	procs     [2]*proc
	processed [2]string
}

func newSharedStack(t *testing.T, holdFIFO string) *sharedStack {
	t.Helper()
	s := newStack(t)
	ss := &sharedStack{redis: startRedis(t)}
	for i := range ss.procs {
		env := cloneEnv(s.env)
		env["DEDUP_REDIS_URL"] = ss.redis.url()
		ss.processed[i] = filepath.Join(t.TempDir(), fmt.Sprintf("processed-%d", i))
		env["FAULT_PROCESSED_FILE"] = ss.processed[i]
		if i == 0 && holdFIFO != "" {
			env["FAULT_HOLD_FIFO"] = holdFIFO
		}
		ss.procs[i] = startProc(t, fmt.Sprintf("faultsvc-%d", i), e2e.faultBin, env)
	}
	return ss
}

// counts returns how many times each ID was processed, over both processes.
func (ss *sharedStack) counts(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, path := range ss.processed {
		for id, c := range readProcessed(t, path) {
			n[id] += c
		}
	}
	return n
}

func push(t *testing.T, p *proc, token, id string, attrs map[string]string) response {
	t.Helper()
	return send(t, request{method: http.MethodPost, url: p.url + "/pubsub/push", token: token, body: envelope(id, "shared", attrs, 1)})
}

// TestSharedStoreConcurrentDeliveries delivers each message to both
// processes at once: it is processed once in total, and every delivery is
// acknowledged or redeliverable (409), never an error.
func TestSharedStoreConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	ss := newSharedStack(t, "")
	token := e2e.serviceToken(t)
	const messages = 50
	var wg sync.WaitGroup
	statuses := make(chan int, 4*messages) // a 409 adds its redelivery's status
	for i := range messages {
		id := fmt.Sprintf("shared-%d-%s", i, randomHex(4))
		for _, p := range ss.procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := trySend(t.Context(), request{method: http.MethodPost, url: p.url + "/pubsub/push", token: token, body: envelope(id, "x", nil, 1)})
				if err != nil {
					t.Error(err)
					return
				}
				statuses <- resp.status
				if resp.status == http.StatusConflict {
					// Pub/Sub redelivers a 409; by then the other process is done.
					again := waitStatus(t, p, token, id, http.StatusNoContent)
					statuses <- again
				}
			}()
		}
	}
	wg.Wait()
	close(statuses)
	byStatus := map[int]int{}
	for s := range statuses {
		byStatus[s]++
	}
	counts := ss.counts(t)
	if len(counts) != messages {
		t.Errorf("processed %d distinct messages, want %d", len(counts), messages)
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("message %s processed %d times, want once", id, n)
		}
	}
	for s := range byStatus {
		if s != http.StatusNoContent && s != http.StatusConflict {
			t.Errorf("statuses %v: want only 204 and 409", byStatus)
		}
	}
	reportFigures(t, fmt.Sprintf("shared store: %d messages delivered to 2 processes at once: statuses %v, processed once each", messages, byStatus))
}

// waitStatus redelivers id to p, as Pub/Sub would after a non-2xx, until it
// answers want.
func waitStatus(t *testing.T, p *proc, token, id string, want int) int {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		resp, err := trySend(t.Context(), request{method: http.MethodPost, url: p.url + "/pubsub/push", token: token, body: envelope(id, "x", nil, 2)})
		if err == nil && resp.status == want {
			return resp.status
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: message %s never answered %d (last %v %v)", p.name, id, want, resp.status, err)
			return resp.status
		}
		time.Sleep(100 * time.Millisecond) // Pub/Sub's backoff, shortened
	}
}

// TestSharedStoreKilledMidHandler kills a process while it holds a message:
// the other process answers 409 while the lease lives, then processes the
// redelivery once the lease has lapsed.
func TestSharedStoreKilledMidHandler(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "hold")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ss := newSharedStack(t, fifo)
	token := e2e.serviceToken(t)
	id := "killed-" + randomHex(4)

	go func() { // the request dies with the process
		_, _ = trySend(t.Context(), request{method: http.MethodPost, url: ss.procs[0].url + "/pubsub/push", token: token,
			body: envelope(id, "x", map[string]string{"hold": "true"}, 1)})
	}()
	if _, ok := ss.procs[0].waitLog(func(l map[string]any) bool { return l["message"] == "holding message" }); !ok {
		t.Fatal("process 0 never held the message")
	}
	if err := ss.procs[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	ss.procs[0].wait(t)

	if got := push(t, ss.procs[1], token, id, nil).status; got != http.StatusConflict {
		t.Errorf("while the dead process's lease lives: got %d, want 409", got)
	}
	start := time.Now()
	waitStatus(t, ss.procs[1], token, id, http.StatusNoContent)
	if got := ss.counts(t)[id]; got != 1 {
		t.Errorf("processed %d times, want once", got)
	}
	reportFigures(t, fmt.Sprintf("shared store: a message held by a killed process was processed by the other %.1fs after the kill (the lease)", time.Since(start).Seconds()))
}

// TestSharedStoreOutage stops Redis: deliveries get 503 and are not
// processed; when Redis is back they are processed once.
func TestSharedStoreOutage(t *testing.T) {
	t.Parallel()
	ss := newSharedStack(t, "")
	token := e2e.serviceToken(t)
	p := ss.procs[0]
	before := "before-" + randomHex(4)
	if got := push(t, p, token, before, nil).status; got != http.StatusNoContent {
		t.Fatalf("with Redis up: got %d, want 204", got)
	}

	ss.redis.stop()
	id := "outage-" + randomHex(4)
	resp := push(t, p, token, id, nil)
	if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
		t.Errorf("with Redis down: got %d Retry-After=%q, want 503 with Retry-After", resp.status, resp.header.Get("Retry-After"))
	}
	if got := ss.counts(t)[id]; got != 0 {
		t.Errorf("processed %d times without the store, want 0", got)
	}
	if _, ok := p.waitLog(func(l map[string]any) bool {
		msg, _ := l["message"].(string)
		return strings.Contains(msg, "de-duplication store unavailable")
	}); !ok {
		t.Error("no log line saying why")
	}

	// Redis comes back (empty: like Memorystore's basic tier, it keeps no
	// data across a restart).
	ss.redis.start(t)
	waitStatus(t, p, token, id, http.StatusNoContent)
	if got := push(t, ss.procs[1], token, id, nil).status; got != http.StatusNoContent {
		t.Errorf("redelivered to the other process: got %d, want 204", got)
	}
	if got := ss.counts(t)[id]; got != 1 {
		t.Errorf("processed %d times, want once", got)
	}
}
