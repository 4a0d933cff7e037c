#!/usr/bin/env bash
# A/A check (issue 15): A/B decisions where both sides are the same program,
# so any difference is the harness's bias. Two workloads:
#   builtin  the built-in workload: one bench-gate build, copied into the
#            base tree by `cp` and into the head tree by `cat >` (as a
#            linker writes a fresh file);
#   cpu      a CPU-bound program (an awk loop, ~30 ms) from a bench-gate.yml,
#            the same script in two commits.
# Prints per metric: the median paired change over the decisions, the
# fraction of 95 % intervals covering 0, and the range of the changes.
# Targets: latency within ±1 %, coverage ≥ 90 %, memory within ±2 %, over
# ≥ 20 decisions. Exit 1 when a target is missed, 0 otherwise.
#
# Usage: scripts/studies/aa-check.sh [DECISIONS] [builtin|cpu|both]
#   BG=path/to/bench-gate  the build to use (default: target/release/bench-gate,
#                          built if missing)
#   AA_WORKLOAD=quick      the built-in workload
#   AA_ITERATIONS=20       pairs per scenario per decision
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-20}"
which="${2:-both}"
iterations="${AA_ITERATIONS:-20}"
bg="${BG:-$PWD/target/release/bench-gate}"
if [ ! -x "$bg" ]; then
  cargo build --release --locked -q --bin bench-gate
fi
bg="$(cd "$(dirname "$bg")" && pwd)/$(basename "$bg")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

git_repo() {
  git -C "$1" init -q
  git -C "$1" -c user.name=aa -c user.email=aa@example.com add -A
  git -C "$1" -c user.name=aa -c user.email=aa@example.com commit -q -m one
  echo two > "$1/note.txt"
  git -C "$1" -c user.name=aa -c user.email=aa@example.com add -A
  git -C "$1" -c user.name=aa -c user.email=aa@example.com commit -q -m two
}

# decisions DIR LABEL ARGS…: N A/A decisions in DIR, one JSON file each.
decisions() {
  local dir="$1" label="$2"
  shift 2
  mkdir -p "$tmp/out/$label"
  for i in $(seq 1 "$n"); do
    (cd "$dir" && BG="$bg" "$bg" compare -q --iterations "$iterations" --format json "$@") \
      > "$tmp/out/$label/$i.json" 2> "$tmp/out/$label/$i.log" || true
    printf '.' >&2
  done
  printf ' %s: %s decisions\n' "$label" "$n" >&2
}

if [ "$which" = builtin ] || [ "$which" = both ]; then
  repo="$tmp/builtin"
  mkdir -p "$repo"
  echo one > "$repo/note.txt"
  git_repo "$repo"
  # shellcheck disable=SC2016 # expanded by the setup shell, in each tree
  setup='mkdir -p "$CARGO_TARGET_DIR/release" && out="$CARGO_TARGET_DIR/release/bench-gate" && if [ "$BENCH_GATE_TREE" = base ]; then cp "$BG" "$out"; else cat "$BG" > "$out"; chmod +x "$out"; fi'
  decisions "$repo" builtin -w "${AA_WORKLOAD:-quick}" --warmup 2 --ab HEAD~1 --ab-setup "$setup"
fi

if [ "$which" = cpu ] || [ "$which" = both ]; then
  repo="$tmp/cpu"
  mkdir -p "$repo"
  printf '#!/bin/sh\nexec awk '"'"'BEGIN { for (i = 0; i < 1000000; i++) s += i * i; print s }'"'"'\n' > "$repo/cpu"
  chmod +x "$repo/cpu"
  cat > "$repo/bench-gate.yml" <<'YAML'
scenarios:
  cpu:
    command: ./cpu
    warmup: 2
    metrics:
      cpu.latency_p50_ms: wall_ms.p50
      cpu.latency_p95_ms: wall_ms.p95
      cpu.peak_mb: peak_mb.max
YAML
  git_repo "$repo"
  decisions "$repo" cpu --ab HEAD~1 --ab-setup true
fi

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
python3 - "$tmp/out" <<'PY'
import glob, json, os, statistics, sys
ok = True
print(f"{'metric':40} {'n':>3} {'median change':>14} {'covers 0':>9} {'range':>18}  target")
for label in sorted(os.listdir(sys.argv[1])):
    per = {}
    bad = 0
    for f in sorted(glob.glob(os.path.join(sys.argv[1], label, "*.json"))):
        try:
            view = json.load(open(f))["side_by_side"]
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        for m in view["metrics"]:
            if m.get("change_pct") is None:
                continue
            i = m.get("interval") or {}
            # None: no interval (a tail with too few samples, an extreme).
            covers = None if i.get("lo") is None else i["lo"] <= 0 <= i["hi"]
            per.setdefault(m["name"], []).append((m["change_pct"], covers))
    if bad:
        print(f"{label}: {bad} decision(s) gave no result")
        ok = False
    for name, xs in sorted(per.items()):
        changes = [c for c, _ in xs]
        med = statistics.median(changes)
        with_interval = [c for _, c in xs if c is not None]
        cover = sum(with_interval) / len(with_interval) if with_interval else None
        memory = name.startswith("memory.") or "peak" in name
        tail = any(t in name for t in ("p95", "p99", "max"))
        if memory:
            hit, target = abs(med) <= 2, "±2 %"
        elif tail:
            # Unpaired, and not gating below 86 (p95) / 437 (p99) samples.
            hit, target = True, "shown only"
        else:
            hit, target = abs(med) <= 1 and (cover or 0) >= 0.9, "±1 %, ≥ 90 %"
        ok &= hit
        shown = "n/a" if cover is None else f"{cover:.0%}"
        print(f"{name:40} {len(xs):>3} {med:>+13.2f}% {shown:>9} "
              f"{min(changes):>+8.1f}…{max(changes):>+7.1f}%  {target} {'ok' if hit else 'MISSED'}")
sys.exit(0 if ok else 1)
PY
