#!/usr/bin/env bash
# make test: installs what the tests need, builds the app and the test
# binary, then runs every test with -race in phases (unit, integration,
# browser) and each benchmark once. Phases stop at the first failure, and a
# table of phases with their times ends the output (.ci/run prints it after
# its lint phase instead).
#
# Integration tests talk to real servers over real sockets (Redis,
# PostgreSQL, node processes, nginx); browser tests drive Chromium; unit
# tests are every other package.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
TESTFLAGS=${TESTFLAGS:--race -count=1 -timeout 20m}
phase=build/scripts/phase.sh
integration=(./shared/testenv/... ./server/store/... ./server/broker/... ./server/presence/... ./server/hub/... ./server/node/... ./server/cluster/...)
browser=(./app/e2e/...)

if [ -z "${PARLEY_PHASES_OWNER:-}" ]; then
	export PARLEY_PHASES_OWNER=make-test
	$phase --reset
	trap '$phase --summary' EXIT
fi

$phase deps build/scripts/deps.sh
# BROTLI=5: a test run needs app.wasm.br, not its smallest form.
$phase build make --no-print-directory wasm test-bin BROTLI=5
mapfile -t unit < <(grep -vxF -f <($GO list "${integration[@]}" "${browser[@]}") <($GO list ./...))
# shellcheck disable=SC2086 # TESTFLAGS is a list of flags
$phase unit $GO test $TESTFLAGS "${unit[@]}"
export PARLEY_TEST_BINARY=$PWD/build/.test/parley
# shellcheck disable=SC2086
$phase integration $GO test $TESTFLAGS "${integration[@]}"
# shellcheck disable=SC2086
$phase browser $GO test $TESTFLAGS "${browser[@]}"
unset PARLEY_TEST_BINARY # benchmarks build their own binary, without -race
$phase bench-once $GO test -run '^$' -bench . -benchtime 1x -count=1 ./...
