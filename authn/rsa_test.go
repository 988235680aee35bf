package authn

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// testRSAKeys are fixed private keys in testdata/rsa, for tests only: RSA
// keys of 2048, 3072 and 4096 bits, keys with exponent 3, which
// rsa.GenerateKey does not make, and a 4160-bit key, too large for the
// encoded message on the stack. Fixed keys keep the tests fast and the
// fuzz seeds meaningful.
var testRSAKeys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	var keys []*rsa.PrivateKey
	for _, name := range []string{"rsa2048_e65537.pem", "rsa2048_e3.pem", "rsa3072_e65537.pem", "rsa3072_e3.pem", "rsa4096_e65537.pem", "rsa4160_e65537.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", "rsa", name))
		if err != nil {
			return nil, err
		}
		block, _ := pem.Decode(b)
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
})

func loadTestRSAKeys(tb testing.TB) []*rsa.PrivateKey {
	tb.Helper()
	keys, err := testRSAKeys()
	if err != nil {
		tb.Fatalf("test keys: %v", err)
	}
	return keys
}

func mustPublicKey(tb testing.TB, pub *rsa.PublicKey) *publicKey {
	tb.Helper()
	k, err := newPublicKey(pub)
	if err != nil {
		tb.Fatalf("newPublicKey: %v", err)
	}
	return k
}

func signSHA256(tb testing.TB, k *rsa.PrivateKey, msg []byte) []byte {
	tb.Helper()
	sum := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatalf("SignPKCS1v15: %v", err)
	}
	return sig
}

// fixedSize is n big-endian in exactly size bytes (nil if it does not fit).
func fixedSize(n *big.Int, size int) []byte {
	if n.Sign() < 0 || (n.BitLen()+7)/8 > size {
		return nil
	}
	return n.FillBytes(make([]byte, size))
}

// agreeWithStdlib fails unless our verification and rsa.VerifyPKCS1v15
// give the same verdict, and returns it.
func agreeWithStdlib(t *testing.T, pub *rsa.PublicKey, k *publicKey, msg, sig []byte) bool {
	t.Helper()
	sum := sha256.Sum256(msg)
	ours := k.verifyPKCS1v15(&sum, sig) == nil
	std := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
	if ours != std {
		t.Fatalf("%d-bit key, e=%d, %d-byte signature: ours valid=%v, crypto/rsa valid=%v", pub.N.BitLen(), pub.E, len(sig), ours, std)
	}
	return ours
}

func TestVerifyPKCS1v15MatchesStdlib(t *testing.T) {
	t.Parallel()
	keys := loadTestRSAKeys(t)
	msg := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0")
	for i, priv := range keys {
		pub := &priv.PublicKey
		k := mustPublicKey(t, pub)
		size := pub.Size()
		valid := signSHA256(t, priv, msg)
		other := keys[(i+1)%len(keys)]
		n := pub.N
		flip := func(pos int, bit byte) []byte {
			s := bytes.Clone(valid)
			s[pos] ^= bit
			return s
		}
		random := make([]byte, size)
		_, _ = rand.Read(random)
		tests := []struct {
			name  string
			msg   []byte
			sig   []byte
			valid bool
		}{
			{name: "valid", msg: msg, sig: valid, valid: true},
			{name: "other message", msg: append(bytes.Clone(msg), 'x'), sig: valid},
			{name: "first bit flipped", sig: flip(0, 0x80)},
			{name: "first byte low bit flipped", sig: flip(0, 0x01)},
			{name: "middle bit flipped", sig: flip(size/2, 0x10)},
			{name: "last bit flipped", sig: flip(size-1, 0x01)},
			{name: "truncated", sig: valid[:size-1]},
			{name: "truncated leading byte", sig: valid[1:]},
			{name: "extended with a zero", sig: append(bytes.Clone(valid), 0)},
			{name: "zero prefixed", sig: append([]byte{0}, valid...)},
			{name: "empty", sig: []byte{}},
			{name: "nil", sig: nil},
			{name: "zero", sig: make([]byte, size)},
			{name: "one", sig: fixedSize(big.NewInt(1), size)},
			{name: "N-1", sig: fixedSize(new(big.Int).Sub(n, big.NewInt(1)), size)},
			{name: "N", sig: fixedSize(n, size)},
			{name: "N+1", sig: fixedSize(new(big.Int).Add(n, big.NewInt(1)), size)},
			{name: "valid+N", sig: fixedSize(new(big.Int).Add(new(big.Int).SetBytes(valid), n), size)},
			{name: "all ones", sig: bytes.Repeat([]byte{0xff}, size)},
			{name: "random", sig: random},
			{name: "other key's signature", sig: signSHA256(t, other, msg)},
		}
		for _, tt := range tests {
			if tt.msg == nil {
				tt.msg = msg
			}
			if tt.sig == nil && tt.name != "nil" {
				continue // does not fit in size bytes for this key
			}
			t.Run(tt.name, func(t *testing.T) {
				if got := agreeWithStdlib(t, pub, k, tt.msg, tt.sig); got != tt.valid {
					t.Errorf("%d-bit e=%d: valid = %v, want %v", n.BitLen(), pub.E, got, tt.valid)
				}
			})
		}
	}
}

// rawSign is the RSA private-key operation on em itself: it makes a
// "signature" whose public operation gives back exactly em, however em is
// (mis)encoded.
func rawSign(priv *rsa.PrivateKey, em []byte) []byte {
	m := new(big.Int).SetBytes(em)
	return fixedSize(new(big.Int).Exp(m, priv.D, priv.N), priv.Size())
}

// TestVerifyPKCS1v15RefusesForgedEncodings signs, with the private key,
// encoded messages that are wrong in one place each: a verifier that
// parsed the padding instead of comparing the whole encoding could accept
// some of them. Both verifiers must accept the correct encoding (which
// checks rawSign) and refuse every other.
func TestVerifyPKCS1v15RefusesForgedEncodings(t *testing.T) {
	t.Parallel()
	msg := []byte("header.payload")
	sum := sha256.Sum256(msg)
	for _, priv := range loadTestRSAKeys(t) {
		k := mustPublicKey(t, &priv.PublicKey)
		size := priv.Size()
		build := func(blockType byte, padLen int, sep byte, prefix []byte, tail []byte) []byte {
			em := []byte{0x00, blockType}
			em = append(em, bytes.Repeat([]byte{0xff}, padLen)...)
			em = append(em, sep)
			em = append(em, prefix...)
			em = append(em, sum[:]...)
			return append(em, tail...)
		}
		full := size - 3 - len(sha256DigestInfo) - sha256.Size
		noNull := []byte{0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20}
		sha512OID := bytes.Clone(sha256DigestInfo)
		sha512OID[14] = 0x03
		tests := []struct {
			name  string
			em    []byte
			valid bool
		}{
			{"correct", build(0x01, full, 0x00, sha256DigestInfo, nil), true},
			{"block type 2", build(0x02, full, 0x00, sha256DigestInfo, nil), false},
			{"block type 0", build(0x00, full, 0x00, sha256DigestInfo, nil), false},
			{"separator not zero", build(0x01, full, 0x01, sha256DigestInfo, nil), false},
			{"DigestInfo without NULL", build(0x01, full+2, 0x00, noNull, nil), false},
			{"another hash's OID", build(0x01, full, 0x00, sha512OID, nil), false},
			{"no DigestInfo", build(0x01, full+len(sha256DigestInfo), 0x00, nil, nil), false},
			{"garbage after the hash", build(0x01, full-8, 0x00, sha256DigestInfo, bytes.Repeat([]byte{0xab}, 8)), false},
			{"short padding, garbage after", build(0x01, 8, 0x00, sha256DigestInfo, make([]byte, full-8)), false},
		}
		// One padding byte that is not 0xFF.
		bad := build(0x01, full, 0x00, sha256DigestInfo, nil)
		bad[2+full/2] = 0xfe
		tests = append(tests, struct {
			name  string
			em    []byte
			valid bool
		}{"a padding byte not FF", bad, false})
		for _, tt := range tests {
			if len(tt.em) != size {
				t.Fatalf("%s: EM of %d bytes for a %d-byte key", tt.name, len(tt.em), size)
			}
			sig := rawSign(priv, tt.em)
			if got := agreeWithStdlib(t, &priv.PublicKey, k, msg, sig); got != tt.valid {
				t.Errorf("%d-bit e=%d, %s: valid = %v, want %v", priv.N.BitLen(), priv.E, tt.name, got, tt.valid)
			}
		}
		// The same integer written shorter (a leading zero dropped) or longer.
		if got := agreeWithStdlib(t, &priv.PublicKey, k, msg, append([]byte{0}, rawSign(priv, tests[0].em)...)); got {
			t.Errorf("%d-bit: a zero-prefixed signature verified", priv.N.BitLen())
		}
	}
}

// TestVerifyPKCS1v15RefusesShortenedSignature: a valid signature that
// begins with a zero byte is the same integer without it; only the
// length rule refuses the shorter form.
func TestVerifyPKCS1v15RefusesShortenedSignature(t *testing.T) {
	t.Parallel()
	for _, priv := range loadTestRSAKeys(t)[:2] { // the 2048-bit keys: signing is cheap
		k := mustPublicKey(t, &priv.PublicKey)
		var msg, sig []byte
		for i := 0; i < 20000; i++ {
			msg = []byte("message " + strconv.Itoa(i))
			if sig = signSHA256(t, priv, msg); sig[0] == 0 {
				break
			}
		}
		if sig[0] != 0 {
			t.Fatal("no signature with a leading zero byte found")
		}
		if !agreeWithStdlib(t, &priv.PublicKey, k, msg, sig) {
			t.Fatal("the signature does not verify")
		}
		if agreeWithStdlib(t, &priv.PublicKey, k, msg, sig[1:]) {
			t.Errorf("e=%d: the signature without its leading zero verified", priv.E)
		}
	}
}

func TestVerifyPKCS1v15OtherKeyRefused(t *testing.T) {
	t.Parallel()
	keys := loadTestRSAKeys(t)
	msg := []byte("message")
	for i, signer := range keys {
		sig := signSHA256(t, signer, msg)
		for j, verifier := range keys {
			if i == j {
				continue
			}
			k := mustPublicKey(t, &verifier.PublicKey)
			if agreeWithStdlib(t, &verifier.PublicKey, k, msg, sig) {
				t.Errorf("key %d verified a signature of key %d", j, i)
			}
		}
	}
}

func TestNewPublicKeyRules(t *testing.T) {
	t.Parallel()
	keys := loadTestRSAKeys(t)
	n := keys[0].N
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	even := new(big.Int).SetBit(new(big.Int).Set(n), 0, 0)
	tests := []struct {
		name string
		pub  *rsa.PublicKey
		ok   bool
	}{
		{"2048 bits, e=65537", &keys[0].PublicKey, true},
		{"2048 bits, e=3", &keys[1].PublicKey, true},
		{"4096 bits", &keys[4].PublicKey, true},
		{"e=2^31-1", &rsa.PublicKey{N: n, E: 1<<31 - 1}, true},
		{"nil", nil, false},
		{"no modulus", &rsa.PublicKey{E: 65537}, false},
		{"1024 bits", &weak.PublicKey, false},
		{"even modulus", &rsa.PublicKey{N: even, E: 65537}, false},
		{"e=1", &rsa.PublicKey{N: n, E: 1}, false},
		{"e=2", &rsa.PublicKey{N: n, E: 2}, false},
		{"e even", &rsa.PublicKey{N: n, E: 65536}, false},
		{"e=2^31+1", &rsa.PublicKey{N: n, E: 1<<31 + 1}, false},
		{"e negative", &rsa.PublicKey{N: n, E: -3}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := newPublicKey(tt.pub)
			if (err == nil) != tt.ok {
				t.Fatalf("newPublicKey: error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (k.pub != tt.pub || k.size != tt.pub.Size() || len(k.emPrefix) != k.size-sha256.Size) {
				t.Errorf("key = size %d, prefix %d bytes; want size %d", k.size, len(k.emPrefix), tt.pub.Size())
			}
		})
	}
}

// TestEncodedMessagePrefix checks the precomputed EM against RFC 8017
// §9.2: 0x00 0x01, at least eight 0xFF, 0x00, the SHA-256 DigestInfo.
func TestEncodedMessagePrefix(t *testing.T) {
	t.Parallel()
	for _, priv := range loadTestRSAKeys(t) {
		k := mustPublicKey(t, &priv.PublicKey)
		p := k.emPrefix
		ps := len(p) - 3 - len(sha256DigestInfo)
		want := append(append(append([]byte{0x00, 0x01}, bytes.Repeat([]byte{0xff}, ps)...), 0x00), sha256DigestInfo...)
		if ps < 8 || !bytes.Equal(p, want) {
			t.Errorf("%d-bit key: EM prefix is not 00 01 FF…FF 00 DigestInfo", priv.N.BitLen())
		}
	}
}

func TestVerifyPKCS1v15Allocations(t *testing.T) {
	keys := loadTestRSAKeys(t)
	k := mustPublicKey(t, &keys[0].PublicKey)
	msg := []byte("message")
	sig := signSHA256(t, keys[0], msg)
	sum := sha256.Sum256(msg)
	if n := testing.AllocsPerRun(20, func() {
		if k.verifyPKCS1v15(&sum, sig) != nil {
			t.Fatal("valid signature refused")
		}
	}); n != 0 {
		t.Errorf("2048-bit verification allocates %v times, want 0", n)
	}
}

// FuzzVerifyPKCS1v15 checks that our verification agrees with
// rsa.VerifyPKCS1v15 on one of the test keys (keyIndex), for a signature
// that is, by mode: 0 data itself; 1 a valid signature of msg XORed with
// data; 2 a valid signature with data appended; 3 a valid signature
// truncated by len(data) bytes; 4 N plus or minus the integer data (bit 0
// of the first byte chooses); 5 data as an integer, padded to the key size.
// The seed corpus is in testdata/fuzz/FuzzVerifyPKCS1v15.
func FuzzVerifyPKCS1v15(f *testing.F) {
	keys := loadTestRSAKeys(f)
	pubs := make([]*publicKey, len(keys))
	for i, k := range keys {
		pubs[i] = mustPublicKey(f, &k.PublicKey)
	}
	f.Fuzz(func(t *testing.T, keyIndex uint8, msg []byte, mode uint8, data []byte) {
		i := int(keyIndex) % len(keys)
		priv, k := keys[i], pubs[i]
		size := priv.Size()
		var sig []byte
		switch mode % 6 {
		case 0:
			sig = data
		case 1:
			sig = signSHA256(t, priv, msg)
			for j, b := range data {
				sig[j%size] ^= b
			}
		case 2:
			sig = append(signSHA256(t, priv, msg), data...)
		case 3:
			sig = signSHA256(t, priv, msg)
			sig = sig[:max(0, size-len(data))]
		case 4:
			d := new(big.Int).SetBytes(data)
			if len(data) > 0 && data[0]&1 == 1 {
				d.Neg(d)
			}
			sig = fixedSize(d.Add(d, priv.N), size)
		case 5:
			sig = fixedSize(new(big.Int).SetBytes(data), size)
		}
		valid := agreeWithStdlib(t, &priv.PublicKey, k, msg, sig)
		if mode%6 == 1 && len(data) == 0 && !valid {
			t.Fatal("a valid signature was refused")
		}
	})
}

// TestVerifyPKCS1v15Concurrent: a key is shared by every request; its
// precomputed modulus must only be read (run with -race).
func TestVerifyPKCS1v15Concurrent(t *testing.T) {
	t.Parallel()
	keys := loadTestRSAKeys(t)
	for _, priv := range []*rsa.PrivateKey{keys[0], keys[4], keys[5]} {
		k := mustPublicKey(t, &priv.PublicKey)
		msg := []byte("shared")
		sig := signSHA256(t, priv, msg)
		sum := sha256.Sum256(msg)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 10 {
					s := sig
					if (g+i)%2 == 1 {
						s = bytes.Clone(sig)
						s[i] ^= 1
					}
					if err := k.verifyPKCS1v15(&sum, s); (err == nil) != ((g+i)%2 == 0) {
						t.Errorf("%d-bit, goroutine %d, try %d: verification = %v", priv.N.BitLen(), g, i, err)
					}
				}
			})
		}
		wg.Wait()
	}
}
