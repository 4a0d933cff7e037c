#!/usr/bin/env bash
# Speed of the built-in generator as whole processes (issue 2's targets):
#   generate --count 1: median <= 10 ms, peak RSS <= 15 MB
#   generate --count 10: median <= 30 ms
#   --version: median <= 5 ms
# Needs hyperfine (Debian package `hyperfine`). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-200}"
cargo build --release --locked -q
bin="$PWD/target/release/bench-gate"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 3; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

median_ms() { python3 -c "import json,sys,statistics; print('%.2f' % (statistics.median(json.load(open(sys.argv[1]))['results'][0]['times'])*1000))" "$1"; }

hyperfine -N -w 10 -r "$runs" --export-json "$tmp/one.json" "$bin generate --count 1" >/dev/null
hyperfine -N -w 10 -r "$runs" --export-json "$tmp/ten.json" "$bin generate --count 10" >/dev/null
hyperfine -N -w 10 -r "$runs" --export-json "$tmp/ver.json" "$bin --version" >/dev/null
# Peak RSS from bench-gate's own measurement (wait4 ru_maxrss through the helper).
"$bin" run -q --workload quick --iterations 30 --output "$tmp/r.json" >/dev/null 2>&1
peak() { python3 -c "import json,sys; print('%.1f' % json.load(open(sys.argv[1]))['metrics'][sys.argv[2]]['value'])" "$tmp/r.json" "$1"; }

echo "| command | median (hyperfine, $runs runs) | target | peak RSS (max of 30) |"
echo "|:--|--:|--:|--:|"
echo "| \`bench-gate generate --count 1\` | $(median_ms "$tmp/one.json") ms | ≤ 10 ms | $(peak memory.single_peak_mb) MB (target ≤ 15 MB) |"
echo "| \`bench-gate generate --count 10\` | $(median_ms "$tmp/ten.json") ms | ≤ 30 ms | $(peak memory.batch_10_peak_mb) MB |"
echo "| \`bench-gate --version\` | $(median_ms "$tmp/ver.json") ms | ≤ 5 ms | |"
