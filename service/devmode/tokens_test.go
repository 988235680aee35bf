package devmode

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkjwt "github.com/clerk/clerk-sdk-go/v2/jwt"
)

var testNow = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

func TestServiceToken(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	tok, err := keys.ServiceToken(Audience("8080"), PushServiceAccount, testNow, 90*time.Second)
	if err != nil {
		t.Fatalf("ServiceToken: %v", err)
	}
	header, claims := verifyJWT(t, tok, &keys.Google.Key.PublicKey)
	if got, want := header["kid"], keys.Google.KID; got != want {
		t.Errorf("kid = %v, want %v", got, want)
	}
	if got, want := header["alg"], "RS256"; got != want {
		t.Errorf("alg = %v, want %v", got, want)
	}
	for name, want := range map[string]any{
		"iss":            "https://accounts.google.com",
		"aud":            "http://127.0.0.1:8080",
		"email":          PushServiceAccount,
		"email_verified": true,
	} {
		if got := claims[name]; got != want {
			t.Errorf("claim %s = %#v, want %#v", name, got, want)
		}
	}
	if got, want := numClaim(t, claims, "exp"), testNow.Add(90*time.Second).Unix(); got != want {
		t.Errorf("exp = %d, want %d", got, want)
	}
}

func TestServiceTokenErrors(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	tests := []struct {
		name, aud, email string
		ttl              time.Duration
	}{
		{"no audience", "", PushServiceAccount, time.Hour},
		{"no email", Audience("8080"), "", time.Hour},
		{"zero ttl", Audience("8080"), PushServiceAccount, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tok, err := keys.ServiceToken(tt.aud, tt.email, testNow, tt.ttl); err == nil || tok != "" {
				t.Errorf("ServiceToken = %q, %v; want no token and an error", tok, err)
			}
		})
	}
}

func TestUserTokenClaims(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	tests := []struct {
		name    string
		claims  UserClaims
		want    map[string]any // claims that must be present with these values
		wantOrg map[string]any // nil: no "o" claim
		wantFea string
	}{
		{
			name:   "no org",
			claims: UserClaims{Subject: "user_1", SessionID: "sess_1"},
			want:   map[string]any{"iss": ClerkIssuer, "sub": "user_1", "sid": "sess_1", "v": float64(2)},
		},
		{
			name:    "org role only",
			claims:  UserClaims{Subject: "user_2", OrgID: "org_1", OrgRole: "org:admin", AuthorizedParty: "http://localhost:3000"},
			want:    map[string]any{"sub": "user_2", "azp": "http://localhost:3000"},
			wantOrg: map[string]any{"id": "org_1", "rol": "admin"},
		},
		{
			name: "org permissions",
			claims: UserClaims{Subject: "user_3", OrgID: "org_2", OrgRole: "member",
				OrgPermissions: []string{"org:events:read", "org:events:write", "billing:read", "org:events:read"}},
			want:    map[string]any{"sub": "user_3"},
			wantOrg: map[string]any{"id": "org_2", "rol": "member", "per": "read,write", "fpm": "3,1"},
			wantFea: "o:events,o:billing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := keys.UserToken(tt.claims, testNow, time.Minute)
			if err != nil {
				t.Fatalf("UserToken: %v", err)
			}
			header, claims := verifyJWT(t, tok, &keys.Clerk.Key.PublicKey)
			if got, want := header["kid"], keys.Clerk.KID; got != want {
				t.Errorf("kid = %v, want %v", got, want)
			}
			for name, want := range tt.want {
				if got := claims[name]; got != want {
					t.Errorf("claim %s = %#v, want %#v", name, got, want)
				}
			}
			if _, ok := tt.want["azp"]; !ok {
				if got, ok := claims["azp"]; ok {
					t.Errorf("claim azp = %#v, want none", got)
				}
			}
			if got, want := numClaim(t, claims, "exp"), testNow.Add(time.Minute).Unix(); got != want {
				t.Errorf("exp = %d, want %d", got, want)
			}
			if got, want := numClaim(t, claims, "nbf"), testNow.Unix(); got != want {
				t.Errorf("nbf = %d, want %d", got, want)
			}
			gotOrg, _ := claims["o"].(map[string]any)
			if !reflect.DeepEqual(gotOrg, tt.wantOrg) {
				t.Errorf("claim o = %#v, want %#v", claims["o"], tt.wantOrg)
			}
			gotFea, _ := claims["fea"].(string)
			if gotFea != tt.wantFea {
				t.Errorf("claim fea = %q, want %q", gotFea, tt.wantFea)
			}
		})
	}
}

// TestUserTokenParsedByClerkSDK checks that clerk-sdk-go, the reference
// reader of Clerk's version 2 claims, reads the organization back.
func TestUserTokenParsedByClerkSDK(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	tests := []struct {
		name      string
		claims    UserClaims
		wantRole  string
		wantPerms []string
	}{
		{"no org", UserClaims{Subject: "user_1"}, "", nil},
		{"role only", UserClaims{Subject: "user_1", OrgID: "org_1", OrgRole: "admin"}, "org:admin", nil},
		{"prefixed role", UserClaims{Subject: "user_1", OrgID: "org_1", OrgRole: "org:admin"}, "org:admin", nil},
		{
			"permissions on several features",
			UserClaims{Subject: "user_1", OrgID: "org_1", OrgRole: "member", AuthorizedParty: "http://localhost:5173",
				OrgPermissions: []string{"org:events:read", "org:events:write", "org:billing:read", "sys_memberships:manage"}},
			"org:member",
			[]string{"org:billing:read", "org:events:read", "org:events:write", "org:sys_memberships:manage"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := keys.UserToken(tt.claims, testNow, time.Minute)
			if err != nil {
				t.Fatalf("UserToken: %v", err)
			}
			got, err := clerkjwt.Verify(context.Background(), &clerkjwt.VerifyParams{
				Token: tok,
				JWK: &clerk.JSONWebKey{
					Key: &keys.Clerk.Key.PublicKey, KeyID: keys.Clerk.KID, Algorithm: "RS256", Use: "sig",
				},
				Clock: fixedClock(testNow.Add(time.Second)),
			})
			if err != nil {
				t.Fatalf("clerk jwt.Verify: %v", err)
			}
			if got.Subject != tt.claims.Subject {
				t.Errorf("Subject = %q, want %q", got.Subject, tt.claims.Subject)
			}
			if got.ActiveOrganizationID != tt.claims.OrgID {
				t.Errorf("ActiveOrganizationID = %q, want %q", got.ActiveOrganizationID, tt.claims.OrgID)
			}
			if got.ActiveOrganizationRole != tt.wantRole {
				t.Errorf("ActiveOrganizationRole = %q, want %q", got.ActiveOrganizationRole, tt.wantRole)
			}
			gotPerms := slices.Sorted(slices.Values(got.ActiveOrganizationPermissions))
			if len(gotPerms) == 0 {
				gotPerms = nil
			}
			if !slices.Equal(gotPerms, tt.wantPerms) {
				t.Errorf("ActiveOrganizationPermissions = %q, want %q", gotPerms, tt.wantPerms)
			}
			if got.AuthorizedParty != tt.claims.AuthorizedParty {
				t.Errorf("AuthorizedParty = %q, want %q", got.AuthorizedParty, tt.claims.AuthorizedParty)
			}
		})
	}
}

func TestUserTokenErrors(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	tests := []struct {
		name    string
		claims  UserClaims
		ttl     time.Duration
		wantErr string
	}{
		{"no subject", UserClaims{}, time.Hour, "subject"},
		{"zero ttl", UserClaims{Subject: "u"}, 0, "ttl"},
		{"role without org", UserClaims{Subject: "u", OrgRole: "admin"}, time.Hour, "org ID"},
		{"permission without org", UserClaims{Subject: "u", OrgPermissions: []string{"org:a:b"}}, time.Hour, "org ID"},
		{"org without role", UserClaims{Subject: "u", OrgID: "org_1"}, time.Hour, "role"},
		{"permission without feature", UserClaims{Subject: "u", OrgID: "org_1", OrgRole: "admin", OrgPermissions: []string{"org:read"}}, time.Hour, "org:<feature>:<permission>"},
		{"permission with empty part", UserClaims{Subject: "u", OrgID: "org_1", OrgRole: "admin", OrgPermissions: []string{"org:events:"}}, time.Hour, "org:<feature>:<permission>"},
		{"permission with comma", UserClaims{Subject: "u", OrgID: "org_1", OrgRole: "admin", OrgPermissions: []string{"org:a:b,c"}}, time.Hour, "org:<feature>:<permission>"},
		{"permission with extra colon", UserClaims{Subject: "u", OrgID: "org_1", OrgRole: "admin", OrgPermissions: []string{"org:a:b:c"}}, time.Hour, "org:<feature>:<permission>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := keys.UserToken(tt.claims, testNow, tt.ttl)
			if err == nil || tok != "" {
				t.Fatalf("UserToken = %q, %v; want no token and an error", tok, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }
