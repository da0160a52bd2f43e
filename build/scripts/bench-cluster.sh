#!/usr/bin/env bash
# make bench-cluster: builds the current tree and a BASE revision (default
# main) and runs the load generator against both side by side in one run
# (build/benchcluster): two nodes plus their own Redis and PostgreSQL per
# build, shapes fanout-200 (25 senders × 20 msg/s), fanout-2000 and idle
# connections, and the idle node's RSS before any client. Both binaries
# embed the same web app (built here with make wasm if missing), so their
# memory compares. The base is checked out with `git worktree add` into a
# temporary directory, which is removed afterwards.
#
#   BASE=<rev> DURATION=10s IDLE=5000 JSON=out.json build/scripts/bench-cluster.sh
#
# SHAPES=fanout-200 runs only the shapes named (comma-separated); ROUNDS=3
# runs each shape three times, the two builds taking turns to go first;
# RATE=5 makes each of the 25 senders of the fanout shapes send 5 msg/s
# instead of 20 (a load the machine keeps up with); PROFILES=dir writes the
# load generator's worker CPU profiles there (LABEL-SHAPE-wN.pprof), and
# for the fanout shapes each node's (LABEL-SHAPE-nodeN.pprof) and its
# /metrics at the shape's end (LABEL-SHAPE-nodeN.metrics: stage latencies).
#
# PEER=centrifugo adds a third column: Centrifugo v6.9.1, built once with
# `go install` into build/.tools (outside Parley's module, so it never
# enters go.mod), two nodes with its Redis engine on their own Redis,
# driven by the same load generator (`parley bench --target centrifugo`).
#
# Numbers from a shared machine vary from run to run: compare the two
# columns of one run, not runs with each other.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
BASE=${BASE:-main}
tmp=$(mktemp -d)
cleanup() {
	git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

for tool in redis-server; do
	command -v "$tool" >/dev/null || { echo "bench-cluster: $tool is missing (make deps)" >&2; exit 1; }
done
[ -s build/web/app.wasm ] || make --no-print-directory wasm BROTLI=5

echo "bench-cluster: building $BASE and the current tree"
git worktree add --detach --quiet "$tmp/base" "$BASE"
cp build/web/app.wasm* "$tmp/base/build/web/"
(cd "$tmp/base" && CGO_ENABLED=0 $GO build -o "$tmp/parley-base" ./server/cmd/parley)
git worktree remove --force "$tmp/base"
CGO_ENABLED=0 $GO build -o "$tmp/parley-head" ./server/cmd/parley

peer=
case "${PEER:-}" in
"") ;;
centrifugo) peer=$(GO=$GO build/scripts/centrifugo.sh) ;;
*) echo "bench-cluster: unknown PEER=$PEER (centrifugo)" >&2; exit 2 ;;
esac

$GO run ./build/benchcluster -base "$tmp/parley-base" -head "$tmp/parley-head" \
	-labels "base,head" -duration "${DURATION:-10s}" -idle "${IDLE:-5000}" ${JSON:+-json "$JSON"} \
	${SHAPES:+-shapes "$SHAPES"} -rounds "${ROUNDS:-1}" -rate "${RATE:-20}" \
	${PROFILES:+-cpuprofile "$PROFILES"} ${peer:+-centrifugo "$peer"}
