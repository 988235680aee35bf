#!/usr/bin/env bash
# build.sh: the one command that builds the pushgate binary. The Dockerfile
# and CI both run this file, so the image holds exactly what CI built and
# tested; scripts_test.go checks that the Dockerfile still calls it.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: build.sh [--print] [OUTPUT]

Builds the service (the module root, ".") as a static binary at OUTPUT
(default ./pushgate):

  CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o OUTPUT .

  --print     print the command instead of running it
  -h, --help  show this help
EOF
}

print=0
out=""
while (($#)); do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--print) print=1 ;;
	-*)
		printf 'build.sh: unknown flag %s (see --help)\n' "$1" >&2
		exit 2
		;;
	*)
		[[ -z "$out" ]] || {
			printf 'build.sh: one OUTPUT only\n' >&2
			exit 2
		}
		out="$1"
		;;
	esac
	shift
done
out="${out:-pushgate}"
[[ "$out" == /* ]] || out="$PWD/$out"

cmd=(go build -trimpath "-ldflags=-s -w" -o "$out" .)
if ((print)); then
	line=""
	printf -v line ' %q' "${cmd[@]}"
	printf 'CGO_ENABLED=0%s\n' "$line"
	exit 0
fi

root="${BASH_SOURCE[0]%/*}"
[[ "$root" != "${BASH_SOURCE[0]}" ]] || root=.
cd "$root/.."
CGO_ENABLED=0 "${cmd[@]}"
