#!/usr/bin/env python3
"""How often does the gate cry wolf, and how often does it catch a real
slowdown, on the machine at hand?

For each workload (a CPU-bound program whose work is set by a parameter, and
`sleep`), each trial captures a fresh baseline of the unchanged program and
then gates a variant: unchanged, 10 % more work, 25 % more work. Each variant
is decided by four rules:

  plain     the threshold rule alone (--confirm 0 --decision threshold);
  confirm   the threshold rule with one confirmation run (--confirm 1);
  interval  a confirmation run and the interval rule (--decision interval, the
            default): a failure needs the 95 % bootstrap interval above the
            failure threshold;
  ab        same-runner A/B (--ab-dir): the unchanged program (A) and the
            variant (B) measured alternately in ABBA order, decided by the
            threshold rule on the Hodges-Lehmann estimate of the paired
            ratios, with a confirmation run; `iterations` pairs, so twice the
            runs of the other rules.

The programs run through a two-line `job` script (`exec` of the program), so
that A/B mode finds one in each tree. "Slowed by 25 %" means the program's
wall time (the metric) grows by 25 %: the study first measures the fixed cost
of starting the program (work 0) and scales the work so that fixed cost plus
work grows by 10 % and 25 %; scaling the work alone would dilute the change.

Thresholds are the latency defaults (warning +10 %, failure +25 %) unless
--warn-threshold / --fail-threshold say otherwise. Prints,
per workload and rule: the false-failure rate (unchanged program failed), the
detection rate of +25 % (failed), the flag rate of +10 % (warned or failed),
and the benchmarking time per decision, each with its count of trials.

  python3 scripts/studies/noise-study.py --quick       # 20 trials, 10 iterations (a few minutes)
  python3 scripts/studies/noise-study.py --thorough    # 100 trials, 30 iterations
  --out FILE rewrites the table to FILE after every trial (partial results).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--bin", "bench-gate", "--example", "spin"], cwd=ROOT, check=True)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release/bench-gate", target / "release/examples/spin"


def tree(path, argv, iterations):
    """A folder with a `job` script running argv, and the config measuring it."""
    path.mkdir(exist_ok=True)
    job = path / "job"
    job.write_text("#!/bin/sh\nexec " + " ".join(argv) + "\n")
    job.chmod(0o755)
    (path / "bench-gate.yml").write_text(json.dumps({  # YAML is a superset of JSON
        "scenarios": {"job": {"command": "./job", "iterations": iterations, "warmup": 1,
                              "metrics": {"job.latency_p50_ms": "wall_ms.p50"}}}}))


def p50(bg, d, argv, n=20):
    tree(d, argv, n)
    out = subprocess.run([bg, "run", "-q", "--format", "json"], cwd=d, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)["metrics"]["job.latency_p50_ms"]["value"]


def calibrate(bg, d, work):
    """Work factors that make the wall time 10 % and 25 % longer: with fixed
    cost o and wall time w at work 1, ((1 + p) w - o) / (w - o)."""
    o, w = p50(bg, d, work(0.0)), p50(bg, d, work(1.0))
    return {"unchanged": 1.0, "+10%": (1.10 * w - o) / (w - o), "+25%": (1.25 * w - o) / (w - o)}, o, w


def table(counts, workloads, rules, trials_done, a, iterations):
    out = [f"Noise study: {trials_done} trials per cell, {iterations} measured iterations (+1 warm-up; "
           f"A/B: {iterations} pairs +1 warm-up pair), thresholds +{a.warn_threshold:g} % / +{a.fail_threshold:g} %, "
           f"on {os.cpu_count()} cores.", "",
           "| workload | rule | false failures (unchanged) | +25 % failed | +10 % flagged | s per decision |",
           "|:--|:--|--:|--:|--:|--:|"]
    for wname in workloads:
        for rname in rules:
            cells = [counts.get((wname, rname, k)) for k in ("unchanged", "+25%", "+10%")]
            if None in cells:
                continue
            u, h, t = cells
            pct = lambda k, c: f"{100.0 * k / c['n']:.0f} % ({k}/{c['n']})"
            secs = sum(c["secs"] for c in (u, h, t)) / sum(c["n"] for c in (u, h, t))
            out.append(f"| {wname} | {rname} | {pct(u['failure'], u)} | {pct(h['failure'], h)} | "
                       f"{pct(t['failure'] + t['warning'], t)} | {secs:.2f} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true")
    g.add_argument("--thorough", action="store_true")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--iterations", type=int)
    ap.add_argument("--warn-threshold", type=float, default=10.0)
    ap.add_argument("--fail-threshold", type=float, default=25.0)
    ap.add_argument("--rules", default="plain,confirm,interval,ab", help="comma-separated subset")
    ap.add_argument("--out", type=pathlib.Path, help="rewrite the table here after every trial")
    a = ap.parse_args()
    trials = a.trials or (100 if a.thorough else 20)
    iterations = a.iterations or (30 if a.thorough else 10)
    bg, spin = build()
    workloads = {
        # ~50 ms of CPU work; `spin W` does W million rounds.
        "cpu (spin)": lambda f: [str(spin), str(20.0 * f)],
        "sleep 50 ms": lambda f: ["sleep", f"{0.05 * f:.4f}"],
    }
    rules = {"plain": ["--confirm", "0", "--decision", "threshold"],
             "confirm": ["--confirm", "1", "--decision", "threshold"],
             "interval": ["--confirm", "1", "--decision", "interval"],
             "ab": ["--confirm", "1", "--decision", "threshold", "--ab-dir", "../a"]}
    rules = {k: v for k, v in rules.items() if k in a.rules.split(",")}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        (d / "baselines").mkdir()
        factors = {}
        for wname, work in workloads.items():
            factors[wname], o, w = calibrate(bg, d / "cal", work)
            print(f"{wname}: fixed cost {o:.2f} ms, wall {w:.2f} ms; work x{factors[wname]['+10%']:.3f} "
                  f"for +10 %, x{factors[wname]['+25%']:.3f} for +25 %", file=sys.stderr)
        for t in range(trials):
            for wname, argv in workloads.items():
                tree(d / "a", argv(1.0), iterations)
                subprocess.run([bg, "capture", "-q", "--force", "--output", "../baselines/v1.0.0.yaml"],
                               cwd=d / "a", check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for fname, f in factors[wname].items():
                    tree(d / "b", argv(f), iterations)
                    for rname, flags in rules.items():
                        start = time.monotonic()
                        out = subprocess.run([bg, "compare", "-q", "--format", "json", "--baselines-dir", "../baselines",
                                              *flags, "--warn-threshold", str(a.warn_threshold),
                                              "--fail-threshold", str(a.fail_threshold)],
                                             cwd=d / "b", check=True, capture_output=True, text=True)
                        secs = time.monotonic() - start
                        j = json.loads(out.stdout)
                        view = j["side_by_side"] if rname == "ab" else j
                        status = view["metrics"][0]["status"]
                        c = counts.setdefault((wname, rname, fname), {"n": 0, "failure": 0, "warning": 0, "secs": 0.0})
                        c["n"] += 1
                        c["secs"] += secs
                        if status in ("failure", "warning"):
                            c[status] += 1
            print(f"trial {t + 1}/{trials}", file=sys.stderr)
            if a.out:
                a.out.write_text(table(counts, workloads, rules, t + 1, a, iterations))
    print(table(counts, workloads, rules, trials, a, iterations), end="")
    for wname, f in factors.items():
        print(f"\n{wname}: work scaled x{f['+10%']:.3f} / x{f['+25%']:.3f} for +10 % / +25 % of wall time.", end="")
    print()


if __name__ == "__main__":
    main()
