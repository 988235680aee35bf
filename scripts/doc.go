// Package scripts holds the deploy scripts for Google Cloud (bootstrap.sh,
// clerk-secret.sh, deploy.sh, pubsub.sh, scheduler.sh, memorystore.sh,
// smoke.sh and the optional gateway.sh, sharing lib.sh) and build.sh, the
// one build command used by the Dockerfile and CI.
//
// It has no Go API. Its tests run every script against a fake gcloud and
// check that the service URL, the token audience and the service-account
// emails agree across the service's environment, the Pub/Sub push
// subscription, the Cloud Scheduler job and the API Gateway config (whose
// OpenAPI spec routes only the user-facing paths, with the service URL as
// its backend's jwt_audience); that Cloud Run's invoker IAM check is off;
// that no secret reaches a command line; and that the Dockerfile builds with
// build.sh.
package scripts
