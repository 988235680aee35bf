package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"google.golang.org/grpc/grpclog"

	"github.com/cloudrun-authn/pushgate/handlers/push/redisstore"
)

// RouteLibraryLogs sends what the standard log package, gRPC (under the
// Pub/Sub client) and go-redis print into JSON lines on w, so that every
// line the process writes is one JSON object; OpenTelemetry's internal
// errors (an export that failed) become such lines too. These loggers are
// process-wide, so main calls this once, before Run; Run itself changes no
// global state but OpenTelemetry's tracer provider, when traces are
// exported (see startTelemetry).
func RouteLibraryLogs(w io.Writer) {
	routeLibraryLogs(NewLogger(w, "", slog.LevelInfo))
}

// routeLibraryLogs sends the libraries' logs to logger.
func routeLibraryLogs(logger *slog.Logger) {
	slog.SetDefault(logger) // the log package's default logger writes through it too
	grpclog.SetLoggerV2(grpcLogger{logger.With("library", "grpc")})
	redisstore.RouteLibraryLogs(logger.With("library", "go-redis"))
	otelLogger := logger.With("library", "opentelemetry")
	otel.SetLogger(logr.FromSlogHandler(messageAndError{otelLogger.Handler()}))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		otelLogger.Warn("opentelemetry: " + err.Error())
	}))
}

// messageAndError keeps of OpenTelemetry's log records only the message
// and the error: its parsers log the text they could not parse ("input",
// "value"), which may be an exporter header that holds a credential
// (OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer …").
type messageAndError struct{ slog.Handler }

func (h messageAndError) Handle(ctx context.Context, r slog.Record) error {
	kept := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" || a.Key == "error" {
			kept.AddAttrs(a)
		}
		return true
	})
	return h.Handler.Handle(ctx, kept)
}

// WithAttrs drops the attributes (logr's WithValues), for the same reason.
func (h messageAndError) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h messageAndError) WithGroup(name string) slog.Handler {
	return messageAndError{h.Handler.WithGroup(name)}
}

// grpcLogger is gRPC's LoggerV2 over slog. gRPC's info lines are chatty
// connection state: they are dropped.
type grpcLogger struct{ l *slog.Logger }

func (g grpcLogger) log(level slog.Level, msg string) { g.l.Log(context.Background(), level, msg) }

func (g grpcLogger) Info(args ...any)                 {}
func (g grpcLogger) Infoln(args ...any)               {}
func (g grpcLogger) Infof(format string, args ...any) {}
func (g grpcLogger) Warning(args ...any)              { g.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (g grpcLogger) Warningln(args ...any)            { g.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (g grpcLogger) Warningf(format string, args ...any) {
	g.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Error(args ...any)   { g.log(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcLogger) Errorln(args ...any) { g.log(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcLogger) Errorf(format string, args ...any) {
	g.log(slog.LevelError, fmt.Sprintf(format, args...))
}
func (g grpcLogger) Fatal(args ...any)   { g.log(slog.LevelError+4, fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalln(args ...any) { g.log(slog.LevelError+4, fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalf(format string, args ...any) {
	g.log(slog.LevelError+4, fmt.Sprintf(format, args...))
	os.Exit(1)
}
func (g grpcLogger) V(l int) bool { return l <= 0 }
