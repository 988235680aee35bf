#!/usr/bin/env bash
# deploy.sh: build and deploy pushgate to Cloud Run with the contract's
# environment. See usage below.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	cat <<EOF
Usage: deploy.sh --project=PROJECT_ID [--via=cloudbuild|image|source] [flags] [--dry-run]

Deploys the service $SERVICE (SERVICE) in $REGION (REGION), running as the
runtime SA $RUNTIME_SA_NAME (RUNTIME_SA_NAME), with Cloud Run's invoker IAM
check OFF: pushgate verifies every caller itself (see below).

  --via=cloudbuild (default)  gcloud builds submit --config=cloudbuild.yaml as the
                              build SA: vet, test, build the image, push it to
                              Artifact Registry, then run this script with
                              --via=image inside the build.
  --via=image --image=IMAGE   gcloud run deploy of an image already pushed.
  --via=source                gcloud run deploy --source . (Cloud Run builds the
                              Dockerfile with its default build identity).

The service gets:
  GOOGLE_CLOUD_PROJECT        the project
  AUTH_GOOGLE_AUDIENCES       the service URL. A new service is deployed with
                              the URL Cloud Run will give it
                              (https://SERVICE-PROJECT_NUMBER.REGION.run.app);
                              then status.url is read back and, if it differs,
                              the variable is updated to it. pubsub.sh and
                              scheduler.sh read the same status.url, so the
                              audience is one value everywhere.
  PUBSUB_TOPIC                $TOPIC (TOPIC)
  CLERK_PUBLISHABLE_KEY, CLERK_ISSUER, CLERK_AUTHORIZED_PARTIES (default: the
  CORS origins), CORS_ALLOWED_ORIGINS, AUTH_GOOGLE_ALLOWED_EMAILS,
  AUTH_GATEWAY_SERVICE_ACCOUNTS: from the flags or the variables of those
  names; empty ones are removed. Each deploy sets them all: pass the same
  flags every time.
  CLERK_SECRET_KEY            mounted from Secret Manager ($CLERK_SECRET_NAME:latest)
                              when Clerk is configured; add its value first with
                              clerk-secret.sh.
DEDUP_REDIS_URL and the VPC settings (memorystore.sh) are left as they are.

Why the invoker IAM check is off: people signed in with Clerk must reach the
service with Clerk tokens, which Cloud Run's IAM check would refuse; and when
Cloud Run checks a Google token itself it replaces the token's signature with
SIGNATURE_REMOVED_BY_GOOGLE, so the service could not verify it again. So
Cloud Run lets every request through and pushgate rejects, with 401, any
request without a valid Google or Clerk token (smoke.sh checks this).

Flags:
  --project=ID, --region=R, --service=S, --url=URL   see lib.sh
  --via=MODE                     cloudbuild (default), image or source
  --image=IMAGE                  image to deploy (--via=image)
  --clerk-publishable-key=PK     or CLERK_PUBLISHABLE_KEY (pk_test_... / pk_live_...)
  --clerk-issuer=URL             or CLERK_ISSUER (default: from the publishable key)
  --clerk-authorized-parties=O   or CLERK_AUTHORIZED_PARTIES, comma-separated origins
  --cors-allowed-origins=O       or CORS_ALLOWED_ORIGINS, comma-separated origins
  --allowed-emails=E             or AUTH_GOOGLE_ALLOWED_EMAILS, comma-separated
  --gateway-service-accounts=E   or AUTH_GATEWAY_SERVICE_ACCOUNTS, comma-separated
                                 emails of the service accounts of API gateways in
                                 front of the service (gateway.sh prints its own);
                                 each must be of the project or in --allowed-emails
  --skip-secret-check            do not check that the Clerk secret has a version
                                 (used inside Cloud Build, whose SA cannot read it)
  --dry-run                      print every gcloud command instead of running it
  -h, --help                     show this help
EOF
}

VIA="${VIA:-cloudbuild}"
IMAGE="${IMAGE:-}"
CLERK_PUBLISHABLE_KEY="${CLERK_PUBLISHABLE_KEY:-}"
CLERK_ISSUER="${CLERK_ISSUER:-}"
CLERK_AUTHORIZED_PARTIES="${CLERK_AUTHORIZED_PARTIES:-}"
CORS_ALLOWED_ORIGINS="${CORS_ALLOWED_ORIGINS:-}"
AUTH_GOOGLE_ALLOWED_EMAILS="${AUTH_GOOGLE_ALLOWED_EMAILS:-}"
AUTH_GATEWAY_SERVICE_ACCOUNTS="${AUTH_GATEWAY_SERVICE_ACCOUNTS:-}"
SECRET_CHECK=1

# check_values refuses values that would break the env-var list or that are
# secrets put where a public value belongs.
check_values() {
	local name
	for name in CLERK_PUBLISHABLE_KEY CLERK_ISSUER CLERK_AUTHORIZED_PARTIES \
		CORS_ALLOWED_ORIGINS AUTH_GOOGLE_ALLOWED_EMAILS AUTH_GATEWAY_SERVICE_ACCOUNTS IMAGE; do
		[[ "${!name}" != *';'* ]] || die "$name must not contain ';'"
		[[ "${!name}" != *[[:space:]]* ]] || die "$name must not contain white space"
		[[ "${!name}" != *sk_test_* && "${!name}" != *sk_live_* ]] ||
			die "$name holds a Clerk SECRET key; secrets go in Secret Manager (clerk-secret.sh)"
	done
	[[ -z "$CLERK_PUBLISHABLE_KEY" || "$CLERK_PUBLISHABLE_KEY" =~ ^pk_(test|live)_ ]] ||
		die "CLERK_PUBLISHABLE_KEY must start with pk_test_ or pk_live_"
	[[ -z "$CLERK_ISSUER" || "$CLERK_ISSUER" =~ ^https://[^/]+$ ]] ||
		die "CLERK_ISSUER must be https://host, got $CLERK_ISSUER"
	check_gateways
}

# check_gateways refuses gateway service accounts whose tokens pushgate would
# refuse anyway: a Google token's email must be of a service account of the
# project or listed in AUTH_GOOGLE_ALLOWED_EMAILS.
check_gateways() {
	[[ -n "$AUTH_GATEWAY_SERVICE_ACCOUNTS" ]] || return 0
	local emails email
	IFS=, read -ra emails <<<"$AUTH_GATEWAY_SERVICE_ACCOUNTS"
	for email in "${emails[@]}"; do
		[[ "$email" =~ ^[^@]+@[^@]+\.[^@]+$ ]] ||
			die "AUTH_GATEWAY_SERVICE_ACCOUNTS must be comma-separated emails, got '$email'"
		[[ "$email" == *"@$PROJECT_ID.iam.gserviceaccount.com" || ",$AUTH_GOOGLE_ALLOWED_EMAILS," == *",$email,"* ]] ||
			die "gateway service account $email is not of project $PROJECT_ID nor in AUTH_GOOGLE_ALLOWED_EMAILS: pushgate would refuse its tokens"
	done
}

clerk_enabled() {
	[[ -n "$CLERK_PUBLISHABLE_KEY" || -n "$CLERK_ISSUER" ]]
}

# deploy_cloudbuild submits cloudbuild.yaml, which runs this script again with
# --via=image inside the build. Every substitution below is used there.
deploy_cloudbuild() {
	local subs
	subs="^;^_REGION=$REGION;_SERVICE=$SERVICE;_REPOSITORY=$REPOSITORY"
	subs+=";_RUNTIME_SA_NAME=$RUNTIME_SA_NAME;_TOPIC=$TOPIC;_CLERK_SECRET_NAME=$CLERK_SECRET_NAME"
	subs+=";_SERVICE_URL=$SERVICE_URL;_CLERK_PUBLISHABLE_KEY=$CLERK_PUBLISHABLE_KEY"
	subs+=";_CLERK_ISSUER=$CLERK_ISSUER;_CLERK_AUTHORIZED_PARTIES=$CLERK_AUTHORIZED_PARTIES"
	subs+=";_CORS_ALLOWED_ORIGINS=$CORS_ALLOWED_ORIGINS;_AUTH_GOOGLE_ALLOWED_EMAILS=$AUTH_GOOGLE_ALLOWED_EMAILS"
	subs+=";_AUTH_GATEWAY_SERVICE_ACCOUNTS=$AUTH_GATEWAY_SERVICE_ACCOUNTS"
	run gcloud builds submit "$here/.." --project="$PROJECT_ID" \
		--config="$here/../cloudbuild.yaml" \
		--service-account="projects/$PROJECT_ID/serviceAccounts/$(build_sa)" \
		--substitutions="$subs"
}

# deploy_run deploys with gcloud run deploy, then makes AUTH_GOOGLE_AUDIENCES
# hold the URL Cloud Run reports.
deploy_run() {
	resolve_project_number
	local audience="$SERVICE_URL"
	[[ -n "$audience" ]] || audience="$(describe_url)"
	[[ -n "$audience" ]] || audience="$(deterministic_url)"
	audience="${audience%/}"

	local env="^;^GOOGLE_CLOUD_PROJECT=$PROJECT_ID;AUTH_GOOGLE_AUDIENCES=$audience;PUBSUB_TOPIC=$TOPIC"
	local removed=() name
	for name in CLERK_PUBLISHABLE_KEY CLERK_ISSUER CLERK_AUTHORIZED_PARTIES \
		CORS_ALLOWED_ORIGINS AUTH_GOOGLE_ALLOWED_EMAILS AUTH_GATEWAY_SERVICE_ACCOUNTS; do
		if [[ -n "${!name}" ]]; then
			env+=";$name=${!name}"
		else
			removed+=("$name")
		fi
	done

	local cmd=(gcloud run deploy "$SERVICE" --project="$PROJECT_ID" --region="$REGION" --quiet
		--service-account="$(runtime_sa)"
		# Cloud Run's own invoker IAM check is OFF, on purpose: Clerk users
		# must reach the app with Clerk tokens, which that check refuses, and
		# when Cloud Run checks a Google token itself it strips the signature
		# (SIGNATURE_REMOVED_BY_GOOGLE) so the app could not verify it again.
		# The app verifies every caller and answers 401 to anyone else.
		--no-invoker-iam-check
		--update-env-vars="$env")
	if ((${#removed[@]})); then
		local joined
		joined="$(
			IFS=,
			printf '%s' "${removed[*]}"
		)"
		cmd+=(--remove-env-vars="$joined")
	fi
	if clerk_enabled; then
		cmd+=(--set-secrets="CLERK_SECRET_KEY=$CLERK_SECRET_NAME:latest")
	else
		# Google-only deployment: a secret key without an issuer would be a
		# half-configured Clerk provider, which stops the service.
		cmd+=(--remove-secrets=CLERK_SECRET_KEY)
	fi
	case "$VIA" in
	image) cmd+=(--image="$IMAGE") ;;
	source) cmd+=(--source="$here/..") ;;
	esac
	run "${cmd[@]}"

	if [[ -n "$SERVICE_URL" ]]; then
		# --url names the audience explicitly (e.g. a custom domain): keep it.
		note "service URL and token audience: $SERVICE_URL"
		return 0
	fi
	local url
	url="$(describe_url)"
	url="${url%/}"
	[[ -n "$url" ]] || die "deployed, but could not read the URL of $SERVICE"
	if [[ "$url" != "$audience" ]]; then
		note "service URL is $url, not $audience: updating AUTH_GOOGLE_AUDIENCES"
		run gcloud run services update "$SERVICE" --project="$PROJECT_ID" --region="$REGION" --quiet \
			--update-env-vars="AUTH_GOOGLE_AUDIENCES=$url"
	fi
	note "service URL and token audience: $url"
	note "next: pubsub.sh and scheduler.sh (they read the same URL), then smoke.sh"
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
		--skip-secret-check)
			SECRET_CHECK=0
			shift
			continue
			;;
		--via | --via=*) take_value "$@" && VIA="$VALUE" ;;
		--image | --image=*) take_value "$@" && IMAGE="$VALUE" ;;
		--clerk-publishable-key | --clerk-publishable-key=*) take_value "$@" && CLERK_PUBLISHABLE_KEY="$VALUE" ;;
		--clerk-issuer | --clerk-issuer=*) take_value "$@" && CLERK_ISSUER="$VALUE" ;;
		--clerk-authorized-parties | --clerk-authorized-parties=*) take_value "$@" && CLERK_AUTHORIZED_PARTIES="$VALUE" ;;
		--cors-allowed-origins | --cors-allowed-origins=*) take_value "$@" && CORS_ALLOWED_ORIGINS="$VALUE" ;;
		--allowed-emails | --allowed-emails=*) take_value "$@" && AUTH_GOOGLE_ALLOWED_EMAILS="$VALUE" ;;
		--gateway-service-accounts | --gateway-service-accounts=*) take_value "$@" && AUTH_GATEWAY_SERVICE_ACCOUNTS="$VALUE" ;;
		*) die "unknown argument: $1 (see --help)" ;;
		esac
		shift "$SHIFT_BY"
	done
	require_config
	[[ -n "$CLERK_AUTHORIZED_PARTIES" ]] || CLERK_AUTHORIZED_PARTIES="$CORS_ALLOWED_ORIGINS"
	check_values
	case "$VIA" in
	cloudbuild | source) ;;
	image) [[ -n "$IMAGE" ]] || die "--via=image needs --image" ;;
	*) die "--via must be cloudbuild, image or source, got $VIA" ;;
	esac

	if clerk_enabled && ((SECRET_CHECK)); then
		verify gcloud secrets versions describe latest --secret="$CLERK_SECRET_NAME" --project="$PROJECT_ID" ||
			die "secret $CLERK_SECRET_NAME has no value yet: add the Clerk secret key with clerk-secret.sh"
	fi
	if [[ "$VIA" == cloudbuild ]]; then
		deploy_cloudbuild
	else
		deploy_run
	fi
}

main "$@"
