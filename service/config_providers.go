package service

import (
	"fmt"
	"os"
	"strings"

	"github.com/cloudrun-authn/pushgate/authn"
)

// oidcProviders reads AUTH_OIDC_PROVIDERS: a JSON array of providers, or
// "@" and the path of a file that holds one. Every problem is returned,
// each naming the variable (and the entry).
func oidcProviders(value string) ([]authn.OIDCProvider, []string) {
	if value == "" {
		return nil, nil
	}
	data := []byte(value)
	if path, ok := strings.CutPrefix(value, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, []string{fmt.Sprintf("AUTH_OIDC_PROVIDERS: cannot read %s: %v", path, errReason(err))}
		}
		data = b
	}
	providers, err := authn.ParseOIDCProviders(data)
	if err != nil {
		var problems []string
		for _, line := range strings.Split(err.Error(), "\n") {
			problems = append(problems, "AUTH_OIDC_PROVIDERS: "+line)
		}
		return nil, problems
	}
	return providers, nil
}

// errReason is a file error's reason without the path os repeats in it.
func errReason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// gatewayProblems checks AUTH_GATEWAY_SERVICE_ACCOUNTS: emails, and Google
// auth on (a gateway proves itself with a Google token).
func gatewayProblems(c Config) []string {
	var problems []string
	if len(c.GatewayServiceAccounts) > 0 && !c.GoogleOn() {
		problems = append(problems, "AUTH_GATEWAY_SERVICE_ACCOUNTS: set, but Google auth is off; a gateway calls with a "+
			"Google ID token, so set AUTH_GOOGLE_AUDIENCES (and GOOGLE_CLOUD_PROJECT)")
	}
	for _, e := range c.GatewayServiceAccounts {
		if strings.Count(e, "@") != 1 || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
			problems = append(problems, fmt.Sprintf("AUTH_GATEWAY_SERVICE_ACCOUNTS: %q is not an email address", e))
		}
	}
	return problems
}
