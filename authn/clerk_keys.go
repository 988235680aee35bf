package authn

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// IssuerFromPublishableKey derives a Clerk instance's issuer from its
// publishable key: after "pk_test_" or "pk_live_" comes the standard base64
// (padded or not) of the Frontend API host followed by "$"; the issuer is
// "https://<host>". Anything else is an error.
func IssuerFromPublishableKey(pk string) (string, error) {
	var rest string
	switch {
	case strings.HasPrefix(pk, "pk_test_"):
		rest = pk[len("pk_test_"):]
	case strings.HasPrefix(pk, "pk_live_"):
		rest = pk[len("pk_live_"):]
	default:
		return "", errors.New("authn: publishable key must start with pk_test_ or pk_live_")
	}
	decoded, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil {
		return "", errors.New("authn: publishable key is not valid base64")
	}
	host, ok := strings.CutSuffix(string(decoded), "$")
	if !ok || !validHost(host) {
		return "", errors.New("authn: publishable key does not encode a Frontend API host")
	}
	return "https://" + host, nil
}

// validHost accepts a DNS name with an optional port: letters, digits,
// '-', '.', ':' only, with at least one dot or a port.
func validHost(h string) bool {
	if h == "" || len(h) > 253 || h[0] == '.' || h[0] == '-' || h[len(h)-1] == '.' {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == ':':
		default:
			return false
		}
	}
	return strings.ContainsAny(h, ".:")
}

// ParseRSAPublicKeyPEM parses an RSA public key in PEM, as Clerk shows it
// (CLERK_JWT_KEY): a PKIX "PUBLIC KEY" or PKCS #1 "RSA PUBLIC KEY" block.
// Literal "\n" sequences, as environment variables often carry them, are
// read as newlines. The key must pass the rules of every key set: a
// modulus of at least 2048 bits that is odd, an odd exponent in [3, 2³¹-1].
func ParseRSAPublicKeyPEM(s string) (*rsa.PublicKey, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), `\n`, "\n")
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("authn: no PEM block in public key")
	}
	var pub *rsa.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("authn: parse public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("authn: public key is not RSA")
		}
		pub = rk
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("authn: parse public key: %w", err)
		}
		pub = k
	default:
		return nil, fmt.Errorf("authn: unexpected PEM block %q", block.Type)
	}
	if err := checkRSAKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}
