#!/usr/bin/env bash
# How long the action's install step takes (issue 6's targets: cold tool
# cache < 3 s, warm < 0.3 s), against a release server on 127.0.0.1.
# Prints the median of RUNS runs of each.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-10}"
cargo build --release --locked -q
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

version=9.9.9
target=x86_64-unknown-linux-musl
archive="bench-gate-v$version-$target.tar.gz"
mkdir -p "$work/stage" "$work/www/v$version" "$work/action/dist/checksums"
cp target/release/bench-gate "$work/stage/"
tar -czf "$work/www/v$version/$archive" -C "$work/stage" bench-gate
cp dist/install.sh "$work/action/dist/"
echo "$version" > "$work/action/dist/VERSION"
(cd "$work/www/v$version" && sha256sum "$archive") > "$work/action/dist/checksums/v$version.sha256"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

one() { # one CACHE_DIR: seconds for one install
  local start end
  start=$(date +%s.%N)
  GITHUB_ACTION_PATH="$work/action" RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TOOL_CACHE="$1" \
    GITHUB_PATH="$work/github_path" BENCH_GATE_DOWNLOAD_BASE="http://127.0.0.1:$port" \
    bash "$work/action/dist/install.sh" >/dev/null
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}

cold=(); warm=()
for i in $(seq "$runs"); do
  cold+=("$(one "$work/cache-$i")")
  warm+=("$(one "$work/cache-$i")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
size=$(stat -c %s "$work/www/v$version/$archive")
echo "| install step ($runs runs, archive $((size / 1024)) KiB) | median | target |"
echo "|:--|--:|--:|"
echo "| cold tool cache: download, verify SHA-256, unpack | $(median "${cold[@]}") s | < 3 s |"
echo "| warm tool cache | $(median "${warm[@]}") s | < 0.3 s |"
