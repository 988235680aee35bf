package redisstore

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisServer is a real redis-server child process on a loopback port, with
// no persistence, for tests.
type redisServer struct {
	t        testing.TB
	port     int
	dir      string
	password string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// startRedis starts redis-server on a free loopback port and waits until it
// answers. Without redis-server on PATH the test is skipped, or fails when
// CI is set. The server is killed at cleanup.
func startRedis(t testing.TB, password string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server missing: .ci/run must install it (apt-get install -y redis-server): %v", err)
		}
		t.Skipf("redis-server not on PATH (apt-get install -y redis-server); skipping tests against real Redis")
	}
	r := &redisServer{t: t, port: freePort(t), dir: t.TempDir(), password: password}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// addr returns host:port.
func (r *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// url returns the server's redis:// URL, with the password when it has one.
func (r *redisServer) url() string {
	if r.password != "" {
		return "redis://:" + r.password + "@" + r.addr()
	}
	return "redis://" + r.addr()
}

// start runs redis-server on r.port (again, after stop) and waits for it.
func (r *redisServer) start() {
	r.t.Helper()
	args := []string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--daemonize", "no", "--loglevel", "warning",
	}
	if r.password != "" {
		args = append(args, "--requirepass", r.password)
	}
	r.cmd = exec.Command("redis-server", args...)
	r.cmd.Dir = r.dir
	out, err := os.Create(r.dir + "/redis.log")
	if err != nil {
		r.t.Fatalf("create redis log: %v", err)
	}
	r.cmd.Stdout, r.cmd.Stderr = out, out
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	r.exited = exited
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		out.Close()
		close(exited)
	}(r.cmd)
	r.waitReady()
}

// waitReady polls PING until redis-server answers, it exits, or 10 s pass.
func (r *redisServer) waitReady() {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if r.answersPing() {
			return
		}
		select {
		case <-r.exited:
			log, _ := os.ReadFile(r.dir + "/redis.log")
			r.t.Fatalf("redis-server exited before answering on port %d:\n%s", r.port, log)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server did not answer PING on %s within 10s", r.addr())
		}
	}
}

// answersPing sends a raw RESP PING and reports whether any reply came
// (+PONG, or -NOAUTH when a password is required).
func (r *redisServer) answersPing() bool {
	c, err := net.DialTimeout("tcp", r.addr(), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return false
	}
	return strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH")
}

// stop kills redis-server and waits for it to exit. It may be called more
// than once.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// command runs one raw command against the server with a fresh go-redis
// client, for inspecting keys behind the store's back.
func (r *redisServer) command(args ...any) (any, error) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := newTestClient(r.url())
	defer c.Close()
	return c.Do(ctx, args...).Result()
}
