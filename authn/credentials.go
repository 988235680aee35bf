package authn

import (
	"net/http"
	"strings"
)

// credential is where a token came from.
type credential struct {
	token      string
	fromCookie bool
}

// extractCredential takes the token from "Authorization: Bearer" (scheme
// case-insensitive), else from Clerk's __session cookie. A query string is
// never read. An Authorization header of another scheme is ignored; more
// than one Authorization header is refused.
func extractCredential(r *http.Request) (credential, error) {
	if len(r.Header["Authorization"]) > 1 {
		return credential{}, ErrMalformedAuthorization // which one would the caller mean?
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			tok := strings.TrimSpace(rest)
			if tok == "" {
				return credential{}, ErrMalformedAuthorization
			}
			return credential{token: tok}, nil
		}
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return credential{token: c.Value, fromCookie: true}, nil
	}
	return credential{}, ErrNoToken
}

// unsafeMethod reports whether a method can change state, so that a
// cookie-borne token needs proof the request came from a listed origin.
func unsafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	// POST, PUT, PATCH, DELETE and anything unknown: fail closed.
	return true
}
