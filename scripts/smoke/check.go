package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// TokenFunc returns a Google ID token for the service's audience.
type TokenFunc func(ctx context.Context) (string, error)

// Target is what Check checks and how it reaches it.
type Target struct {
	BaseURL string           // the service URL, e.g. https://pushgate-123.us-central1.run.app
	Client  *http.Client     // nil → http.DefaultClient
	Token   TokenFunc        // mints the ID token sent as a bearer token
	Now     func() time.Time // nil → time.Now
}

// Result is the outcome of one check.
type Result struct {
	Name   string // e.g. "GET /healthz"
	OK     bool
	Detail string // what was seen; never holds the token
}

// Check runs the smoke checks in order and returns one Result each:
// /healthz answers 200 without a token; /whoami answers 401 without a token
// (the service, not Cloud Run, turns callers away); /whoami answers 200 with
// kind "service" with the token; and a wrapped Pub/Sub push delivery with a
// fresh messageId is acknowledged with 204.
func Check(ctx context.Context, t Target) []Result {
	if t.Client == nil {
		t.Client = http.DefaultClient
	}
	if t.Now == nil {
		t.Now = time.Now
	}
	t.BaseURL = strings.TrimRight(t.BaseURL, "/")
	return []Result{
		checkHealthz(ctx, t),
		checkAnonymous(ctx, t),
		checkWhoami(ctx, t),
		checkPush(ctx, t),
	}
}

func checkHealthz(ctx context.Context, t Target) Result {
	r := Result{Name: "GET /healthz (no token)"}
	status, body, err := t.do(ctx, http.MethodGet, "/healthz", "", nil)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	r.OK = status == http.StatusOK
	r.Detail = describe(status, body, http.StatusOK)
	return r
}

func checkAnonymous(ctx context.Context, t Target) Result {
	r := Result{Name: "GET /whoami (no token)"}
	status, body, err := t.do(ctx, http.MethodGet, "/whoami", "", nil)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	r.OK = status == http.StatusUnauthorized
	r.Detail = describe(status, body, http.StatusUnauthorized)
	if status == http.StatusForbidden {
		r.Detail += " (403 without a token usually means Cloud Run's invoker IAM check is on: deploy with --no-invoker-iam-check)"
	}
	return r
}

func checkWhoami(ctx context.Context, t Target) Result {
	r := Result{Name: "GET /whoami (Google ID token)"}
	token, err := t.token(ctx)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	status, body, err := t.do(ctx, http.MethodGet, "/whoami", token, nil)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	if status != http.StatusOK {
		r.Detail = describe(status, body, http.StatusOK)
		return r
	}
	var who struct {
		Kind    string `json:"kind"`
		Subject string `json:"subject"`
		Issuer  string `json:"issuer"`
		Email   string `json:"email"`
	}
	if err := json.Unmarshal(body, &who); err != nil {
		r.Detail = fmt.Sprintf("200 but the body is not JSON: %v", err)
		return r
	}
	r.OK = who.Kind == "service"
	r.Detail = fmt.Sprintf("200 kind=%q email=%q issuer=%q subject=%q", who.Kind, who.Email, who.Issuer, who.Subject)
	if !r.OK {
		r.Detail += `, want kind "service"`
	}
	return r
}

func checkPush(ctx context.Context, t Target) Result {
	r := Result{Name: "POST /pubsub/push (Google ID token)"}
	token, err := t.token(ctx)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	id, err := messageID(t.Now())
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	envelope, err := Envelope(id, t.Now())
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	status, body, err := t.do(ctx, http.MethodPost, "/pubsub/push", token, envelope)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	r.OK = status == http.StatusNoContent
	r.Detail = fmt.Sprintf("messageId=%s: %s", id, describe(status, body, http.StatusNoContent))
	return r
}

// Envelope returns a wrapped Pub/Sub push body for message id.
func Envelope(id string, now time.Time) ([]byte, error) {
	type message struct {
		Data        string            `json:"data"`
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		PublishTime string            `json:"publishTime"`
	}
	type envelope struct {
		Message         message `json:"message"`
		Subscription    string  `json:"subscription"`
		DeliveryAttempt int     `json:"deliveryAttempt"`
	}
	b, err := json.Marshal(envelope{
		Message: message{
			Data:        base64.StdEncoding.EncodeToString([]byte("pushgate smoke test " + id)),
			Attributes:  map[string]string{"source": "smoke"},
			MessageID:   id,
			PublishTime: now.UTC().Format(time.RFC3339Nano),
		},
		Subscription:    "projects/-/subscriptions/pushgate-smoke",
		DeliveryAttempt: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("smoke: envelope: %w", err)
	}
	return b, nil
}

// messageID returns an ID no earlier run used: the time plus random bits.
func messageID(now time.Time) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("smoke: message id: %w", err)
	}
	return fmt.Sprintf("smoke-%d-%s", now.UnixNano(), hex.EncodeToString(b[:])), nil
}

func (t Target) token(ctx context.Context) (string, error) {
	if t.Token == nil {
		return "", errors.New("smoke: no token source")
	}
	tok, err := t.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("smoke: minting an ID token: %w", err)
	}
	if tok == "" {
		return "", errors.New("smoke: minting an ID token: empty token")
	}
	return tok, nil
}

// do sends one request and returns the status and (the start of) the body.
func (t Target) do(ctx context.Context, method, path, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("smoke: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("smoke: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("smoke: %s %s: reading the body: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// describe says what came back, and what was wanted when it differs.
func describe(status int, body []byte, want int) string {
	s := fmt.Sprintf("%d", status)
	if text := strings.TrimSpace(string(body)); text != "" {
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		s += " " + text
	}
	if status != want {
		s += fmt.Sprintf(", want %d", want)
	}
	return s
}
