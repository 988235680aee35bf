package main

import (
	"math"
	"slices"
	"time"
)

// runStats are the figures of one timed run.
type runStats struct {
	rps       float64
	p50, p99  time.Duration
	cpuPerReq time.Duration // server CPU (user+system) per answered request
	sysPerReq time.Duration // the system (kernel) part of it
	rss       int64         // server's VmHWM at the end of the run, bytes
	requests  int
	errors    int
	elapsed   time.Duration
	exhausted bool // the distinct tokens ran out before the deadline
}

// newRunStats computes a run's figures; it sorts res.latencies.
func newRunStats(res loadResult, cpu cpuUse, rss int64) runStats {
	slices.Sort(res.latencies)
	s := runStats{
		requests:  res.requests,
		errors:    res.errors,
		elapsed:   res.elapsed,
		exhausted: res.exhausted,
		rss:       rss,
		p50:       percentile(res.latencies, 50),
		p99:       percentile(res.latencies, 99),
	}
	if res.elapsed > 0 {
		s.rps = float64(res.requests) / res.elapsed.Seconds()
	}
	if res.requests > 0 {
		s.cpuPerReq = cpu.total() / time.Duration(res.requests)
		s.sysPerReq = cpu.sys / time.Duration(res.requests)
	}
	return s
}

// percentile is the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// median is the middle value of xs (the mean of the two middle values
// for an even count); 0 for none. xs is not changed.
func median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is a/b, or NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// summary is the median over rounds of each figure of one server in one
// scenario.
type summary struct {
	rps                   float64
	p50, p99              time.Duration
	cpuPerReq             time.Duration
	userPerReq, sysPerReq time.Duration // each the median of its own
	rss                   int64         // median VmHWM
	maxRSS                int64
	requests              int // in all rounds
	errors                int // in all rounds
	runs                  int
	exhausted             int // runs cut short by the token supply
	minRPS                float64
	maxRPS                float64
}

func summarize(runs []runStats) summary {
	s := summary{runs: len(runs)}
	if len(runs) == 0 {
		return s
	}
	pick := func(f func(runStats) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	s.rps = pick(func(r runStats) float64 { return r.rps })
	s.p50 = time.Duration(pick(func(r runStats) float64 { return float64(r.p50) }))
	s.p99 = time.Duration(pick(func(r runStats) float64 { return float64(r.p99) }))
	s.cpuPerReq = time.Duration(pick(func(r runStats) float64 { return float64(r.cpuPerReq) }))
	s.userPerReq = time.Duration(pick(func(r runStats) float64 { return float64(r.cpuPerReq - r.sysPerReq) }))
	s.sysPerReq = time.Duration(pick(func(r runStats) float64 { return float64(r.sysPerReq) }))
	s.rss = int64(pick(func(r runStats) float64 { return float64(r.rss) }))
	s.minRPS, s.maxRPS = math.Inf(1), 0
	for _, r := range runs {
		s.requests += r.requests
		s.errors += r.errors
		s.maxRSS = max(s.maxRSS, r.rss)
		s.minRPS = min(s.minRPS, r.rps)
		s.maxRPS = max(s.maxRPS, r.rps)
		if r.exhausted {
			s.exhausted++
		}
	}
	return s
}

// medianDuration is the median of ds.
func medianDuration(ds []time.Duration) time.Duration {
	return time.Duration(median(floats(ds)))
}

// pairedRatios is a[i]/b[i] for every i, the ratio within each round; nil
// when the lengths differ or are 0.
func pairedRatios(a, b []float64) []float64 {
	if len(a) == 0 || len(a) != len(b) {
		return nil
	}
	xs := make([]float64, len(a))
	for i := range a {
		xs[i] = ratio(a[i], b[i])
	}
	return xs
}

// floats converts durations or byte counts for median and pairedRatios.
func floats[T time.Duration | int64](vs []T) []float64 {
	xs := make([]float64, len(vs))
	for i, v := range vs {
		xs[i] = float64(v)
	}
	return xs
}
