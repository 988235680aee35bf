#!/usr/bin/env bash
# memorystore.sh: a Memorystore for Redis instance as pushgate's shared
# de-duplication store (DEDUP_REDIS_URL), reached over Direct VPC egress.
# See usage below.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

: "${REDIS_INSTANCE:=${SERVICE}-dedup}"
: "${NETWORK:=default}"
: "${SUBNET:=default}"

usage() {
	cat <<EOF
Usage: memorystore.sh --project=PROJECT_ID [--instance=NAME] [--network=N] [--subnet=S] [--dry-run]

Optional. Without it each Cloud Run instance keeps its own in-memory record of
processed message IDs, so de-duplication is per instance only: a redelivery
(Pub/Sub push is at-least-once) that lands on another instance, or arrives
after a restart or scale-in, is processed again. With it every instance shares
one record, so a message ID is processed once across instances. It costs a
running Redis instance (basic tier, 1 GB: tens of US dollars a month at list
price; check current Memorystore pricing), and when Redis cannot be reached
deliveries get 503 and are redelivered later rather than processed twice.

What it does:
  1. enables redis.googleapis.com and compute.googleapis.com;
  2. creates the instance $REDIS_INSTANCE (REDIS_INSTANCE) unless it exists:
       gcloud redis instances create NAME --tier=basic --size=1 --region=REGION --network=NETWORK
  3. reads its host and port;
  4. connects the Cloud Run service to the VPC with Direct VPC egress and sets
     DEDUP_REDIS_URL (deploy.sh leaves both alone on later deploys):
       gcloud run services update SERVICE --network=NETWORK --subnet=SUBNET \\
         --vpc-egress=private-ranges-only \\
         --update-env-vars=DEDUP_REDIS_URL=redis://HOST:PORT/0
     private-ranges-only: only traffic to private addresses (Redis) goes
     through the VPC; calls to Google and Clerk keep the direct route.
     The subnet must be /26 or larger and in REGION.

Flags:
  --project=ID, --region=R, --service=S   see lib.sh
  --instance=NAME   Redis instance name (REDIS_INSTANCE, default ${SERVICE}-dedup)
  --network=N       VPC network (NETWORK, default default)
  --subnet=S        subnet for Direct VPC egress (SUBNET, default default)
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
		--instance | --instance=*) take_value "$@" && REDIS_INSTANCE="$VALUE" ;;
		--network | --network=*) take_value "$@" && NETWORK="$VALUE" ;;
		--subnet | --subnet=*) take_value "$@" && SUBNET="$VALUE" ;;
		*) die "unknown argument: $1 (see --help)" ;;
		esac
		shift "$SHIFT_BY"
	done
	require_config
	local name
	for name in REDIS_INSTANCE NETWORK SUBNET; do
		[[ "${!name}" =~ ^[a-z][a-z0-9-]{0,62}$ ]] || die "$name=${!name} is not a valid name"
	done

	run gcloud services enable redis.googleapis.com compute.googleapis.com --project="$PROJECT_ID"
	if ! exists gcloud redis instances describe "$REDIS_INSTANCE" --project="$PROJECT_ID" --region="$REGION"; then
		run gcloud redis instances create "$REDIS_INSTANCE" --project="$PROJECT_ID" --region="$REGION" \
			--tier=basic --size=1 --network="$NETWORK" --redis-version=redis_7_2
	fi
	local host port
	host="$(query REDIS_HOST gcloud redis instances describe "$REDIS_INSTANCE" --project="$PROJECT_ID" \
		--region="$REGION" --format='value(host)')"
	port="$(query 6379 gcloud redis instances describe "$REDIS_INSTANCE" --project="$PROJECT_ID" \
		--region="$REGION" --format='value(port)')"
	[[ -n "$host" ]] || die "could not read the host of $REDIS_INSTANCE"
	[[ "$port" =~ ^[0-9]+$ ]] || die "could not read the port of $REDIS_INSTANCE (got '$port')"

	run gcloud run services update "$SERVICE" --project="$PROJECT_ID" --region="$REGION" --quiet \
		--network="$NETWORK" --subnet="$SUBNET" --vpc-egress=private-ranges-only \
		--update-env-vars="DEDUP_REDIS_URL=redis://$host:$port/0"
	note "DEDUP_REDIS_URL=redis://$host:$port/0 set on $SERVICE"
}

main "$@"
