#!/usr/bin/env bash
# Installs what Parley's tests need from Debian's packages when it is missing:
# redis-server, PostgreSQL server binaries, Chromium, nginx and npm. Running
# as root it installs with apt-get; otherwise it names what is missing and
# fails. Then it installs axe-core (the accessibility engine the browser
# tests inject) with npm, at the pinned version, into build/.tools/axe.
set -euo pipefail
cd "$(dirname "$0")/../.."
AXE_VERSION=4.11.0
axe_dir=build/.tools/axe

install_axe() {
	local pkg=$axe_dir/node_modules/axe-core/package.json
	if [ -f "$pkg" ] && grep -q "\"version\": \"$AXE_VERSION\"" "$pkg"; then
		return 0
	fi
	echo "deps: installing axe-core@$AXE_VERSION into $axe_dir"
	mkdir -p "$axe_dir"
	npm install --prefix "$axe_dir" --no-audit --no-fund --ignore-scripts --no-save "axe-core@$AXE_VERSION" >/dev/null
}

need=()
have() { command -v "$1" >/dev/null 2>&1; }
pg_bin() {
	have initdb && return 0
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

have redis-server || need+=(redis-server)
pg_bin || need+=(postgresql)
have chromium || [ -x /usr/bin/chromium ] || need+=(chromium)
have nginx || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
have npm || need+=(npm)

if [ ${#need[@]} -eq 0 ]; then
	install_axe
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${need[*]}; install them (as root: apt-get install -y ${need[*]}) and run again" >&2
	exit 1
fi
echo "deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The postgresql package starts a cluster of its own; the tests start theirs.
echo "deps: installed ${need[*]}"
install_axe
