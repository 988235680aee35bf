package authn

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
)

// VerifyPrecomputed returns the RS256 signature check of pub made ready
// once (the modulus and the encoded-message prefix), as key sets make
// their keys: the benchmarks measure it against rsa.VerifyPKCS1v15.
func VerifyPrecomputed(pub *rsa.PublicKey) (func(hashed *[sha256.Size]byte, sig []byte) error, error) {
	k, err := newPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return k.verifyPKCS1v15, nil
}

// EntryOf returns the principal entry Middleware put in ctx, by pointer, so
// that tests can tell a shared entry (the recent token's) from a new one.
func EntryOf(ctx context.Context) any {
	e, _ := ctx.Value(principalKey{}).(*principalEntry)
	return e
}
