package test

import (
	"bufio"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminalProc is the binary started with a pseudo-terminal on its
// standard error, as when a person runs `go run .` in a terminal, and its
// standard output on a pipe.
type terminalProc struct {
	cmd      *exec.Cmd
	stdout   *logSink // lines of standard output
	terminal *logSink // lines the terminal showed
	done     chan struct{}
}

// startOnTerminal starts bin with exactly env, stderr on a new
// pseudo-terminal, and waits for /healthz on env's PORT.
func startOnTerminal(t *testing.T, env map[string]string) *terminalProc {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	p := &terminalProc{stdout: newLogSink(), terminal: newLogSink(), done: make(chan struct{})}
	p.cmd = exec.Command(e2e.bin)
	p.cmd.Env = envList(env)
	out := p.stdout.writer("stdout")
	p.cmd.Stdout, p.cmd.Stderr = out, tty
	killWithParent(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	_ = tty.Close() // the child holds its own
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(ptmx) // ends with EIO once the child has gone
		for sc.Scan() {
			p.terminal.add("terminal", strings.TrimSuffix(sc.Text(), "\r"))
		}
	}()
	go func() {
		_ = p.cmd.Wait()
		out.flush()
		<-read
		_ = ptmx.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	url := "http://127.0.0.1:" + env["PORT"] + "/healthz"
	deadline := time.Now().Add(waitLimit)
	for {
		resp, err := e2e.client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered; terminal:\n%s", p.terminal.tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the process and the terminal to end.
func (p *terminalProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(waitLimit):
		t.Fatalf("still running %v after SIGTERM", waitLimit)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0; terminal:\n%s", code, p.terminal.tail(10))
	}
}

// ansiEscape matches the colour escapes of a terminal line.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestDevLogsOnATerminal runs the built binary with a pseudo-terminal on
// standard error: in dev mode the terminal shows coloured text lines (and
// standard output stays empty); in production configuration every line is
// JSON whatever the terminal. Piped, dev mode writes JSON: TestDevMode and
// every other test check each line of their pipes. Neither form ever holds
// a token.
func TestDevLogsOnATerminal(t *testing.T) {
	t.Run("dev mode: text on the terminal", func(t *testing.T) {
		port := freePort(t)
		env := devEnv(t.TempDir(), port)
		env["TERM"] = "xterm-256color"
		p := startOnTerminal(t, env)
		user := devToken(t, env, "user")
		whoamiURL := "http://127.0.0.1:" + port + "/whoami"
		send(t, request{method: "GET", url: whoamiURL, token: user})
		send(t, request{method: "GET", url: whoamiURL, token: user + "x"}) // refused
		p.stop(t)

		lines, _ := p.terminal.since(0)
		var texts []string
		var listening, refusal, colored bool
		for _, l := range lines {
			texts = append(texts, l.text)
			if _, isJSON := parseLine(l.text); isJSON {
				t.Errorf("terminal line is JSON, want text: %.200q", l.text)
			}
			plain := ansiEscape.ReplaceAllString(l.text, "")
			colored = colored || plain != l.text
			listening = listening || strings.Contains(plain, "listening") && strings.Contains(plain, "addr=127.0.0.1:"+port)
			refusal = refusal || strings.Contains(plain, "authn: request refused") && strings.Contains(plain, "reason=")
		}
		if !listening || !refusal || !colored {
			t.Errorf("terminal: listening line %v, refusal with its reason %v, colours %v; want all:\n%s",
				listening, refusal, colored, p.terminal.tail(30))
		}
		if out, _ := p.stdout.since(0); len(out) != 0 {
			t.Errorf("stdout got %d lines, want none (the logs go to the terminal): %.200q", len(out), out[0].text)
		}
		if i, what, found := e2e.tokens.leak(texts); found {
			t.Errorf("terminal line %d holds %s", i, what)
		}
	})

	t.Run("production configuration: JSON whatever the terminal", func(t *testing.T) {
		s := newStack(t)
		s.env["PORT"] = freePort(t)
		s.env["TERM"] = "xterm-256color"
		s.env["PATH"] = devEnv("", "")["PATH"]
		p := startOnTerminal(t, s.env)
		send(t, request{method: "GET", url: "http://127.0.0.1:" + s.env["PORT"] + "/whoami"}) // a refusal, logged
		p.stop(t)

		out, _ := p.stdout.since(0)
		term, _ := p.terminal.since(0)
		listening := false
		for _, l := range append(out, term...) {
			m, ok := parseLine(l.text)
			if !ok {
				t.Errorf("%s line is not JSON: %.200q", l.stream, l.text)
			}
			listening = listening || m["message"] == "listening"
		}
		if !listening {
			t.Errorf("no JSON listening line; stdout:\n%s", p.stdout.tail(10))
		}
	})
}
