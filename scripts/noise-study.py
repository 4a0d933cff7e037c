#!/usr/bin/env python3
"""How often does the gate cry wolf, and how often does it catch a real
slowdown, on the machine at hand?

For each workload (a CPU-bound program whose work is set by a parameter, and
`sleep`), each trial captures a fresh baseline of the unchanged program and
then gates a variant: unchanged, 10 % more work, 25 % more work. Each variant
is decided twice, by two rules:

  plain     the threshold rule alone (--confirm 0);
  confirm   the threshold rule with one confirmation run (--confirm 1, the default);
  interval  a confirmation run and the interval rule (--decision interval): a
            failure needs the 95 % bootstrap interval above the failure threshold.

Thresholds are the latency defaults (warning +10 %, failure +25 %) unless
--warn-threshold / --fail-threshold say otherwise. Prints,
per workload and rule: the false-failure rate (unchanged program failed), the
detection rate of +25 % (failed), the flag rate of +10 % (warned or failed),
and the benchmarking time per decision, each with its count of trials.

  python3 scripts/noise-study.py --quick       # 20 trials, 10 iterations (a few minutes)
  python3 scripts/noise-study.py --thorough    # 100 trials, 30 iterations
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--bin", "bench-gate", "--example", "spin"], cwd=ROOT, check=True)
    return ROOT / "target/release/bench-gate", ROOT / "target/release/examples/spin"


def config(path, argv, iterations):
    path.write_text(json.dumps({  # YAML is a superset of JSON
        "scenarios": {"job": {"command": argv, "iterations": iterations, "warmup": 1,
                              "metrics": {"job.latency_p50_ms": "wall_ms.p50"}}}}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true")
    g.add_argument("--thorough", action="store_true")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--iterations", type=int)
    ap.add_argument("--warn-threshold", type=float, default=10.0)
    ap.add_argument("--fail-threshold", type=float, default=25.0)
    a = ap.parse_args()
    trials = a.trials or (100 if a.thorough else 20)
    iterations = a.iterations or (30 if a.thorough else 10)
    bg, spin = build()
    workloads = {
        # ~50 ms of CPU work; `spin W` does W million rounds.
        "cpu (spin)": lambda f: [str(spin), str(20.0 * f)],
        "sleep 50 ms": lambda f: ["sleep", f"{0.05 * f:.4f}"],
    }
    factors = {"unchanged": 1.0, "+10%": 1.10, "+25%": 1.25}
    rules = {"plain": ["--confirm", "0"], "confirm": ["--confirm", "1"],
             "interval": ["--confirm", "1", "--decision", "interval"]}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        (d / "baselines").mkdir()
        for wname, argv in workloads.items():
            for t in range(trials):
                config(d / "base.yml", argv(1.0), iterations)
                subprocess.run([bg, "capture", "-q", "--force", "--config", "base.yml", "--output", "baselines/v1.0.0.yaml"],
                               cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for fname, f in factors.items():
                    config(d / "variant.yml", argv(f), iterations)
                    for rname, confirm in rules.items():
                        start = time.monotonic()
                        out = subprocess.run([bg, "compare", "-q", "--format", "json", "--config", "variant.yml", *confirm,
                                              "--warn-threshold", str(a.warn_threshold), "--fail-threshold", str(a.fail_threshold)],
                                             cwd=d, check=True, capture_output=True, text=True)
                        secs = time.monotonic() - start
                        status = json.loads(out.stdout)["metrics"][0]["status"]
                        c = counts.setdefault((wname, rname, fname), {"n": 0, "failure": 0, "warning": 0, "secs": 0.0})
                        c["n"] += 1
                        c["secs"] += secs
                        if status in ("failure", "warning"):
                            c[status] += 1
                print(f"{wname}: trial {t + 1}/{trials}", file=sys.stderr)
    print(f"Noise study: {trials} trials per cell, {iterations} measured iterations (+1 warm-up), "
          f"thresholds +{a.warn_threshold:g} % / +{a.fail_threshold:g} %, on {os.cpu_count()} cores.\n")
    print("| workload | rule | false failures (unchanged) | +25 % failed | +10 % flagged | s per decision |")
    print("|:--|:--|--:|--:|--:|--:|")
    for wname in workloads:
        for rname in rules:
            u, h, t = (counts[(wname, rname, k)] for k in ("unchanged", "+25%", "+10%"))
            pct = lambda k, c: f"{100.0 * k / c['n']:.0f} % ({k}/{c['n']})"
            secs = sum(c["secs"] for c in (u, h, t)) / sum(c["n"] for c in (u, h, t))
            print(f"| {wname} | {rname} | {pct(u['failure'], u)} | {pct(h['failure'], h)} | "
                  f"{pct(t['failure'] + t['warning'], t)} | {secs:.2f} |")


if __name__ == "__main__":
    main()
