package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "eyJ.test-id-token.sig"

// fakeService is a stand-in for a deployed pushgate: it speaks the contract's
// /healthz, /whoami and /pubsub/push, with knobs for what can go wrong.
type fakeService struct {
	healthStatus int    // 0 → 200
	anonStatus   int    // status of /whoami without a token; 0 → 401
	kind         string // kind /whoami reports; "" → service
	pushStatus   int    // 0 → 204

	mu   sync.Mutex
	seen []string // messageIds pushed
	auth []string // Authorization headers seen on /pubsub/push
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	authz := r.Header.Get("Authorization")
	authorized := authz == "Bearer "+testToken
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		w.WriteHeader(or(f.healthStatus, http.StatusOK))
	case r.Method == http.MethodGet && r.URL.Path == "/whoami":
		if authz == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(or(f.anonStatus, http.StatusUnauthorized))
			_, _ = w.Write([]byte(`{"error":"no token"}`))
			return
		}
		if !authorized {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid token"}`))
			return
		}
		kind := f.kind
		if kind == "" {
			kind = "service"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"kind": kind, "subject": "1234", "issuer": "https://accounts.google.com",
			"email": "pushgate-push@p.iam.gserviceaccount.com",
		})
	case r.Method == http.MethodPost && r.URL.Path == "/pubsub/push":
		f.mu.Lock()
		f.auth = append(f.auth, authz)
		f.mu.Unlock()
		if !authorized {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var env struct {
			Message struct {
				Data      string `json:"data"`
				MessageID string `json:"messageId"`
			} `json:"message"`
			Subscription string `json:"subscription"`
		}
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&env) != nil ||
			env.Message.MessageID == "" || env.Subscription == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"malformed"}`))
			return
		}
		if _, err := base64.StdEncoding.DecodeString(env.Message.Data); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.seen = append(f.seen, env.Message.MessageID)
		f.mu.Unlock()
		w.WriteHeader(or(f.pushStatus, http.StatusNoContent))
	default:
		http.NotFound(w, r)
	}
}

func staticToken(tok string) TokenFunc {
	return func(context.Context) (string, error) { return tok, nil }
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tokenErr := func(context.Context) (string, error) { return "", errors.New("no credentials") }
	tests := []struct {
		name    string
		svc     *fakeService
		token   TokenFunc
		wantOK  []bool // healthz, anonymous, whoami, push
		wantSub string // a detail must contain it
	}{
		{"healthy service", &fakeService{}, staticToken(testToken), []bool{true, true, true, true}, "kind=\"service\""},
		{"unhealthy", &fakeService{healthStatus: 503}, staticToken(testToken), []bool{false, true, true, true}, "want 200"},
		{"open to anyone", &fakeService{anonStatus: 200}, staticToken(testToken), []bool{true, false, true, true}, "want 401"},
		{"invoker IAM check on", &fakeService{anonStatus: 403}, staticToken(testToken), []bool{true, false, true, true}, "--no-invoker-iam-check"},
		{"user principal", &fakeService{kind: "user"}, staticToken(testToken), []bool{true, true, false, true}, `want kind "service"`},
		{"push not acknowledged", &fakeService{pushStatus: 500}, staticToken(testToken), []bool{true, true, true, false}, "want 204"},
		{"token rejected", &fakeService{}, staticToken("wrong"), []bool{true, true, false, false}, "want 200"},
		{"no credentials", &fakeService{}, tokenErr, []bool{true, true, false, false}, "minting an ID token"},
		{"empty token", &fakeService{}, staticToken(""), []bool{true, true, false, false}, "empty token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.svc)
			t.Cleanup(srv.Close)
			got := Check(context.Background(), Target{BaseURL: srv.URL + "/", Client: srv.Client(), Token: tt.token})
			if len(got) != len(tt.wantOK) {
				t.Fatalf("got %d results, want %d", len(got), len(tt.wantOK))
			}
			var details []string
			for i, r := range got {
				if r.OK != tt.wantOK[i] {
					t.Errorf("%s: got OK=%v, want %v (%s)", r.Name, r.OK, tt.wantOK[i], r.Detail)
				}
				if strings.Contains(r.Detail, testToken) {
					t.Errorf("%s: detail holds the token: %s", r.Name, r.Detail)
				}
				details = append(details, r.Detail)
			}
			if all := strings.Join(details, "\n"); !strings.Contains(all, tt.wantSub) {
				t.Errorf("details do not mention %q:\n%s", tt.wantSub, all)
			}
		})
	}
}

func TestCheckSendsFreshMessageIDs(t *testing.T) {
	t.Parallel()
	svc := &fakeService{}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	target := Target{BaseURL: srv.URL, Client: srv.Client(), Token: staticToken(testToken), Now: func() time.Time { return fixed }}
	for range 2 {
		for _, r := range Check(context.Background(), target) {
			if !r.OK {
				t.Fatalf("%s failed: %s", r.Name, r.Detail)
			}
		}
	}
	if len(svc.seen) != 2 || svc.seen[0] == svc.seen[1] {
		t.Errorf("got message IDs %q, want two different ones even with a fixed clock", svc.seen)
	}
	for _, a := range svc.auth {
		if a != "Bearer "+testToken {
			t.Errorf("got Authorization %q on /pubsub/push, want the bearer token", a)
		}
	}
}

func TestEnvelope(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	b, err := Envelope("smoke-1", now)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Message struct {
			Data        []byte            `json:"data"` // encoding/json decodes base64
			Attributes  map[string]string `json:"attributes"`
			MessageID   string            `json:"messageId"`
			PublishTime time.Time         `json:"publishTime"`
		} `json:"message"`
		Subscription    string `json:"subscription"`
		DeliveryAttempt int    `json:"deliveryAttempt"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("envelope is not the wrapped form: %v\n%s", err, b)
	}
	if got.Message.MessageID != "smoke-1" || !got.Message.PublishTime.Equal(now) ||
		!strings.Contains(string(got.Message.Data), "smoke-1") || got.Subscription == "" || got.DeliveryAttempt != 1 {
		t.Errorf("got %+v", got)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&fakeService{})
	t.Cleanup(srv.Close)
	broken := httptest.NewServer(&fakeService{pushStatus: 503})
	t.Cleanup(broken.Close)

	var gotAudience string
	var mu sync.Mutex
	fakeTokens := func(_ context.Context, aud string) (TokenFunc, error) {
		mu.Lock()
		gotAudience = aud
		mu.Unlock()
		return staticToken(testToken), nil
	}
	noCreds := func(context.Context, string) (TokenFunc, error) {
		return nil, errors.New("smoke: ID token source: idtoken: unsupported credentials type: \"authorized_user\"")
	}
	tests := []struct {
		name      string
		args      []string
		tokens    newTokensFunc
		wantCode  int
		wantOut   string
		wantErr   string
		wantAudIs string
	}{
		{"all pass", []string{"--url", srv.URL}, fakeTokens, 0, "all 4 checks passed", "", srv.URL},
		{"explicit audience", []string{"--url=" + srv.URL, "--audience=https://aud.example"}, fakeTokens, 0, "audience https://aud.example", "", "https://aud.example"},
		{"a check fails", []string{"--url", broken.URL}, fakeTokens, 1, "1 of 4 checks failed", "", ""},
		{"no url", nil, fakeTokens, 2, "", "--url must be", ""},
		{"not a url", []string{"--url", "pushgate"}, fakeTokens, 2, "", "--url must be", ""},
		{"stray argument", []string{"--url", srv.URL, "extra"}, fakeTokens, 2, "", "unexpected argument", ""},
		{"unknown flag", []string{"--nope"}, fakeTokens, 2, "", "flag provided but not defined", ""},
		{"no credentials", []string{"--url", srv.URL}, noCreds, 1, "", "impersonate-service-account", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			gotAudience = ""
			mu.Unlock()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr, tt.tokens)
			if code != tt.wantCode {
				t.Errorf("got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantOut, &stdout)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantErr, &stderr)
			}
			if strings.Contains(stdout.String()+stderr.String(), testToken) {
				t.Error("output holds the token")
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.wantAudIs != "" && gotAudience != tt.wantAudIs {
				t.Errorf("got audience %q, want %q", gotAudience, tt.wantAudIs)
			}
		})
	}
}
