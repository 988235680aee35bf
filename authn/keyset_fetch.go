package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
)

// fetch downloads and parses the key set once: from its URL, or from the
// jwks_uri its issuer's discovery document names.
func (k *KeySet) fetch(ctx context.Context) (map[string]publicKey, time.Duration, error) {
	url := k.url
	if k.issuer != "" {
		var err error
		if url, err = k.discover(ctx); err != nil {
			return nil, 0, err
		}
	}
	body, header, err := k.get(ctx, url, k.opts.BearerToken)
	if err != nil {
		return nil, 0, err
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	return keys, keyLifetime(header), nil
}

// get fetches a JSON document of at most MaxBytes.
func (k *KeySet) get(ctx context.Context, url string, bearer Secret) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("authn: key set request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+string(bearer))
	}
	resp, err := k.opts.HTTPClient.Do(req)
	if err != nil {
		// The URL's query or user information may hold a secret: the log
		// line names the key set's source, redacted, beside this error.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("authn: key set fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, nil, fmt.Errorf("authn: key set fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.opts.MaxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("authn: key set read: %w", err)
	}
	if int64(len(body)) > k.opts.MaxBytes {
		return nil, nil, fmt.Errorf("authn: key set larger than %d bytes", k.opts.MaxBytes)
	}
	return body, resp.Header, nil
}

// keyLifetime reads Cache-Control max-age (less Age), clamped to
// [MinKeyLifetime, MaxKeyLifetime]; DefaultKeyLifetime when absent.
func keyLifetime(h http.Header) time.Duration {
	maxAge := -1
	for _, cc := range h.Values("Cache-Control") {
		for _, directive := range strings.Split(cc, ",") {
			name, value, found := strings.Cut(strings.TrimSpace(directive), "=")
			if !found || !strings.EqualFold(name, "max-age") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(value, `"`))
			if err == nil && n >= 0 {
				maxAge = n
			}
		}
	}
	if maxAge < 0 {
		return DefaultKeyLifetime
	}
	if age, err := strconv.Atoi(h.Get("Age")); err == nil && age > 0 {
		maxAge -= age
	}
	d := time.Duration(maxAge) * time.Second
	return min(max(d, MinKeyLifetime), MaxKeyLifetime)
}

// jwks is a JSON Web Key Set (RFC 7517 §5); jwk members of other key
// types than those below are ignored.
type jwks struct {
	Keys []struct {
		Kty string `json:"kty"`
		Alg string `json:"alg"`
		Use string `json:"use"`
		Kid string `json:"kid"`
		N   string `json:"n"`   // RSA
		E   string `json:"e"`   // RSA
		Crv string `json:"crv"` // EC, OKP
		X   string `json:"x"`   // EC, OKP
		Y   string `json:"y"`   // EC
	} `json:"keys"`
}

var errNoUsableKeys = errors.New("authn: key set has no usable signing key")

// publicKey is a key of a key set, with the algorithm its JWK restricts
// it to ("" when the JWK names none).
type publicKey struct {
	key crypto.PublicKey
	alg string
}

// parseJWKS keeps the signing keys that pass the key rules (checkRSAKey; a
// valid point of P-256 or P-384; a 32-byte Ed25519 key) and that name a
// supported algorithm or none; others are skipped. A set with no usable key
// is an error, so that last good keys survive it.
func parseJWKS(body []byte) (map[string]publicKey, error) {
	var set jwks
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("authn: key set decode: %w", err)
	}
	keys := make(map[string]publicKey, len(set.Keys))
	for _, j := range set.Keys {
		if j.Kid == "" || (j.Use != "" && j.Use != "sig") || (j.Alg != "" && !SupportedAlgorithm(j.Alg)) {
			continue
		}
		if _, dup := keys[j.Kid]; dup {
			continue
		}
		var key crypto.PublicKey
		var err error
		switch j.Kty {
		case "RSA":
			key, err = rsaKey(j.N, j.E)
		case "EC":
			key, err = ecKey(j.Crv, j.X, j.Y)
		case "OKP":
			key, err = edKey(j.Crv, j.X)
		default:
			continue
		}
		if err != nil {
			continue
		}
		keys[j.Kid] = publicKey{key: key, alg: j.Alg}
	}
	if len(keys) == 0 {
		return nil, errNoUsableKeys
	}
	return keys, nil
}

// minRSABits is the smallest RSA modulus a key set accepts.
const minRSABits = 2048

// checkRSAKey is the rule every RSA key of a key set passes: a modulus of
// at least 2048 bits that is odd, and an odd exponent in [3, 2³¹-1].
func checkRSAKey(pub *rsa.PublicKey) error {
	switch {
	case pub == nil || pub.N == nil:
		return errors.New("authn: RSA key has no modulus")
	case pub.N.BitLen() < minRSABits:
		return fmt.Errorf("authn: RSA key has %d bits, want at least %d", pub.N.BitLen(), minRSABits)
	case pub.N.Bit(0) == 0:
		return errors.New("authn: RSA modulus is even")
	case pub.E < 3 || pub.E > 1<<31-1 || pub.E&1 == 0:
		return errors.New("authn: unacceptable RSA exponent")
	}
	return nil
}

// rsaKey decodes a JWK's n and e and applies checkRSAKey.
func rsaKey(n64, e64 string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n64, "="))
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e64, "="))
	if err != nil {
		return nil, err
	}
	e := new(big.Int).SetBytes(eb)
	if !e.IsInt64() || e.Int64() > 1<<31-1 {
		return nil, errors.New("authn: unacceptable RSA exponent") // before it becomes an int
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(e.Int64())}
	if err := checkRSAKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// ecKey decodes a JWK's crv, x and y into a point of P-256 or P-384, which
// crypto/ecdsa checks is on the curve.
func ecKey(crv, x64, y64 string) (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	default:
		return nil, fmt.Errorf("authn: unsupported curve %q", crv)
	}
	size := (curve.Params().BitSize + 7) / 8
	x, errX := base64.RawURLEncoding.DecodeString(x64)
	y, errY := base64.RawURLEncoding.DecodeString(y64)
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, errors.New("authn: malformed EC key")
	}
	return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
}

// edKey decodes a JWK's x into an Ed25519 key (RFC 8037 §2).
func edKey(crv, x64 string) (ed25519.PublicKey, error) {
	x, err := base64.RawURLEncoding.DecodeString(x64)
	if crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
		return nil, errors.New("authn: malformed Ed25519 key")
	}
	return ed25519.PublicKey(x), nil
}
