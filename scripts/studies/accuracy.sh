#!/usr/bin/env bash
# How accurate bench-gate's measurements are, against independent tools on
# the same machine in the same run (issue 3):
#   1. `true`: bench-gate's median within 1 ms of hyperfine's;
#   2. `sleep 0.2`: median within 2 % of 200 ms;
#   3. a process that allocates and touches 200 MiB: peak within 5 % of
#      what GNU time (`/usr/bin/time -v`) reports;
#   4. the harness's own overhead per iteration, and how a run's cost grows
#      with iterations.
# Needs hyperfine and GNU time (Debian packages `hyperfine`, `time`).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -q
bin="$PWD/target/release/bench-gate"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for t in hyperfine /usr/bin/time python3; do
  command -v "$t" >/dev/null || { echo "$t is needed" >&2; exit 3; }
done

alloc='b = bytearray(b"\x01") * (200 << 20); print(len(b))'
cat > "$tmp/bench-gate.yml" <<YAML
scenarios:
  "true":
    command: ["true"]
    iterations: 300
    warmup: 10
  sleep:
    command: ["sleep", "0.2"]
    iterations: 15
    warmup: 1
  alloc:
    command: ["python3", "-c", '$alloc']
    iterations: 5
    warmup: 1
    metrics:
      alloc.peak_mb: peak_mb.max
YAML
# val FILE SCENARIO MEASURE STATISTIC
val() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); s={x['name']: x for x in r['scenarios']}; print(s[sys.argv[2]]['summaries'][sys.argv[3]][sys.argv[4]])" "$@"; }

"$bin" run -q --config "$tmp/bench-gate.yml" --output "$tmp/r.json" >/dev/null 2>&1
hyperfine -N -w 10 -r 300 --export-json "$tmp/h.json" true >/dev/null 2>&1
h_true=$(python3 -c "import json,statistics; print(statistics.median(json.load(open('$tmp/h.json'))['results'][0]['times'])*1000)")
bg_true=$(val "$tmp/r.json" true wall_ms p50)
bg_sleep=$(val "$tmp/r.json" sleep wall_ms p50)
bg_alloc=$(val "$tmp/r.json" alloc peak_mb max)
gnu_kib=$(/usr/bin/time -v python3 -c "$alloc" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}')
overhead=$(python3 -c "import json; r=json.load(open('$tmp/r.json')); print([s for s in r['scenarios'] if s['name'] == 'true'][0]['overhead_ms_mean'])")

python3 - "$h_true" "$bg_true" "$bg_sleep" "$bg_alloc" "$gnu_kib" "$overhead" <<'PY'
import sys
h, b, s, a, g, o = map(float, sys.argv[1:])
gm = g / 1024
print("| check | bench-gate | reference | difference | target |")
print("|:--|--:|--:|--:|--:|")
print(f"| `true`, median of 300 | {b:.3f} ms | hyperfine {h:.3f} ms | {b-h:+.3f} ms | within 1 ms |")
print(f"| `sleep 0.2`, median of 15 | {s:.2f} ms | 200 ms | {(s-200)/2:+.2f} % | within 2 % |")
print(f"| 200 MiB allocated and touched (python3), peak | {a:.1f} MB | GNU time {gm:.1f} MB | {(a-gm)/gm*100:+.2f} % | within 5 % |")
print(f"| harness overhead per iteration (helper start + report) | {o:.2f} ms | | | stated |")
PY

# Cost of a run as iterations grow: whole `run` wall time for `true`.
echo
echo "| iterations of \`true\` | whole run (s) | per iteration (ms) |"
echo "|--:|--:|--:|"
for n in 10 100 1000; do
  start=$(date +%s.%N)
  "$bin" run -q --config "$tmp/bench-gate.yml" --only true --iterations "$n" --warmup 0 --output "$tmp/n.json" >/dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "print(f'| $n | {($end-$start):.2f} | {($end-$start)/$n*1000:.2f} |')"
done
