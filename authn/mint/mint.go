// Package mint signs RS256 JSON Web Tokens and publishes the matching JSON
// Web Key Set.
//
// It is production code: dev mode uses it to mint the Google-shaped and
// Clerk-shaped tokens that the local service accepts, and tests, the
// end-to-end suite and the load harness use it to mint tokens signed with
// keys they generate themselves. It never talks to the network.
//
// A token is the base64url (unpadded) encoding of a JSON header
// {"alg":"RS256","kid":<KID>,"typ":"JWT"}, a dot, the base64url encoding of
// the JSON claims, a dot, and the base64url encoding of the RSASSA-PKCS1-v1_5
// signature over SHA-256 of the first two parts (RFC 7515, RFC 7518 §3.3).
package mint

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// KeyBits is the size of the RSA keys NewSigner generates.
const KeyBits = 2048

// Signer signs tokens with one RSA private key, named by KID in the token
// header and in the published key set.
type Signer struct {
	// Key is the private key; its public half is what verifiers trust.
	Key *rsa.PrivateKey
	// KID is the key ID written into every token's "kid" header and into
	// the key's JWKS entry.
	KID string
}

// NewSigner generates a fresh 2048-bit RSA key named kid.
func NewSigner(kid string) (*Signer, error) {
	if kid == "" {
		return nil, errors.New("mint: empty key ID")
	}
	key, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("mint: generate key: %w", err)
	}
	return &Signer{Key: key, KID: kid}, nil
}

// NewSignerFromPEM builds a Signer from a PEM-encoded RSA private key, in
// PKCS #8 ("PRIVATE KEY") or PKCS #1 ("RSA PRIVATE KEY") form, as written by
// PrivateKeyPEM.
func NewSignerFromPEM(kid string, pemBytes []byte) (*Signer, error) {
	if kid == "" {
		return nil, errors.New("mint: empty key ID")
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("mint: no PEM block found")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mint: parse private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("mint: private key is not RSA")
		}
		key = rk
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mint: parse private key: %w", err)
		}
		key = k
	default:
		return nil, fmt.Errorf("mint: unexpected PEM block type %q", block.Type)
	}
	if key.N.BitLen() < KeyBits {
		return nil, fmt.Errorf("mint: RSA key has %d bits, want at least %d", key.N.BitLen(), KeyBits)
	}
	return &Signer{Key: key, KID: kid}, nil
}

// PrivateKeyPEM returns the private key as a PKCS #8 PEM block. Treat the
// result as a secret: write it only to a file readable by its owner.
func (s *Signer) PrivateKeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		// Unreachable for a valid *rsa.PrivateKey.
		panic("mint: marshal private key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PublicKeyPEM returns the public key as a PKIX "PUBLIC KEY" PEM block, the
// form Clerk publishes as its JWT verification key (CLERK_JWT_KEY).
func (s *Signer) PublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&s.Key.PublicKey)
	if err != nil {
		panic("mint: marshal public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// PublicKey returns the public half of the signing key.
func (s *Signer) PublicKey() *rsa.PublicKey { return &s.Key.PublicKey }

// Sign returns a compact RS256 token carrying claims, with the header
// {"alg":"RS256","kid":s.KID,"typ":"JWT"}. Claims are encoded with
// encoding/json; time claims should be Unix seconds (int64).
func (s *Signer) Sign(claims map[string]any) (string, error) {
	if s == nil || s.Key == nil {
		return "", errors.New("mint: signer has no key")
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256", "kid": s.KID, "typ": "JWT"})
	if err != nil {
		return "", fmt.Errorf("mint: encode header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("mint: encode claims: %w", err)
	}
	return s.SignRaw(header, payload)
}

// SignRaw signs an already encoded JSON header and payload as they are.
// It does not inspect either, so the header's "alg" is whatever the caller
// wrote; it exists for tests that need unusual headers. Use Sign otherwise.
func (s *Signer) SignRaw(header, payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.Key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("mint: sign: %w", err)
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// JWK is one entry of a JSON Web Key Set (RFC 7517) for an RSA signing key.
type JWK struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWK returns the public key's JWKS entry.
func (s *Signer) JWK() JWK {
	pub := s.Key.PublicKey
	return JWK{
		Kty: "RSA",
		Alg: "RS256",
		Use: "sig",
		Kid: s.KID,
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// JWKS returns the key set {"keys":[{kty,alg,use,kid,n,e}]} holding this
// signer's public key.
func (s *Signer) JWKS() []byte { return JWKSOf(s) }

// JWKSOf returns one key set holding the public keys of all signers, in
// order. Nil signers are skipped.
func JWKSOf(signers ...*Signer) []byte {
	set := struct {
		Keys []JWK `json:"keys"`
	}{Keys: []JWK{}}
	for _, s := range signers {
		if s != nil && s.Key != nil {
			set.Keys = append(set.Keys, s.JWK())
		}
	}
	out, err := json.Marshal(set)
	if err != nil {
		panic("mint: encode key set: " + err.Error()) // strings only: unreachable
	}
	return out
}
