package test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is a service process started by the test: its output is captured
// line by line and checked when the test ends.
type proc struct {
	name string
	cmd  *exec.Cmd
	logs *logSink

	addr string // the address the "listening" line names
	port string
	url  string // http://127.0.0.1:<port>

	done     chan struct{} // closed once the process has exited and its output is read
	exitCode int           // valid after done
}

// startProc starts bin with exactly env (nothing is inherited), waits for
// its "listening" log line and for GET /healthz to answer 200. PORT defaults
// to "0": the process picks a free port and names it in the listening line.
// When the test ends the process is stopped (SIGTERM) if still running and
// its output is checked (checkLogs).
func startProc(t *testing.T, name, bin string, env map[string]string) *proc {
	t.Helper()
	p := launch(t, name, bin, env)
	line, ok := p.waitLog(func(l map[string]any) bool { return l["message"] == "listening" })
	if !ok {
		t.Fatalf("%s: no \"listening\" line (exited: %v); output:\n%s", name, p.exited(), p.logs.tail(20))
	}
	addr, _ := line["addr"].(string)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: listening addr %q: %v", name, addr, err)
	}
	p.addr, p.port, p.url = addr, port, "http://127.0.0.1:"+port
	p.waitHealthy(t)
	return p
}

// launch starts bin without waiting for it to serve.
func launch(t *testing.T, name, bin string, env map[string]string, args ...string) *proc {
	t.Helper()
	if _, ok := env["PORT"]; !ok {
		env = cloneEnv(env)
		env["PORT"] = "0"
	}
	p := &proc{name: name, logs: newLogSink(), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = envList(env)
	stdout, stderr := p.logs.writer("stdout"), p.logs.writer("stderr")
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	killWithParent(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait() // returns once the output is copied
		stdout.flush()
		stderr.flush()
		p.exitCode = p.cmd.ProcessState.ExitCode()
		close(p.done)
		p.logs.notify()
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.stop(t)
		}
		p.checkLogs(t)
	})
	return p
}

// waitHealthy polls GET /healthz until it answers 200.
func (p *proc) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := e2e.client.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) || p.exited() {
			t.Fatalf("%s: /healthz never answered 200 (last error %v); output:\n%s", p.name, err, p.logs.tail(20))
		}
		<-tick.C
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// terminate sends SIGTERM, as Cloud Run does, and returns at once.
func (p *proc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("%s: SIGTERM: %v", p.name, err)
	}
}

// wait waits for the process to exit and returns its exit code; past
// waitLimit it kills the process and fails the test.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitLimit):
		t.Errorf("%s: still running %v after it was asked to stop; killing it", p.name, waitLimit)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return p.exitCode
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	p.terminate(t)
	return p.wait(t)
}

// stopOK stops the process and fails the test unless it exits 0.
func (p *proc) stopOK(t *testing.T) {
	t.Helper()
	if code := p.stop(t); code != 0 {
		t.Errorf("%s: exit status after SIGTERM: got %d, want 0; output:\n%s", p.name, code, p.logs.tail(10))
	}
}

// waitLog waits for a JSON log line for which match is true and returns
// it; false when the process exits or waitLimit passes first.
func (p *proc) waitLog(match func(map[string]any) bool) (map[string]any, bool) {
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	from := 0
	for {
		lines, changed := p.logs.since(from)
		from += len(lines)
		for _, l := range lines {
			if m, ok := parseLine(l.text); ok && match(m) {
				return m, true
			}
		}
		if p.exited() && len(lines) == 0 {
			return nil, false
		}
		select {
		case <-changed:
		case <-deadline.C:
			return nil, false
		}
	}
}

// countLogs counts the JSON log lines for which match is true.
func (p *proc) countLogs(match func(map[string]any) bool) int {
	n := 0
	lines, _ := p.logs.since(0)
	for _, l := range lines {
		if m, ok := parseLine(l.text); ok && match(m) {
			n++
		}
	}
	return n
}

// peakRSS returns the process's peak resident set size (VmHWM) in KiB.
func (p *proc) peakRSS(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatalf("%s: read /proc status: %v", p.name, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("%s: VmHWM %q: %v", p.name, v, err)
			}
			return kb
		}
	}
	t.Fatalf("%s: no VmHWM in /proc status", p.name)
	return 0
}

// runToExit runs bin with exactly env and args and returns its exit code,
// standard output and standard error (for the token command and start-up
// failures).
func runToExit(t *testing.T, bin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = envList(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	killWithParent(cmd)
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %s: %v", bin, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func envList(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func cloneEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for k, v := range env {
		out[k] = v
	}
	return out
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
