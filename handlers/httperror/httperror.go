// Package httperror writes the contract's error body, {"error": reason}, for
// the handlers of this module. The reason is what the client sees: short,
// chosen by the caller, never an error's text or any part of a token.
package httperror

import (
	"encoding/json"
	"net/http"
)

// Write answers status with {"error": reason}.
func Write(w http.ResponseWriter, status int, reason string) {
	body, err := json.Marshal(struct {
		Error string `json:"error"`
	}{reason})
	if err != nil {
		body = []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
