package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/cloudrun-authn/pushgate/authn"
)

// Healthz answers 200 to anyone: the process is up and serving.
func Healthz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// whoamiResponse is the contract's /whoami body: email for services and
// for users whose token has one, emailVerified for OpenID Connect users,
// provider for users, via when an API gateway forwarded the token.
type whoamiResponse struct {
	Kind          authn.Kind `json:"kind"`
	Subject       string     `json:"subject"`
	Issuer        string     `json:"issuer"`
	Email         string     `json:"email,omitempty"`
	EmailVerified *bool      `json:"emailVerified,omitempty"`
	Provider      string     `json:"provider,omitempty"`
	Via           string     `json:"via,omitempty"`
	OrgID         string     `json:"orgId,omitempty"`
	OrgRole       string     `json:"orgRole,omitempty"`
}

// Whoami describes the caller's verified principal. It must sit behind the
// authenticator; without a principal it answers 401.
func Whoami() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := authn.PrincipalFrom(r.Context())
		if !ok {
			w.Header().Set("WWW-Authenticate", "Bearer")
			WriteError(w, http.StatusUnauthorized, "no credentials")
			return
		}
		resp := whoamiResponse{
			Kind: p.Kind, Subject: p.Subject, Issuer: p.Issuer, Email: p.Email,
			Provider: p.Provider, Via: p.Via, OrgID: p.OrgID, OrgRole: p.OrgRole,
		}
		if p.Kind == authn.KindUser && p.Provider != authn.ProviderClerk {
			resp.EmailVerified = &p.EmailVerified
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// ListEvents answers {"events": [...]}, newest first.
func ListEvents(log *EventLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string][]Event{"events": log.List()})
	}
}

// Publisher publishes one message and returns its Pub/Sub message ID.
type Publisher interface {
	Publish(ctx context.Context, data []byte, attributes map[string]string) (string, error)
}

// publishRequest is the body of POST /api/events.
type publishRequest struct {
	Data       string            `json:"data"`
	Attributes map[string]string `json:"attributes"`
}

// maxAttributes is Pub/Sub's limit on attributes per message.
const maxAttributes = 100

// PublishEvent publishes the caller's event with pub and answers 202 with the
// message ID. The body is {"data": text, "attributes": {…}}, or a text/plain
// body that becomes the data. A nil pub (no PUBSUB_TOPIC) answers 503.
func PublishEvent(pub Publisher, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if pub == nil {
			w.Header().Set("Retry-After", "60")
			WriteError(w, http.StatusServiceUnavailable, "publishing is not configured (PUBSUB_TOPIC is unset)")
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "text/plain" {
			publishText(w, r, pub, logger)
			return
		}
		var req publishRequest
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				WriteError(w, http.StatusRequestEntityTooLarge, "body too large")
				return
			}
			WriteError(w, http.StatusBadRequest, "body must be a JSON object {\"data\": text, \"attributes\": {…}}")
			return
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			WriteError(w, http.StatusBadRequest, "body must hold one JSON object")
			return
		}
		if req.Data == "" && len(req.Attributes) == 0 {
			WriteError(w, http.StatusBadRequest, "an event needs data or attributes")
			return
		}
		if len(req.Attributes) > maxAttributes {
			WriteError(w, http.StatusBadRequest, "at most 100 attributes")
			return
		}
		for k := range req.Attributes {
			if k == "" {
				WriteError(w, http.StatusBadRequest, "attribute keys must not be empty")
				return
			}
		}
		publish(w, r, pub, logger, []byte(req.Data), req.Attributes)
	}
}

// publishText publishes a text/plain body as the event's data, so that
// `curl -H 'Content-Type: text/plain' -d hello` works without quoting JSON.
func publishText(w http.ResponseWriter, r *http.Request, pub Publisher, logger *slog.Logger) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		WriteError(w, http.StatusBadRequest, "could not read the body")
		return
	}
	if len(data) == 0 {
		WriteError(w, http.StatusBadRequest, "an event needs data or attributes")
		return
	}
	publish(w, r, pub, logger, data, nil)
}

func publish(w http.ResponseWriter, r *http.Request, pub Publisher, logger *slog.Logger, data []byte, attrs map[string]string) {
	id, err := pub.Publish(r.Context(), data, attrs)
	if err != nil {
		logger.ErrorContext(r.Context(), "publish failed", "error", err)
		w.Header().Set("Retry-After", "5")
		WriteError(w, http.StatusServiceUnavailable, "publish failed; try again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"messageId": id})
}
