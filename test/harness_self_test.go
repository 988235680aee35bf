package test

import (
	"strings"
	"testing"
)

// TestLeakCheck shows that the log check finds a registered token whole or
// in part, and anything shaped like a JWT, and passes clean lines.
func TestLeakCheck(t *testing.T) {
	t.Parallel()
	r := newTokenRegistry()
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyX2UyZSIsImlzcyI6Imh0dHBzOi8vY2xlcmsuZXhhbXBsZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1mb3ItdGhlLWxlYWstY2hlY2s"
	r.add(tok)
	r.add("sk_test_0123456789abcdef0123456789abcdef")
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	tests := []struct {
		name string
		line string
		want bool
	}{
		{"clean", `{"severity":"INFO","message":"GET /whoami 200","requestId":"0a1b2c3d4e5f-17"}`, false},
		{"long clean run", `{"severity":"INFO","message":"x","id":"projects-pushgate-e2e-subscriptions-events"}`, false},
		{"whole token", `{"severity":"INFO","message":"` + tok + `"}`, true},
		{"JWT shape of an unregistered token", `{"message":"eyJabcdefghij.klmnopqrstu"}`, true},
		{"16 characters of the signature", `{"message":"token ends …` + sig[len(sig)-16:] + `"}`, true},
		{"15 characters of the signature", `{"message":"token ends …` + sig[len(sig)-15:] + `"}`, false},
		{"part of the payload", `{"message":"` + strings.Split(tok, ".")[1][10:40] + `"}`, true},
		{"the secret", `{"message":"key sk_test_0123456789abcdef0123456789abcdef"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, got := r.leak([]string{`{"severity":"INFO","message":"before"}`, tt.line})
			if got != tt.want {
				t.Errorf("leak found: got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDuplicateKey shows that the log check finds a top-level key written
// twice (a second "message" hides the line's text) and ignores nested ones.
func TestDuplicateKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want string
	}{
		{`{"severity":"INFO","message":"a"}`, ""},
		{`{"severity":"INFO","message":"a","message":{"id":"1"}}`, "message"},
		{`{"message":"a","m":{"message":"b","x":[{"message":1}]},"n":[1,"message"]}`, ""},
		{`{"a":{"b":1},"a":2}`, "a"},
		{`{"a":[1,2],"b":null,"c":true,"c":false}`, "c"},
	}
	for _, tt := range tests {
		if got := duplicateKey(tt.line); got != tt.want {
			t.Errorf("duplicateKey(%s): got %q, want %q", tt.line, got, tt.want)
		}
	}
}
