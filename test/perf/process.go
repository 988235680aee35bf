package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a running server.
type proc struct {
	srv     *server
	cmd     *exec.Cmd
	addr    string // 127.0.0.1:port
	logPath string // its standard output (the access log) and error
	exited  chan error
}

// userHZ is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which
// Linux fixes at 100 for user space on every architecture.
const userHZ = 100

// startServer starts s on a free loopback port with env (plus PORT and
// GOMAXPROCS=1), under `taskset -c cpu` when cpu is not empty. Its standard
// output and error go to logPath, a file: the access log costs a real
// write per request but never blocks on the harness.
func startServer(s *server, env []string, cpu, logPath string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	name, args := s.bin, []string(nil)
	if cpu != "" {
		name, args = "taskset", []string{"-c", cpu, s.bin}
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(append([]string{}, env...), "PORT="+strconv.Itoa(port), "GOMAXPROCS=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.id, err)
	}
	p := &proc{srv: s, cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), logPath: logPath,
		exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	return p, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// pid is the server's process ID: taskset execs the server in place, so
// it is the same process.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// waitHealthy polls GET /healthz until it answers 200 and returns when it
// did; each poll is a new connection.
func (p *proc) waitHealthy(timeout time.Duration) (time.Time, error) {
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		Timeout:   time.Second,
	}
	defer client.CloseIdleConnections()
	url := "http://" + p.addr + "/healthz"
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return time.Time{}, fmt.Errorf("%s exited before serving (%v); its output:\n%s", p.srv.id, err, p.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s: /healthz not 200 after %v; its output:\n%s", p.srv.id, timeout, p.logTail())
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// stop sends SIGTERM and waits for the server to exit (SIGKILL after 10 s).
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.ExitCode() == -1 {
			return nil // ended by the signal itself
		}
		return err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within 10 s of SIGTERM", p.srv.id)
	}
}

func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// logLines counts the lines the server has written so far.
func (p *proc) logLines() (int, error) {
	f, err := os.Open(p.logPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err != nil {
			return n, nil
		}
	}
}

// cpuUse is a process's CPU time so far, all threads.
type cpuUse struct {
	user, sys time.Duration
}

func (c cpuUse) total() time.Duration { return c.user + c.sys }

func (c cpuUse) sub(d cpuUse) cpuUse { return cpuUse{user: c.user - d.user, sys: c.sys - d.sys} }

// cpuTime is the process's user and system CPU time, all threads.
func cpuTime(pid int) (cpuUse, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuUse{}, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from the text of
// /proc/<pid>/stat. The command name (field 2) is in parentheses and may
// hold spaces and parentheses, so fields are counted after its last ')'.
func parseStatCPU(stat string) (cpuUse, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return cpuUse{}, errors.New("perf: /proc/<pid>/stat has no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return cpuUse{}, errors.New("perf: /proc/<pid>/stat is too short")
	}
	utime, err1 := strconv.ParseInt(f[14-3], 10, 64)
	stime, err2 := strconv.ParseInt(f[15-3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return cpuUse{}, fmt.Errorf("perf: /proc/<pid>/stat: %w", err)
	}
	return cpuUse{user: time.Duration(utime) * time.Second / userHZ, sys: time.Duration(stime) * time.Second / userHZ}, nil
}

// peakRSS is a process's peak resident set (VmHWM), in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(string(b), "VmHWM")
}

// parseStatusKB reads a "Name:   1234 kB" line of /proc/<pid>/status, in bytes.
func parseStatusKB(status, name string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != name {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		kb, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return 0, fmt.Errorf("perf: %s: unexpected value %q", name, rest)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("perf: no %s in /proc/<pid>/status", name)
}
