#!/usr/bin/env bash
# lib.sh: configuration and helpers shared by the pushgate deploy scripts.
#
# Sourced by every script in this directory, never run on its own. It owns the
# names every script must agree on: the service URL (which is also the one and
# only token audience), the service-account emails and the Pub/Sub service
# agent. A script never derives any of these itself.
#
# Configuration comes from the environment and from common flags (flags win):
#   --project / PROJECT_ID       Google Cloud project ID (required)
#   --region  / REGION           Cloud Run region (default us-central1)
#   --service / SERVICE          Cloud Run service name (default pushgate)
#   --url     / SERVICE_URL      service URL; default: read from Cloud Run
#   --dry-run / DRY_RUN=1        print every gcloud command instead of running it
# and, by environment only: REPOSITORY, TOPIC, CLERK_SECRET_NAME,
# RUNTIME_SA_NAME, PUSH_SA_NAME, SCHEDULER_SA_NAME, BUILD_SA_NAME, GATEWAY_SA_NAME,
# PROJECT_NUMBER.
# shellcheck shell=bash

: "${PROJECT_ID:=}"
: "${PROJECT_NUMBER:=}"
: "${REGION:=us-central1}"
: "${SERVICE:=pushgate}"
: "${SERVICE_URL:=}"
: "${REPOSITORY:=pushgate}"
: "${TOPIC:=pushgate-events}"
: "${CLERK_SECRET_NAME:=clerk-secret-key}"
: "${RUNTIME_SA_NAME:=pushgate-run}"
: "${PUSH_SA_NAME:=pushgate-push}"
: "${SCHEDULER_SA_NAME:=pushgate-scheduler}"
: "${BUILD_SA_NAME:=pushgate-build}"
: "${GATEWAY_SA_NAME:=pushgate-gateway}"
: "${DRY_RUN:=0}"

# Dry-run output goes to descriptor 3, a copy of the original standard output,
# so that commands printed inside $(...) still reach the operator.
exec 3>&1

# die prints an error and stops the script.
die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# note prints a progress message on standard error.
note() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# is_dry_run reports whether commands are printed rather than run.
is_dry_run() {
	[[ "$DRY_RUN" == 1 || "$DRY_RUN" == true ]]
}

# print_cmd prints a command as a line of shell that can be pasted back.
print_cmd() {
	local line
	printf -v line ' %q' "$@"
	printf '%s\n' "${line# }" >&3
}

# run runs a command that changes something (dry run: prints it).
run() {
	if is_dry_run; then
		print_cmd "$@"
		return 0
	fi
	local line
	printf -v line ' %q' "$@"
	printf '+%s\n' "$line" >&2
	"$@"
}

# exists runs a read-only probe and reports success. In a dry run it prints the
# probe and answers "absent", so the commands that would create the resource
# are printed too.
exists() {
	if is_dry_run; then
		print_cmd "$@"
		return 1
	fi
	"$@" >/dev/null 2>&1
}

# verify runs a read-only check that must pass. In a dry run it prints the
# check and assumes it passes.
verify() {
	if is_dry_run; then
		print_cmd "$@"
		return 0
	fi
	"$@" >/dev/null 2>&1
}

# query runs a read-only command and prints its output. $1 is what a dry run
# prints instead (the command itself goes to descriptor 3).
query() {
	local placeholder="$1"
	shift
	if is_dry_run; then
		print_cmd "$@"
		printf '%s\n' "$placeholder"
		return 0
	fi
	"$@"
}

# common_flag consumes one common flag from "$@" (the flag and, for
# "--flag value", its value) and sets SHIFT_BY to the number of words used.
# It returns 1, consuming nothing, when $1 is not a common flag.
common_flag() {
	local name="${1%%=*}" var value
	case "$name" in
	--dry-run)
		[[ "$1" == --dry-run ]] || die "--dry-run takes no value"
		DRY_RUN=1
		SHIFT_BY=1
		return 0
		;;
	--project) var=PROJECT_ID ;;
	--region) var=REGION ;;
	--service) var=SERVICE ;;
	--url) var=SERVICE_URL ;;
	*) return 1 ;;
	esac
	if [[ "$1" == *=* ]]; then
		value="${1#*=}"
		SHIFT_BY=1
	else
		(($# >= 2)) || die "$name needs a value"
		value="$2"
		SHIFT_BY=2
	fi
	printf -v "$var" '%s' "$value"
}

# take_value reads the value of a script-specific flag at $1 ("--x=v" or
# "--x v") into VALUE and sets SHIFT_BY to the number of words used.
# shellcheck disable=SC2034 # VALUE and SHIFT_BY are read by the caller.
take_value() {
	if [[ "$1" == *=* ]]; then
		VALUE="${1#*=}"
		SHIFT_BY=1
	else
		(($# >= 2)) || die "$1 needs a value"
		VALUE="$2"
		SHIFT_BY=2
	fi
}

# require_config checks the common configuration once flags are parsed.
require_config() {
	[[ -n "$PROJECT_ID" ]] || die "no project: set PROJECT_ID or pass --project"
	local name
	for name in PROJECT_ID REGION SERVICE REPOSITORY TOPIC CLERK_SECRET_NAME \
		RUNTIME_SA_NAME PUSH_SA_NAME SCHEDULER_SA_NAME BUILD_SA_NAME GATEWAY_SA_NAME; do
		[[ "${!name}" =~ ^[a-z][a-z0-9.:_-]*$ ]] || die "$name=${!name} is not a valid name"
	done
	if [[ -n "$SERVICE_URL" ]]; then
		SERVICE_URL="${SERVICE_URL%/}"
		[[ "$SERVICE_URL" =~ ^https://[^/]+$ ]] || die "--url must be https://host with no path, got $SERVICE_URL"
	fi
}

# sa_email prints the email of the project's service account named $1.
sa_email() {
	printf '%s@%s.iam.gserviceaccount.com' "$1" "$PROJECT_ID"
}

runtime_sa() { sa_email "$RUNTIME_SA_NAME"; }
push_sa() { sa_email "$PUSH_SA_NAME"; }
scheduler_sa() { sa_email "$SCHEDULER_SA_NAME"; }
build_sa() { sa_email "$BUILD_SA_NAME"; }
gateway_sa() { sa_email "$GATEWAY_SA_NAME"; }

# resolve_project_number sets PROJECT_NUMBER (unless already set).
resolve_project_number() {
	if [[ -z "$PROJECT_NUMBER" ]]; then
		PROJECT_NUMBER="$(query PROJECT_NUMBER gcloud projects describe "$PROJECT_ID" \
			--format='value(projectNumber)')"
	fi
	[[ "$PROJECT_NUMBER" =~ ^([0-9]+|PROJECT_NUMBER)$ ]] ||
		die "could not read the project number of $PROJECT_ID (got '$PROJECT_NUMBER')"
}

# pubsub_agent prints the Pub/Sub service agent, the identity that signs push
# tokens and moves messages to the dead-letter topic.
pubsub_agent() {
	printf 'service-%s@gcp-sa-pubsub.iam.gserviceaccount.com' "$PROJECT_NUMBER"
}

# deterministic_url prints the URL Cloud Run gives a service before it exists:
# https://SERVICE-PROJECT_NUMBER.REGION.run.app.
deterministic_url() {
	printf 'https://%s-%s.%s.run.app' "$SERVICE" "$PROJECT_NUMBER" "$REGION"
}

# describe_url prints the deployed service's status.url, or nothing when the
# service does not exist yet.
describe_url() {
	query "$(deterministic_url)" gcloud run services describe "$SERVICE" \
		--project="$PROJECT_ID" --region="$REGION" --format='value(status.url)' 2>/dev/null || true
}

# resolve_service_url sets SERVICE_URL from --url or from the deployed
# service. SERVICE_URL is also the audience of every Google ID token sent to
# the service: the subscription, the scheduler job and AUTH_GOOGLE_AUDIENCES
# all take it from here.
resolve_service_url() {
	if [[ -z "$SERVICE_URL" ]]; then
		resolve_project_number
		SERVICE_URL="$(describe_url)"
	fi
	SERVICE_URL="${SERVICE_URL%/}"
	[[ -n "$SERVICE_URL" ]] || die "service $SERVICE is not deployed in $REGION: run deploy.sh first, or pass --url"
	[[ "$SERVICE_URL" =~ ^https://[^/]+$ ]] || die "unexpected service URL '$SERVICE_URL'"
}

# service_audience prints the audience that tokens for the service carry.
service_audience() {
	printf '%s' "$SERVICE_URL"
}

# ensure_topic creates the Pub/Sub topic $1 unless it exists.
ensure_topic() {
	if ! exists gcloud pubsub topics describe "$1" --project="$PROJECT_ID"; then
		run gcloud pubsub topics create "$1" --project="$PROJECT_ID"
	fi
}

# ensure_service_account creates service account $1 (display name $2) unless
# it exists.
ensure_service_account() {
	if ! exists gcloud iam service-accounts describe "$(sa_email "$1")" --project="$PROJECT_ID"; then
		run gcloud iam service-accounts create "$1" --project="$PROJECT_ID" --display-name="$2"
	fi
}
