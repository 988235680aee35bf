package push

import (
	"encoding/json"
	"net/http"
)

// outcome is what a delivery's response tells Pub/Sub.
type outcome uint8

const (
	outAck         outcome = iota // 204: acknowledged
	outFailed                     // 500: redeliver
	outBusy                       // 409: in progress elsewhere, redeliver later
	outUnavailable                // 503: store unavailable, redeliver later
)

// retryAfterSeconds is the Retry-After of a 503.
const retryAfterSeconds = "10"

func (o outcome) status() int {
	switch o {
	case outAck:
		return http.StatusNoContent
	case outBusy:
		return http.StatusConflict
	case outUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (o outcome) write(w http.ResponseWriter) {
	switch o {
	case outAck:
		w.WriteHeader(http.StatusNoContent)
	case outBusy:
		writeError(w, http.StatusConflict, "message is being processed")
	case outUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
		writeError(w, http.StatusServiceUnavailable, "de-duplication store unavailable")
	default:
		writeError(w, http.StatusInternalServerError, "message processing failed")
	}
}

// writeError answers {"error":reason}. The reason is ours, never an error's
// text from the application's handler.
func writeError(w http.ResponseWriter, status int, reason string) {
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
