package devmode

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKeysCreates(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config", "pushgate", "dev")
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatalf("LoadOrCreateKeys: %v", err)
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := info.Mode().Perm(), os.FileMode(0o700); got != want {
			t.Errorf("key directory mode = %#o, want %#o", got, want)
		}
	}
	for name, signer := range map[string]*struct {
		file string
		kid  string
		key  *rsa.PrivateKey
	}{
		"google": {GoogleKeyFile, keys.Google.KID, keys.Google.Key},
		"clerk":  {ClerkKeyFile, keys.Clerk.KID, keys.Clerk.Key},
	} {
		path := filepath.Join(dir, signer.file)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatalf("%s key file: %v", name, err)
		}
		if got, want := info.Mode().Perm(), os.FileMode(0o600); runtime.GOOS != "windows" && got != want {
			t.Errorf("%s key file mode = %#o, want %#o", name, got, want)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		block, rest := pem.Decode(data)
		if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
			t.Fatalf("%s key file is not one PEM PRIVATE KEY block", name)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatalf("%s key file is not PKCS#8: %v", name, err)
		}
		rsaKey, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			t.Fatalf("%s key is a %T, want *rsa.PrivateKey", name, parsed)
		}
		if got := rsaKey.N.BitLen(); got != 2048 {
			t.Errorf("%s key has %d bits, want 2048", name, got)
		}
		if !rsaKey.Equal(signer.key) {
			t.Errorf("%s key file differs from the returned signer's key", name)
		}
		if want := keyID(&rsaKey.PublicKey); signer.kid != want {
			t.Errorf("%s kid = %q, want thumbprint %q", name, signer.kid, want)
		}
	}
	if keys.Google.Key.Equal(keys.Clerk.Key) {
		t.Error("Google and Clerk dev keys are the same key")
	}
	assertNoTempFiles(t, dir)
}

func TestLoadOrCreateKeysLoadsSameKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatalf("first LoadOrCreateKeys: %v", err)
	}
	second, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatalf("second LoadOrCreateKeys: %v", err)
	}
	if got, want := second.Google.KID, first.Google.KID; got != want {
		t.Errorf("Google kid = %q on reload, want %q", got, want)
	}
	if got, want := second.Clerk.KID, first.Clerk.KID; got != want {
		t.Errorf("Clerk kid = %q on reload, want %q", got, want)
	}
	if !second.Google.Key.Equal(first.Google.Key) || !second.Clerk.Key.Equal(first.Clerk.Key) {
		t.Error("reloaded keys differ from the created keys")
	}
}

func TestLoadOrCreateKeysConcurrent(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dev")
	const n = 6
	var wg sync.WaitGroup
	results := make([]*Keys, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = LoadOrCreateKeys(dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got, want := results[i].Google.KID, results[0].Google.KID; got != want {
			t.Errorf("caller %d Google kid = %q, want %q", i, got, want)
		}
		if got, want := results[i].Clerk.KID, results[0].Clerk.KID; got != want {
			t.Errorf("caller %d Clerk kid = %q, want %q", i, got, want)
		}
	}
	again, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Google.KID != results[0].Google.KID || again.Clerk.KID != results[0].Clerk.KID {
		t.Error("keys on disk differ from the keys the racing callers got")
	}
	assertNoTempFiles(t, dir)
}

func TestLoadOrCreateKeysRejectsBadKeyFile(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	good := testKeys(t).Google.Key
	tests := []struct {
		name    string
		data    []byte
		mode    os.FileMode
		wantErr string
	}{
		{"empty", nil, 0o600, "not a PEM"},
		{"half written", pkcs8(good)[:300], 0o600, "not a PEM"},
		{"garbage", []byte("not a key at all"), 0o600, "not a PEM"},
		{"PKCS#1 block", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(good)}), 0o600, "not a PEM"},
		{"corrupt DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), 0o600, "not a PKCS#8"},
		{"EC key", pkcs8(ec), 0o600, "not an RSA key"},
		{"1024-bit key", pkcs8(small), 0o600, "1024-bit"},
		{"readable by others", pkcs8(good), 0o644, "accessible by others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.mode&0o077 != 0 && runtime.GOOS == "windows" {
				t.Skip("no Unix file modes on Windows")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, GoogleKeyFile)
			if err := os.WriteFile(path, tt.data, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // beat the umask
				t.Fatal(err)
			}
			keys, err := LoadOrCreateKeys(dir)
			if err == nil {
				t.Fatalf("LoadOrCreateKeys = %v, want an error", keys)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want it to name %s and say %q", err, path, tt.wantErr)
			}
			if strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error %q quotes the key file", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Error("the bad key file was overwritten")
			}
		})
	}
}

func TestLoadOrCreateKeysEmptyDir(t *testing.T) {
	t.Parallel()
	if keys, err := LoadOrCreateKeys(""); err == nil {
		t.Fatalf("LoadOrCreateKeys(\"\") = %v, want an error", keys)
	}
}

func TestKeyIDIsRFC7638Thumbprint(t *testing.T) {
	t.Parallel()
	// The example key of RFC 7638, section 3.1.
	n := new(big.Int).SetBytes(mustB64(t, "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"))
	got := keyID(&rsa.PublicKey{N: n, E: 65537})
	if want := "dev-NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("keyID = %q, want %q", got, want)
	}
}

func TestKeysNeverPrintKeyMaterial(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("dev keys", "keys", keys)
	outputs := map[string]string{
		"String": keys.String(),
		"%v":     fmt.Sprintf("%v", keys),
		"%+v":    fmt.Sprintf("%+v", *keys),
		"slog":   logged.String(),
	}
	for name, out := range outputs {
		for _, secret := range []*big.Int{keys.Google.Key.D, keys.Clerk.Key.D, keys.Google.Key.Primes[0], keys.Clerk.Key.Primes[0]} {
			if strings.Contains(out, secret.String()) || strings.Contains(out, secret.Text(16)) {
				t.Errorf("%s output contains private key material", name)
			}
		}
	}
	for _, name := range []string{"String", "slog"} {
		if !strings.Contains(outputs[name], keys.Google.KID) || !strings.Contains(outputs[name], keys.Clerk.KID) {
			t.Errorf("%s output %q does not name the kids", name, outputs[name])
		}
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertNoTempFiles fails if dir holds anything but the two key files.
func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != GoogleKeyFile && e.Name() != ClerkKeyFile {
			t.Errorf("key directory holds a stray %q", e.Name())
		}
	}
}
