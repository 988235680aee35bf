package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	if err := realMain(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}

// options are the harness's flags.
type options struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	conns       int
	clerkTokens int
	cold        int
	svg         string
	md          string
	pin         bool
	serverCPU   string
	loadCPU     string
	scenarios   string
	keep        bool
	profile     string
	compare     string
	bounds      bool
	fullStore   int
	serviceEnv  string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("perf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of every scenario against every server")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before each measured run")
	fs.IntVar(&o.conns, "conns", 16, "keep-alive connections (one worker each)")
	fs.IntVar(&o.clerkTokens, "clerk-tokens", 150000, "distinct Clerk tokens to mint (a run that uses them all stops early)")
	fs.IntVar(&o.cold, "cold", 5, "cold starts per server (the median is reported)")
	// No chart by default, so that a partial, profiled or comparison run
	// never replaces the README's docs/perf.svg by accident.
	fs.StringVar(&o.svg, "svg", "", "where to write the chart, e.g. docs/perf.svg (default: none)")
	fs.StringVar(&o.md, "md", "", "also write the Markdown report to this file")
	fs.BoolVar(&o.pin, "pin", true, "pin the servers and the load generator to separate CPUs (needs taskset and 2 CPUs)")
	fs.StringVar(&o.serverCPU, "server-cpu", "0", "CPU the servers run on")
	fs.StringVar(&o.loadCPU, "load-cpu", "1", "CPU the harness and its load generator run on")
	fs.StringVar(&o.scenarios, "scenarios", "push,clerk,whoami", "scenarios to run, comma-separated")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (binaries, server logs)")
	fs.StringVar(&o.compare, "compare", "", "also run the service as of this git ref (e.g. HEAD) as a fourth server, "+
		"to measure a change against what was there before it")
	fs.BoolVar(&o.bounds, "bounds", true, "also run the naive baseline and the bare ceiling (issue 7's bounds); "+
		"-bounds=false with -compare measures the working tree against the ref alone, in less time")
	fs.IntVar(&o.fullStore, "full-store", defaultFullStore, "push deliveries with distinct message IDs sent to a fresh "+
		"pushgate in each round before its peak RSS is read (the once-only store keeps 100,000 IDs); 0 skips")
	fs.StringVar(&o.profile, "profile", "", "run pushgate with CPU and heap profiles written to this directory "+
		"(test/perf/profiled; the figures then include the profiler's cost)")
	fs.StringVar(&o.serviceEnv, "service-env", "", "extra environment for pushgate (the working tree's only) in the "+
		"measured runs, comma-separated KEY=VALUE pairs, e.g. GOGC=50 (to try runtime settings); "+otlpSinkPlaceholder+
		" is replaced with the URL of an OTLP/HTTP sink in the harness, e.g. OTEL_TRACES_EXPORTER=otlp,OTEL_EXPORTER_OTLP_ENDPOINT="+otlpSinkPlaceholder)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.rounds < 1, o.conns < 1, o.cold < 0, o.duration <= 0, o.warmup < 0, o.fullStore < 0:
		return o, errors.New("-rounds and -conns must be at least 1, -duration positive, " +
			"-cold, -warmup and -full-store not negative")
	case o.clerkTokens < 100:
		return o, errors.New("-clerk-tokens must be at least 100")
	}
	return o, nil
}

func realMain(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if runtime.GOOS != "linux" {
		return errors.New("the harness reads /proc: it runs on Linux only")
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }

	r := &report{
		date:    time.Now(),
		command: "go run ./test/perf " + strings.Join(quoteArgs(args), " "),
		machine: machine{nproc: runtime.NumCPU(), cpu: cpuModel(), kernel: kernel(), goVersion: runtime.Version()},
		method: method{rounds: o.rounds, duration: o.duration, warmup: o.warmup, conns: o.conns,
			clerkTokens: o.clerkTokens, compare: o.compare},
		results:    map[string]map[string]summary{},
		coldStart:  map[string]time.Duration{},
		coldRuns:   o.cold,
		fullStore:  map[string][]int64{},
		fullStoreN: o.fullStore,
		svgPath:    o.svg,
	}
	r.command = strings.TrimSpace(r.command)

	loadStart := loadAvg()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "pushgate-perf-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("work directory: %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	r.tree = describeTree(root)
	logf("building the servers…")
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
		r.notes = append(r.notes, "pushgate ran with the CPU profiler on (-profile): its figures include the profiler's cost.")
	}
	servers, err := buildServers(root, work, o.profile != "", o.compare, o.bounds)
	if err != nil {
		return err
	}
	r.servers = servers
	if ref := r.compareServer(); ref != nil {
		r.notes = append(r.notes, fmt.Sprintf("%s is the service as of git %s (%s, exported with git archive), "+
			"built and run like the working tree.", ref.label, ref.ref, ref.commit))
	}

	nClerk := o.clerkTokens
	if !slicesContains(strings.Split(o.scenarios, ","), scenarioClerk) {
		nClerk = 100 // only the refusal checks use one
	}
	logf("generating keys and minting %d Clerk tokens…", nClerk)
	start := time.Now()
	f, err := newFixtures(nClerk, time.Now())
	if err != nil {
		return err
	}
	defer f.close()
	logf("minted in %v", time.Since(start).Round(time.Millisecond))
	all := scenarios(f)
	for _, sc := range all {
		if slicesContains(strings.Split(o.scenarios, ","), sc.id) {
			r.scenarios = append(r.scenarios, sc)
		}
	}
	if len(r.scenarios) == 0 {
		return fmt.Errorf("-scenarios %q names none of push, clerk, whoami", o.scenarios)
	}

	serverCPU := ""
	_, tasksetErr := exec.LookPath("taskset")
	switch {
	case !o.pin:
		r.notes = append(r.notes, "Not pinned (-pin=false).")
	case r.machine.nproc < 2 || tasksetErr != nil:
		r.notes = append(r.notes, "Not pinned: pinning needs two CPUs and taskset.")
	default:
		if err := pinSelf(o.loadCPU); err != nil {
			return err
		}
		serverCPU = o.serverCPU
		r.method.serverCPU, r.method.loadCPU = o.serverCPU, o.loadCPU
	}

	h := &harness{opts: o, fix: f, serverCPU: serverCPU, work: work, logf: logf,
		logged: map[string]int{}, sent: map[string]int{}}
	if err := h.coldStarts(r); err != nil {
		return err
	}
	if err := h.rounds(r, pushScenario(all)); err != nil {
		return err
	}
	r.notes = append(r.notes, h.notes...)
	if note := h.logNote(servers); note != "" {
		r.notes = append(r.notes, note)
	}
	r.notes = append(r.notes, fmt.Sprintf("Load average (/proc/loadavg) at the start: %s; at the end: %s. "+
		"The machine may be shared: other processes compete for both CPUs, which is why runs are interleaved "+
		"and medians reported.", loadStart, loadAvg()))
	r.notes = append(r.notes, fmt.Sprintf("Key fetches served by the fake key servers during the whole run: "+
		"Google %d, Clerk %d.", f.googleKeys.fetches.Load(), f.clerkAPI.fetches.Load()))
	if n := f.otlp.exports.Load(); n > 0 {
		r.notes = append(r.notes, fmt.Sprintf("The OTLP sink took %d exports, %d bytes in all.", n, f.otlp.bytes.Load()))
	}

	if o.svg != "" {
		if err := os.MkdirAll(filepath.Dir(o.svg), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.svg, r.chart().svg(), 0o644); err != nil {
			return err
		}
		logf("chart written to %s", o.svg)
	}
	r.writeMarkdown(stdout)
	if o.md != "" {
		mdFile, err := os.Create(o.md)
		if err != nil {
			return err
		}
		r.writeMarkdown(mdFile)
		if err := mdFile.Close(); err != nil {
			return err
		}
	}
	return nil
}

// defaultFullStore is -full-store's default: a tenth more deliveries than
// the once-only store keeps (push.DefaultMemoryStoreSize, 100,000), so that
// it is full and has evicted when the peak RSS is read.
const defaultFullStore = 110_000

func exhaustedMark(b bool) string {
	if b {
		return "  (tokens ran out)"
	}
	return ""
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}

// quoteArgs quotes the arguments that a shell would split.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

// chart is the report's grouped bar chart of req/s.
func (r *report) chart() chart {
	c := chart{
		title:  fmt.Sprintf("Requests per second on one server core (median of %s)", plural(r.method.rounds, "round")),
		yLabel: "requests per second",
		colors: []string{"#1a73e8", "#e8710a", "#9aa0a6"},
	}
	if r.method.compare != "" {
		c.colors = []string{"#1a73e8", "#8ab4f8", "#e8710a", "#9aa0a6"}
	}
	for _, srv := range r.servers {
		c.series = append(c.series, srv.label)
	}
	for _, sc := range r.scenarios {
		c.categories = append(c.categories, sc.title)
		row := make([]float64, len(r.servers))
		for j, srv := range r.servers {
			row[j] = r.get(sc.id, srv.id).rps
		}
		c.values = append(c.values, row)
	}
	return c
}

// plural is "1 round" or "3 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
