#!/usr/bin/env bash
# Installs what sharpeyes' tests and `make run` need, only when missing, and says what it did.
# Debian/Ubuntu; run as root (or with sudo available). Safe to run repeatedly.
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo_cmd=(sudo)
	else
		log "not root and no sudo: install the packages listed below by hand"
	fi
fi

have_pg() {
	command -v initdb >/dev/null 2>&1 && return 0
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

# package name -> check command
declare -A checks=(
	[postgresql]=have_pg
	[ffmpeg]="command -v ffmpeg"
	[sip-tester]="command -v sipp"
	[gstreamer1.0-tools]="command -v gst-launch-1.0"
	[gstreamer1.0-plugins-bad]="gst_has mpegpsmux"
	[gstreamer1.0-plugins-ugly]="gst_has x264enc"
	[chromium]="command -v chromium"
)
order=(postgresql ffmpeg sip-tester gstreamer1.0-tools gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly chromium)

gst_has() { command -v gst-inspect-1.0 >/dev/null 2>&1 && gst-inspect-1.0 "$1" >/dev/null 2>&1; }

missing=()
for pkg in "${order[@]}"; do
	if eval "${checks[$pkg]}" >/dev/null 2>&1; then
		log "$pkg: present"
	else
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo_cmd[@]}" apt-get update -qq
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	for pkg in "${missing[@]}"; do
		if eval "${checks[$pkg]}" >/dev/null 2>&1; then
			log "$pkg: installed"
		else
			log "$pkg: install finished but the check still fails"
			exit 1
		fi
	done
else
	log "nothing to install"
fi

command -v go >/dev/null 2>&1 || { log "go is not on PATH: install Go 1.26 (https://go.dev/dl)"; exit 1; }
log "go: $(go version)"
