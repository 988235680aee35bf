package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// server is one of the servers the harness compares.
type server struct {
	id    string // "pushgate", "pushgate@<ref>", "baseline", "ceiling"
	label string // as the report names it
	// verifies is false for the ceiling, which checks no token.
	verifies bool
	bin      string // built binary
	ref      string // git ref the service was built from, for a comparison run
	commit   string // the commit ref named when it was built (short hash)
}

// fileStem is the server's ID made safe as a file name: a comparison's ID
// holds its git ref, which may hold slashes (origin/main, refs/tags/v1).
func (s *server) fileStem() string {
	return strings.ReplaceAll(s.id, "/", "_")
}

// Server IDs, in report order.
const (
	serverService  = "pushgate"
	serverBaseline = "baseline"
	serverCeiling  = "ceiling"
)

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the pushgate module: run from its root")
	}
	return filepath.Dir(gomod), nil
}

// buildServers builds the binaries into dir: the service with
// scripts/build.sh (the command CI and the Dockerfile run) and, with
// bounds, the baseline and the ceiling with the same flags.
//
// With profiled, the service is test/perf/profiled instead: the same
// service, built the same way, that writes CPU and heap profiles. With a
// compare ref, the service as of that git ref (from `git archive`) is
// built too and runs as a fourth server, right after the service, so that
// a change can be measured against what was there before it.
func buildServers(root, dir string, profiled bool, compare string, bounds bool) ([]*server, error) {
	servers := []*server{{id: serverService, label: "pushgate", verifies: true}}
	if compare != "" {
		servers = append(servers, &server{id: serverService + "@" + compare, label: "pushgate @ " + compare,
			verifies: true, ref: compare})
	}
	if bounds {
		servers = append(servers,
			&server{id: serverBaseline, label: "naive baseline", verifies: true},
			&server{id: serverCeiling, label: "bare ceiling", verifies: false},
		)
	}
	for _, s := range servers {
		s.bin = filepath.Join(dir, s.fileStem())
		var cmd *exec.Cmd
		src := root
		switch {
		case s.ref != "":
			var err error
			if s.commit, err = gitOutput(root, "rev-parse", "--short", "--verify", s.ref+"^{commit}"); err != nil {
				return nil, err
			}
			if src, err = exportRef(root, s.commit, filepath.Join(dir, "ref-src")); err != nil {
				return nil, err
			}
			cmd = exec.Command("bash", filepath.Join(src, "scripts", "build.sh"), s.bin)
		case s.id == serverService && profiled:
			cmd = exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", s.bin, "./test/perf/profiled")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		case s.id == serverService:
			cmd = exec.Command("bash", filepath.Join(root, "scripts", "build.sh"), s.bin)
		default:
			cmd = exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", s.bin, "./test/perf/"+s.id)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		}
		cmd.Dir = src
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building %s: %w\n%s", s.id, err, out.String())
		}
	}
	return servers, nil
}

// exportRef writes the tree of git ref into dir (git archive; the
// repository is not touched) and returns dir.
func exportRef(root, ref, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", ref)
	untar := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var errOut bytes.Buffer
	archive.Stderr, untar.Stderr = &errOut, &errOut
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		_ = untar.Wait()
		return "", fmt.Errorf("git archive %s: %w\n%s", ref, err, errOut.String())
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("extracting %s: %w\n%s", ref, err, errOut.String())
	}
	return dir, nil
}

// gitOutput runs git in root and returns its output, trimmed.
func gitOutput(root string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// describeTree says which commit the working tree is on and whether it
// holds changes not committed: what "pushgate" in the report was built from.
func describeTree(root string) string {
	branch, _ := gitOutput(root, "branch", "--show-current")
	commit, err := gitOutput(root, "rev-parse", "--short", "HEAD")
	if err != nil {
		return "not a git checkout"
	}
	s := strings.TrimSpace(branch + " " + commit)
	if status, err := gitOutput(root, "status", "--porcelain"); err != nil || status != "" {
		s += " with uncommitted changes"
	}
	return s
}
