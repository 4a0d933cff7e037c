#!/usr/bin/env bash
# Is `bench-gate serve --delay-ms` honoured? For each delay, bench-gate itself
# measures a client (curl) sending a 3-persona prompt to the served
# /v1/chat/completions endpoint, with the server started as a service.
# Prints the median latency next to the delay asked for.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -q
bin="$PWD/target/release/bench-gate"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" generate --dry-run --count 3 | sed '$d' > "$work/prompt.txt"
python3 -c "import json,sys; print(json.dumps({'model':'bench-gate-offline','messages':[{'role':'user','content':open(sys.argv[1]).read()}]}))" "$work/prompt.txt" > "$work/body.json"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

echo "| --delay-ms | --jitter-ms | median request latency (n=20) | P95 | minus the delay |"
echo "|--:|--:|--:|--:|--:|"
for spec in "0 0" "100 0" "500 0" "200 100"; do
  read -r delay jitter <<< "$spec"
  cat > "$work/bench-gate.yml" <<YAML
services:
  llm:
    command: ["$bin", "serve", "--bind", "127.0.0.1:$port", "--delay-ms", "$delay", "--jitter-ms", "$jitter", "--max-seconds", "300"]
    ready: {http: "http://127.0.0.1:$port/health"}
scenarios:
  chat:
    command: ["curl", "-sf", "-o", "/dev/null", "-H", "Content-Type: application/json", "--data-binary", "@$work/body.json", "http://127.0.0.1:$port/v1/chat/completions"]
    iterations: 20
    warmup: 2
YAML
  "$bin" run -q --config "$work/bench-gate.yml" --output "$work/r.json" >/dev/null 2>&1
  python3 - "$work/r.json" "$delay" "$jitter" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); d = float(sys.argv[2]); j = sys.argv[3]
w = r["scenarios"][0]["summaries"]["wall_ms"]
print(f"| {d:.0f} | {j} | {w['p50']:.1f} ms | {w['p95']:.1f} ms | {w['p50'] - d:+.1f} ms |")
PY
done
