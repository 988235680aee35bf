package service

import (
	"io"
	"log/slog"

	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// serviceLogger is the logger of a serving process. Everywhere it is
// slog's JSON lines on stdout, shaped for Cloud Logging (NewLogger). Only in
// dev mode with a terminal on stderr, where a person watches and nothing
// parses, does it write coloured text lines to that terminal instead
// (newTextLogger): the contract allows text there and nowhere else. So
// `go run . | jq` and `go run . 2>log` still see JSON, and production
// configuration is JSON whatever the terminal. NO_COLOR (no-color.org)
// keeps the text and drops the colours.
//
// The libraries' logs (RouteLibraryLogs, which main calls before Run) then
// follow the service's: in that one case Run routes them to the text
// logger too.
func serviceLogger(cfg Config, project string, getenv func(string) string, stdout, stderr io.Writer) *slog.Logger {
	if cfg.DevMode() && isTerminal(stderr) {
		text := newTextLogger(stderr, getenv("NO_COLOR") == "", slog.LevelInfo)
		routeLibraryLogs(text)
		return text
	}
	return NewLogger(stdout, project, slog.LevelInfo)
}

// isTerminal reports whether w is a file open on a terminal, by asking the
// terminal driver (golang.org/x/term: an ioctl on Unix, GetConsoleMode on
// Windows). A file's mode alone cannot tell: /dev/null is a character
// device too.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// newTextLogger returns a logger of human-readable lines for a terminal,
// through github.com/lmittmann/tint: time, a coloured level, the message,
// then key=value attributes. An access line's httpRequest group is cut to
// its latency, as the message already says method, path and status.
func newTextLogger(w io.Writer, color bool, level slog.Leveler) *slog.Logger {
	return slog.New(tint.NewTextHandler(w, &tint.Options{
		Level:       level,
		TimeFormat:  "15:04:05.000",
		NoColor:     !color,
		ReplaceAttr: textAttr,
	}))
}

// textAttr drops what a person at a terminal does not need.
func textAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 1 && groups[0] == "httpRequest" && a.Key != "latency" {
		return slog.Attr{}
	}
	return a
}
