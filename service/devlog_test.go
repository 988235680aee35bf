package service

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// openPTY returns both ends of a new pseudo-terminal, closed when the test
// ends.
func openPTY(t *testing.T) (terminal, program *os.File) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { _ = tty.Close(); _ = ptmx.Close() })
	return ptmx, tty
}

// readLine reads the next line the program wrote to the terminal.
func readLine(t *testing.T, terminal *os.File) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(terminal).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the terminal")
		return ""
	}
}

func TestServiceLoggerTextOnlyInDevModeOnATerminal(t *testing.T) {
	t.Parallel()
	noEnv := func(string) string { return "" }
	noColor := func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] }
	dev := Config{}
	prod := Config{GoogleAudiences: []string{"https://svc.example"}, Project: "my-project"}
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pipeR.Close(); _ = pipeW.Close() })
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = devNull.Close() })

	tests := []struct {
		name   string
		cfg    Config
		getenv func(string) string
		stderr func(t *testing.T) (program, terminal *os.File) // terminal nil: not a terminal
		text   bool
		color  bool
	}{
		{"dev mode, terminal on stderr", dev, noEnv, withPTY, true, true},
		{"dev mode, terminal, NO_COLOR", dev, noColor, withPTY, true, false},
		{"dev mode, stderr piped", dev, noEnv, func(*testing.T) (*os.File, *os.File) { return pipeW, nil }, false, false},
		{"dev mode, stderr /dev/null (a character device, not a terminal)", dev, noEnv, func(*testing.T) (*os.File, *os.File) { return devNull, nil }, false, false},
		{"production, terminal on stderr", prod, noEnv, withPTY, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			program, terminal := tt.stderr(t)
			var stdout bytes.Buffer
			logger := serviceLogger(tt.cfg, "p", tt.getenv, &stdout, program)
			logger.Warn("listening", "addr", "127.0.0.1:8080")

			if !tt.text {
				var line map[string]any
				if err := json.Unmarshal(stdout.Bytes(), &line); err != nil || line["message"] != "listening" || line["severity"] != "WARNING" {
					t.Fatalf("stdout: got %q, want one JSON line with message and severity", stdout.String())
				}
				return
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: got %q, want nothing (the text goes to the terminal on stderr)", stdout.String())
			}
			got := readLine(t, terminal)
			if strings.HasPrefix(strings.TrimSpace(got), "{") {
				t.Errorf("terminal: got a JSON line %q, want text", got)
			}
			for _, want := range []string{"WRN", "listening", "addr=", "127.0.0.1:8080"} {
				if !strings.Contains(got, want) {
					t.Errorf("terminal: %q lacks %q", got, want)
				}
			}
			if hasColor := strings.Contains(got, "\x1b["); hasColor != tt.color {
				t.Errorf("terminal: colour escapes %v, want %v: %q", hasColor, tt.color, got)
			}
		})
	}
}

// withPTY gives a terminal as the program's stderr.
func withPTY(t *testing.T) (program, terminal *os.File) {
	terminal, program = openPTY(t)
	return program, terminal
}

func TestTextLoggerKeepsAccessLineShort(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	logger := newTextLogger(&b, false, slog.LevelInfo)
	logger.Info("GET /whoami 200", "requestId", "r1", slog.Group("httpRequest",
		slog.String("requestMethod", "GET"), slog.String("userAgent", "curl/8"), slog.String("latency", "0.001s")))
	got := b.String()
	if !strings.Contains(got, "GET /whoami 200") || !strings.Contains(got, "httpRequest.latency=0.001s") || !strings.Contains(got, "requestId=r1") {
		t.Errorf("got %q, want the message, the latency and the request ID", got)
	}
	for _, gone := range []string{"requestMethod", "curl/8"} {
		if strings.Contains(got, gone) {
			t.Errorf("got %q, want no %s", got, gone)
		}
	}
}
