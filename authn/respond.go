package authn

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
)

// WriteError answers a refusal, deciding in one place what the client sees:
// status, JSON {"error": reason}, and the headers of RFC 6750 —
// 401 with "WWW-Authenticate: Bearer" (plus error="invalid_token" and
// error_description when a token was sent), 403 with
// error="insufficient_scope", 503 with Retry-After. An error that is not an
// *Error becomes a bare 500. Nothing of the token is ever written.
func WriteError(w http.ResponseWriter, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		writeJSONError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h := w.Header()
	switch ae.Status {
	case http.StatusUnauthorized:
		if errors.Is(ae, ErrNoToken) {
			h.Set("WWW-Authenticate", "Bearer")
		} else {
			h.Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+ae.Reason+`"`)
		}
	case http.StatusForbidden:
		h.Set("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="`+ae.Reason+`"`)
	case http.StatusServiceUnavailable:
		secs := int64(math.Ceil(ae.RetryAfter.Seconds()))
		if secs < 1 {
			secs = int64(FetchRetryInterval.Seconds())
		}
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSONError(w, ae.Status, ae.Reason)
}

func writeJSONError(w http.ResponseWriter, status int, reason string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{reason})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
