package authn_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/cloudrun-authn/pushgate/authn"
)

func TestPrincipalClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.clerkClaims()
	c["plan"] = "pro"
	c["metadata"] = map[string]any{"seats": 3, "tags": []string{"a", "b"}}
	tok := sign(t, clerkKey, c)
	type custom struct {
		Subject  string `json:"sub"`
		Plan     string `json:"plan"`
		Metadata struct {
			Seats int      `json:"seats"`
			Tags  []string `json:"tags"`
		} `json:"metadata"`
	}
	for _, pass := range []string{"verified", "cached"} {
		p, err := f.auth.Authenticate(bearer(http.MethodGet, tok))
		if err != nil {
			t.Fatalf("%s: Authenticate: %v", pass, err)
		}
		var got custom
		if err := p.Claims(&got); err != nil {
			t.Fatalf("%s: Claims: %v", pass, err)
		}
		if got.Subject != clerkUser || got.Plan != "pro" || got.Metadata.Seats != 3 || !reflect.DeepEqual(got.Metadata.Tags, []string{"a", "b"}) {
			t.Errorf("%s: claims = %+v", pass, got)
		}
		var all map[string]any
		if err := p.Claims(&all); err != nil || len(all) != len(c) {
			t.Errorf("%s: Claims into a map: %d claims, %v; want %d", pass, len(all), err, len(c))
		}
		// Through the context, as handlers get it.
		q, _ := authn.PrincipalFrom(authn.ContextWithPrincipal(context.Background(), p))
		var again custom
		if err := q.Claims(&again); err != nil || again.Plan != "pro" {
			t.Errorf("%s: Claims after ContextWithPrincipal: %+v, %v", pass, again, err)
		}
	}
}

func TestPrincipalClaimsWithoutToken(t *testing.T) {
	t.Parallel()
	p := authn.Principal{Kind: authn.KindUser, Subject: "user_1"}
	var v map[string]any
	if err := p.Claims(&v); err == nil {
		t.Error("Claims of a Principal made by hand succeeded, want an error")
	}
	if err := p.Claims(nil); err == nil {
		t.Error("Claims(nil) succeeded")
	}
}

// scribbler is a claim type whose UnmarshalJSON overwrites its input.
type scribbler struct{}

func (*scribbler) UnmarshalJSON(b []byte) error {
	for i := range b {
		b[i] = 'X'
	}
	return nil
}

// TestPrincipalClaimsAreNotShared: Claims hands json.Unmarshal a copy, so
// that an UnmarshalJSON that writes to its input cannot change the claims
// other requests with the same token (the token cache) see.
func TestPrincipalClaimsAreNotShared(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.googleClaims()
	c["custom"] = "value"
	tok := sign(t, googleKey, c)
	p, err := f.auth.Authenticate(bearer(http.MethodGet, tok))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Custom scribbler `json:"custom"`
	}
	if err := p.Claims(&s); err != nil {
		t.Fatal(err)
	}
	cached, err := f.auth.Authenticate(bearer(http.MethodGet, tok))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []authn.Principal{p, cached} {
		var got struct {
			Custom string `json:"custom"`
			Email  string `json:"email"`
		}
		if err := q.Claims(&got); err != nil || got.Custom != "value" || got.Email != testEmail || q.Email != testEmail {
			t.Errorf("claims after a scribbling decode: %+v, %v (email %q)", got, err, q.Email)
		}
	}
}

func TestPrincipalClaimsTypeErrorIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, googleKey, f.googleClaims())))
	if err != nil {
		t.Fatal(err)
	}
	var wrong struct {
		Email int `json:"email"`
	}
	var typeErr *json.UnmarshalTypeError
	if err := p.Claims(&wrong); !errors.As(err, &typeErr) {
		t.Errorf("Claims into a mistyped struct: %v, want a *json.UnmarshalTypeError", err)
	}
}
