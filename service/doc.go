// Package service is the Cloud Run service around the framework: its
// configuration (read once from the environment), the chi router with every
// route in one place, the middleware (request ID, panic recovery, access log,
// body limit, CORS), Cloud Logging-shaped JSON logs, OpenTelemetry metrics
// and traces configured by the standard OTEL_* variables (off when they are
// unset; see docs/observability.md), and the lifecycle: listen, serve, and
// drain on SIGTERM within Cloud Run's ten seconds.
//
// Run is the whole program; main only calls it.
package service
