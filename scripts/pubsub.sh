#!/usr/bin/env bash
# pubsub.sh: the topic, dead-letter topic and authenticated push subscription
# that deliver messages to pushgate. See usage below.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

: "${SUBSCRIPTION:=${SERVICE}-push}"
: "${DEAD_LETTER_TOPIC:=${TOPIC}-dead-letter}"
: "${ACK_DEADLINE:=30}"
: "${MIN_RETRY_DELAY:=10s}"
: "${MAX_RETRY_DELAY:=600s}"
: "${MAX_DELIVERY_ATTEMPTS:=10}"

usage() {
	cat <<EOF
Usage: pubsub.sh --project=PROJECT_ID [--url=SERVICE_URL] [--dry-run]

Creates (or updates) what delivers Pub/Sub messages to the service:
  topic              $TOPIC (TOPIC)
  dead-letter topic  $DEAD_LETTER_TOPIC (DEAD_LETTER_TOPIC), with a pull
                     subscription ${DEAD_LETTER_TOPIC}-sub that keeps dead
                     letters for 7 days (a topic with no subscription drops them)
  push subscription  $SUBSCRIPTION (SUBSCRIPTION):
    --push-endpoint=SERVICE_URL/pubsub/push
    --push-auth-service-account=$PUSH_SA_NAME@PROJECT_ID.iam.gserviceaccount.com
    --push-auth-token-audience=SERVICE_URL, the value deploy.sh put in
      AUTH_GOOGLE_AUDIENCES: the service accepts a token only for that audience
    --ack-deadline=$ACK_DEADLINE (ACK_DEADLINE, seconds; room for a cold start)
    --min-retry-delay=$MIN_RETRY_DELAY --max-retry-delay=$MAX_RETRY_DELAY (MIN_/MAX_RETRY_DELAY)
    --dead-letter-topic, --max-delivery-attempts=$MAX_DELIVERY_ATTEMPTS (MAX_DELIVERY_ATTEMPTS)
and the dead-letter IAM: the Pub/Sub service agent
(service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com) gets
roles/pubsub.publisher on the dead-letter topic and roles/pubsub.subscriber on
the subscription; without both, messages are never dead-lettered.

SERVICE_URL is read from the deployed service (status.url) unless --url is given.

Flags:
  --project=ID, --region=R, --service=S, --url=URL   see lib.sh
  --dry-run    print every gcloud command instead of running it
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
	[[ "$SUBSCRIPTION" =~ ^[a-zA-Z][a-zA-Z0-9._~%+-]{2,254}$ ]] || die "bad SUBSCRIPTION name $SUBSCRIPTION"
	if ! [[ "$MAX_DELIVERY_ATTEMPTS" =~ ^[0-9]+$ ]] || ((MAX_DELIVERY_ATTEMPTS < 5 || MAX_DELIVERY_ATTEMPTS > 100)); then
		die "MAX_DELIVERY_ATTEMPTS must be 5..100"
	fi
	resolve_project_number
	resolve_service_url

	local audience endpoint push agent
	audience="$(service_audience)"
	endpoint="$SERVICE_URL/pubsub/push"
	push="$(push_sa)"
	agent="$(pubsub_agent)"

	ensure_topic "$TOPIC"
	ensure_topic "$DEAD_LETTER_TOPIC"
	if ! exists gcloud pubsub subscriptions describe "${DEAD_LETTER_TOPIC}-sub" --project="$PROJECT_ID"; then
		run gcloud pubsub subscriptions create "${DEAD_LETTER_TOPIC}-sub" --project="$PROJECT_ID" \
			--topic="$DEAD_LETTER_TOPIC" --message-retention-duration=7d
	fi

	local settings=(
		--push-endpoint="$endpoint"
		--push-auth-service-account="$push"
		--push-auth-token-audience="$audience"
		--ack-deadline="$ACK_DEADLINE"
		--min-retry-delay="$MIN_RETRY_DELAY"
		--max-retry-delay="$MAX_RETRY_DELAY"
		--dead-letter-topic="$DEAD_LETTER_TOPIC"
		--max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS"
	)
	if exists gcloud pubsub subscriptions describe "$SUBSCRIPTION" --project="$PROJECT_ID"; then
		run gcloud pubsub subscriptions update "$SUBSCRIPTION" --project="$PROJECT_ID" "${settings[@]}"
	else
		run gcloud pubsub subscriptions create "$SUBSCRIPTION" --project="$PROJECT_ID" \
			--topic="$TOPIC" "${settings[@]}"
	fi

	run gcloud pubsub topics add-iam-policy-binding "$DEAD_LETTER_TOPIC" --project="$PROJECT_ID" \
		--member="serviceAccount:$agent" --role=roles/pubsub.publisher
	run gcloud pubsub subscriptions add-iam-policy-binding "$SUBSCRIPTION" --project="$PROJECT_ID" \
		--member="serviceAccount:$agent" --role=roles/pubsub.subscriber

	note "push subscription $SUBSCRIPTION -> $endpoint as $push, audience $audience"
}

main "$@"
