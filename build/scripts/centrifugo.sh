#!/usr/bin/env bash
# Builds Centrifugo v6.9.1, the peer issue 10 compares Parley with, once
# into build/.tools and prints the binary's path. Outside this module:
# `go install pkg@version` ignores go.mod, so Parley's dependencies do not
# change. It takes minutes (many modules).
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
cver=v6.9.1
bin="$PWD/build/.tools/centrifugo-$cver/centrifugo"
if [ ! -x "$bin" ]; then
	echo "centrifugo: building $cver into build/.tools (once)" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && GOBIN="$(dirname "$bin")" CGO_ENABLED=0 GOFLAGS=-buildvcs=false $GO install \
		-ldflags "-X github.com/centrifugal/centrifugo/v6/internal/build.Version=${cver#v}" \
		"github.com/centrifugal/centrifugo/v6@$cver") >&2
fi
echo "$bin"
