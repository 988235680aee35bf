// Package handlers holds the reference service's routes: a bounded event
// log fed by Pub/Sub push and Cloud Scheduler, the user API that lists and
// publishes events, /whoami and /healthz.
//
// The framework parts a user builds their own service with live in the
// subpackages: handlers/push (Pub/Sub push deliveries, once-only
// processing) and handlers/scheduler (Cloud Scheduler and Cloud Tasks calls).
package handlers
