#!/usr/bin/env bash
# Recorder figures for docs/benchmarks.md (issue 14), `make bench-recorder`:
#   1. compare: for each N in STREAMS, our stack (sipserver, mediagw, recorder,
#      a private PostgreSQL, gbsim with N 1080p 2 Mbit/s H.264 cameras, record
#      plan "always", dir store) and mediamtx v1.20 (N RTSP publishers of the
#      same clip, record on, fMP4, 1 min segments) run side by side; the CPU and
#      bytes written of every process come from /proc over WINDOW after WARMUP.
#   2. scale: our stack alone, N from SCALE upwards, a SCALE_WINDOW window each,
#      until a window shows a gap, a short channel or a lost packet.
# Everything runs on this machine; the load average is printed with each figure.
#   STREAMS="16 50 100"  SCALE="100 150 200 300 400 500"  WARMUP=30s  WINDOW=60s  SCALE_WINDOW=3m
#   MEDIAMTX=/path/to/mediamtx   use this binary instead of building v1.20.0
#   SKIP_SCALE=1 / SKIP_COMPARE=1, RESULTS=file.jsonl (one JSON line per run), KEEP=1
#   SHARED_UDP=1   cameras send to mediagw's one shared RTP port instead of a port each
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${STREAMS:-"16 50 100"}
scale=${SCALE:-"100 150 200 300 400 500"}
warmup=${WARMUP:-30s}
window=${WINDOW:-60s}
scale_window=${SCALE_WINDOW:-3m}
results=${RESULTS:-}
cache=${RECBENCH_CACHE:-${TMPDIR:-/tmp}/recbench-cache}
mtx_version=v1.20.0

bin=$(mktemp -d "${TMPDIR:-/tmp}/bench-recorder-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
echo "bench-recorder: building sipserver mediagw recorder gbsim recbench into $bin"
go build -o "$bin/" ./cmd/sipserver ./cmd/mediagw ./cmd/recorder ./cmd/gbsim ./internal/recorder/recbench/cmd/recbench

# mediamtx is built from its module source (never vendored here): go install
# fails on its generated files (hls.min.js, VERSION) and on a gosrt fork
# that the module proxy does not serve. The build uses a placeholder
# hls.min.js (no HLS player: recording only), upstream gosrt v0.11.0 (SRT
# unused; its Dial takes no context) and is cached beside the clip.
build_mediamtx() {
	local out=$cache/mediamtx-$mtx_version src dir
	if [ -x "$out" ]; then
		echo "$out"
		return 0
	fi
	mkdir -p "$cache"
	dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/bluenviron/mediamtx@$mtx_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || return 1
	src=$(mktemp -d "${TMPDIR:-/tmp}/mediamtx-src.XXXXXX")
	cp -r "$dir/." "$src" && chmod -R u+w "$src"
	echo "// placeholder: recording benchmark only, no HLS player" >"$src/internal/servers/hls/hls.min.js"
	printf '%s' "$mtx_version" >"$src/internal/core/VERSION"
	sed -i '/^replace github.com\/datarhei\/gosrt/d' "$src/go.mod"
	sed -i 's/srtlib.DialWithContext(ctx, /srtlib.Dial(/' "$src/internal/forward/srt/dest.go"
	sed -i 's/srt.DialWithContext(params.Context, /srt.Dial(/' "$src/internal/staticsources/srt/source.go"
	if (cd "$src" && GOFLAGS=-mod=mod go build -o "$out" .) >&2; then
		rm -rf "$src"
		echo "$out"
	else
		rm -rf "$src"
		return 1
	fi
}

mtx=${MEDIAMTX:-}
if [ -z "$mtx" ] && [ -z "${SKIP_COMPARE:-}" ]; then
	echo "bench-recorder: building mediamtx $mtx_version (first run only)"
	mtx=$(build_mediamtx) || {
		echo "bench-recorder: could not build mediamtx $mtx_version: compare runs give our figures alone"
		mtx=""
	}
fi

common=(-bin "$bin" -cache "$cache" -warmup "$warmup")
[ -n "$results" ] && common+=(-results "$results")
[ -n "${KEEP:-}" ] && common+=(-keep)
[ -n "${SHARED_UDP:-}" ] && common+=(-shared-udp)
echo "bench-recorder: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "${SKIP_COMPARE:-}" ]; then
	"$bin/recbench" -mode compare -mediamtx "$mtx" -streams "${streams// /,}" -window "$window" "${common[@]}"
fi
if [ -z "${SKIP_SCALE:-}" ]; then
	"$bin/recbench" -mode scale -streams "${scale// /,}" -window "$scale_window" "${common[@]}"
fi
