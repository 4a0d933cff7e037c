#!/usr/bin/env bash
# The noise study's rows for instruction counts (issue 18): counted under
# Valgrind (cachegrind), a metric that should not move when nothing changed.
#   1. A/A: RUNS runs of one C loop and RUNS runs of the built-in generator
#      (`generate`, through the built-in `quick` workload's scenarios), each
#      with `measure: instructions`: how many distinct counts, and the spread.
#   2. Injected work: RUNS trials each of the C loop doing 2.5 % and 5.5 % more
#      iterations (about +2 % and +5 % instructions with start-up counted),
#      compared with a baseline captured from the A/A run at the default
#      instruction thresholds (warn +1 %, fail +3 %): how many warned, failed.
# Prints a Markdown table. Needs valgrind and cc.
#
# Usage: scripts/studies/instructions-study.sh [RUNS]   (default 20)
#   BG=path/to/bench-gate  the build to use (default target/release/bench-gate,
#                          built if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-20}"
bg="${BG:-$PWD/target/release/bench-gate}"
if [ ! -x "$bg" ]; then
  cargo build --release --locked -q --bin bench-gate
fi
command -v valgrind > /dev/null || { echo "valgrind not found" >&2; exit 3; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/loop.c" <<'C'
#include <stdlib.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    volatile long acc = 0;
    for (long i = 0; i < n; i++) acc += i * 3;
    return 0;
}
C
cc -O1 -o "$tmp/loop" "$tmp/loop.c"

# run N OUT: the C loop with N iterations, counted; prints the count and
# keeps only the count in OUT (a one-sample wall time must not decide).
run() {
  printf 'scenarios:\n  c:\n    command: ["%s", "%s"]\n    iterations: 1\n    warmup: 0\n    measure: [wall, instructions]\n' \
    "$tmp/loop" "$1" > "$tmp/bench-gate.yml"
  "$bg" run --quiet --config "$tmp/bench-gate.yml" --output "$2" > /dev/null 2> "$tmp/log" \
    || { cat "$tmp/log" >&2; exit 3; }
  python3 - "$2" <<'PY'
import json, sys
p = sys.argv[1]
r = json.load(open(p))
r["metrics"] = {k: v for k, v in r["metrics"].items() if k == "c.instructions"}
json.dump(r, open(p, "w"))
print(int(r["metrics"]["c.instructions"]["value"]))
PY
}

spread() { # counts on stdin: distinct values, min, max, spread %
  python3 -c '
import sys
v = [int(x) for x in sys.stdin.read().split()]
lo, hi = min(v), max(v)
print(f"{len(set(v))} | {lo:,} | {hi:,} | {(hi - lo) / lo * 100:.5f} %")'
}

start=$(date +%s)
: > "$tmp/aa"
for i in $(seq "$runs"); do run 2000000 "$tmp/aa-$i.json" >> "$tmp/aa"; done
aa_c=$(spread < "$tmp/aa")
t_c=$(( $(date +%s) - start ))

start=$(date +%s)
: > "$tmp/gen"
for i in $(seq "$runs"); do
  "$bg" run --quiet --workload quick --only single --iterations 1 --warmup 0 \
    --measure instructions --output "$tmp/gen-$i.json" > /dev/null 2> "$tmp/log" \
    || { cat "$tmp/log" >&2; exit 3; }
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(" ".join(str(int(v["value"])) for k, v in sorted(r["metrics"].items()) if k.endswith(".instructions")))' \
    "$tmp/gen-$i.json" >> "$tmp/gen"
done
aa_gen=$(spread < "$tmp/gen")
t_gen=$(( $(date +%s) - start ))

"$bg" capture --quiet --force --baseline-version 1.0.0 --from "$tmp/aa-1.json" \
  --output "$tmp/baseline.yaml" > /dev/null
trial() { # N: counts of exit 1 (warning) and 2 (failure) over RUNS trials
  local warned=0 failed=0 change=""
  for i in $(seq "$runs"); do
    change=$(run "$1" "$tmp/t.json")
    set +e
    "$bg" compare --quiet --baseline "$tmp/baseline.yaml" --results "$tmp/t.json" \
      --fail-on-warning --fail-on-regression > /dev/null 2>&1
    code=$?
    set -e
    [ "$code" = 1 ] && warned=$((warned + 1))
    [ "$code" = 2 ] && failed=$((failed + 1))
  done
  base=$(head -1 "$tmp/aa")
  pct=$(python3 -c "print(f'{($change / $base - 1) * 100:+.2f} %')")
  echo "$pct | $warned / $runs | $failed / $runs"
}
t2=$(trial 2050000)
t5=$(trial 2110000)

echo "| A/A, $runs runs | distinct counts | min | max | spread | seconds |"
echo "|:--|--:|--:|--:|--:|--:|"
echo "| C loop (2 M iterations) | $aa_c | $t_c |"
echo "| built-in generator (\`quick\`, scenario \`single\`) | $aa_gen | $t_gen |"
echo
echo "| injected work, $runs trials | instructions | warned (exit 1) | failed (exit 2) |"
echo "|:--|--:|--:|--:|"
echo "| C loop, 2.5 % more iterations | $t2 |"
echo "| C loop, 5.5 % more iterations | $t5 |"
