package authn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // the hashes of the algorithms below
	_ "crypto/sha512"
	"math/big"
)

// Algorithms are the JWS algorithms (RFC 7518 §3, RFC 8037) a rule set may
// accept. Each is verified by the standard library: crypto/rsa
// (RSASSA-PKCS1-v1_5 and RSASSA-PSS), crypto/ecdsa and crypto/ed25519.
var algorithms = map[string]struct {
	hash  crypto.Hash
	curve elliptic.Curve // ES*: the key's curve
}{
	"RS256": {hash: crypto.SHA256},
	"RS384": {hash: crypto.SHA384},
	"RS512": {hash: crypto.SHA512},
	"PS256": {hash: crypto.SHA256},
	"ES256": {hash: crypto.SHA256, curve: elliptic.P256()},
	"ES384": {hash: crypto.SHA384, curve: elliptic.P384()},
	"EdDSA": {},
}

// SupportedAlgorithm reports whether alg is one a rule set may accept:
// RS256, RS384, RS512, PS256, ES256, ES384 or EdDSA (Ed25519).
func SupportedAlgorithm(alg string) bool {
	_, ok := algorithms[alg]
	return ok
}

// verifySignature checks sig over signingInput with key under alg. A key of
// the wrong type or curve for alg fails like a wrong signature.
func verifySignature(alg string, key crypto.PublicKey, signingInput string, sig []byte) error {
	a, ok := algorithms[alg]
	if !ok {
		return ErrUnsupportedAlgorithm
	}
	var digest []byte
	if a.hash != 0 {
		h := a.hash.New()
		h.Write([]byte(signingInput))
		digest = h.Sum(nil)
	}
	var valid bool
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg[:2] {
		case "RS":
			valid = rsa.VerifyPKCS1v15(k, a.hash, digest, sig) == nil
		case "PS":
			valid = rsa.VerifyPSS(k, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
	case *ecdsa.PublicKey:
		// RFC 7518 §3.4: R and S, each the size of the curve's order.
		size := (k.Curve.Params().BitSize + 7) / 8
		if a.curve == k.Curve && len(sig) == 2*size {
			r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
			valid = ecdsa.Verify(k, digest, r, s)
		}
	case ed25519.PublicKey:
		valid = alg == "EdDSA" && ed25519.Verify(k, []byte(signingInput), sig)
	}
	if !valid {
		return ErrBadSignature
	}
	return nil
}
