package authn

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"

	"filippo.io/bigmod"
)

// minRSABits is the smallest modulus accepted in a key set.
const minRSABits = 2048

// maxStackEM is the largest encoded message (in bytes, a 4096-bit key)
// that verification builds on the stack.
const maxStackEM = 512

// sha256DigestInfo is the DER prefix of a SHA-256 DigestInfo (RFC 8017
// §9.2, note 1), as crypto/rsa writes it.
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

var errVerification = errors.New("authn: RSA verification error")

// publicKey is an RSA public key made ready for RS256 verification once,
// when its key set is loaded, instead of on every call as
// rsa.VerifyPKCS1v15 does: the Montgomery modulus (with its R² constant)
// and the constant part of the expected encoded message. It is read-only
// after newPublicKey and safe for concurrent use.
type publicKey struct {
	pub  *rsa.PublicKey
	n    *bigmod.Modulus
	e    uint
	size int // modulus size in bytes, k in RFC 8017
	// emPrefix is EM without its last 32 bytes (the hash):
	// 0x00 0x01 FF…FF 0x00 || SHA-256 DigestInfo prefix.
	emPrefix []byte
}

// newPublicKey checks pub against the key rules (a modulus of at least
// minRSABits that is odd; an odd exponent in [3, 2³¹-1]) and precomputes
// what verification needs.
func newPublicKey(pub *rsa.PublicKey) (*publicKey, error) {
	if pub == nil || pub.N == nil {
		return nil, errors.New("authn: RSA key has no modulus")
	}
	if bitLen := pub.N.BitLen(); bitLen < minRSABits {
		return nil, fmt.Errorf("authn: RSA key has %d bits, want at least %d", bitLen, minRSABits)
	}
	if pub.N.Bit(0) == 0 {
		return nil, errors.New("authn: RSA modulus is even")
	}
	if pub.E < 3 || pub.E > 1<<31-1 || pub.E&1 == 0 {
		return nil, errors.New("authn: unacceptable RSA exponent")
	}
	n, err := bigmod.NewModulus(pub.N.Bytes())
	if err != nil {
		return nil, fmt.Errorf("authn: RSA modulus: %w", err)
	}
	k := &publicKey{pub: pub, n: n, e: uint(pub.E), size: n.Size()}
	// RFC 8017 §9.2 step 3 needs k ≥ tLen + 11; at 2048 bits and more it holds.
	prefix := make([]byte, k.size-sha256.Size)
	prefix[1] = 0x01
	padEnd := len(prefix) - len(sha256DigestInfo) - 1
	for i := 2; i < padEnd; i++ {
		prefix[i] = 0xff
	}
	copy(prefix[padEnd+1:], sha256DigestInfo)
	k.emPrefix = prefix
	return k, nil
}

// verifyPKCS1v15 checks an RSASSA-PKCS1-v1_5 signature over a SHA-256
// hash, as RFC 8017 §8.2.2 and Go's crypto/internal/fips140/rsa do it:
// the signature must be exactly k bytes and, as an integer, less than N;
// s^e mod N, as k bytes, must equal the encoding EM that the hash
// determines, byte for byte. EM is constructed and compared, never parsed.
func (k *publicKey) verifyPKCS1v15(hashed *[sha256.Size]byte, sig []byte) error {
	if len(sig) != k.size {
		return errVerification
	}
	s, err := bigmod.NewNat().SetBytes(sig, k.n) // refuses sig ≥ N
	if err != nil {
		return errVerification
	}
	m := bigmod.NewNat().ExpShortVarTime(s, k.e, k.n)
	var buf [maxStackEM]byte
	var em []byte
	if k.size <= len(buf) {
		em = buf[:k.size]
		if !natBytes(em, m) {
			return errVerification
		}
	} else {
		em = m.Bytes(k.n)
	}
	// em == emPrefix || hashed, in two pieces.
	if !bytes.Equal(em[:len(k.emPrefix)], k.emPrefix) || !bytes.Equal(em[len(k.emPrefix):], hashed[:]) {
		return errVerification
	}
	return nil
}

// natBytes writes x big-endian and zero-extended into dst, as
// (*bigmod.Nat).Bytes does into a fresh slice. dst must be zeroed. It
// reports false if x does not fit, which cannot happen for x < N.
func natBytes(dst []byte, x *bigmod.Nat) bool {
	i := len(dst)
	for _, limb := range x.Bits() {
		for range bits.UintSize / 8 {
			i--
			if i < 0 {
				if limb != 0 {
					return false
				}
				break
			}
			dst[i] = byte(limb)
			limb >>= 8
		}
	}
	return true
}
