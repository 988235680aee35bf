#!/usr/bin/env bash
# bootstrap.sh: prepare a new Google Cloud project for pushgate (run once;
# safe to run again). See usage below.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	cat <<EOF
Usage: bootstrap.sh --project=PROJECT_ID [--region=REGION] [--smoke-member=MEMBER] [--dry-run]

Prepares a project for pushgate. Idempotent: what exists is left alone.

  1. enables the APIs: Cloud Run, Cloud Build, Artifact Registry, Pub/Sub,
     Cloud Scheduler, Secret Manager, IAM and IAM Service Account Credentials;
  2. creates the service accounts
       $RUNTIME_SA_NAME      (RUNTIME_SA_NAME)   the service's own identity
       $PUSH_SA_NAME     (PUSH_SA_NAME)      signs Pub/Sub push requests
       $SCHEDULER_SA_NAME (SCHEDULER_SA_NAME) signs Cloud Scheduler requests
       $BUILD_SA_NAME    (BUILD_SA_NAME)     runs Cloud Build and deploys
  3. creates the Artifact Registry repository $REPOSITORY (REPOSITORY), the topic
     $TOPIC (TOPIC) and the empty secret $CLERK_SECRET_NAME (CLERK_SECRET_NAME);
  4. grants only what each identity needs:
       runtime SA    roles/pubsub.publisher on the topic,
                     roles/secretmanager.secretAccessor on the secret;
       Pub/Sub agent roles/iam.serviceAccountTokenCreator on the push SA
                     (service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com;
                     projects older than April 2021 need it to sign push tokens);
       build SA      roles/run.admin and roles/logging.logWriter on the project,
                     roles/iam.serviceAccountUser on the runtime SA,
                     roles/artifactregistry.writer on the repository,
                     roles/storage.objectViewer on gs://PROJECT_ID_cloudbuild.
     The push and scheduler SAs get no role at all: Cloud Run's invoker IAM
     check is off (see deploy.sh) and pushgate verifies their tokens itself.

The Clerk secret key is never passed here: add it afterwards from standard
input with clerk-secret.sh.

Flags:
  --project=ID          project ID (or PROJECT_ID)
  --region=REGION       region of the repository (or REGION; default us-central1)
  --smoke-member=MEMBER also let MEMBER (e.g. user:you@example.com) mint tokens
                        as the push SA, which smoke.sh needs
  --dry-run             print every gcloud command instead of running it
  -h, --help            show this help
EOF
}

SMOKE_MEMBER="${SMOKE_MEMBER:-}"

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
		--smoke-member | --smoke-member=*)
			take_value "$@"
			SMOKE_MEMBER="$VALUE"
			shift "$SHIFT_BY"
			;;
		*) die "unknown argument: $1 (see --help)" ;;
		esac
	done
	require_config

	note "enabling APIs in $PROJECT_ID"
	run gcloud services enable --project="$PROJECT_ID" \
		run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
		pubsub.googleapis.com cloudscheduler.googleapis.com secretmanager.googleapis.com \
		iam.googleapis.com iamcredentials.googleapis.com

	resolve_project_number
	# The Pub/Sub service agent exists only once something asks for it; make
	# sure it does before granting it a role.
	run gcloud beta services identity create --service=pubsub.googleapis.com --project="$PROJECT_ID"

	note "service accounts"
	ensure_service_account "$RUNTIME_SA_NAME" "pushgate runtime"
	ensure_service_account "$PUSH_SA_NAME" "pushgate Pub/Sub push"
	ensure_service_account "$SCHEDULER_SA_NAME" "pushgate Cloud Scheduler"
	ensure_service_account "$BUILD_SA_NAME" "pushgate Cloud Build deployer"

	note "repository, topic and secret"
	if ! exists gcloud artifacts repositories describe "$REPOSITORY" --project="$PROJECT_ID" --location="$REGION"; then
		run gcloud artifacts repositories create "$REPOSITORY" --project="$PROJECT_ID" \
			--location="$REGION" --repository-format=docker --description="pushgate images"
	fi
	ensure_topic "$TOPIC"
	if ! exists gcloud secrets describe "$CLERK_SECRET_NAME" --project="$PROJECT_ID"; then
		# Created empty: the value is added from standard input (clerk-secret.sh).
		run gcloud secrets create "$CLERK_SECRET_NAME" --project="$PROJECT_ID" --replication-policy=automatic
	fi
	local bucket="gs://${PROJECT_ID}_cloudbuild"
	if ! exists gcloud storage buckets describe "$bucket" --project="$PROJECT_ID"; then
		# The bucket gcloud builds submit uploads sources to; created here so
		# that the build SA can be granted read access to it alone.
		run gcloud storage buckets create "$bucket" --project="$PROJECT_ID" --location=US --uniform-bucket-level-access
	fi

	note "IAM"
	local run_sa push build agent
	run_sa="$(runtime_sa)"
	push="$(push_sa)"
	build="$(build_sa)"
	agent="$(pubsub_agent)"
	run gcloud pubsub topics add-iam-policy-binding "$TOPIC" --project="$PROJECT_ID" \
		--member="serviceAccount:$run_sa" --role=roles/pubsub.publisher
	run gcloud secrets add-iam-policy-binding "$CLERK_SECRET_NAME" --project="$PROJECT_ID" \
		--member="serviceAccount:$run_sa" --role=roles/secretmanager.secretAccessor
	run gcloud iam service-accounts add-iam-policy-binding "$push" --project="$PROJECT_ID" \
		--member="serviceAccount:$agent" --role=roles/iam.serviceAccountTokenCreator
	if [[ -n "$SMOKE_MEMBER" ]]; then
		run gcloud iam service-accounts add-iam-policy-binding "$push" --project="$PROJECT_ID" \
			--member="$SMOKE_MEMBER" --role=roles/iam.serviceAccountTokenCreator
	fi
	local role
	for role in roles/run.admin roles/logging.logWriter; do
		run gcloud projects add-iam-policy-binding "$PROJECT_ID" \
			--member="serviceAccount:$build" --role="$role" --condition=None
	done
	run gcloud iam service-accounts add-iam-policy-binding "$run_sa" --project="$PROJECT_ID" \
		--member="serviceAccount:$build" --role=roles/iam.serviceAccountUser
	run gcloud artifacts repositories add-iam-policy-binding "$REPOSITORY" --project="$PROJECT_ID" \
		--location="$REGION" --member="serviceAccount:$build" --role=roles/artifactregistry.writer
	run gcloud storage buckets add-iam-policy-binding "$bucket" \
		--member="serviceAccount:$build" --role=roles/storage.objectViewer

	note "done. Next: add the Clerk secret key with clerk-secret.sh, then deploy.sh"
}

main "$@"
