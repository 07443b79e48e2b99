#!/usr/bin/env bash
# Starts the development stack from bin/ (built by `make run`): every service with
# its example config, then gbsim with 16 cameras, logs under var/log/, until
# Ctrl-C. Without SHARPEYES_DATABASE_URL the services share a private PostgreSQL
# cluster in var/pgdata, started by the first of them and stopped here on exit
# (the data stays).
#
# Ctrl-C stops everything, also under `make run 2>&1 | tee run.log`:
#   - the services and gbsim run in sessions of their own (setsid), so the
#     terminal's SIGINT reaches only make, this script and tee; this script
#     then stops gbsim first (its devices unregister), then the services, each
#     with SIGTERM and, if it has not ended within stop_grace, SIGKILL to its
#     whole process group (ffmpeg children included);
#   - the PostgreSQL postmaster is a session of its own too (pg_ctl starts it
#     so), and no service stops it: this script does, with pg_ctl;
#   - tee dies of the same Ctrl-C, so every later write to the pipe fails:
#     SIGPIPE is trapped (a no-op handler, so writes fail with EPIPE instead of
#     killing this script half-way, and the children still get the default
#     SIGPIPE), and the messages of the stop go to the terminal instead;
#   - a second Ctrl-C during the stop is ignored rather than leaving half the
#     stack up; every wait of the stop is bounded.
set -euo pipefail
trap : PIPE
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

# shellcheck source=lib/stack.sh
. scripts/lib/stack.sh # say, stop, wait_ready, stop_grace

pids=()
sim_pids=()
stop_all() {
	# Once: no second run from the EXIT trap, no second Ctrl-C half-way.
	trap '' INT TERM HUP
	trap - EXIT
	set +e
	say ""
	say "stopping: gbsim ${services[*]}"
	# gbsim first, so that its devices unregister while sipserver still runs.
	stop "${sim_pids[@]}"
	stop "${pids[@]}"
	if [ -z "${SHARPEYES_DATABASE_URL:-}" ] && [ -f var/pgdata/postmaster.pid ]; then
		if pg_ctl_cmd -D "$PWD/var/pgdata" -m fast -w -t "$stop_grace" stop >/dev/null 2>&1; then
			say "stopped the private PostgreSQL cluster (data kept in var/pgdata)"
		else
			say "could not stop the private PostgreSQL cluster in var/pgdata; try: pg_ctl -D $PWD/var/pgdata stop"
		fi
	fi
	say "stopped"
}
trap 'stop_all; exit 0' INT # Ctrl-C is how the stack is meant to stop: no error
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP
trap stop_all EXIT

# The demo caps every recording's life at 2 hours (production keeps 30/90 days),
# so that a laptop's disk never fills; SHARPEYES_RECORDER_RETENTION_LIMIT=0 lifts the cap.
recorder_limit=${SHARPEYES_RECORDER_RETENTION_LIMIT:-2h}
if [[ $recorder_limit =~ ^0[a-z]*$ ]]; then
	recorder_kept="30 d / 90 d for key areas (recorder.retention)"
else
	recorder_kept="$(sed -E 's/([0-9.]+)([a-z]+)/\1 \2 /g; s/ $//' <<<"$recorder_limit") (recorder.retention_limit)"
fi
declare -A port=([sipserver]=8081 [mediagw]=8888 [recorder]=8082 [console]=8080)
# Service-specific environment: each service gets only the keys it has (others would warn).
declare -A extra_env=(
	[sipserver]="SHARPEYES_SIP_PASSWORD=$SHARPEYES_SIP_PASSWORD SHARPEYES_SERVICE_TOKEN=$SHARPEYES_SERVICE_TOKEN"
	[mediagw]="SHARPEYES_SERVICE_TOKEN=$SHARPEYES_SERVICE_TOKEN SHARPEYES_PLAY_TOKEN_SECRET=$play_secret SHARPEYES_AUDIT_CONSOLE_URL=http://127.0.0.1:${port[console]}"
	[console]="SHARPEYES_SERVICE_TOKEN=$SHARPEYES_SERVICE_TOKEN SHARPEYES_MEDIA_PLAY_TOKEN_SECRET=$play_secret"
	[recorder]="SHARPEYES_SERVICE_TOKEN=$SHARPEYES_SERVICE_TOKEN SHARPEYES_PLAY_TOKEN_SECRET=$play_secret SHARPEYES_RECORDER_RETENTION_LIMIT=$recorder_limit SHARPEYES_RECORDER_CONSOLE_URL=http://127.0.0.1:${port[console]} SHARPEYES_RECORDER_SIPSERVER_URL=http://127.0.0.1:${port[sipserver]} SHARPEYES_RECORDER_PUBLIC_URL=http://127.0.0.1:${port[recorder]}"
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

# Two example departments under 示例 公安局, each owning half of gbsim's
# cameras, with an operator each (docs/security.md): created on the first
# run only, their random initial passwords shown this once.
# shellcheck disable=SC2086 # extra_env holds NAME=value words
examples=$(env ${extra_env[console]} bin/console -config configs/console.yaml -seed-examples 2>var/log/console-seed.log) ||
	examples="could not seed the example departments; see var/log/console-seed.log"

# 16 simulated cameras: 3 devices over UDP and 1 over TCP, 4 channels each,
# H.264 and H.265 alternating (browsers get the H.265 ones transcoded to H.264).
setsid bin/gbsim -server 127.0.0.1:5060 -password "$SHARPEYES_SIP_PASSWORD" -devices 3 -channels 4 -sip-transport udp \
	-media mixed -device-id-start 34020000001320000001 \
	-fault-picture 34020000001310000011=black,34020000001310000012=frozen >var/log/gbsim-udp.log 2>&1 &
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
             example departments and operators (each sees only its slice of the cameras):
$(printf '%s\n' "$examples" | sed 's/^/               /')
  sipserver  udp+tcp 127.0.0.1:5060  GB28181 SIP, ID 34020000002000000001, domain 3402000000
             http://127.0.0.1:8081   internal API /internal/v1/ (docs/sipserver-api.md); /healthz /readyz /metrics
  recorder   http://127.0.0.1:8082   records every camera into var/recordings (fMP4, 1 min segments), kept $recorder_kept
             (a demo cap; production keeps 30 d / 90 d for key areas); /healthz /readyz /metrics
             playback: HLS VOD /vod/recording/<channel>/index.m3u8?start&end&token (docs/recorder.md);
             exports: /internal/v1/exports with the service token
  mediagw    http://127.0.0.1:8888   WHEP /whep/<path>, LL-HLS /hls/<path>/index.m3u8, control API /internal/v1/
             rtsp://127.0.0.1:8554   RTSP; RTP in on udp :10000 and 30000-30999; ICE udp :8189 (docs/mediagw.md)
             play tokens: POST /internal/v1/play-tokens {"paths":["live/*"]} with the service token
             every media open is a row of the console's audit log; no row, no video (audit.fail_closed)
  gbsim      ${online:-0}/4 devices online, 16 cameras (logs var/log/gbsim-*.log); 34020000001310000011 shows a
             black picture and ...0012 a frozen one, for the health probes (docs/kpi.md)

  service token (internal APIs): var/service-token
    curl -H "Authorization: Bearer \$(cat var/service-token)" http://127.0.0.1:8081/internal/v1/devices

  !! DEVELOPMENT DEVICE PASSWORD: $SHARPEYES_SIP_PASSWORD (sip.password) — never use it in production !!
MSG
if [ -z "${SHARPEYES_DATABASE_URL:-}" ]; then
	# The cluster's own lines only: 'port=[0-9]*' alone also matched transport=udp (an empty port).
	grep -h 'PostgreSQL cluster' var/log/sipserver.log | grep -o ' port=[0-9][0-9]*' | tail -n 1 | sed 's/ port=/  PostgreSQL 127.0.0.1:/; s/$/  (private cluster in var\/pgdata, user sharpeyes, database sharpeyes)/'
fi
wait -n "${pids[@]}" "${sim_pids[@]}" || true
say "a service exited; see var/log/"
