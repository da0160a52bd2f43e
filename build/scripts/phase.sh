#!/usr/bin/env bash
# Runs one phase of the checks and records how it went, so the last lines of
# a long log say which phase failed or was slow:
#
#   build/scripts/phase.sh NAME COMMAND [ARG...]
#
# Each phase appends "NAME<TAB>ok|FAIL<TAB>SECONDS" to $PARLEY_PHASES
# (default build/test-artifacts/phases.tsv) and exits with the command's
# status. `phase.sh --summary` prints the recorded phases as a table.
set -uo pipefail
cd "$(dirname "$0")/../.."
file=${PARLEY_PHASES:-build/test-artifacts/phases.tsv}

if [ "${1:-}" = "--summary" ]; then
	[ -s "$file" ] || exit 0
	echo
	echo "== phases =="
	awk -F'\t' '{ printf "  %-12s %-5s %7.1fs\n", $1, $2, $3; t += $3 } END { printf "  %-12s %-5s %7.1fs\n", "total", "", t }' "$file"
	exit 0
fi
if [ "${1:-}" = "--reset" ]; then
	mkdir -p "$(dirname "$file")"
	: >"$file"
	exit 0
fi

name=$1
shift
mkdir -p "$(dirname "$file")"
echo "== phase $name: $*"
start=$(date +%s.%N)
"$@"
rc=$?
end=$(date +%s.%N)
status=ok
[ $rc -eq 0 ] || status=FAIL
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
printf '%s\t%s\t%s\n' "$name" "$status" "$secs" >>"$file"
echo "== phase $name: $status in ${secs}s"
exit $rc
