package console

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// Refusal is one refused request as its log line told it: the line's
// message and attributes (reason, status, method, path, source, rule,
// expected, found, provider, …). Refusal lines never hold a token (authn
// logs claims, never the token), so neither does a Refusal.
type Refusal struct {
	At      time.Time      `json:"at"`
	Message string         `json:"message"`
	Fields  map[string]any `json:"fields"`
}

// refusalMessages are the log messages of refusals: authn's, for a token
// and for a route's policy, and the console's own.
var refusalMessages = []string{"authn: request refused", RefusedMessage}

// TeeRefusals returns a handler that passes every record to h and also
// keeps each refusal (see Refusal) in log: the console shows the
// server's view of a refusal (the rule, what it expected and what it
// found), which the 401's body, by design, does not tell the client.
func TeeRefusals(h slog.Handler, log *Recent[Refusal]) slog.Handler {
	return &refusalTee{Handler: h, log: log}
}

type refusalTee struct {
	slog.Handler
	log *Recent[Refusal]
}

func (t *refusalTee) Handle(ctx context.Context, r slog.Record) error {
	if isRefusal(r.Message) {
		fields := make(map[string]any, r.NumAttrs())
		r.Attrs(func(a slog.Attr) bool {
			fields[a.Key] = a.Value.Resolve().Any()
			return true
		})
		t.log.Add(Refusal{At: r.Time, Message: r.Message, Fields: fields})
	}
	return t.Handler.Handle(ctx, r)
}

func (t *refusalTee) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &refusalTee{Handler: t.Handler.WithAttrs(attrs), log: t.log}
}

func (t *refusalTee) WithGroup(name string) slog.Handler {
	return &refusalTee{Handler: t.Handler.WithGroup(name), log: t.log}
}

func isRefusal(msg string) bool {
	for _, m := range refusalMessages {
		if strings.HasPrefix(msg, m) {
			return true
		}
	}
	return false
}
