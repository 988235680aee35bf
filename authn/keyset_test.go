package authn_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudrun-authn/pushgate/authn"
	"github.com/cloudrun-authn/pushgate/authn/authntest"
	"github.com/cloudrun-authn/pushgate/authn/mint"
)

func newTestKeySet(t *testing.T, signers ...*mint.Signer) (*authn.KeySet, *authntest.KeyServer, *fakeClock) {
	t.Helper()
	srv := authntest.NewKeyServer(t, signers...)
	clock := newFakeClock()
	ks := authn.NewRemoteKeySet(srv.URL, authn.KeySetOptions{Name: "test", Now: clock.Now})
	return ks, srv, clock
}

func TestKeySetConcurrentRequestsShareOneFetch(t *testing.T) {
	t.Parallel()
	ks, srv, _ := newTestKeySet(t, googleKey)
	release := srv.Hold()
	defer release()

	const n = 50
	var started, done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			_, err := ks.Key(context.Background(), googleKey.KID)
			errs <- err
		}()
	}
	started.Wait()
	release()
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Key: %v", err)
		}
	}
	if got := srv.Fetches(); got != 1 {
		t.Errorf("fetches = %d, want 1", got)
	}
}

func TestKeySetStartFetchesInBackground(t *testing.T) {
	t.Parallel()
	ks, srv, _ := newTestKeySet(t, googleKey)
	ks.Start(context.Background())
	if _, err := ks.Key(context.Background(), googleKey.KID); err != nil {
		t.Fatalf("Key: %v", err)
	}
	if got := srv.Fetches(); got != 1 {
		t.Errorf("fetches = %d, want 1 (Start and first use share the fetch)", got)
	}
}

func TestKeySetUnknownKidsAreRateLimited(t *testing.T) {
	t.Parallel()
	ks, srv, clock := newTestKeySet(t, googleKey)
	for i := range 60 {
		_, err := ks.Key(context.Background(), fmt.Sprintf("unknown-%d", i))
		if !errors.Is(err, authn.ErrUnknownKey) {
			t.Fatalf("kid %d: got %v, want ErrUnknownKey", i, err)
		}
		clock.Advance(time.Second)
	}
	if got := srv.Fetches(); got < 2 || got > 3 {
		t.Errorf("fetches over 60 s of unknown kids = %d, want 2 or 3 (one per 30 s)", got)
	}
	if _, err := ks.Key(context.Background(), googleKey.KID); err != nil {
		t.Errorf("known kid after unknown ones: %v", err)
	}
}

// TestKeySetRotation: a key published just after a fetch is accepted at
// first sight (Clerk's tokens switch to a new key the moment it is
// rotated); a second new key within 30 s of that refetch is refused
// without a fetch, and accepted once 30 s have passed.
func TestKeySetRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, googleKey, f.googleClaims()))); err != nil {
		t.Fatalf("first token: %v", err)
	}
	rotated := mustSigner(t, "google-3")
	f.google.SetKeys(googleKey2, rotated)
	f.clock.Advance(time.Second)
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, rotated, f.googleClaims()))); err != nil {
		t.Fatalf("key published 1 s after the fetch: %v", err)
	}
	if got := f.google.Fetches(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (one refetch for the new kid)", got)
	}

	again := mustSigner(t, "google-4")
	f.google.SetKeys(rotated, again)
	f.clock.Advance(5 * time.Second)
	tok := sign(t, again, f.googleClaims())
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, tok)); !errors.Is(err, authn.ErrUnknownKey) {
		t.Fatalf("second new key 5 s after a refetch for an unknown kid: got %v, want ErrUnknownKey", err)
	}
	if got := f.google.Fetches(); got != 2 {
		t.Fatalf("fetches = %d, want still 2", got)
	}
	f.clock.Advance(authn.UnknownKeyRefetchInterval)
	if _, err := f.auth.Authenticate(bearer(http.MethodGet, sign(t, again, f.googleClaims()))); err != nil {
		t.Fatalf("second new key 30 s later: %v", err)
	}
	if got := f.google.Fetches(); got != 3 {
		t.Errorf("fetches = %d, want 3", got)
	}
}

// TestKeySetRefetchJoinsFetchUnderWay: an unknown kid that arrives while
// a fetch is under way waits for that fetch instead of starting another.
func TestKeySetRefetchJoinsFetchUnderWay(t *testing.T) {
	t.Parallel()
	ks, srv, clock := newTestKeySet(t, googleKey)
	if _, err := ks.Key(context.Background(), googleKey.KID); err != nil {
		t.Fatal(err)
	}
	rotated := mustSigner(t, "google-rot")
	srv.SetKeys(googleKey, rotated)
	clock.Advance(authn.DefaultKeyLifetime + time.Second)
	release := srv.Hold()
	refreshed := make(chan error, 1)
	go func() { refreshed <- ks.Refresh(context.Background()) }() // the fetch under way
	for srv.Fetches() < 2 {
		runtime.Gosched()
	}
	found := make(chan error, 1)
	go func() {
		_, err := ks.Key(context.Background(), rotated.KID)
		found <- err
	}()
	for range 100 { // let the lookup reach the held fetch (a new fetch would be counted now)
		runtime.Gosched()
	}
	release()
	if err := <-refreshed; err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := <-found; err != nil {
		t.Fatalf("new kid during a fetch: %v", err)
	}
	if got := srv.Fetches(); got != 2 {
		t.Errorf("fetches = %d, want 2 (the new kid joined the fetch under way)", got)
	}
}

func TestKeySetOutageKeepsLastGoodKeys(t *testing.T) {
	t.Parallel()
	ks, srv, clock := newTestKeySet(t, googleKey)
	ctx := context.Background()
	if _, err := ks.Key(ctx, googleKey.KID); err != nil {
		t.Fatal(err)
	}
	srv.SetDown(true)
	clock.Advance(2 * authn.DefaultKeyLifetime) // keys stale: a refresh is due
	if _, err := ks.Key(ctx, googleKey.KID); err != nil {
		t.Fatalf("during outage: %v", err)
	}
	eventually(t, "the background refresh fails", func() bool {
		return ks.Stats() == authn.KeySetStats{Fetches: 2, Failures: 1}
	})
	if _, err := ks.Key(ctx, googleKey.KID); err != nil {
		t.Fatalf("during outage, again: %v", err)
	}
	if got, want := ks.Stats(), (authn.KeySetStats{Fetches: 2, Failures: 1}); got != want {
		t.Errorf("stats = %+v, want %+v (no retry before %v)", got, want, authn.FetchRetryInterval)
	}
	clock.Advance(authn.FetchRetryInterval)
	srv.SetDown(false)
	if _, err := ks.Key(ctx, googleKey.KID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the background refresh succeeds", func() bool {
		return ks.Stats() == authn.KeySetStats{Fetches: 3, Failures: 1}
	})
}

// TestKeySetStaleKeysDoNotWaitForSlowServer: with stale keys and a key
// server that does not answer, Key returns the stale key at once and the
// refresh goes on in the background. Were Key to wait, the held fetch would
// time out and count as a failure.
func TestKeySetStaleKeysDoNotWaitForSlowServer(t *testing.T) {
	t.Parallel()
	ks, srv, clock := newTestKeySet(t, googleKey)
	ctx := context.Background()
	if _, err := ks.Key(ctx, googleKey.KID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * authn.DefaultKeyLifetime)
	release := srv.Hold()
	if _, err := ks.Key(ctx, googleKey.KID); err != nil {
		t.Fatalf("stale key: %v", err)
	}
	release()
	eventually(t, "the background refresh succeeds", func() bool {
		return ks.Stats() == authn.KeySetStats{Fetches: 2}
	})
}

// eventually waits, up to 10 s, for cond: background work finishing.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestKeySetNoKeysIs503ThenRecovers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.google.SetDown(true)
	tok := sign(t, googleKey, f.googleClaims())

	for i := range 2 {
		rec := f.serve(bearer(http.MethodGet, tok))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("attempt %d: status = %d, want 503", i, rec.Code)
		}
		if got := rec.Header().Get("Retry-After"); got == "" || got == "0" {
			t.Errorf("Retry-After = %q, want a positive delay", got)
		}
		if rec.Header().Get("WWW-Authenticate") != "" {
			t.Error("503 carries WWW-Authenticate; an outage is not the caller's fault")
		}
	}
	if got := f.google.Fetches(); got != 1 {
		t.Errorf("fetches = %d, want 1 (no retry storm)", got)
	}
	f.google.SetDown(false)
	f.clock.Advance(authn.FetchRetryInterval)
	if rec := f.serve(bearer(http.MethodGet, tok)); rec.Code != http.StatusOK {
		t.Fatalf("after recovery: status = %d, want 200 (%s)", rec.Code, rec.Body)
	}
	ok := f.metrics.count(t, "pushgate.keys.fetches", "provider=google", "result=ok")
	failed := f.metrics.count(t, "pushgate.keys.fetches", "provider=google", "result=error")
	if ok != 1 || failed != 1 {
		t.Errorf("key fetches ok/error = %d/%d, want 1/1", ok, failed)
	}
}

func TestKeySetLifetimeFromCacheControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cacheControl string
		want         time.Duration
	}{
		{"", time.Hour},
		{"no-cache", time.Hour},
		{"public, max-age=600, must-revalidate", 10 * time.Minute},
		{"max-age=10", time.Minute},
		{"max-age=0", time.Minute},
		{"max-age=999999", 24 * time.Hour},
		{"max-age=bogus", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.cacheControl, func(t *testing.T) {
			t.Parallel()
			ks, srv, clock := newTestKeySet(t, googleKey)
			srv.SetCacheControl(tt.cacheControl)
			if err := ks.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := ks.Expires().Sub(clock.Now()); got != tt.want {
				t.Errorf("lifetime = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeySetRefusesBadResponses(t *testing.T) {
	t.Parallel()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	oversize := append(mint.JWKSOf(googleKey), bytes.Repeat([]byte(" "), authn.DefaultMaxKeySetBytes)...)
	jwk := func(n *big.Int, e int64) []byte {
		return []byte(`{"keys":[{"kty":"RSA","kid":"k","alg":"RS256","n":"` + base64.RawURLEncoding.EncodeToString(n.Bytes()) +
			`","e":"` + base64.RawURLEncoding.EncodeToString(big.NewInt(e).Bytes()) + `"}]}`)
	}
	n := googleKey.PublicKey().N
	even := new(big.Int).SetBit(new(big.Int).Set(n), 0, 0)
	tests := []struct {
		name string
		body []byte
	}{
		{"oversize", oversize},
		{"not JSON", []byte("<html>")},
		{"no keys", []byte(`{"keys":[]}`)},
		{"only a weak key", mint.JWKSOf(&mint.Signer{Key: weak, KID: "weak"})},
		{"only an EC key", []byte(`{"keys":[{"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"}]}`)},
		{"RS256 key marked for encryption", []byte(`{"keys":[{"kty":"RSA","kid":"enc","use":"enc","n":"` + googleKey.JWK().N + `","e":"AQAB"}]}`)},
		{"only a key with an even modulus", jwk(even, 65537)},
		{"only a key with exponent 1", jwk(n, 1)},
		{"only a key with an even exponent", jwk(n, 65536)},
		{"only a key with a 2^31+1 exponent", jwk(n, 1<<31+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks, srv, clock := newTestKeySet(t, googleKey)
			ctx := context.Background()
			if _, err := ks.Key(ctx, googleKey.KID); err != nil {
				t.Fatal(err)
			}
			srv.SetBody(tt.body)
			if err := ks.Refresh(ctx); err == nil {
				t.Fatal("Refresh accepted the response")
			}
			if _, err := ks.Key(ctx, googleKey.KID); err != nil {
				t.Errorf("last good key lost: %v", err)
			}

			fresh := authn.NewRemoteKeySet(srv.URL, authn.KeySetOptions{Now: clock.Now})
			if _, err := fresh.Key(ctx, googleKey.KID); !errors.Is(err, authn.ErrKeysUnavailable) {
				t.Errorf("with only this response: got %v, want ErrKeysUnavailable", err)
			}
		})
	}
}

func TestClerkKeyServerRequiresSecret(t *testing.T) {
	t.Parallel()
	srv := authntest.NewClerkKeyServer(t, clerkSecret, clerkKey)
	url := srv.URL + authntest.ClerkJWKSPath
	ctx := context.Background()
	good := authn.NewRemoteKeySet(url, authn.KeySetOptions{BearerToken: clerkSecret})
	if _, err := good.Key(ctx, clerkKey.KID); err != nil {
		t.Errorf("with the secret: %v", err)
	}
	bad := authn.NewRemoteKeySet(url, authn.KeySetOptions{})
	if err := bad.Refresh(ctx); err == nil {
		t.Error("without the secret: Refresh succeeded")
	}
}

func TestStaticKeySet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	byKID := authn.NewStaticKeySet(map[string]*rsa.PublicKey{googleKey.KID: googleKey.PublicKey()})
	if k, err := byKID.Key(ctx, googleKey.KID); err != nil || !googleKey.PublicKey().Equal(k) {
		t.Errorf("Key(known) = %v, %v", k, err)
	}
	if _, err := byKID.Key(ctx, "other"); !errors.Is(err, authn.ErrUnknownKey) {
		t.Errorf("Key(unknown) err = %v, want ErrUnknownKey", err)
	}
	anyKID := authn.NewStaticKeySet(map[string]*rsa.PublicKey{"": clerkKey.PublicKey()})
	if _, err := anyKID.Key(ctx, "whatever"); err != nil {
		t.Errorf("wildcard key: %v", err)
	}
	empty := authn.NewStaticKeySet(nil)
	if _, err := empty.Key(ctx, "x"); !errors.Is(err, authn.ErrKeysUnavailable) {
		t.Errorf("empty static set: got %v, want ErrKeysUnavailable", err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	evenE := &rsa.PublicKey{N: googleKey.PublicKey().N, E: 4}
	mixed := authn.NewStaticKeySet(map[string]*rsa.PublicKey{"good": googleKey.PublicKey(), "weak": &weak.PublicKey, "even-e": evenE, "nil": nil})
	if _, err := mixed.Key(ctx, "good"); err != nil {
		t.Errorf("good key beside bad ones: %v", err)
	}
	for _, kid := range []string{"weak", "even-e", "nil"} {
		if _, err := mixed.Key(ctx, kid); !errors.Is(err, authn.ErrUnknownKey) {
			t.Errorf("Key(%s) err = %v, want ErrUnknownKey (the key is left out)", kid, err)
		}
	}
	onlyWeak := authn.NewStaticKeySet(map[string]*rsa.PublicKey{"": &weak.PublicKey})
	if _, err := onlyWeak.Key(ctx, "x"); !errors.Is(err, authn.ErrKeysUnavailable) {
		t.Errorf("static set of a weak key: got %v, want ErrKeysUnavailable", err)
	}
}

// TestKeySetNeverPrintsItsSecret: a key set prints its name and source,
// never its bearer token, nor a password or a query in its URL, in fmt or
// in the log line of a failed fetch.
func TestKeySetNeverPrintsItsSecret(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	ks := authn.NewRemoteKeySet("http://user:s3cr3t-pass@127.0.0.1:1/keys?api_key=s3cr3t-query", authn.KeySetOptions{
		Name: "clerk", BearerToken: clerkSecret, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	_ = ks.Refresh(context.Background()) // fails: nothing listens there
	out := fmt.Sprintf("%v %+v %#v %s", ks, ks, ks, logs)
	for _, secret := range []string{clerkSecret, "s3cr3t-pass", "s3cr3t-query"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed or logged %q: %s", secret, out)
		}
	}
	if !strings.Contains(logs.String(), "127.0.0.1:1/keys") {
		t.Errorf("the failure's log line does not name the key set's host and path: %s", logs)
	}
}
