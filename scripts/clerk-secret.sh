#!/usr/bin/env bash
# clerk-secret.sh: add the Clerk secret key to Secret Manager from standard
# input, so that it never appears on a command line. See usage below.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	cat <<EOF
Usage: clerk-secret.sh --project=PROJECT_ID [--dry-run] < file-holding-the-key

Reads the Clerk secret key (sk_test_... or sk_live_...) from standard input
and adds it as a new version of the secret $CLERK_SECRET_NAME (CLERK_SECRET_NAME),
which bootstrap.sh created. The key goes to gcloud on its standard input
(--data-file=-), never as an argument, so it shows in no process list or shell
history. On a terminal it is read without echo.

Cloud Run reads "latest" when an instance starts: redeploy (deploy.sh) to
pick up a rotated key.

Flags:
  --project=ID   project ID (or PROJECT_ID)
  --dry-run      print the gcloud command; read nothing
  -h, --help     show this help
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

	local cmd=(gcloud secrets versions add "$CLERK_SECRET_NAME" --project="$PROJECT_ID" --data-file=-)
	if is_dry_run; then
		print_cmd "${cmd[@]}"
		return 0
	fi

	local key
	if [[ -t 0 ]]; then
		IFS= read -rs -p "Clerk secret key: " key
		printf '\n' >&2
	else
		key="$(cat)"
	fi
	key="${key%$'\r'}"
	[[ -n "$key" ]] || die "no key on standard input"
	[[ "$key" == sk_* ]] || die "that does not look like a Clerk secret key (sk_test_... or sk_live_...)"
	[[ "$key" != *[[:space:]]* ]] || die "the key contains white space"

	# printf is a shell builtin: the key reaches gcloud through a pipe only.
	printf '%s' "$key" | run "${cmd[@]}"
	note "added a new version of $CLERK_SECRET_NAME; deploy.sh mounts it as CLERK_SECRET_KEY"
}

main "$@"
