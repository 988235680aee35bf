package authn

import "crypto/sha256"

// tokenHash is the SHA-256 of a token, the token cache's key. It reads the
// string's bytes in place instead of copying them: sha256 only reads its
// input and keeps no reference, and the hit path stays allocation-free.
func tokenHash(tok string) [sha256.Size]byte {
	return sha256.Sum256(stringBytes(tok))
}
