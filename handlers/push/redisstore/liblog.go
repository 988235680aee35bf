package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// RouteLibraryLogs sends go-redis's own log lines (for example "failed to
// dial after 2 attempts") to l at WARN, instead of the plain text go-redis
// writes to standard error, which would break the service's one-JSON-object-
// per-line logs. go-redis has one logger per process, so this changes it for
// every client in the process: call it once at start-up, before New.
func RouteLibraryLogs(l *slog.Logger) {
	redis.SetLogger(libraryLog{l: l})
}

// libraryLog adapts an slog.Logger to go-redis's Printf-style logger.
type libraryLog struct{ l *slog.Logger }

// Printf logs one go-redis message at WARN.
func (g libraryLog) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	g.l.LogAttrs(ctx, slog.LevelWarn, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
