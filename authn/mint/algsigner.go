package mint

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha512" // RS384, RS512, ES384
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// AlgSigner signs tokens under one of the JWS algorithms an OpenID Connect
// provider may use (RS256, RS384, RS512, PS256, ES256, ES384, EdDSA), with a
// key generated for it: for tests and the end-to-end suite's stand-ins of
// Okta, Auth0, Cognito or Firebase. Signer remains the RS256 signer of dev
// mode.
type AlgSigner struct {
	KID, Alg string
	Key      crypto.Signer
}

// NewAlgSigner generates a key for alg (RSA 2048 bits, P-256, P-384 or
// Ed25519) named kid.
func NewAlgSigner(kid, alg string) (*AlgSigner, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256":
		key, err = rsa.GenerateKey(rand.Reader, KeyBits)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("mint: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("mint: generate key: %w", err)
	}
	return &AlgSigner{KID: kid, Alg: alg, Key: key}, nil
}

// hashes are the digests of the algorithms (none for EdDSA).
var hashes = map[string]crypto.Hash{
	"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
	"PS256": crypto.SHA256, "ES256": crypto.SHA256, "ES384": crypto.SHA384,
}

// Sign returns a compact token carrying claims, with the header
// {"alg":s.Alg,"kid":s.KID,"typ":"JWT"}.
func (s *AlgSigner) Sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": s.Alg, "kid": s.KID, "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("mint: encode claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sig, err := s.signature([]byte(input))
	if err != nil {
		return "", fmt.Errorf("mint: sign: %w", err)
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// signature signs input as RFC 7518 §3 and RFC 8037 §3.1 say: PKCS #1 v1.5
// or PSS (salt as long as the hash) for RSA, R‖S of fixed size for ECDSA,
// Ed25519 over the input itself.
func (s *AlgSigner) signature(input []byte) ([]byte, error) {
	if s.Alg == "EdDSA" {
		return s.Key.Sign(rand.Reader, input, crypto.Hash(0))
	}
	hash, ok := hashes[s.Alg]
	if !ok {
		return nil, errors.New("unsupported algorithm")
	}
	h := hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	switch k := s.Key.(type) {
	case *rsa.PrivateKey:
		if s.Alg == "PS256" {
			return rsa.SignPSS(rand.Reader, k, hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, k, hash, digest)
	case *ecdsa.PrivateKey:
		r, sv, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		sv.FillBytes(sig[size:])
		return sig, nil
	}
	return nil, errors.New("key does not fit the algorithm")
}

// JWK returns the public key's JWKS entry (RFC 7517, RFC 7518 §6, RFC 8037 §2).
func (s *AlgSigner) JWK() map[string]string {
	enc := base64.RawURLEncoding
	jwk := map[string]string{"kid": s.KID, "alg": s.Alg, "use": "sig"}
	switch pub := s.Key.Public().(type) {
	case *rsa.PublicKey:
		jwk["kty"], jwk["n"], jwk["e"] = "RSA", enc.EncodeToString(pub.N.Bytes()), enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		point, _ := pub.Bytes() // 0x04 ‖ X ‖ Y
		jwk["kty"], jwk["crv"] = "EC", pub.Curve.Params().Name
		jwk["x"], jwk["y"] = enc.EncodeToString(point[1:1+size]), enc.EncodeToString(point[1+size:])
	case ed25519.PublicKey:
		jwk["kty"], jwk["crv"], jwk["x"] = "OKP", "Ed25519", enc.EncodeToString(pub)
	}
	return jwk
}

// JWKSOfAlg returns one key set holding the public keys of all signers.
func JWKSOfAlg(signers ...*AlgSigner) []byte {
	keys := []map[string]string{}
	for _, s := range signers {
		keys = append(keys, s.JWK())
	}
	out, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic("mint: encode key set: " + err.Error()) // strings only: unreachable
	}
	return out
}
