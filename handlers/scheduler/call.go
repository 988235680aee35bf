package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Source says who made a call, judged by its headers.
type Source string

const (
	// SourceScheduler is Cloud Scheduler (X-CloudScheduler: true, or an
	// X-CloudScheduler-JobName header).
	SourceScheduler Source = "scheduler"
	// SourceTasks is Cloud Tasks (an X-CloudTasks-QueueName header).
	SourceTasks Source = "tasks"
	// SourceDirect is any other caller, such as a person with curl.
	SourceDirect Source = "direct"
)

// Header names Cloud Scheduler and Cloud Tasks set on an HTTP target's request.
const (
	HeaderScheduler        = "X-CloudScheduler"
	HeaderJobName          = "X-CloudScheduler-JobName"
	HeaderScheduleTime     = "X-CloudScheduler-ScheduleTime"
	HeaderQueueName        = "X-CloudTasks-QueueName"
	HeaderTaskName         = "X-CloudTasks-TaskName"
	HeaderTaskRetryCount   = "X-CloudTasks-TaskRetryCount"
	HeaderTaskExecCount    = "X-CloudTasks-TaskExecutionCount"
	HeaderTaskETA          = "X-CloudTasks-TaskETA"
	HeaderTaskPrevResponse = "X-CloudTasks-TaskPreviousResponse"
	HeaderTaskRetryReason  = "X-CloudTasks-TaskRetryReason"
)

// ErrBadHeader is wrapped by the errors of a call whose Scheduler or Tasks
// header does not parse; the handler answers 400.
var ErrBadHeader = errors.New("scheduler: bad header")

// Call is one invocation by Cloud Scheduler, Cloud Tasks or another caller.
type Call struct {
	// Source says who made the call, judged by its headers.
	Source Source
	// Job is the X-CloudScheduler-JobName header, else the route's job URL
	// parameter (Options.JobParam); it may be empty for a direct call.
	Job string
	// ScheduleTime is when Cloud Scheduler meant the job to run
	// (X-CloudScheduler-ScheduleTime); zero if not sent.
	ScheduleTime time.Time

	// Queue is the Cloud Tasks queue's short name (X-CloudTasks-QueueName).
	Queue string
	// TaskName is the task's short name, or a system-made unique ID
	// (X-CloudTasks-TaskName).
	TaskName string
	// RetryCount is how many times the task was retried; 0 on the first
	// attempt (X-CloudTasks-TaskRetryCount).
	RetryCount int
	// ExecutionCount is how many times the task got a response from the
	// handler, not counting 5xx failures (X-CloudTasks-TaskExecutionCount).
	ExecutionCount int
	// ETA is when the task was scheduled to run (X-CloudTasks-TaskETA,
	// seconds since the Unix epoch); zero if not sent.
	ETA time.Time
	// PreviousResponse is the HTTP status of the task's previous attempt;
	// 0 on the first attempt (X-CloudTasks-TaskPreviousResponse).
	PreviousResponse int
	// RetryReason says why the task is retried, if it is
	// (X-CloudTasks-TaskRetryReason).
	RetryReason string

	// Body is the request body; nil if there was none.
	Body []byte
	// Header is the request's header, for anything the fields above omit.
	Header http.Header
}

// LogValue lists the call's source, job and task for logs; never the body
// or headers, which may hold secrets.
func (c *Call) LogValue() slog.Value {
	if c == nil {
		return slog.Value{}
	}
	attrs := []slog.Attr{slog.String("source", string(c.Source)), slog.String("job", c.Job)}
	if c.Source == SourceTasks {
		attrs = append(attrs, slog.String("queue", c.Queue), slog.String("task", c.TaskName),
			slog.Int("retryCount", c.RetryCount))
	}
	return slog.GroupValue(attrs...)
}

// parseCall fills a Call from the request's headers; job is the URL
// parameter to fall back on when no X-CloudScheduler-JobName is sent.
func parseCall(h http.Header, job string) (*Call, error) {
	c := &Call{
		Source:      SourceDirect,
		Job:         job,
		Queue:       h.Get(HeaderQueueName),
		TaskName:    h.Get(HeaderTaskName),
		RetryReason: h.Get(HeaderTaskRetryReason),
		Header:      h,
	}
	if name := h.Get(HeaderJobName); name != "" {
		c.Job = name
	}
	switch {
	case strings.EqualFold(h.Get(HeaderScheduler), "true") || h.Get(HeaderJobName) != "":
		c.Source = SourceScheduler
	case c.Queue != "":
		c.Source = SourceTasks
	}

	var err error
	if v := h.Get(HeaderScheduleTime); v != "" {
		if c.ScheduleTime, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return nil, badHeader(HeaderScheduleTime, "an RFC 3339 time")
		}
	}
	counts := []struct {
		name string
		dst  *int
	}{
		{HeaderTaskRetryCount, &c.RetryCount},
		{HeaderTaskExecCount, &c.ExecutionCount},
		{HeaderTaskPrevResponse, &c.PreviousResponse},
	}
	for _, n := range counts {
		v := h.Get(n.name)
		if v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return nil, badHeader(n.name, "a count")
		}
		*n.dst = i
	}
	if v := h.Get(HeaderTaskETA); v != "" {
		if c.ETA, err = parseEpoch(v); err != nil {
			return nil, badHeader(HeaderTaskETA, "seconds since the epoch")
		}
	}
	return c, nil
}

func badHeader(name, want string) error {
	return fmt.Errorf("%w: %s is not %s", ErrBadHeader, name, want)
}

// parseEpoch parses seconds since the Unix epoch with an optional fraction,
// such as "1700000000.123456", exactly (no float rounding).
func parseEpoch(s string) (time.Time, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || whole[0] == '-' || whole[0] == '+' || (hasFrac && frac == "") {
		return time.Time{}, errors.New("not seconds since the epoch")
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var nsec int64
	if hasFrac {
		for _, r := range frac {
			if r < '0' || r > '9' {
				return time.Time{}, errors.New("not seconds since the epoch")
			}
		}
		if len(frac) > 9 {
			frac = frac[:9] // digits beyond nanoseconds are dropped
		}
		nsec, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return time.Unix(sec, nsec).UTC(), nil
}
