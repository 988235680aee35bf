// Package outbound makes service-to-service calls from a pushgate service to
// another service that checks Google ID tokens: another pushgate service, a
// Cloud Run service, Cloud Functions. The client it returns adds
// "Authorization: Bearer <Google-signed ID token>" for the called service's
// audience to every request, and refreshes the token before it expires.
//
// The audience must be what the called service accepts: for pushgate, one of
// its AUTH_GOOGLE_AUDIENCES, which the deploy scripts set to the service URL
// (https://SERVICE-....run.app, no path). Audience derives it from a URL.
//
// On Cloud Run the token is that of the calling service's own service
// account, from the metadata server; elsewhere it comes from Application
// Default Credentials, which must be a service account (or an impersonated
// one): a person's own login cannot mint ID tokens for an audience.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"
)

// ErrNoAudience is returned for an empty audience.
var ErrNoAudience = errors.New("outbound: empty audience")

// NewClient returns an HTTP client whose requests carry a Google ID token for
// audience. opts go to idtoken.NewClient unchanged, e.g.
// option.WithAuthCredentialsFile(option.ServiceAccount, path) to use a key
// file instead of Application Default Credentials. It fails, without any
// network call, for an empty audience.
//
//	client, err := outbound.NewClient(ctx, "https://billing-123.us-central1.run.app")
//	resp, err := client.Post("https://billing-123.us-central1.run.app/api/charge", ...)
func NewClient(ctx context.Context, audience string, opts ...option.ClientOption) (*http.Client, error) {
	if strings.TrimSpace(audience) == "" {
		return nil, ErrNoAudience
	}
	c, err := idtoken.NewClient(ctx, audience, opts...)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	return c, nil
}

// Audience returns the audience pushgate expects for calls to rawURL: its
// scheme and host, without path, query or trailing slash. Using the full URL
// of an endpoint as the audience is a common mistake: its token is then
// rejected, because the called service accepts only its own base URL.
func Audience(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("outbound: audience of %q: %w", rawURL, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("outbound: audience of %q: want an http(s) URL with a host", rawURL)
	}
	return u.Scheme + "://" + u.Host, nil
}
