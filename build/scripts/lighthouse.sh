#!/usr/bin/env bash
# Runs Lighthouse (desktop preset, headless Chromium) against a node it
# starts on a free loopback port with a fresh data folder, prints the
# category scores and the main metrics, and writes the JSON report to
# build/test-artifacts/lighthouse.json. A measurement, not a test: it
# asserts nothing.
#
#   build/scripts/lighthouse.sh [binary] [path]   # default build/parley, /
#
# Lighthouse is installed with npm at the pinned version into
# build/.tools/lighthouse. CHROME_PATH picks the browser (default
# /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/../.."
LIGHTHOUSE_VERSION=12.8.2
dir=build/.tools/lighthouse
binary=${1:-build/parley}
page=${2:-/}
out=build/test-artifacts/lighthouse.json
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

pkg=$dir/node_modules/lighthouse/package.json
if ! { [ -f "$pkg" ] && grep -q "\"version\": \"$LIGHTHOUSE_VERSION\"" "$pkg"; }; then
	command -v npm >/dev/null || { echo "lighthouse: npm is missing (make deps)" >&2; exit 1; }
	echo "lighthouse: installing lighthouse@$LIGHTHOUSE_VERSION into $dir"
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-audit --no-fund --no-save "lighthouse@$LIGHTHOUSE_VERSION" >/dev/null
fi
[ -x "$binary" ] || { echo "lighthouse: $binary is missing (make build)" >&2; exit 1; }

# A free port: one nothing answers on.
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 20000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		port=$p
		break
	fi
done
[ -n "$port" ] || { echo "lighthouse: no free port" >&2; exit 1; }

data=$(mktemp -d)
"$binary" --addr "127.0.0.1:$port" --data "$data/data" --log-level warn &
node_pid=$!
cleanup() {
	kill "$node_pid" 2>/dev/null || true
	wait "$node_pid" 2>/dev/null || true
	rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 600); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	sleep 0.1
done

mkdir -p "$(dirname "$out")"
"$dir/node_modules/.bin/lighthouse" "http://127.0.0.1:$port$page" \
	--preset=desktop --quiet \
	--chrome-flags="--no-sandbox --disable-gpu --headless=new" \
	--output=json --output-path="$out"

node -e '
const r = require(process.argv[1]);
console.log("Lighthouse " + r.lighthouseVersion + ", desktop, " + r.finalDisplayedUrl);
for (const c of Object.values(r.categories)) {
  console.log("  " + c.title.padEnd(16) + String(Math.round(c.score * 100)).padStart(4));
}
for (const id of ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift", "speed-index", "interactive"]) {
  const a = r.audits[id];
  if (a) console.log("  " + a.title.padEnd(26) + String(a.displayValue).padStart(10) + "  (score " + Math.round(a.score * 100) + ")");
}
for (const a of Object.values(r.audits)) {
  if (a.score !== null && a.score < 0.9 && a.details && a.details.type === "opportunity") {
    console.log("  to fix: " + a.title + (a.displayValue ? " (" + a.displayValue + ")" : ""));
  }
}
console.log("report: " + process.argv[2]);
' "$PWD/$out" "$out"
