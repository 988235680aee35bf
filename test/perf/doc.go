// Command perf is pushgate's load harness. It builds the servers, starts
// each on loopback against the same fake Google and Clerk key servers (run
// inside the harness), drives them with the same load, and prints a
// Markdown report (and, with -svg, a chart):
//
//   - pushgate: the service binary of the working tree, built with
//     scripts/build.sh and run with a production configuration (Google and
//     Clerk on, keys fetched from the fake key servers);
//   - pushgate @ <ref>, with -compare <ref>: the service as of that git ref
//     (git archive), built and run the same way, to measure a change
//     against what was there before it;
//   - baseline: test/perf/baseline, the naive version (chi, idtoken per
//     request, clerk-sdk-go's middleware, encoding/json);
//   - ceiling: test/perf/ceiling, bare net/http with no authentication.
//
// The baseline and the ceiling (issue 7's bounds) are left out with
// -bounds=false. Every server runs with its own defaults, the access log
// included.
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
// /proc/<pid>/stat, and each part) and its peak RSS (VmHWM). Cold start is
// the time from exec to the first 200 from /healthz, median of -cold
// starts after one untimed start that brings the binary into the page
// cache. In each round, every build of the service also gets a fresh
// process and -full-store push deliveries with distinct message IDs (by
// default 110,000: more than the 100,000 that the once-only store keeps,
// so that it is full and evicting), after which its VmHWM is read.
//
// With -compare, the report opens with the working tree against the ref,
// figure by figure, with issue 15's targets: server CPU per push delivery
// (reused token) no higher than the ref's; per /whoami (reused token) and
// cold start within 15 %; per /whoami with distinct Clerk tokens shown but
// exempt (clerk-sdk-go's own cost); peak RSS with the store full under
// 64 MiB.
//
// Usage, from the module root:
//
//	go run ./test/perf -compare main
//	go run ./test/perf -compare main -bounds=false   # the tree and main alone
//	go run ./test/perf -rounds 5 -duration 5s -svg docs/perf.svg
//	go run ./test/perf -scenarios push -bounds=false -compare main \
//	    -service-env 'OTEL_TRACES_EXPORTER=otlp,OTEL_EXPORTER_OTLP_ENDPOINT={otlp}'
//
// -service-env's {otlp} is the URL of an OTLP/HTTP sink inside the harness
// (on the load generator's CPU) that takes every export and answers 200, as
// an OpenTelemetry Collector sidecar would: the server pays for encoding
// and sending its telemetry, not for a collector.
//
// The chart is written only where -svg says, so that a partial, profiled
// or comparison run never replaces the README's chart. The report lists
// the per-round values of each ratio beside their median.
//
// It needs Linux (/proc), Go on PATH and, for pinning, taskset and two
// CPUs. The figures are measurements, never assertions: nothing here runs
// as part of go test beyond the unit tests of its arithmetic and rendering.
package main
