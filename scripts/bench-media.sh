#!/usr/bin/env bash
# mediagw figures for docs/benchmarks.md: ingest capacity at zero loss (2 Mbit/s PS streams over
# UDP, per-stream ports and the shared port), ingest latency, WHEP added latency and time to the
# first packet. Senders and gateway share the machine: the capacity figure is a floor.
#   STREAMS="500 1000 1500"  stream counts for per-stream ports
#   SHARED="300 600"         stream counts for the shared port
#   SECONDS_EACH=10          how long each capacity run sends
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${STREAMS:-"500 1000 1500"}
shared=${SHARED:-"300 600"}
secs=${SECONDS_EACH:-10}
capacity() { # count shared
	MEDIAGW_BENCH_STREAMS=$1 MEDIAGW_BENCH_SHARED=$2 MEDIAGW_BENCH_SECONDS=$secs \
		go test -run '^$' -bench '^BenchmarkIngestCapacity$' -benchtime=1x ./internal/mediagw/ | grep -E 'bench_test|Benchmark'
}
for n in $streams; do capacity "$n" 0; done
for n in $shared; do capacity "$n" 1; done
go test -run '^$' -bench '^BenchmarkIngestLatency$' -benchtime=5000x ./internal/mediagw/ | grep Benchmark
go test -run '^$' -bench 'BenchmarkWHEPFirstPacket|BenchmarkAddedLatency' -benchtime=200x ./internal/mediagw/whep/ | grep Benchmark
go test -run '^$' -bench 'BenchmarkFanOut' -benchmem ./internal/mediagw/hub/ | grep Benchmark
