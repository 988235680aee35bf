package push

import (
	"net/http"

	"github.com/cloudrun-authn/pushgate/handlers/httperror"
)

// outcome is how a delivery ended: what its response tells Pub/Sub, and
// the outcome attribute of pushgate.push.deliveries.
type outcome uint8

const (
	outProcessed   outcome = iota // 204: fn succeeded
	outDuplicate                  // 204: the ID was processed already
	outPoison                     // 204: fn returned a Permanent error
	outFailed                     // 500: redeliver
	outBusy                       // 409: in progress elsewhere, redeliver later
	outUnavailable                // 503: store unavailable, redeliver later
	outMalformed                  // 400 or 413: not a delivery (answered by reject)
	numOutcomes
)

// outcomeNames are the values of the outcome attribute, as the contract
// lists them.
var outcomeNames = [numOutcomes]string{
	outProcessed:   "processed",
	outDuplicate:   "duplicate",
	outPoison:      "poison",
	outFailed:      "failed",
	outBusy:        "busy",
	outUnavailable: "store_unavailable",
	outMalformed:   "malformed",
}

func (o outcome) String() string { return outcomeNames[o] }

// acked reports whether the delivery was acknowledged.
func (o outcome) acked() bool { return o == outProcessed || o == outDuplicate || o == outPoison }

// retryAfterSeconds is the Retry-After of a 503.
const retryAfterSeconds = "10"

// status is the HTTP status of the outcome's answer. (A malformed delivery
// is answered by the handler's reject, 400 or 413, never by write.)
func (o outcome) status() int {
	switch {
	case o.acked():
		return http.StatusNoContent
	case o == outBusy:
		return http.StatusConflict
	case o == outUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// write answers with the outcome's status and, for a refusal, its reason.
func (o outcome) write(w http.ResponseWriter) {
	status := o.status()
	switch status {
	case http.StatusNoContent:
		w.WriteHeader(status)
	case http.StatusConflict:
		httperror.Write(w, status, "message is being processed")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
		httperror.Write(w, status, "de-duplication store unavailable")
	default:
		httperror.Write(w, status, "message processing failed")
	}
}

// asDuplicate is the outcome of a delivery that waited for another
// delivery of its ID in this process and answers with that one's result:
// acknowledged, it is a duplicate; otherwise it failed as that one did.
func (o outcome) asDuplicate() outcome {
	if o.acked() {
		return outDuplicate
	}
	return o
}
