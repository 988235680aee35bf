// Package scheduler turns calls from Cloud Scheduler and Cloud Tasks (HTTP
// targets) into calls of a typed handler.
//
// Both services POST to the endpoint with an OIDC token (checked by the
// service's authn middleware, not here) and describe the call in headers:
// Cloud Scheduler in X-CloudScheduler-*, Cloud Tasks in X-CloudTasks-*.
// [NewHandler] parses them into a [Call], runs the application's
// [HandlerFunc] and answers 204 on success or 500 on an error, which makes
// Scheduler or Tasks retry as the job's or queue's retry policy says.
//
// Those headers are set by Google on its own requests, but any caller that
// passes authentication may send them too: treat a Call's fields as the
// caller's claims, and authorize on the principal, not on them.
package scheduler
