# Sourced by the scripts that start a stack (run-stack.sh, run-lower.sh): how
# they wait for a service and stop processes. The caller keeps its processes'
# PIDs in the array pids; wait_ready looks at the last one.

# How long a process may take to end after SIGTERM before it is killed: the
# services end their sessions and close the database within a few seconds.
stop_grace=20

# say prints a line to stdout or, when that is a pipe whose reader is gone
# (tee after Ctrl-C), to the terminal; it never fails.
say() {
	{ printf '%s\n' "$*"; } 2>/dev/null || { printf '%s\n' "$*" >/dev/tty; } 2>/dev/null || true
}

# stop ends the processes given, each the leader of its own session (setsid):
# SIGTERM, then after stop_grace SIGKILL to the process group, and a last
# SIGTERM to the group for a child the leader left behind.
stop() {
	local pid left=()
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null && left+=("$pid"); done
	for _ in $(seq 1 $((stop_grace * 10))); do
		[ ${#left[@]} -gt 0 ] || break
		local still=()
		for pid in "${left[@]}"; do kill -0 "$pid" 2>/dev/null && still+=("$pid"); done
		left=("${still[@]}")
		[ ${#left[@]} -gt 0 ] && sleep 0.1
	done
	for pid in "${left[@]}"; do
		say "$(ps -o comm= -p "$pid" 2>/dev/null || echo "pid $pid") did not stop within ${stop_grace}s: killed"
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		wait "$pid" 2>/dev/null || true
		kill -TERM -- "-$pid" 2>/dev/null || true
	done
}

# wait_ready waits until url answers, or fails when the last process in pids
# exited; its log is $log_dir/<name>.log (var/log by default).
wait_ready() { # name url
	for _ in $(seq 1 120); do
		if curl -fsS -o /dev/null "$2" 2>/dev/null; then return 0; fi
		if ! kill -0 "${pids[-1]}" 2>/dev/null; then
			echo "$1 exited at start; its log (${log_dir:-var/log}/$1.log):"
			tail -n 20 "${log_dir:-var/log}/$1.log"
			return 1
		fi
		sleep 0.25
	done
	echo "$1 did not become ready in 30 s; see ${log_dir:-var/log}/$1.log"
	return 1
}

