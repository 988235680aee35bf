// Command profiled is the pushgate service, unchanged, with profiles: when
// PERF_CPUPROFILE names a file it records a CPU profile there from start to
// exit, and when PERF_HEAPPROFILE names one it writes a heap profile there
// at exit. The load harness runs it in place of the service binary when
// given -profile, so that the push path can be profiled under real load:
//
//	go run ./test/perf -profile /tmp/prof -scenarios push -rounds 1
//	go tool pprof -top /tmp/prof/pushgate-push-1.cpu.pprof
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/cloudrun-authn/pushgate/service"
)

func main() {
	os.Exit(run())
}

func run() int {
	if path := os.Getenv("PERF_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profiled:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profiled:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("PERF_HEAPPROFILE"); path != "" {
		defer func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "profiled:", err)
				return
			}
			defer f.Close()
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
		}()
	}
	if err := service.Run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		return 1
	}
	return 0
}
