#!/usr/bin/env bash
# smoke.sh: check a deployed pushgate with a real Google ID token. See usage.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

: "${GO:=go}"

usage() {
	cat <<EOF
Usage: smoke.sh --project=PROJECT_ID [--url=SERVICE_URL] [--dry-run]

Runs: go run ./scripts/smoke --url=SERVICE_URL --audience=SERVICE_URL
which mints a Google ID token for the service's audience and checks
  GET  /healthz        200 without a token
  GET  /whoami         401 without a token (the service, not Cloud Run, refuses)
  GET  /whoami         200, kind "service", with the token
  POST /pubsub/push    204 for a wrapped envelope with a fresh messageId

The token comes from Application Default Credentials and must be that of a
service account of the project (the service accepts no other Google caller).
A person's own login cannot mint ID tokens for an audience; impersonate the
push SA instead (bootstrap.sh --smoke-member=user:YOU grants it):
  gcloud auth application-default login \\
    --impersonate-service-account=$PUSH_SA_NAME@PROJECT_ID.iam.gserviceaccount.com

SERVICE_URL is read from the deployed service (status.url) unless --url is given.

Flags:
  --project=ID, --region=R, --service=S, --url=URL   see lib.sh
  --dry-run    print the commands instead of running them
  -h, --help   show this help
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
		*) die "unknown argument: $1 (see --help)" ;;
		esac
	done
	require_config
	resolve_service_url
	cd "$here/.."
	run "$GO" run ./scripts/smoke --url="$SERVICE_URL" --audience="$(service_audience)"
}

main "$@"
