#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 200000x, an execution
# count) each: a bounded smoke run that `make test` includes. New crashers are written
# under the package's testdata/fuzz/ and fail the run. A count rather than a duration:
# Go 1.26's fuzz coordinator can fail a target with a spurious "context deadline
# exceeded" when a -fuzztime duration expires (golang/go#75804, fixed in Go 1.27).
set -euo pipefail
fuzztime=${FUZZTIME:-200000x}
cd "$(dirname "$0")/.."

mapfile -t pkgs < <(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | sed '/^$/d')
count=0 failed=0
for pkg in "${pkgs[@]}"; do
	mapfile -t targets < <(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
	for target in "${targets[@]}"; do
		count=$((count + 1))
		printf '=== FUZZ %s %s (%s)\n' "$pkg" "$target" "$fuzztime"
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -parallel=2 "$pkg" 2>&1 | tail -n 8; then
			failed=$((failed + 1))
			printf -- '--- FAIL: %s %s\n' "$pkg" "$target"
		fi
	done
done
printf 'fuzz: %d passed, %d failed\n' "$((count - failed))" "$failed"
[ "$failed" -eq 0 ]
