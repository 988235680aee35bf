package push

import (
	"net/http"

	"github.com/cloudrun-authn/pushgate/handlers/httperror"
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
		httperror.Write(w, http.StatusConflict, "message is being processed")
	case outUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
		httperror.Write(w, http.StatusServiceUnavailable, "de-duplication store unavailable")
	default:
		httperror.Write(w, http.StatusInternalServerError, "message processing failed")
	}
}
