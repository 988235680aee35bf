package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// pinSelf moves every thread of the harness to cpu with `taskset -a -p`
// and sets GOMAXPROCS to 1. Threads the runtime starts later inherit the
// affinity of the thread that starts them, so once every existing thread
// is pinned the whole process stays on cpu; pinSelf checks that by reading
// each thread's Cpus_allowed_list, and repeats if a thread slipped through.
func pinSelf(cpu string) error {
	runtime.GOMAXPROCS(1)
	pid := fmt.Sprint(os.Getpid())
	for range 5 {
		out, err := exec.Command("taskset", "-a", "-p", "-c", cpu, pid).CombinedOutput()
		if err != nil {
			return fmt.Errorf("taskset -a -p -c %s %s: %w\n%s", cpu, pid, err, out)
		}
		ok, err := allThreadsOn(cpu)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("perf: could not pin every thread to CPU %s", cpu)
}

// allThreadsOn reports whether every thread of this process may run on cpu
// only.
func allThreadsOn(cpu string) (bool, error) {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		return false, fmt.Errorf("perf: listing /proc/self/task: %v", err)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread is gone
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) != cpu {
				return false, nil
			}
		}
	}
	return true, nil
}

// cpuModel is the "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// kernel is the running Linux release.
func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// loadAvg is the 1, 5 and 15 minute load averages of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
