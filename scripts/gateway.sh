#!/usr/bin/env bash
# gateway.sh: Google Cloud API Gateway in front of the deployed pushgate
# service (optional). See usage below.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

: "${API_ID:=$SERVICE}"
: "${GATEWAY_ID:=${SERVICE}-gateway}"
: "${GATEWAY_LOCATION:=$REGION}"
: "${SPEC_OUT:=}"
SPEC_TMP=""

usage() {
	cat <<EOF
Usage: gateway.sh --project=PROJECT_ID [--url=SERVICE_URL] [--location=L] [--api=ID] [--gateway=ID] [--spec-out=FILE] [--dry-run]

Optional. Puts Google Cloud API Gateway in front of the deployed service.
Callers send their own token to the gateway in Authorization, exactly as they
would to the service. The gateway calls the service with a Google ID token of
its own service account in Authorization and moves the caller's Authorization
value to X-Forwarded-Authorization. pushgate takes that header only from a
caller whose Google token is of a service account listed in
AUTH_GATEWAY_SERVICE_ACCOUNTS, and judges the forwarded token by the rules of
the provider that issued it; /whoami then shows the gateway as "via".

What it does (idempotent: what exists is left alone):
  1. enables apigateway.googleapis.com, servicemanagement.googleapis.com and
     servicecontrol.googleapis.com;
  2. creates the service account $GATEWAY_SA_NAME (GATEWAY_SA_NAME), the identity
     the gateway calls the service with. It gets no role: Cloud Run's invoker
     IAM check is off (deploy.sh) and pushgate verifies its tokens itself;
  3. writes an OpenAPI 2.0 spec (JSON; to a temporary file, or --spec-out=FILE):
       x-google-backend:
         address: SERVICE_URL
         jwt_audience: SERVICE_URL, the value deploy.sh put in
           AUTH_GOOGLE_AUDIENCES (the gateway's tokens must carry it; left
           out, the audience follows the backend address)
         path_translation: APPEND_PATH_TO_ADDRESS
     and the routes people call: GET /healthz, GET /whoami, GET and POST
     /api/events, with OPTIONS on the last two for CORS preflights, which
     pushgate answers. The spec has no security section: the gateway checks
     no token, pushgate checks every one. Nor has it a catch-all path: a
     request with no token reaches pushgate as the gateway itself, a service,
     so POST /pubsub/push and /scheduler/{job} must never be routed;
  4. creates the API $API_ID (API_ID); an API config $API_ID-HASH, HASH being a
     hash of the spec and the service account (configs are immutable: a
     changed spec gets a new config, an unchanged one is reused; old ones
     stay until gcloud api-gateway api-configs delete), with
       --backend-auth-service-account=$GATEWAY_SA_NAME@PROJECT_ID.iam.gserviceaccount.com
     and the gateway $GATEWAY_ID (GATEWAY_ID) in $GATEWAY_LOCATION
     (GATEWAY_LOCATION, default REGION), or points the existing gateway at
     the config;
  5. prints the gateway's URL and what to do next: redeploy pushgate with the
     gateway's service account in AUTH_GATEWAY_SERVICE_ACCOUNTS, i.e. your
     usual deploy.sh flags plus
       --gateway-service-accounts=$GATEWAY_SA_NAME@PROJECT_ID.iam.gserviceaccount.com
     then call it through the gateway with a user's token:
       curl -H "Authorization: Bearer \$USER_TOKEN" https://GATEWAY_HOST/whoami

Whoever runs this needs iam.serviceAccounts.actAs on the gateway's service
account (roles/iam.serviceAccountUser; project Owners and Editors have it).
API Gateway is offered in fewer regions than Cloud Run: if REGION has none,
pass --location.

SERVICE_URL is read from the deployed service (status.url) unless --url is given.

Flags:
  --project=ID, --region=R, --service=S, --url=URL   see lib.sh
  --location=L      region of the gateway (GATEWAY_LOCATION, default REGION)
  --api=ID          API ID (API_ID, default SERVICE)
  --gateway=ID      gateway ID (GATEWAY_ID, default SERVICE-gateway)
  --spec-out=FILE   write the OpenAPI spec to FILE and keep it (SPEC_OUT)
  --dry-run         print every gcloud command instead of running it
  -h, --help        show this help
EOF
}

# spec prints the OpenAPI 2.0 document for the gateway. Every value in it is
# checked by main first, so none needs JSON escaping.
spec() {
	local op200='"responses": {"200": {"description": "OK"}}'
	local preflight='"responses": {"204": {"description": "CORS preflight, answered by pushgate"}}'
	cat <<EOF
{
  "swagger": "2.0",
  "info": {
    "title": "$SERVICE",
    "description": "the pushgate service $SERVICE behind API Gateway, written by scripts/gateway.sh",
    "version": "1.0.0"
  },
  "schemes": ["https"],
  "produces": ["application/json"],
  "x-google-backend": {
    "address": "$SERVICE_URL",
    "jwt_audience": "$(service_audience)",
    "path_translation": "APPEND_PATH_TO_ADDRESS"
  },
  "paths": {
    "/healthz": {
      "get": {"operationId": "healthz", $op200}
    },
    "/whoami": {
      "get": {"operationId": "whoami", $op200},
      "options": {"operationId": "whoamiPreflight", $preflight}
    },
    "/api/events": {
      "get": {"operationId": "listEvents", $op200},
      "post": {"operationId": "publishEvent", "responses": {"202": {"description": "Accepted"}}},
      "options": {"operationId": "eventsPreflight", $preflight}
    }
  }
}
EOF
}

# fnv1a prints the 32-bit FNV-1a hash of the ASCII string $1 as 8 hex digits
# (bash only: no checksum tool is the same on every machine).
fnv1a() {
	local s="$1" h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		((h = ((h ^ c) * 16777619) & 0xffffffff))
	done
	printf '%08x' "$h"
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
		--location | --location=*) take_value "$@" && GATEWAY_LOCATION="$VALUE" ;;
		--api | --api=*) take_value "$@" && API_ID="$VALUE" ;;
		--gateway | --gateway=*) take_value "$@" && GATEWAY_ID="$VALUE" ;;
		--spec-out | --spec-out=*) take_value "$@" && SPEC_OUT="$VALUE" ;;
		*) die "unknown argument: $1 (see --help)" ;;
		esac
		shift "$SHIFT_BY"
	done
	require_config
	# The config ID is API_ID-HASH, at most 63 characters.
	[[ "$API_ID" =~ ^[a-z]([a-z0-9-]{0,52}[a-z0-9])?$ ]] ||
		die "API ID must be lower-case letters, digits and -, at most 54, got '$API_ID'"
	[[ "$GATEWAY_ID" =~ ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
		die "gateway ID must be lower-case letters, digits and -, at most 63, got '$GATEWAY_ID'"
	[[ "$GATEWAY_LOCATION" =~ ^[a-z]+-[a-z]+[0-9]+$ ]] ||
		die "--location must be a region such as us-central1, got '$GATEWAY_LOCATION'"
	[[ -z "$SPEC_OUT" || "$SPEC_OUT" != -* ]] || die "--spec-out needs a file name, got '$SPEC_OUT'"
	resolve_service_url
	[[ "$SERVICE_URL" =~ ^https://[A-Za-z0-9._-]+$ ]] ||
		die "the service URL must be https://host for the gateway's backend, got '$SERVICE_URL'"

	local sa document config spec_file
	sa="$(gateway_sa)"
	document="$(spec)"
	config="$API_ID-$(fnv1a "$document"$'\n'"$sa")"

	note "enabling APIs in $PROJECT_ID"
	run gcloud services enable apigateway.googleapis.com servicemanagement.googleapis.com \
		servicecontrol.googleapis.com --project="$PROJECT_ID"
	ensure_service_account "$GATEWAY_SA_NAME" "pushgate API Gateway backend identity"

	if [[ -n "$SPEC_OUT" ]]; then
		spec_file="$SPEC_OUT"
		printf '%s\n' "$document" >"$spec_file" || die "cannot write $spec_file"
	elif is_dry_run; then
		spec_file=pushgate-openapi.json
	else
		SPEC_TMP="$(mktemp -d)" || die "cannot make a temporary directory"
		trap 'rm -rf -- "$SPEC_TMP"' EXIT
		spec_file="$SPEC_TMP/openapi.json"
		printf '%s\n' "$document" >"$spec_file"
	fi
	if is_dry_run; then
		# A dry run prints the spec as a here-document, so that its output
		# can be run as it stands.
		printf "cat >%q <<'EOF'\n%s\nEOF\n" "$spec_file" "$document" >&3
	fi

	note "API $API_ID, config $config, gateway $GATEWAY_ID in $GATEWAY_LOCATION"
	if ! exists gcloud api-gateway apis describe "$API_ID" --project="$PROJECT_ID"; then
		run gcloud api-gateway apis create "$API_ID" --project="$PROJECT_ID" --display-name="$SERVICE"
	fi
	if ! exists gcloud api-gateway api-configs describe "$config" --api="$API_ID" --project="$PROJECT_ID"; then
		run gcloud api-gateway api-configs create "$config" --api="$API_ID" --project="$PROJECT_ID" \
			--openapi-spec="$spec_file" --backend-auth-service-account="$sa"
	fi
	local where=(--project="$PROJECT_ID" --location="$GATEWAY_LOCATION")
	if exists gcloud api-gateway gateways describe "$GATEWAY_ID" "${where[@]}"; then
		local current
		current="$(query "" gcloud api-gateway gateways describe "$GATEWAY_ID" "${where[@]}" \
			--format='value(apiConfig)')"
		if [[ "$current" == */apis/"$API_ID"/configs/"$config" ]]; then
			note "gateway $GATEWAY_ID already serves $config"
		else
			run gcloud api-gateway gateways update "$GATEWAY_ID" "${where[@]}" \
				--api="$API_ID" --api-config="$config"
		fi
	else
		run gcloud api-gateway gateways create "$GATEWAY_ID" "${where[@]}" \
			--api="$API_ID" --api-config="$config"
	fi

	local host
	host="$(query GATEWAY_HOST gcloud api-gateway gateways describe "$GATEWAY_ID" "${where[@]}" \
		--format='value(defaultHostname)')"
	[[ "$host" =~ ^[A-Za-z0-9._-]+$ ]] || die "could not read the host name of gateway $GATEWAY_ID (got '$host')"

	note "gateway URL: https://$host -> $SERVICE_URL as $sa, audience $(service_audience)"
	note "next: redeploy pushgate so that it trusts the gateway: your usual deploy.sh flags plus"
	note "  --gateway-service-accounts=$sa"
	note "(or AUTH_GATEWAY_SERVICE_ACCOUNTS=$sa). Then call it through the gateway with a user's token:"
	note "  curl -H \"Authorization: Bearer \$USER_TOKEN\" https://$host/whoami"
	note "whose answer names the user, with \"via\": \"$sa\""
}

main "$@"
