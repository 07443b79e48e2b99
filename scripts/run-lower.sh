#!/usr/bin/env bash
# Starts a second stack, a county platform (镜湖区, ID 34020200002000000001),
# cascaded under the one `make run` started (the city): its sipserver, mediagw
# and console on ports of their own, its own private PostgreSQL cluster in
# var/lower/pgdata, and gbsim with 4 cameras of its own. The county shares
# every camera with the city (live, playback, download, PTZ), which then sees
# them under the county's platform in its device tree and plays them through
# it. Logs in var/lower/log/; Ctrl-C stops this stack, the city's keeps running.
# No recorder runs here: the city records the cameras it sees, these included.
set -euo pipefail
trap : PIPE
cd "$(dirname "$0")/.."
log_dir=var/lower/log
mkdir -p "$log_dir"
# shellcheck source=lib/stack.sh
. scripts/lib/stack.sh # say, stop, wait_ready, stop_grace
# shellcheck source=lib/pg.sh
. scripts/lib/pg.sh

# The city's stack must be up: it is the superior this one registers to.
if ! curl -fsS -o /dev/null http://127.0.0.1:8081/readyz 2>/dev/null; then
	echo "the city's stack is not running: start it first with 'make run' (in another terminal)" >&2
	exit 1
fi
for b in sipserver mediagw console gbsim; do
	[ -x "bin/$b" ] || { echo "bin/$b is missing: run 'make run' (or 'make build') first" >&2; exit 1; }
done

# The city's device password is what a lower platform registers with too.
SHARPEYES_SIP_PASSWORD=${SHARPEYES_SIP_PASSWORD:-12345678}
[ -s var/lower/service-token ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >var/lower/service-token)
token=$(cat var/lower/service-token)
[ -s var/lower/play-token-secret ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '/+=' >var/lower/play-token-secret)
play_secret=$(cat var/lower/play-token-secret)

lower_id=34020200002000000001
lower_domain=3402020000
city_id=34020000002000000001
declare -A port=([sipserver]=8181 [mediagw]=8988 [console]=8180)
db="SHARPEYES_DATABASE_DATA_DIR=var/lower/pgdata"
declare -A env_of=(
	[sipserver]="$db SHARPEYES_HTTP_LISTEN=:8181 SHARPEYES_SERVICE_TOKEN=$token SHARPEYES_SIP_ID=$lower_id
		SHARPEYES_SIP_DOMAIN=$lower_domain SHARPEYES_SIP_LISTEN=:5070 SHARPEYES_SIP_PASSWORD=$SHARPEYES_SIP_PASSWORD
		SHARPEYES_SESSIONS_MEDIAGW_URL=http://127.0.0.1:8988"
	[mediagw]="SHARPEYES_HTTP_LISTEN=:8988 SHARPEYES_SERVICE_TOKEN=$token SHARPEYES_PLAY_TOKEN_SECRET=$play_secret
		SHARPEYES_RTP_UDP_LISTEN=:11000 SHARPEYES_RTP_PORT_MIN=31000 SHARPEYES_RTP_PORT_MAX=31999
		SHARPEYES_WEBRTC_ICE_UDP_LISTEN=:8289 SHARPEYES_RTSP_LISTEN=:8654
		SHARPEYES_ON_DEMAND_SIPSERVER_URL=http://127.0.0.1:8181 SHARPEYES_AUDIT_CONSOLE_URL=http://127.0.0.1:8180"
	[console]="$db SHARPEYES_HTTP_LISTEN=:8180 SHARPEYES_SERVICE_TOKEN=$token SHARPEYES_MEDIA_PLAY_TOKEN_SECRET=$play_secret
		SHARPEYES_SIPSERVER_URL=http://127.0.0.1:8181 SHARPEYES_MEDIA_PUBLIC_URL=http://127.0.0.1:8988
		SHARPEYES_MEDIA_RTSP_URL=rtsp://127.0.0.1:8654"
)

pids=()
sim_pids=()
stop_all() {
	trap '' INT TERM HUP
	trap - EXIT
	set +e
	say ""
	say "stopping the county's stack: gbsim sipserver mediagw console"
	stop "${sim_pids[@]}"
	stop "${pids[@]}"
	if [ -f var/lower/pgdata/postmaster.pid ]; then
		pg_ctl_cmd -D "$PWD/var/lower/pgdata" -m fast -w -t "$stop_grace" stop >/dev/null 2>&1 ||
			say "could not stop the county's PostgreSQL cluster; try: pg_ctl -D $PWD/var/lower/pgdata stop"
	fi
	say "stopped (the city's stack keeps running)"
}
trap 'stop_all; exit 0' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP
trap stop_all EXIT

for s in sipserver mediagw console; do
	# shellcheck disable=SC2086 # env_of holds NAME=value words
	env ${env_of[$s]} setsid "bin/$s" -config "configs/$s.yaml" >"$log_dir/$s.log" 2>&1 &
	pids+=($!)
	wait_ready "$s" "http://127.0.0.1:${port[$s]}/readyz"
done

# The city as the county's superior platform, sharing every camera of the
# county (its region 340202) with it: what an administrator does under
# 系统管理 → 上级平台 (docs/cascade.md), here straight into the database.
# The cluster's port: the 4th line of its postmaster.pid (whether this run
# started it or reused it).
pg_port=$(sed -n 4p var/lower/pgdata/postmaster.pid 2>/dev/null || true)
psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_port" ] || [ -z "$psql_bin" ]; then
	echo "cannot reach the county's database (port '${pg_port}', psql '${psql_bin}'): the link to the city is not set up" >&2
	exit 1
fi
"$psql_bin" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U sharpeyes -d sharpeyes >/dev/null <<SQL
INSERT INTO cascade_platforms (name, server_id, domain, host, port, transport, password, gb_version, charset,
                               expires, keepalive_interval, keepalive_count)
SELECT '芜湖市平台', '$city_id', '3402000000', '127.0.0.1', 5060, 'udp', '$SHARPEYES_SIP_PASSWORD', '2016', 'GB2312', 3600, 60, 3
WHERE NOT EXISTS (SELECT 1 FROM cascade_platforms WHERE server_id = '$city_id');
INSERT INTO platform_grants (platform_id, scope_kind, civil_code, rights, ptz_priority)
SELECT id, 'region', '340202', '{live,playback,download,ptz,location}', 5 FROM cascade_platforms
WHERE server_id = '$city_id' AND NOT EXISTS (SELECT 1 FROM platform_grants g WHERE g.platform_id = cascade_platforms.id);
SQL

# 4 simulated cameras of the county (civil code 340202).
setsid bin/gbsim -server 127.0.0.1:5070 -password "$SHARPEYES_SIP_PASSWORD" -devices 1 -channels 4 -sip-transport udp \
	-media h264 -device-id-start 34020200001320000001 >"$log_dir/gbsim.log" 2>&1 &
sim_pids+=($!)

# The city sees the county's cameras once the link is up and its catalog is in.
city_token=${SHARPEYES_SERVICE_TOKEN:-$(cat var/service-token 2>/dev/null || true)}
seen=0
for _ in $(seq 1 80); do
	seen=$(curl -fsS -H "Authorization: Bearer $city_token" \
		"http://127.0.0.1:8081/internal/v1/channels?device_id=$lower_id&online=true" 2>/dev/null |
		sed -n 's/.*"total":\([0-9]*\).*/\1/p' || true)
	[ "${seen:-0}" -ge 4 ] && break
	sleep 0.25
done
status=$(curl -fsS -H "Authorization: Bearer $token" http://127.0.0.1:8181/internal/v1/summary >/dev/null 2>&1 && echo up || echo down)

cat <<MSG

the county's stack ($lower_id, 镜湖区) is $status, cascaded under the city's (logs in $log_dir/, Ctrl-C stops it):
  console    http://127.0.0.1:8180   its own web UI; 系统管理 → 上级平台 shows the link to the city (first login admin / admin)
  sipserver  udp+tcp 127.0.0.1:5070  ID $lower_id, domain $lower_domain; http://127.0.0.1:8181 internal API
  mediagw    http://127.0.0.1:8988   sends the cameras up to the city's mediagw as PS over RTP when the city plays them
  gbsim      4 cameras, device 34020200001320000001
  the city (http://127.0.0.1:8080, its superior, 芜湖市平台 here) sees ${seen:-0}/4 of them online, under the lower
  platform $lower_id in its device tree; play one there, and the county's sender of it shows in
    curl -H "Authorization: Bearer \$(cat var/lower/service-token)" http://127.0.0.1:8988/internal/v1/senders
MSG
wait -n "${pids[@]}" "${sim_pids[@]}" || true
say "a service of the county's stack exited; see $log_dir/"
