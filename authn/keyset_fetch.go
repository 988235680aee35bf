package authn

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// fetch downloads and parses the key set once.
func (k *KeySet) fetch(ctx context.Context) (map[string]*publicKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("authn: key set request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if k.opts.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+string(k.opts.BearerToken))
	}
	resp, err := k.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("authn: key set fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, 0, fmt.Errorf("authn: key set fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.opts.MaxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("authn: key set read: %w", err)
	}
	if int64(len(body)) > k.opts.MaxBytes {
		return nil, 0, fmt.Errorf("authn: key set larger than %d bytes", k.opts.MaxBytes)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	return keys, keyLifetime(resp.Header), nil
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

type jwks struct {
	Keys []struct {
		Kty string `json:"kty"`
		Alg string `json:"alg"`
		Use string `json:"use"`
		Kid string `json:"kid"`
		N   string `json:"n"`
		E   string `json:"e"`
	} `json:"keys"`
}

var errNoUsableKeys = errors.New("authn: key set has no usable RS256 key")

// parseJWKS keeps the RSA signing keys usable with RS256, each made ready
// for verification; others are skipped. A set with no usable key is an
// error, so that last good keys survive it.
func parseJWKS(body []byte) (map[string]*publicKey, error) {
	var set jwks
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("authn: key set decode: %w", err)
	}
	keys := make(map[string]*publicKey, len(set.Keys))
	for _, j := range set.Keys {
		if j.Kty != "RSA" || j.Kid == "" || (j.Alg != "" && j.Alg != "RS256") || (j.Use != "" && j.Use != "sig") {
			continue
		}
		if _, dup := keys[j.Kid]; dup {
			continue
		}
		pub, err := rsaKey(j.N, j.E)
		if err != nil {
			continue
		}
		keys[j.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errNoUsableKeys
	}
	return keys, nil
}

// rsaKey decodes a JWK's n and e and applies the key rules (newPublicKey).
func rsaKey(n64, e64 string) (*publicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n64, "="))
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e64, "="))
	if err != nil {
		return nil, err
	}
	n := new(big.Int).SetBytes(nb)
	e := new(big.Int).SetBytes(eb)
	if !e.IsInt64() || e.Int64() > 1<<31-1 {
		return nil, errors.New("authn: unacceptable RSA exponent") // before it becomes an int
	}
	return newPublicKey(&rsa.PublicKey{N: n, E: int(e.Int64())})
}
