#!/usr/bin/env bash
# Starts the development stack from bin/ (built by `make run`): every service with
# its example config, then gbsim with 16 cameras, logs under var/log/, until
# Ctrl-C. Without SHARPEYES_DATABASE_URL the services share a private PostgreSQL
# cluster in var/pgdata, started here and stopped again on exit (the data stays).
set -euo pipefail
cd "$(dirname "$0")/.."
services=(sipserver mediagw recorder console)
mkdir -p var/log

# The development stack's device password, said loudly: never use it in production.
SHARPEYES_SIP_PASSWORD=${SHARPEYES_SIP_PASSWORD:-12345678}
# One service token for the stack's internal APIs, kept across runs.
if [ -z "${SHARPEYES_SERVICE_TOKEN:-}" ]; then
	[ -s var/service-token ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >var/service-token)
	SHARPEYES_SERVICE_TOKEN=$(cat var/service-token)
fi

# The play token secret (mediagw checks what the console will issue), kept across runs.
[ -s var/play-token-secret ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '/+=' >var/play-token-secret)
play_secret=$(cat var/play-token-secret)

# shellcheck source=lib/pg.sh
. scripts/lib/pg.sh # (the working directory is the repository root)

pids=()
sim_pids=()
stop_all() {
	trap - INT TERM EXIT
	echo
	echo "stopping: ${services[*]} gbsim"
	# gbsim first, so that its devices unregister while sipserver still runs.
	for pid in "${sim_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${sim_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -z "${SHARPEYES_DATABASE_URL:-}" ] && [ -f var/pgdata/postmaster.pid ]; then
		pg_ctl_cmd -D "$PWD/var/pgdata" -m fast -w stop >/dev/null && echo "stopped the private PostgreSQL cluster (data kept in var/pgdata)"
	fi
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_ready() { # name url
	for _ in $(seq 1 120); do
		if curl -fsS -o /dev/null "$2" 2>/dev/null; then return 0; fi
		if ! kill -0 "${pids[-1]}" 2>/dev/null; then
			echo "$1 exited at start; its log (var/log/$1.log):"
			tail -n 20 "var/log/$1.log"
			return 1
		fi
		sleep 0.25
	done
	echo "$1 did not become ready in 30 s; see var/log/$1.log"
	return 1
}

declare -A port=([sipserver]=8081 [mediagw]=8888 [recorder]=8082 [console]=8080)
# Service-specific environment: each service gets only the keys it has (others would warn).
declare -A extra_env=(
	[sipserver]="SHARPEYES_SIP_PASSWORD=$SHARPEYES_SIP_PASSWORD SHARPEYES_SERVICE_TOKEN=$SHARPEYES_SERVICE_TOKEN"
	[mediagw]="SHARPEYES_SERVICE_TOKEN=$SHARPEYES_SERVICE_TOKEN SHARPEYES_PLAY_TOKEN_SECRET=$play_secret SHARPEYES_AUDIT_CONSOLE_URL=http://127.0.0.1:${port[console]}"
	[console]="SHARPEYES_SERVICE_TOKEN=$SHARPEYES_SERVICE_TOKEN SHARPEYES_MEDIA_PLAY_TOKEN_SECRET=$play_secret"
)
for s in "${services[@]}"; do
	# One at a time: the first database service creates the private cluster and
	# applies the migrations, the others then reuse both.
	# setsid: Ctrl-C reaches only this script, which then stops gbsim first
	# (its devices unregister) and the services after it.
	# shellcheck disable=SC2086 # extra_env holds NAME=value words
	env ${extra_env[$s]:-} setsid "bin/$s" -config "configs/$s.yaml" >"var/log/$s.log" 2>&1 &
	pids+=($!)
	wait_ready "$s" "http://127.0.0.1:${port[$s]}/readyz"
done

# 16 simulated cameras: 3 devices over UDP and 1 over TCP, 4 channels each,
# H.264 and H.265 alternating (browsers get the H.265 ones transcoded to H.264).
setsid bin/gbsim -server 127.0.0.1:5060 -password "$SHARPEYES_SIP_PASSWORD" -devices 3 -channels 4 -sip-transport udp \
	-media mixed -device-id-start 34020000001320000001 >var/log/gbsim-udp.log 2>&1 &
sim_pids+=($!)
setsid bin/gbsim -server 127.0.0.1:5060 -password "$SHARPEYES_SIP_PASSWORD" -devices 1 -channels 4 -sip-transport tcp \
	-media mixed -device-id-start 34020000001320000101 >var/log/gbsim-tcp.log 2>&1 &
sim_pids+=($!)
auth=(-H "Authorization: Bearer $SHARPEYES_SERVICE_TOKEN")
for _ in $(seq 1 40); do
	online=$(curl -fsS "${auth[@]}" http://127.0.0.1:8081/internal/v1/summary 2>/dev/null | sed -n 's/.*"online":\([0-9]*\).*/\1/p')
	[ "${online:-0}" -ge 4 ] && break
	sleep 0.25
done
# Media over TCP too: the TCP device's cameras connect to mediagw (tcp-passive),
# and one camera of the first device is dialled by mediagw (tcp-active).
curl -fsS -o /dev/null -X PATCH "${auth[@]}" -d '{"stream_transport":"tcp-passive"}' \
	http://127.0.0.1:8081/internal/v1/devices/34020000001320000101 || echo "could not set the TCP device's media transport"
curl -fsS -o /dev/null -X PATCH "${auth[@]}" -d '{"stream_transport":"tcp-active"}' \
	http://127.0.0.1:8081/internal/v1/devices/34020000001320000001/channels/34020000001310000004 ||
	echo "could not set a tcp-active camera"

cat <<MSG

sharpeyes development stack is up (logs in var/log/, Ctrl-C stops everything):
  console    http://127.0.0.1:8080   web UI (video wall, playback) and public API /api/v1 (docs/console-api.md)
             first login: admin / admin — you must change the password at once
  sipserver  udp+tcp 127.0.0.1:5060  GB28181 SIP, ID 34020000002000000001, domain 3402000000
             http://127.0.0.1:8081   internal API /internal/v1/ (docs/sipserver-api.md); /healthz /readyz /metrics
  recorder   http://127.0.0.1:8082   playback (to come); /healthz /readyz /metrics
  mediagw    http://127.0.0.1:8888   WHEP /whep/<path>, LL-HLS /hls/<path>/index.m3u8, control API /internal/v1/
             rtsp://127.0.0.1:8554   RTSP; RTP in on udp :10000 and 30000-30999; ICE udp :8189 (docs/mediagw.md)
             play tokens: POST /internal/v1/play-tokens {"paths":["live/*"]} with the service token
             every media open is a row of the console's audit log; no row, no video (audit.fail_closed)
  gbsim      ${online:-0}/4 devices online, 16 cameras (logs var/log/gbsim-*.log)

  service token (internal APIs): var/service-token
    curl -H "Authorization: Bearer \$(cat var/service-token)" http://127.0.0.1:8081/internal/v1/devices

  !! DEVELOPMENT DEVICE PASSWORD: $SHARPEYES_SIP_PASSWORD (sip.password) — never use it in production !!
MSG
if [ -z "${SHARPEYES_DATABASE_URL:-}" ]; then
	grep -ho 'port=[0-9]*' var/log/sipserver.log | tail -n 1 | sed 's/port=/  PostgreSQL 127.0.0.1:/; s/$/  (private cluster in var\/pgdata, user sharpeyes, database sharpeyes)/'
fi
wait -n "${pids[@]}" "${sim_pids[@]}" || true
echo "a service exited; see var/log/"
