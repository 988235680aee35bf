package devmode

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"runtime"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

// Key files inside the key directory, and their shape.
const (
	// GoogleKeyFile is the file, in the key directory, of the key that signs
	// dev service tokens (standing in for Google's token keys).
	GoogleKeyFile = "google.pem"
	// ClerkKeyFile is the file, in the key directory, of the key that signs
	// dev user tokens (standing in for a Clerk instance's key).
	ClerkKeyFile = "clerk.pem"

	keyBits     = 2048
	maxKeyBytes = 64 << 10
	pemType     = "PRIVATE KEY"
)

// Keys are the dev-mode signing keys. They are for dev mode only: the
// service trusts them only through [Keys.GoogleKeySet] and [Keys.ClerkKeySet],
// which only its dev-mode start-up installs; production configuration never
// loads or trusts them.
//
// Each signer's KID is the RFC 7638 thumbprint of its public key, prefixed
// "dev-", so every process that loads the same key directory (the running
// service and `go run . token`) names the keys alike.
type Keys struct {
	Google *mint.Signer // signs service tokens (Google-shaped ID tokens)
	Clerk  *mint.Signer // signs user tokens (Clerk-shaped session tokens)
}

// LoadOrCreateKeys loads the dev keys from dir, creating dir (mode 0700) and
// any missing key (a 2048-bit RSA key in a PKCS#8 PEM file of mode 0600) on
// first use.
//
// It is safe when several processes or goroutines start at once: a new key
// is written in full to a temporary file and then hard-linked into place,
// which fails if another caller got there first; the loser discards its key
// and reads the winner's. A half-written key file is never read. (On a file
// system without hard links it falls back to a rename, where two callers
// racing on the very first start could briefly disagree; a restart settles
// it.)
//
// A key file that is group- or world-accessible (on Unix), is not a PKCS#8
// RSA key, or is shorter than 2048 bits is an error naming the file.
func LoadOrCreateKeys(dir string) (*Keys, error) {
	if dir == "" {
		return nil, errors.New("devmode: empty key directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devmode: key directory: %w", err)
	}
	google, err := loadOrCreateSigner(filepath.Join(dir, GoogleKeyFile))
	if err != nil {
		return nil, err
	}
	clerk, err := loadOrCreateSigner(filepath.Join(dir, ClerkKeyFile))
	if err != nil {
		return nil, err
	}
	return &Keys{Google: google, Clerk: clerk}, nil
}

// GoogleKeySet returns a key set, for authn.GoogleConfig.Keys, holding only
// the public half of the dev Google key.
func (k *Keys) GoogleKeySet() *authn.KeySet {
	return staticKeySet(k.Google)
}

// ClerkKeySet returns a key set, for authn.ClerkConfig.Keys, holding only the
// public half of the dev Clerk key.
func (k *Keys) ClerkKeySet() *authn.KeySet {
	return staticKeySet(k.Clerk)
}

// String names the keys by kid only; it never prints key material.
func (k *Keys) String() string {
	return fmt.Sprintf("devmode.Keys{google kid=%s, clerk kid=%s}", k.Google.KID, k.Clerk.KID)
}

// LogValue logs the keys' kids only, never key material.
func (k *Keys) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("google_kid", k.Google.KID),
		slog.String("clerk_kid", k.Clerk.KID),
	)
}

func staticKeySet(s *mint.Signer) *authn.KeySet {
	return authn.NewStaticKeySet(map[string]*rsa.PublicKey{s.KID: &s.Key.PublicKey})
}

// loadOrCreateSigner reads the key at path, creating it if it does not exist.
func loadOrCreateSigner(path string) (*mint.Signer, error) {
	key, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(path)
	}
	if err != nil {
		return nil, err
	}
	return &mint.Signer{Key: key, KID: keyID(&key.PublicKey)}, nil
}

// createKey generates a key, writes it to a temporary file and links it into
// place at path. Whoever links first wins; every caller returns what is at
// path.
func createKey(path string) (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("devmode: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("devmode: encode key: %w", err)
	}
	tmp, err := writeTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*",
		pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}))
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		// No hard links here: rename unless another caller already won.
		if _, statErr := os.Lstat(path); errors.Is(statErr, fs.ErrNotExist) {
			if err := os.Rename(tmp, path); err != nil {
				return nil, fmt.Errorf("devmode: install key: %w", err)
			}
		}
	}
	return readKey(path)
}

// writeTemp writes data to a new file of mode 0600 in dir, synced and closed,
// and returns its name.
func writeTemp(dir, pattern string, data []byte) (name string, err error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("devmode: write key: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return "", fmt.Errorf("devmode: write key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return "", fmt.Errorf("devmode: write key: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("devmode: write key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("devmode: write key: %w", err)
	}
	return f.Name(), nil
}

// readKey reads and checks the PKCS#8 PEM RSA key at path. A missing file is
// an error wrapping fs.ErrNotExist.
func readKey(path string) (*rsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("devmode: read key: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("devmode: read key: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("devmode: key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("devmode: key file %s is accessible by others (mode %#o); run chmod 600 on it", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyBytes))
	if err != nil {
		return nil, fmt.Errorf("devmode: read key: %w", err)
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, fmt.Errorf("devmode: key file %s: %w (delete it to create a new key)", path, err)
	}
	return key, nil
}

// parseKey parses a PKCS#8 PEM RSA private key of at least 2048 bits. Its
// errors never quote the input.
func parseKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS#8 private key")
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", parsed)
	}
	if n := key.N.BitLen(); n < keyBits {
		return nil, fmt.Errorf("a %d-bit RSA key, want at least %d bits", n, keyBits)
	}
	return key, nil
}

// keyID is "dev-" followed by the RFC 7638 JWK thumbprint of pub.
func keyID(pub *rsa.PublicKey) string {
	b64 := base64.RawURLEncoding.EncodeToString
	// Members in lexicographic order, no whitespace, as RFC 7638 requires.
	jwk, _ := json.Marshal(struct {
		E   string `json:"e"`
		Kty string `json:"kty"`
		N   string `json:"n"`
	}{
		E:   b64(big.NewInt(int64(pub.E)).Bytes()),
		Kty: "RSA",
		N:   b64(pub.N.Bytes()),
	})
	sum := sha256.Sum256(jwk)
	return "dev-" + b64(sum[:])
}
