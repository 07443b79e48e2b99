#!/usr/bin/env bash
# Builds the binaries into bin/ (`make build`, `make run`) and says what it is
# doing, so that a first build on a fresh machine — modules to download, some
# 500 packages to compile, a minute or more on two cores — is never silent.
#
#   scripts/build.sh [modules] [cmd ...]
#
# "modules" alone only fetches the Go modules (`make test` compiles itself);
# otherwise every cmd/<name> given (default: every command) is built.
# GO names the go command (default go).
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}

# modules downloads what the build needs, one line per module fetched; nothing
# is printed when the module cache already has everything.
modules() {
	"$go" mod download -x 2>&1 | awk '
		# -x traces every request; a module is fetched when its zip is.
		/^# get .*\.zip$/ {
			if (!n++) print "build: downloading Go modules (first build only)…"
			path = $3
			sub(/^.*\/\/[^\/]+\//, "", path)     # the proxy host
			ver = path; sub(/^.*\/@v\//, "", ver); sub(/\.zip$/, "", ver)
			sub(/\/@v\/.*$/, "", path)
			while (match(path, /![a-z]/))       # the proxy escapes capitals as !x
				path = substr(path, 1, RSTART - 1) toupper(substr(path, RSTART + 1, 1)) substr(path, RSTART + 2)
			printf "  %s %s\n", path, ver
			next
		}
		/^# get / { next }
		{ print }                               # errors
		END { if (n) printf "build: %d Go modules downloaded\n", n }' || {
		echo "build: downloading the Go modules failed (see above)"
		exit 1
	}
}

if [ "${1:-}" = modules ]; then
	modules
	exit 0
fi
cmds=("$@")
[ ${#cmds[@]} -gt 0 ] || cmds=(sipserver mediagw recorder console gbsim)
pkgs=("${cmds[@]/#/./cmd/}")

modules
total=$("$go" list -e -deps "${pkgs[@]}" 2>/dev/null | wc -l)
echo "build: compiling ${cmds[*]} into bin/ ($total packages; the first build takes a minute or more, later ones seconds)…"
mkdir -p bin
# -v names each package as it is compiled (cached ones are not): a progress
# line every 50 keeps the output short; anything else (errors) is shown as is.
"$go" build -v -o bin/ "${pkgs[@]}" 2>&1 | awk -v total="$total" '
	/^[A-Za-z0-9_.~\/-]+$/ {
		if (++n % 50 == 0) printf "build: %d of %d packages compiled (%s)\n", n, total, $0
		next
	}
	{ print }
	END { if (n) printf "build: %d packages compiled\n", n }' || {
	echo "build: failed (see above)"
	exit 1
}
echo "build: bin/ is up to date: ${cmds[*]}"
