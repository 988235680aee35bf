package devmode

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// verifyJWT checks tok's RS256 signature with pub and returns its decoded
// header and claims. It fails the test on any malformation.
func verifyJWT(t *testing.T, tok string, pub *rsa.PublicKey) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("signature segment: %v", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	return decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment is not base64url: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("segment is not a JSON object: %v", err)
	}
	return m
}

// envOf returns a getenv reading env.
func envOf(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// testKeys loads (creating) dev keys in a fresh temporary directory.
func testKeys(t *testing.T) *Keys {
	t.Helper()
	keys, err := LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatalf("LoadOrCreateKeys: %v", err)
	}
	return keys
}

// numClaim returns the numeric claim name as an int64.
func numClaim(t *testing.T, claims map[string]any, name string) int64 {
	t.Helper()
	v, ok := claims[name].(float64)
	if !ok {
		t.Fatalf("claim %s = %#v, want a number", name, claims[name])
	}
	return int64(v)
}
