#!/usr/bin/env bash
# Benchmarks sipserver's SIP signalling with sipp as the devices (UDP, one socket):
#   1. registration storm: N devices register (401 challenge, then digest) at up to
#      REG_RATE/s; the devices answer the queries that follow (DeviceInfo, Catalog,
#      SUBSCRIBE, ConfigDownload) with internal/sipserver/testdata/sipp/catalog_ooc.xml;
#   2. the time until every device's catalog is stored;
#   3. sustained keepalives at R/s for D seconds: response times (sipp -trace_rtt,
#      1 ms resolution), failed calls, server CPU, devices still online;
#   4. memory per registered device: heap in use (/metrics) and live heap (gctrace)
#      after a GC with N devices idle, against the same with none.
# Builds bin/sipserver and runs it on free loopback ports with a private PostgreSQL
# cluster in a temporary directory (or SHARPEYES_DATABASE_URL). Everything it starts
# is stopped on exit.
#
#   scripts/bench-sip.sh                        # N=10000 R=2000 D=60
#   N=100000 R=1667 D=60 scripts/bench-sip.sh   # 100 000 devices, one keepalive per 60 s each
#
# Knobs (environment): N devices, R keepalives/s, D keepalive seconds, REG_RATE and
# REG_LIMIT (sipp -r and -l of the storm), SETTLE_MAX (s to wait for the catalogs),
# LOG_LEVEL (server), KEEP=1 keeps the temporary directory (logs, sipp traces).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

N=${N:-10000}
R=${R:-2000}
D=${D:-60}
REG_RATE=${REG_RATE:-5000}
REG_LIMIT=${REG_LIMIT:-$((REG_RATE * 5))}
SETTLE_MAX=${SETTLE_MAX:-900}
LOG_LEVEL=${LOG_LEVEL:-info}
SRVID=34020000002000000001
DOMAIN=3402000000
PASSWORD=12345678
TOKEN=bench-sip-service-token-0123456789

for tool in sipp curl jq python3 go; do
	command -v "$tool" >/dev/null || { echo "bench-sip: $tool is required" >&2; exit 1; }
done
if [ "$N" -gt 9999999 ]; then
	echo "bench-sip: N must be at most 9 999 999 (7-digit device serials)" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/bench-sip.XXXXXX)
chmod 755 "$tmp" # the private cluster runs as postgres when we are root
pids=()
server_pid=""

# shellcheck source=lib/pg.sh
. scripts/lib/pg.sh # (the working directory is the repository root)

cleanup() {
	trap - INT TERM EXIT
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ -z "${SHARPEYES_DATABASE_URL:-}" ] && [ -f "$tmp/pgdata/postmaster.pid" ]; then
		pg_ctl_cmd -D "$tmp/pgdata" -m fast -w stop >/dev/null || true
	fi
	if [ "${KEEP:-}" = 1 ]; then
		echo "bench-sip: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a port free for both UDP and TCP on 127.0.0.1
	python3 - <<'PY'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
PY
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
metric() { # name [label filter]: sum of the matching samples
	curl -fsS "http://127.0.0.1:$http_port/metrics" |
		awk -v name="$1" -v filter="${2:-}" '
			$1 == name || index($1, name "{") == 1 { if (filter == "" || index($1, filter)) s += $2 }
			END { printf "%.0f\n", s }'
}
config_queries() { metric sharpeyes_sip_device_queries_total 'cmd="ConfigDownload"'; }
channel_total() { curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$http_port/internal/v1/channels?limit=1" | jq .total; }
summary() { curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$http_port/internal/v1/summary"; }
server_cpu() { # user+system CPU seconds of the server so far
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$server_pid/stat"
}
# GODEBUG=gctrace=1 prints "…, A->B->C MB, …" per GC: heap at its start, at its end,
# and live. The lines share stderr with the log, so match them anywhere.
gc_figures() { grep -oE '[0-9]+->[0-9]+->[0-9]+ MB' "$tmp/sipserver.log" | sed -E 's/->/ /g; s/ MB//'; }
gc_count() { gc_figures | wc -l; }
live_heap() { gc_figures | tail -n 1 | cut -d' ' -f3; } # MB live after the last GC
gc_peak() { # [first last]: the largest heap at a GC's start and live heap after it, MB, over GCs first..last
	gc_figures | awk -v a="${1:-1}" -v b="${2:-999999999}" '
		NR >= a && NR <= b { if ($1 + 0 > h) h = $1 + 0; if ($3 + 0 > l) l = $3 + 0 }
		END { printf "%d MB heap, %d MB live", h, l }'
}
alive() {
	kill -0 "$server_pid" 2>/dev/null || {
		echo "bench-sip: sipserver exited; the end of its log:" >&2
		tail -n 30 "$tmp/sipserver.log" >&2
		exit 1
	}
}
udp_drops() { awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; } # RcvbufErrors, machine-wide
server_sock_drops() { # datagrams dropped on the server's full UDP receive buffer
	ss -uanm "sport = :$sip_port" | grep -o 'skmem:([^)]*)' | sed -E 's/.*,d([0-9]+)\).*/\1/' | head -n 1
}
stat_col() { # file column: the last value of a sipp -trace_stat column
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } { v = $c } END { print v + 0 }' "$1"
}

echo "bench-sip: building bin/sipserver"
mkdir -p bin
go build -o bin/sipserver ./cmd/sipserver

sip_port=$(free_port)
http_port=$(free_port)
sipp_port=$(free_port)
cp internal/sipserver/testdata/sipp/{register,keepalive,catalog_ooc}.xml "$tmp/"

# Device IDs 34020000001320000001…, as the scenarios' CSV wants them.
awk -v n="$N" -v pw="$PASSWORD" 'BEGIN {
	print "SEQUENTIAL"
	for (i = 1; i <= n; i++) {
		id = sprintf("3402000000132%07d", i)
		printf "%s;[authentication username=%s password=%s]\n", id, id, pw
	}
}' >"$tmp/devices.csv"

export SHARPEYES_SIP_LISTEN=127.0.0.1:$sip_port
export SHARPEYES_SIP_PASSWORD=$PASSWORD
export SHARPEYES_SIP_RATE_LIMIT=1000000 SHARPEYES_SIP_RATE_BURST=1000000 # all devices share sipp's one socket
export SHARPEYES_HTTP_LISTEN=127.0.0.1:$http_port
export SHARPEYES_SERVICE_TOKEN=$TOKEN
export SHARPEYES_LOG_LEVEL=$LOG_LEVEL
export GODEBUG=gctrace=1 # the live heap after each GC, for the memory figure
if [ -z "${SHARPEYES_DATABASE_URL:-}" ]; then
	export SHARPEYES_DATABASE_DATA_DIR=$tmp/pgdata
fi
"$root/bin/sipserver" >"$tmp/sipserver.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 1 240); do
	if curl -fsS -o /dev/null "http://127.0.0.1:$http_port/readyz" 2>/dev/null; then break; fi
	alive
	sleep 0.25
done
curl -fsS -o /dev/null "http://127.0.0.1:$http_port/readyz" || { echo "bench-sip: sipserver not ready in 60 s" >&2; exit 1; }
echo "bench-sip: sipserver SIP 127.0.0.1:$sip_port, HTTP 127.0.0.1:$http_port; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
start_devices=$(summary | jq .devices)
if [ "$start_devices" -ne 0 ]; then
	echo "bench-sip: the database already has $start_devices devices; use an empty one" >&2
	exit 1
fi
# Scrapes allocate: enough of them make the runtime collect the start-up garbage.
gcs=$(gc_count)
for _ in $(seq 1 2000); do
	curl -fsS -o /dev/null "http://127.0.0.1:$http_port/metrics"
	if [ "$(gc_count)" -ge "$((gcs + 2))" ]; then break; fi
done
live0=$(live_heap)
sleep 5
heap0=$(metric go_memstats_heap_inuse_bytes)
rss0=$(metric process_resident_memory_bytes)

sipp_common=(127.0.0.1:"$sip_port" -inf devices.csv -set srvid "$SRVID" -set domain "$DOMAIN"
	-i 127.0.0.1 -p "$sipp_port" -t u1 -nd -nostdin -oocsf catalog_ooc.xml
	-max_recv_loops 10000 -buff_size 8388608 -trace_err -deadcall_wait 0)
start_sipp() { # name args...: sipp in $tmp in the background; sets sipp_pid
	local name=$1
	shift
	(cd "$tmp" && exec sipp "${sipp_common[@]}" -error_file "${name}_errors.log" "$@" >"${name}_screen.log" 2>&1) &
	sipp_pid=$!
	pids+=("$sipp_pid")
}

# 1. Registration storm.
echo "bench-sip: registration storm of $N devices (sipp -r $REG_RATE -l $REG_LIMIT)"
cpu_a=$(server_cpu)
drops_a=$(udp_drops)
t0=$(now)
start_sipp storm -sf register.xml -r "$REG_RATE" -l "$REG_LIMIT" -m "$N" -d 3000 -timeout 1800s \
	-trace_stat -stf reg_stat.csv -fd 1
storm_pid=$sipp_pid
t_registered="" cpu_b="" t_catalog="" settled="" i=0
while :; do
	alive
	reg=$(summary | jq .registered)
	if [ -z "$t_registered" ] && [ "$reg" -ge "$N" ]; then t_registered=$(now) cpu_b=$(server_cpu); fi
	i=$((i + 1))
	if [ $((i % 5)) -eq 0 ]; then
		if [ -z "$t_catalog" ] && [ "$(channel_total)" -ge "$((2 * N))" ]; then t_catalog=$(now); fi
		if [ -n "$t_catalog" ] && [ -z "$settled" ] && [ "$(config_queries)" -ge "$N" ]; then settled=$(now); fi
	fi
	# sipp lingers 3 s after its last call (register.xml's pause) to answer the queries.
	kill -0 "$storm_pid" 2>/dev/null || break
	if [ -n "$t_registered" ] && [ "$(elapsed "$t_registered" "$(now)" | cut -d. -f1)" -ge 60 ]; then
		# sipp 3.6.1 once hung after "Test Terminated" (-r 10000, many retransmissions).
		echo "bench-sip: the storm's sipp did not exit 60 s after the last registration; stopping it" >&2
		kill "$storm_pid" 2>/dev/null || true
	fi
	sleep 0.1
done
wait "$storm_pid" || true
reg_ok=$(stat_col "$tmp/reg_stat.csv" "SuccessfulCall(C)")
reg_failed=$(stat_col "$tmp/reg_stat.csv" "FailedCall(C)")
reg_retrans=$(stat_col "$tmp/reg_stat.csv" "Retransmissions(C)")
if [ -z "$t_registered" ]; then
	echo "bench-sip: only $reg of $N devices registered (sipp: $reg_ok ok, $reg_failed failed)" >&2
	t_registered=$(now) cpu_b=$(server_cpu)
fi
storm_s=$(elapsed "$t0" "$t_registered")
echo "bench-sip: $reg registered after ${storm_s} s; sipp: $reg_ok ok, $reg_failed failed, $reg_retrans retransmissions"

# 2. Until every device's catalog round (… ConfigDownload, the last query) is
# done, keepalives at R/s keep the devices alive and the socket answering.
echo "bench-sip: waiting for the catalog queries of all devices (sipp keeps answering, keepalives at $R/s)"
if [ -z "$settled" ]; then
	start_sipp settle -sf keepalive.xml -r "$R" -l "$((R * 2))"
	settle_pid=$sipp_pid
	deadline=$(($(date +%s) + SETTLE_MAX))
	sleep 1 # sipp's signal handlers are in place
	while [ -z "$settled" ] && [ "$(date +%s)" -lt "$deadline" ]; do
		alive
		if [ -z "$t_catalog" ] && [ "$(channel_total)" -ge "$((2 * N))" ]; then t_catalog=$(now); fi
		if [ -n "$t_catalog" ] && [ "$(config_queries)" -ge "$N" ]; then settled=$(now); fi
		sleep 0.5
	done
	kill -USR1 "$settle_pid" 2>/dev/null || true # sipp's soft stop: no new calls, running ones finish
	wait "$settle_pid" || true
fi
catalog_s="not done in ${SETTLE_MAX} s" sync_s="not done in ${SETTLE_MAX} s"
if [ -n "$t_catalog" ]; then catalog_s="$(elapsed "$t0" "$t_catalog") s"; fi
if [ -n "$settled" ]; then sync_s="$(elapsed "$t0" "$settled") s"; fi
echo "bench-sip: $(channel_total) channels stored; since the storm began: all catalogs $catalog_s, all query rounds ended $sync_s"
queries=$(curl -fsS "http://127.0.0.1:$http_port/metrics" | grep '^sharpeyes_sip_device_queries_total' | sed 's/^sharpeyes_sip_device_queries_total//' | tr '\n' ' ')

# 3. Sustained keepalives.
total=$((R * D))
echo "bench-sip: $total keepalives at $R/s for $D s"
ka0=$(metric sharpeyes_sip_keepalives_total)
cpu_c=$(server_cpu)
drops_c=$(udp_drops)
gc_c=$(gc_count)
t1=$(now)
start_sipp keepalive -sf keepalive.xml -r "$R" -l "$((R * 2))" -m "$total" -timeout "$((D * 3 + 60))s" \
	-trace_stat -stf ka_stat.csv -fd 1 -trace_rtt -rtt_freq "$R"
ka_pid=$sipp_pid
while kill -0 "$ka_pid" 2>/dev/null; do
	alive
	sleep 0.5
done
t2=$(now)
cpu_d=$(server_cpu)
drops_d=$(udp_drops)
ka_peak=$(gc_peak "$((gc_c + 1))" "$(gc_count)")
ka_s=$(elapsed "$t1" "$t2")
ka_ok=$(stat_col "$tmp/ka_stat.csv" "SuccessfulCall(C)")
ka_failed=$(stat_col "$tmp/ka_stat.csv" "FailedCall(C)")
ka_retrans=$(stat_col "$tmp/ka_stat.csv" "Retransmissions(C)")
ka_server=$(($(metric sharpeyes_sip_keepalives_total) - ka0))
rtt=$(cat "$tmp"/keepalive_*_rtt.csv 2>/dev/null | awk -F';' '$3 == "keepalive" { print $2 }' | sort -n |
	awk 'function q(p,  i) { i = int(NR * p + 0.5); if (i < 1) i = 1; return v[i] }
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "no samples"; exit }
			printf "%d samples: p50 %s ms, p90 %s ms, p99 %s ms, p99.9 %s ms, max %s ms\n", NR,
				q(0.50), q(0.90), q(0.99), q(0.999), v[NR]
		}')
sum=$(summary)
online=$(jq .online <<<"$sum")
offline_events=$(grep -c 'msg="device offline"' "$tmp/sipserver.log" || true)
warnings=$(grep -cE 'level=(WARN|ERROR)' "$tmp/sipserver.log" || true)

# 4. Memory with N registered devices, idle: the server transactions of the last
# requests end after 64×T1 = 32 s; the next GC after that (the runtime forces one
# every 2 minutes at the latest) shows the live heap without them.
echo "bench-sip: idle for the memory figures: 35 s, then until the next GC (at most 130 s)"
sleep 35
gcs=$(gc_count)
for _ in $(seq 1 260); do
	alive
	if [ "$(gc_count)" -gt "$gcs" ]; then break; fi
	sleep 0.5
done
liveN=$(live_heap)
sleep 5 # heap in use counts the spans freed by that GC until they are swept
heapN=$(metric go_memstats_heap_inuse_bytes)
rssN=$(metric process_resident_memory_bytes)
per_dev=$(awk -v a="$heap0" -v b="$heapN" -v n="$N" 'BEGIN { printf "%.0f", (b - a) / n }')

cpu_pct() { awk -v c0="$1" -v c1="$2" -v s="$3" 'BEGIN { printf "%.0f", 100 * (c1 - c0) / s }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
cat <<EOF

sipserver SIP benchmark: N=$N devices, keepalives R=$R/s for D=$D s; $(nproc) CPUs shared with sipp
| figure | value |
| --- | --- |
| authenticated registrations (401 + digest) | $reg / $N registered in $storm_s s = $(awk -v n="$N" -v s="$storm_s" 'BEGIN { printf "%.0f", n / s }') /s ($(awk -v n="$N" -v s="$storm_s" 'BEGIN { printf "%.0f", 2 * n / s }') REGISTER requests/s) |
| storm: sipp calls ok / failed / retransmissions | $reg_ok / $reg_failed / $reg_retrans |
| storm: server CPU until all registered | $(cpu_pct "$cpu_a" "$cpu_b" "$storm_s") % of one core |
| all catalogs stored (2 channels per device), since the storm began | $catalog_s |
| all query rounds ended (DeviceInfo, Catalog, SUBSCRIBE, ConfigDownload) | $sync_s |
| UDP datagrams dropped, full receive buffers (machine-wide): storm + catalogs / keepalives | $((drops_c - drops_a)) / $((drops_d - drops_c)); on the server's socket in all: $(server_sock_drops) |
| heap in use after a GC (/metrics): 0 devices / N devices idle | $(mib "$heap0") MiB / $(mib "$heapN") MiB → $per_dev B per device (2 channels each) |
| live heap of that GC (gctrace): 0 devices / N devices idle | $live0 MB / $liveN MB → $(awk -v a="$live0" -v b="$liveN" -v n="$N" 'BEGIN { printf "%.0f", (b - a) * 1048576 / n }') B per device |
| RSS: 0 devices / N devices idle | $(mib "$rss0") MiB / $(mib "$rssN") MiB |
| largest GC figures (gctrace): whole run / during the keepalives | $(gc_peak) / $ka_peak |
| keepalives: sipp ok / failed / retransmissions | $ka_ok / $ka_failed / $ka_retrans (server counted $ka_server) |
| keepalives: achieved rate | $(awk -v n="$ka_ok" -v s="$ka_s" 'BEGIN { printf "%.0f", n / s }') /s over $ka_s s |
| keepalive response time (sipp, 1 ms resolution) | $rtt |
| keepalives: server CPU | $(cpu_pct "$cpu_c" "$cpu_d" "$ka_s") % of one core |
| online after the keepalives | $online / $N; "device offline" log lines: $offline_events |
| server WARN/ERROR log lines | $warnings |
device queries: $queries
server drops (sharpeyes_sip_dropped_total): $(metric sharpeyes_sip_dropped_total)
EOF
