package main

import (
	"math"
	"strconv"
	"strings"
	"time"
)

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func fmtMiB(b int64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(mib(b), 'f', 1, 64) + " MiB"
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// fmtRounds lists a ratio's per-round values, or "–" for none or one.
func fmtRounds(xs []float64) string {
	if len(xs) < 2 {
		return "–"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = "–" // a round whose denominator was 0
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
		}
	}
	return strings.Join(parts, " · ")
}

// fmtGoal prints a target's measurement with as many decimals as it takes
// (two for a ratio, one otherwise, up to four more, else every digit) for
// the figure not to contradict the verdict: 0.698× missing 0.7× prints so,
// not as 0.70×.
func fmtGoal(t goal) string {
	if math.IsNaN(t.measured) || math.IsInf(t.measured, 0) {
		return "–"
	}
	digits := 1
	if t.unit == "×" {
		digits = 2
	}
	agrees := func(s string) bool {
		shown, err := strconv.ParseFloat(s, 64)
		return err == nil && (goal{measured: shown, limit: t.limit, atMost: t.atMost}).met() == t.met()
	}
	s := strconv.FormatFloat(t.measured, 'f', -1, 64) // exact: always agrees
	for extra := range 5 {
		if short := strconv.FormatFloat(t.measured, 'f', digits+extra, 64); agrees(short) {
			s = short
			break
		}
	}
	if t.unit == "×" {
		return s + "×"
	}
	return s + " " + t.unit
}

// fmtLatency prints microseconds below 1 ms, else milliseconds.
func fmtLatency(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	}
	return fmtMillis(d)
}

func fmtMillis(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func fmtCPU(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 1, 64) + " µs"
}

// thousands prints x rounded to a whole number with thin thousands
// separators (a comma, as Markdown renders plainly).
func thousands(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtCPUSplit prints a summary's CPU/req with its user and system parts,
// each the median of its own: "37.8 µs (25.7 + 12.1)".
func fmtCPUSplit(s summary) string {
	if s.cpuPerReq == 0 {
		return "–"
	}
	us := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 1, 64)
	}
	return fmtCPU(s.cpuPerReq) + " (" + us(s.userPerReq) + " + " + us(s.sysPerReq) + ")"
}
