package authn

import (
	"net/http"
	"strings"
	"time"
)

// forwarded is the API gateway rule: a request whose Authorization token
// is a listed gateway's carries the caller's in one
// X-Forwarded-Authorization header, which passes every rule of its own
// provider, and the principal is the caller's, via the gateway; without
// that header, the principal is the gateway. A forwarded token that fails
// a rule is refused: never the gateway's identity instead.
func (a *Authenticator) forwarded(r *http.Request, gateway *principalEntry, now time.Time) (*principalEntry, refusalInfo, error) {
	info := refusalInfo{sent: true, via: gateway.p.Email}
	values := r.Header.Values("X-Forwarded-Authorization")
	if len(values) == 0 {
		return gateway, info, nil
	}
	scheme, tok, _ := strings.Cut(values[0], " ")
	tok = strings.TrimSpace(tok)
	if len(values) > 1 || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, info, ErrForwardedAuthorization
	}
	e, err := a.entryFor(r.Context(), tok, now, &info)
	if err != nil {
		return nil, info, err
	}
	p := e.p
	p.Via = gateway.p.Email
	return &principalEntry{p: p, a: a, provider: e.provider, partyListed: e.partyListed, deadline: e.deadline}, info, nil
}
