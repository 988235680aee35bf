package test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fencedBlocks returns the fenced code blocks of language lang in the
// section of markdown under heading (up to the next heading of its level).
func fencedBlocks(t *testing.T, markdown, heading, lang string) []string {
	t.Helper()
	start := strings.Index(markdown, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	section := markdown[start+1+len(heading):]
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if end := strings.Index(section, "\n"+level); end >= 0 {
		section = section[:end]
	}
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		t.Fatalf("README's %q section has no %s block", heading, lang)
	}
	return blocks
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmeQuickStart runs the README's quick-start commands as written
// against the dev-mode binary, with `go run .` standing for the built
// binary and the binary's port for 8080: each must succeed and show what
// the README says it shows.
func TestReadmeQuickStart(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed")
		}
		t.Skip("curl is not installed")
	}
	home, port := t.TempDir(), freePort(t)
	env := devEnv(home, port)
	svc := startProc(t, "pushgate (dev)", e2e.bin, env)
	script := fencedBlocks(t, readme(t), "## Try it", "sh")[0]
	script = strings.ReplaceAll(script, "go run .", e2e.bin)
	script = strings.ReplaceAll(script, "127.0.0.1:8080", "127.0.0.1:"+port)

	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Env = envList(env)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	killWithParent(cmd)
	if err := cmd.Run(); err != nil {
		t.Fatalf("the quick start failed: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{`"messageId"`, `"events"`, `"kind":"service"`, "401 unauthorized", "www-authenticate: bearer"} {
		if !strings.Contains(strings.ToLower(out.String()), strings.ToLower(want)) {
			t.Errorf("the quick start's output lacks %s:\n%s", want, out.String())
		}
	}
	svc.stopOK(t)
}

// TestReadmeGoIsTheExample: the README's Go snippets are the example
// program's own code, which go test ./... builds and runs.
func TestReadmeGoIsTheExample(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "examples", "orders", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range fencedBlocks(t, readme(t), "## Building your own service", "go") {
		for _, part := range strings.Split(strings.TrimSpace(block), "\n\n") {
			if !strings.Contains(string(src), part) {
				t.Errorf("README's snippet is not in examples/orders/main.go:\n%s", part)
			}
		}
	}
}
