package main

import (
	"fmt"
	"io"
	"math"
)

// The targets of issue 15 for the working tree against the ref given with
// -compare (today's main): push CPU no higher, /whoami CPU and cold start
// within 15 %, peak RSS with the once-only store full under 64 MiB; the
// distinct Clerk tokens pay for clerk-sdk-go and have none.
const (
	pushCPULimit   = 1.00
	withinLimit    = 1.15
	fullStoreLimit = 64 // MiB
)

// versus is one row of the comparison with -compare: a figure of the
// working tree beside the same figure of the ref, their ratio and the
// target for it.
type versus struct {
	what      string
	tree, ref string    // the medians, formatted
	ratio     float64   // tree/ref: the median of rounds
	rounds    []float64 // tree/ref in each round (each cold start)
	// check is the target: on the ratio (unit "×") or on the tree's own
	// figure; with exempt set there is none, and exempt says why.
	check  goal
	target string // check as printed
	exempt string
}

// compareServer is the service built from the -compare ref; nil without.
func (r *report) compareServer() *server {
	for _, s := range r.servers {
		if s.ref != "" {
			return s
		}
	}
	return nil
}

func cpuPerReq(rs runStats) float64 { return float64(rs.cpuPerReq) }

// versusRows are the figures issue 15 asks for, the tree against ref.
func (r *report) versusRows(ref *server) []versus {
	cpu := func(what, sc string) versus {
		tree, other := r.get(sc, serverService), r.get(sc, ref.id)
		rounds := pairedRatios(r.perRound(sc, serverService, cpuPerReq), r.perRound(sc, ref.id, cpuPerReq))
		return versus{what: what, tree: fmtCPUSplit(tree), ref: fmtCPUSplit(other),
			ratio: medianOr(rounds, ratio(float64(tree.cpuPerReq), float64(other.cpuPerReq))), rounds: rounds}
	}
	onRatio := func(v versus, limit float64) versus {
		v.check = goal{measured: v.ratio, unit: "×", limit: limit, atMost: true}
		v.target = fmt.Sprintf("≤ %.2f×", limit)
		return v
	}

	push := onRatio(cpu("server CPU per push delivery, reused Google token", scenarioPush), pushCPULimit)
	whoami := onRatio(cpu("server CPU per `/whoami`, reused Google token", scenarioWhoami), withinLimit)
	clerk := cpu("server CPU per `/whoami`, distinct Clerk tokens", scenarioClerk)
	clerk.target, clerk.exempt = "–", "exempt: clerk-sdk-go's own cost"

	coldRounds := pairedRatios(floats(r.coldTimes[serverService]), floats(r.coldTimes[ref.id]))
	cold := onRatio(versus{what: "cold start: exec to the first `/healthz` 200",
		tree: fmtMillis(r.coldStart[serverService]), ref: fmtMillis(r.coldStart[ref.id]),
		ratio:  medianOr(coldRounds, ratio(float64(r.coldStart[serverService]), float64(r.coldStart[ref.id]))),
		rounds: coldRounds}, withinLimit)

	treeRSS, refRSS := r.fullStoreRSS(serverService), r.fullStoreRSS(ref.id)
	rssRounds := pairedRatios(floats(r.fullStore[serverService]), floats(r.fullStore[ref.id]))
	measured := math.NaN()
	if treeRSS > 0 {
		measured = mib(treeRSS)
	}
	rss := versus{what: r.fullStoreTitle(), tree: fmtMiB(treeRSS), ref: fmtMiB(refRSS),
		ratio: medianOr(rssRounds, ratio(float64(treeRSS), float64(refRSS))), rounds: rssRounds,
		check:  goal{measured: measured, unit: "MiB", limit: fullStoreLimit, atMost: true, strict: true},
		target: fmt.Sprintf("< %d MiB", fullStoreLimit)}
	return []versus{push, whoami, clerk, cold, rss}
}

// writeVersus prints the comparison of the tree with ref.
func (r *report) writeVersus(w io.Writer, ref *server) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("\nThe working tree (pushgate) against `%s` (%s), with the targets of issue 15:\n\n", ref.ref, ref.commit)
	p("| figure | pushgate | %s | ratio | per round | target | |\n|---|--:|--:|--:|--:|--:|---|\n", ref.label)
	for _, v := range r.versusRows(ref) {
		tree, rat, verdict := v.tree, fmtRatio(v.ratio), v.exempt
		switch {
		case v.exempt != "":
		case v.check.unit == "×":
			rat, verdict = fmtGoal(v.check), v.check.verdict()
		default:
			tree, verdict = fmtGoal(v.check), v.check.verdict()
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", v.what, tree, v.ref, rat, fmtRounds(v.rounds), v.target, verdict)
	}
	p("\nRatios are pushgate / %s; \"per round\" lists the ratio in each round (in each cold start for the "+
		"cold start).\n", ref.label)
}

// medianOr is the median of xs, or else when xs is empty.
func medianOr(xs []float64, orElse float64) float64 {
	if len(xs) == 0 {
		return orElse
	}
	return median(xs)
}
