// Package redisstore is a push.Store kept in Redis (Memorystore), so that a
// Pub/Sub message delivered to several Cloud Run instances is processed once
// across all of them, not once per instance.
//
// Each message ID is one key, prefix + ID, whose value is either
// "leased:<token>" (an instance is processing the message; the key expires
// with the lease, so a delivery whose instance died can be claimed again) or
// "done" (processed; the key expires after the retention, 7 days by default,
// Pub/Sub's longest message retention). Claim, Done and Release are each one
// Lua script, so each is atomic and costs one round trip.
//
// Every failure to talk to Redis wraps push.ErrStoreUnavailable, so the push
// handler answers 503 and Pub/Sub delivers the message again later instead of
// processing it without de-duplication.
//
// New makes no network call: the first connection is dialled by the first
// Claim (or by Ping, which start-up may run in the background).
package redisstore
