// Command perf is pushgate's load harness. It builds three servers, starts
// each on loopback against the same fake Google and Clerk key servers (run
// inside the harness), drives them with the same load, and prints a
// Markdown report with a chart:
//
//   - pushgate: the service binary, built with scripts/build.sh and run
//     with a production configuration (Google and Clerk on, keys fetched
//     from the fake key servers);
//   - baseline: test/perf/baseline, the naive version (chi, idtoken per
//     request, clerk-sdk-go's middleware, encoding/json);
//   - ceiling: test/perf/ceiling, bare net/http with no authentication.
//
// Scenarios, interleaved server by server and repeated for -rounds:
//
//   - push: POST /pubsub/push, a wrapped envelope with 1 KiB of data and a
//     new message ID per request, with one reused Google ID token;
//   - clerk: GET /whoami with a distinct Clerk session token per request,
//     all minted (and valid) before timing;
//   - whoami: GET /whoami with one reused Google ID token.
//
// Method: the server runs under `taskset -c 0` with GOMAXPROCS=1; the
// harness pins itself (every thread) to CPU 1 once the tokens are minted,
// and its load generator speaks HTTP/1.1 over a fixed pool of keep-alive
// connections with pre-built requests. Each run starts a fresh server, warms
// it up, then measures for -duration: requests per second, p50 and p99
// latency, the server's CPU time per request (utime+stime from
// /proc/<pid>/stat) and its peak RSS (VmHWM). Cold start is the time from
// exec to the first 200 from /healthz, median of -cold starts.
//
// Usage, from the module root:
//
//	go run ./test/perf -rounds 5 -duration 5s -svg docs/perf.svg
//
// The chart is written only where -svg says, so that a partial, profiled
// or comparison run never replaces the README's chart. Each round's log
// line splits CPU/req into its system part, and the report lists the
// per-round values of each ratio target beside their median.
//
// It needs Linux (/proc), Go on PATH and, for pinning, taskset and two
// CPUs. The figures are measurements, never assertions: nothing here runs
// as part of go test beyond the unit tests of its arithmetic and rendering.
package main
