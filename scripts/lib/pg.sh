# Sourced by scripts that stop a private PostgreSQL cluster.
# pg_ctl_cmd runs the newest installed pg_ctl, as the postgres user when we
# are root (PostgreSQL refuses to run as root).
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
