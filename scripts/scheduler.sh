#!/usr/bin/env bash
# scheduler.sh: a Cloud Scheduler HTTP job that calls pushgate with an OIDC
# token. See usage below.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

: "${JOB:=heartbeat}"
: "${SCHEDULE:=*/15 * * * *}"
: "${TIME_ZONE:=Etc/UTC}"
: "${SCHEDULER_LOCATION:=$REGION}"

usage() {
	cat <<EOF
Usage: scheduler.sh --project=PROJECT_ID [--job=NAME] [--schedule=CRON] [--url=SERVICE_URL] [--dry-run]

Creates the Cloud Scheduler HTTP job NAME (JOB, default heartbeat), or updates
it when it exists:
  --uri=SERVICE_URL/scheduler/NAME  --http-method=POST
  --oidc-service-account-email=$SCHEDULER_SA_NAME@PROJECT_ID.iam.gserviceaccount.com
  --oidc-token-audience=SERVICE_URL, the value deploy.sh put in
    AUTH_GOOGLE_AUDIENCES. Without it Cloud Scheduler uses the full URI,
    path included, as the audience, and the service rejects the token.
  --schedule="$SCHEDULE" (SCHEDULE)  --time-zone=$TIME_ZONE (TIME_ZONE)
  location $SCHEDULER_LOCATION (SCHEDULER_LOCATION, default REGION)

SERVICE_URL is read from the deployed service (status.url) unless --url is given.

Flags:
  --project=ID, --region=R, --service=S, --url=URL   see lib.sh
  --job=NAME        job name, also the last path segment (letters, digits, - and _)
  --schedule=CRON   unix-cron schedule
  --dry-run         print every gcloud command instead of running it
  -h, --help        show this help
EOF
}

main() {
	while (($#)); do
		if common_flag "$@"; then
			shift "$SHIFT_BY"
			continue
		fi
		case "$1" in
		-h | --help)
			usage
			return 0
			;;
		--job | --job=*) take_value "$@" && JOB="$VALUE" ;;
		--schedule | --schedule=*) take_value "$@" && SCHEDULE="$VALUE" ;;
		*) die "unknown argument: $1 (see --help)" ;;
		esac
		shift "$SHIFT_BY"
	done
	require_config
	[[ "$JOB" =~ ^[A-Za-z0-9_-]{1,500}$ ]] || die "job name must be letters, digits, - or _, got '$JOB'"
	[[ -n "$SCHEDULE" ]] || die "empty schedule"
	resolve_service_url

	local audience uri
	audience="$(service_audience)"
	uri="$SERVICE_URL/scheduler/$JOB"
	local settings=(
		--project="$PROJECT_ID"
		--location="$SCHEDULER_LOCATION"
		--schedule="$SCHEDULE"
		--time-zone="$TIME_ZONE"
		--uri="$uri"
		--http-method=POST
		--oidc-service-account-email="$(scheduler_sa)"
		--oidc-token-audience="$audience"
		--attempt-deadline=30s
		--message-body={}
	)
	if exists gcloud scheduler jobs describe "$JOB" --project="$PROJECT_ID" --location="$SCHEDULER_LOCATION"; then
		run gcloud scheduler jobs update http "$JOB" "${settings[@]}" \
			--update-headers=Content-Type=application/json
	else
		run gcloud scheduler jobs create http "$JOB" "${settings[@]}" \
			--headers=Content-Type=application/json
	fi
	note "job $JOB -> POST $uri as $(scheduler_sa), audience $audience"
}

main "$@"
