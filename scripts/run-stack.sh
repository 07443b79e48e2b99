#!/usr/bin/env bash
# Starts the development stack from bin/ (built by `make run`): every service with
# its example config, logs under var/log/, until Ctrl-C. Without
# SHARPEYES_DATABASE_URL the services share a private PostgreSQL cluster in
# var/pgdata, started here and stopped again on exit (the data stays).
set -euo pipefail
cd "$(dirname "$0")/.."
services=(sipserver mediagw recorder console)
mkdir -p var/log

pg_ctl_cmd() {
	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -x "$bin/pg_ctl" ] || bin=$(dirname "$(command -v pg_ctl)")
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$bin/pg_ctl" "$@"
	else
		"$bin/pg_ctl" "$@"
	fi
}

pids=()
stop_all() {
	trap - INT TERM EXIT
	echo
	echo "stopping: ${services[*]}"
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
for s in "${services[@]}"; do
	# One at a time: the first database service creates the private cluster and
	# applies the migrations, the others then reuse both.
	"bin/$s" -config "configs/$s.yaml" >"var/log/$s.log" 2>&1 &
	pids+=($!)
	wait_ready "$s" "http://127.0.0.1:${port[$s]}/readyz"
done

cat <<MSG

sharpeyes development stack is up (logs in var/log/, Ctrl-C stops everything):
  console    http://127.0.0.1:8080   public API and web UI (to come); /healthz /readyz /metrics
  sipserver  http://127.0.0.1:8081   internal API (to come); /healthz /readyz /metrics
  recorder   http://127.0.0.1:8082   playback (to come); /healthz /readyz /metrics
  mediagw    http://127.0.0.1:8888   WHEP / HLS (to come); /healthz /readyz /metrics
MSG
if [ -z "${SHARPEYES_DATABASE_URL:-}" ]; then
	grep -ho 'port=[0-9]*' var/log/sipserver.log | tail -n 1 | sed 's/port=/  PostgreSQL 127.0.0.1:/; s/$/  (private cluster in var\/pgdata, user sharpeyes, database sharpeyes)/'
fi
wait -n "${pids[@]}" || true
echo "a service exited; see var/log/"
