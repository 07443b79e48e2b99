#!/usr/bin/env bash
# Installs what `make run` and `make test` need, only what is missing, and says
# what it did. Both targets run it first, so it must be fast when everything is
# there: every package is checked with a command before apt is asked anything.
# Debian/Ubuntu; as root it needs no sudo (a root-only image has none), as
# another user it uses sudo when present. apt-get waits up to 120 s for a lock
# another apt holds (unattended-upgrades on a fresh machine) instead of failing.
# To see the apt path on a machine that has everything: INSTALL_DEPS_FORCE="pkg …"
# counts those packages as missing.
# Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'install-deps: %s\n' "$*"; }
fail() {
	printf 'install-deps: %s\n' "$@" >&2
	exit 1
}

# The Go release go.mod needs; older ones cannot build the module.
go_want=1.26

have_pg() {
	command -v initdb >/dev/null 2>&1 && return 0
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
gst_has() { command -v gst-inspect-1.0 >/dev/null 2>&1 && gst-inspect-1.0 "$1" >/dev/null 2>&1; }

# Debian package -> the command that tells whether it is installed. The first
# three are tools the Makefile and scripts use; the rest are the real peers of
# the tests and the stack (PostgreSQL, ffmpeg, sipp, GStreamer, Chromium).
declare -A checks=(
	[make]="command -v make"
	[git]="command -v git"
	[curl]="command -v curl"
	[postgresql]=have_pg
	[ffmpeg]="command -v ffmpeg"
	[sip-tester]="command -v sipp"
	[gstreamer1.0-tools]="command -v gst-launch-1.0"
	[gstreamer1.0-plugins-bad]="gst_has mpegpsmux"
	[gstreamer1.0-plugins-ugly]="gst_has x264enc"
	[chromium]="command -v chromium"
)
order=(make git curl postgresql ffmpeg sip-tester gstreamer1.0-tools gstreamer1.0-plugins-bad
	gstreamer1.0-plugins-ugly chromium)

missing=()
for pkg in "${order[@]}"; do
	eval "${checks[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
for pkg in ${INSTALL_DEPS_FORCE:-}; do
	[ -n "${checks[$pkg]:-}" ] || fail "INSTALL_DEPS_FORCE: $pkg is not one of: ${order[*]}"
	[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	log "all present: ${order[*]}"
else
	# Root needs no sudo; anyone else needs sudo to install.
	as_root=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			fail "missing: ${missing[*]}" \
				"  not root and no sudo: as root, run: apt-get install --no-install-recommends ${missing[*]}"
		as_root=(sudo)
	fi
	command -v apt-get >/dev/null 2>&1 ||
		fail "missing: ${missing[*]}" \
			"  no apt-get here (this script knows Debian and Ubuntu): install these with your system's package manager"
	log "installing: ${missing[*]} (apt-get, waiting up to 120 s for another apt to finish)"
	apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120)
	# apt-get update takes the lists lock, which DPkg::Lock::Timeout does not
	# cover (apt 2.6): wait for it here, for the same 120 s.
	for try in $(seq 1 60); do
		out=$("${apt[@]}" update -qq 2>&1) && break
		case $out in
		*"Could not get lock"*) [ "$try" -lt 60 ] || fail "$out" "another apt held its lock for 120 s" ;;
		*) fail "$out" "apt-get update failed: no network, or a broken source in /etc/apt/sources.list*" ;;
		esac
		[ "$try" -gt 1 ] || log "another apt holds /var/lib/apt/lists/lock: waiting for it"
		sleep 2
	done
	"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		fail "apt-get install ${missing[*]} failed (see above)"
	for pkg in "${missing[@]}"; do
		eval "${checks[$pkg]}" >/dev/null 2>&1 || fail "$pkg: installed, but the check still fails: ${checks[$pkg]}"
		log "$pkg: installed"
	done
fi

# Go is not taken from apt: Debian's golang is older than the module needs.
how_go="install Go $go_want or newer from https://go.dev/dl/ (e.g. tar -C /usr/local -xzf go*.linux-amd64.tar.gz)"
how_go+=" and put /usr/local/go/bin on PATH"
command -v "${GO:-go}" >/dev/null 2>&1 || fail "go: not found on PATH" "  $how_go"
# Asked inside the module, so a GOTOOLCHAIN switch to go.mod's release counts.
have=$("${GO:-go}" env GOVERSION 2>/dev/null) || fail "go: '${GO:-go} env GOVERSION' failed" "  $how_go"
ver=${have#go}
major=${ver%%.*}
minor=${ver#*.}
minor=${minor%%[!0-9]*}
if [[ $have == devel* ]]; then
	: # a development build is newer than any release
elif ! [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || ((major < 1 || (major == 1 && minor < ${go_want#1.}))); then
	fail "go: $have found, $go_want or newer needed" "  $how_go"
fi
log "go: $have"

# MinIO, the real S3 store of the recorder's tests (internal/objstore/miniotest):
# built from source with go install into GOPATH/bin, since nothing prebuilt can
# be downloaded; about 4 minutes on 2 cores, once. The module proxy lists no
# MinIO release tags, so the version is the pseudo-version of a release commit;
# internal/objstore/miniotest.Version must name the same one.
minio_version=v0.0.0-20260212201848-7aac2a2c5b7c
gobin=$("${GO:-go}" env GOBIN)
[ -n "$gobin" ] || gobin="$("${GO:-go}" env GOPATH | cut -d: -f1)/bin"
if command -v minio >/dev/null 2>&1; then
	log "minio: $(command -v minio)"
elif "${GO:-go}" version -m "$gobin/minio" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*github.com/minio/minio[[:space:]]*$minio_version\b"; then
	log "minio: $gobin/minio ($minio_version)"
else
	log "minio: building github.com/minio/minio@$minio_version into $gobin (go install, about 4 minutes)"
	"${GO:-go}" install "github.com/minio/minio@$minio_version" ||
		fail "minio: go install github.com/minio/minio@$minio_version failed (see above)"
	log "minio: installed $gobin/minio"
fi
