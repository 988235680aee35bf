// Package console is dev mode's console: a small page, served by the
// service itself at GET / in dev mode only, that plays the
// Clerk-authenticated frontend of the service. It gets a dev user token
// from the console's token endpoint, calls GET /whoami and POST
// /api/events exactly as a browser app does (a Bearer token from script,
// and once the __session cookie with the browser's Origin), lists GET
// /api/events as the push loop delivers, and shows the push loop's recent
// deliveries and the recent refusals as the server logged them.
//
// The page is three plain files embedded in the binary (no build step, no
// framework, nothing fetched from elsewhere), under a content security
// policy that lets it load and call its own origin only.
//
// Every route of the console needs no token and is therefore guarded by
// origin: dev mode listens on 127.0.0.1 only, and each route answers only
// requests whose Host is the console's own (so that a site whose name is
// re-pointed at 127.0.0.1, DNS rebinding, is refused) and whose Origin,
// when sent, is the console's own (so that another site's script is
// refused); the token endpoint also needs the Origin header, which
// browsers send on every POST. See originGuard.
//
// [Recent] keeps the newest values of a kind (the push loop's
// dispatch.Delivery reports, the refusals), and [TeeRefusals] copies the
// refusals the service logs into one: the page shows the server's view of
// each refusal (the rule, what it expected, what it found), which the
// 401's body, by design, does not tell the client.
package console
