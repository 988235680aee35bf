package authn

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// iamHint tells an operator what to do about SIGNATURE_REMOVED_BY_GOOGLE.
const iamHint = "the service sits behind Cloud Run's IAM invoker check, which verified the token and removed its signature; " +
	"deploy with `gcloud run deploy SERVICE --no-invoker-iam-check` (or --allow-unauthenticated) so the app receives " +
	"real tokens and verifies every caller itself"

// maxLoggedClaim bounds a claim value copied into a log line.
const maxLoggedClaim = 200

// refusalInfo is what a refusal's log line may say about the request and
// its token: never the token or any part of it, only a few claims.
type refusalInfo struct {
	sent       bool
	fromCookie bool
	alg, kid   string
	iss, email string
	aud        []string
	// via is the gateway whose request forwarded the refused token.
	via string
	// provider is the rule set that judged the token; "" when none did.
	provider string
}

func (i *refusalInfo) fromToken(t *token) {
	i.alg, i.kid = t.header.Alg, t.header.Kid
	i.iss, i.email = t.claims.Iss, t.claims.Email
	i.aud = t.claims.Aud
}

func (i *refusalInfo) fromPrincipal(p Principal) {
	i.iss, i.email = p.Issuer, p.Email
}

// refuse counts and logs one refusal.
func (a *Authenticator) refuse(r *http.Request, err error, info *refusalInfo) {
	var ae *Error
	if !errors.As(err, &ae) {
		a.log.LogAttrs(r.Context(), slog.LevelError, "authn: unexpected error", slog.String("error", err.Error()))
		return
	}
	level := slog.LevelWarn
	if errors.Is(ae, ErrNoToken) || errors.Is(ae, ErrTokenExpired) {
		level = slog.LevelInfo
	}
	attrs := []slog.Attr{
		slog.String("reason", ae.Reason),
		slog.Int("status", ae.Status),
		slog.String("method", r.Method),
		slog.String("path", clip(r.URL.Path)),
	}
	if info.sent {
		src := "authorization"
		if info.fromCookie {
			src = "cookie"
		}
		attrs = append(attrs, slog.String("source", src))
	}
	if info.via != "" {
		attrs = append(attrs, slog.String("via", clip(info.via)), slog.Bool("forwarded", true))
	}
	if info.alg != "" {
		attrs = append(attrs, slog.String("alg", clip(info.alg)))
	}
	if info.kid != "" {
		attrs = append(attrs, slog.String("kid", clip(info.kid)))
	}
	if info.iss != "" {
		attrs = append(attrs, slog.String("iss", clip(info.iss)))
	}
	if len(info.aud) > 0 {
		aud := info.aud
		if len(aud) > 5 {
			aud = aud[:5]
		}
		clipped := make([]string, len(aud))
		for i, s := range aud {
			clipped[i] = clip(s)
		}
		attrs = append(attrs, slog.Any("aud", clipped))
	}
	if info.email != "" {
		attrs = append(attrs, slog.String("email", clip(info.email)))
	}
	var re *RuleError
	if errors.As(err, &re) {
		attrs = append(attrs, slog.String("rule", re.Rule))
		if re.Expected != "" {
			attrs = append(attrs, slog.String("expected", re.Expected))
		}
		if re.Found != "" {
			attrs = append(attrs, slog.String("found", re.Found))
		}
	}
	if info.provider != "" {
		attrs = append(attrs, slog.String("provider", info.provider))
	}
	if errors.Is(ae, ErrSignatureRemoved) {
		attrs = append(attrs, slog.String("hint", iamHint))
	}
	a.log.LogAttrs(r.Context(), level, "authn: request refused", attrs...)
}

// clip bounds a logged value and drops control characters.
func clip(s string) string {
	if len(s) > maxLoggedClaim {
		s = s[:maxLoggedClaim] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
