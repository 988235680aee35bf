package authn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json"
)

// NewDiscoveredKeySet returns a remote key set whose URL is the jwks_uri of
// the issuer's OpenID Connect discovery document,
// <issuer>/.well-known/openid-configuration (OpenID Connect Discovery 1.0
// §4). The document is read on every fetch of the keys, in the background
// like them; its issuer must equal issuer exactly, and its jwks_uri must
// be https (http only to a loopback address).
func NewDiscoveredKeySet(issuer string, opts KeySetOptions) *KeySet {
	k := NewRemoteKeySet("", opts)
	k.issuer = issuer
	return k
}

// discoveryURL is where an issuer publishes its discovery document.
func discoveryURL(issuer string) string {
	if !strings.Contains(issuer, "://") { // Google's short spelling
		issuer = "https://" + issuer
	}
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// discover reads the issuer's discovery document and returns its jwks_uri.
func (k *KeySet) discover(ctx context.Context) (string, error) {
	body, _, err := k.get(ctx, discoveryURL(k.issuer), "")
	if err != nil {
		return "", fmt.Errorf("authn: discovery: %w", err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("authn: discovery document: %w", err)
	}
	if doc.Issuer != k.issuer && !(isGoogleIssuer(doc.Issuer) && isGoogleIssuer(k.issuer)) {
		return "", fmt.Errorf("authn: discovery document names issuer %q, not %q", clip(doc.Issuer), k.issuer)
	}
	if !secureURL(doc.JWKSURI) {
		return "", errors.New("authn: discovery document's jwks_uri is not an https URL")
	}
	return doc.JWKSURI, nil
}

// secureURL reports whether u is an https URL, or an http one to a
// loopback address (a local stand-in): keys fetched in the clear could be
// replaced on the way.
func secureURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	return p.Scheme == "https" || p.Scheme == "http" && loopback(p.Hostname())
}

// loopback reports whether host is localhost or a loopback IP.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
