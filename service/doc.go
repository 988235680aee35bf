// Package service is the Cloud Run service around the framework: its
// configuration (read once from the environment), the chi router with every
// route in one place, the middleware (request ID, panic recovery, access log,
// body limit, CORS), Cloud Logging-shaped JSON logs, and the lifecycle:
// listen, serve, and drain on SIGTERM within Cloud Run's ten seconds.
//
// Run is the whole program; main only calls it.
package service
