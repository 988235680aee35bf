package service

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-logr/logr"
)

// TestOpenTelemetryLogKeepsMessageAndErrorOnly: OpenTelemetry's parsers
// log the text they could not parse; an exporter header that holds a
// credential must not reach the log through them.
func TestOpenTelemetryLogKeepsMessageAndErrorOnly(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logr.FromSlogHandler(messageAndError{NewLogger(&buf, "", slog.LevelInfo).Handler()})
	l.WithValues("headers", "authorization=Bearer s3cr3t-one").
		Error(errors.New("missing '="), "parse headers", "input", "authorization: Bearer s3cr3t-two", "value", "s3cr3t-three")
	out := buf.String()
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("the log line holds a value OpenTelemetry was parsing: %s", out)
	}
	if !strings.Contains(out, `"message":"parse headers"`) || !strings.Contains(out, "missing '=") {
		t.Errorf("the log line lost the message or the error: %s", out)
	}
}
