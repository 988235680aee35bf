package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/cloudrun-authn/pushgate/handlers/httperror"
)

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes the contract's error body, {"error": reason}. The reason
// is what the client sees: short, and never a token or an internal error's
// text.
func WriteError(w http.ResponseWriter, status int, reason string) {
	httperror.Write(w, status, reason)
}
