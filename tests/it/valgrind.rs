//! Counted measures under Valgrind (`measure: [instructions, allocations]`,
//! `--measure`): deterministic counts, the determinism check, the skip
//! without Valgrind, a crash under Valgrind, and the default thresholds.
//! Valgrind (3.19) is installed here and on CI.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn bg() -> Command {
    Command::cargo_bin("bench-gate").unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Compiles `source` (C) into `dir/name` with `cc`.
fn compile(dir: &Path, name: &str, source: &str) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, source).unwrap();
    let exe = dir.join(name);
    let out = std::process::Command::new("cc")
        .arg("-O1")
        .arg("-o")
        .arg(&exe)
        .arg(&c)
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A loop of `argv[1]` iterations, and `argv[2]` blocks of 1000 bytes
/// allocated, all live at once, then freed.
const LOOP_C: &str = r#"
#include <stdlib.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long k = argc > 2 ? atol(argv[2]) : 0;
    volatile long acc = 0;
    for (long i = 0; i < n; i++) acc += i * 3;
    char **blocks = malloc(sizeof(char *) * (k + 1));
    for (long i = 0; i < k; i++) { blocks[i] = malloc(1000); blocks[i][0] = (char)i; }
    for (long i = 0; i < k; i++) acc += blocks[i][0];
    for (long i = 0; i < k; i++) free(blocks[i]);
    free(blocks);
    return 0;
}
"#;

/// A config with one scenario `c` running `argv`, counted as `measure`.
fn config(dir: &Path, argv: &[&str], measure: &str) -> PathBuf {
    let p = dir.join("bench-gate.yml");
    let cmd: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
    std::fs::write(
        &p,
        format!(
            "scenarios:\n  c:\n    command: [{}]\n    iterations: 1\n    warmup: 0\n    measure: [wall, {measure}]\n",
            cmd.join(", ")
        ),
    )
    .unwrap();
    p
}

/// `run` with `cfg`, into `out`; the process's output.
fn run(cfg: &Path, out: &Path) -> std::process::Output {
    bg().args(["run", "--quiet", "--config"])
        .arg(cfg)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap()
}

fn run_ok(cfg: &Path, out: &Path) -> Value {
    let o = run(cfg, out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    read_json(out)
}

/// Keeps only `metric` in the results file `p` (a one-sample wall time
/// between runs of different work must not decide the verdict).
fn keep_only(p: &Path, metric: &str) {
    let mut r = read_json(p);
    r["metrics"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k == metric);
    std::fs::write(p, r.to_string()).unwrap();
}

fn value(r: &Value, metric: &str) -> f64 {
    r["metrics"][metric]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("{metric} in {r}"))
}

fn capture(dir: &Path, results: &Path) -> PathBuf {
    let b = dir.join("baseline.yaml");
    bg().args(["capture", "--force", "--version", "1.0.0", "--from"])
        .arg(results)
        .arg("--output")
        .arg(&b)
        .assert()
        .success();
    b
}

fn compare(baseline: &Path, results: &Path, extra: &[&str]) -> std::process::Output {
    bg().args(["compare", "--baseline"])
        .arg(baseline)
        .arg("--results")
        .arg(results)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_builtin_generator_counts_the_same_instructions_twice() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for i in 0..2 {
        let out = d.path().join(format!("r{i}.json"));
        let o = bg()
            .current_dir(d.path())
            .args([
                "run",
                "--quiet",
                "--workload",
                "quick",
                "--only",
                "single",
                "--iterations",
                "1",
                "--warmup",
                "0",
                "--measure",
                "instructions",
                "--output",
            ])
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(err.contains("2 runs under cachegrind"), "{err}");
        let r = read_json(&out);
        assert!(r.get("skipped").is_none(), "{r}");
        assert_eq!(r["metrics"]["single.instructions"]["unit"], "instructions");
        assert_eq!(r["environment"]["valgrind_version"], "valgrind-3.19.0");
        assert!(r["environment"]["libc_version"]
            .as_str()
            .unwrap()
            .starts_with("glibc "));
        counts.push(value(&r, "single.instructions"));
    }
    assert!(counts[0] > 1e6, "{counts:?}");
    // Identical but for the few instructions that format the generator's
    // own timings (it writes them in its output): within the tolerance.
    let spread = (counts[0] - counts[1]).abs() / counts[0].min(counts[1]) * 100.0;
    assert!(spread <= 0.01, "{counts:?}");
}

#[test]
fn two_and_five_percent_more_instructions_warn_and_fail_at_the_defaults() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let exe = compile(d.path(), "loop", LOOP_C);
    let exe = exe.to_str().unwrap();
    let base = d.path().join("base.json");
    let r = run_ok(&config(d.path(), &[exe, "2000000"], "instructions"), &base);
    let before = value(&r, "c.instructions");
    keep_only(&base, "c.instructions");
    let baseline = capture(d.path(), &base);
    // Start-up is counted too, so a little more work than 2 % and 5 %.
    for (n, low, high, code, status) in [
        ("2050000", 2.0, 3.0, 1, "warning"),
        ("2110000", 5.0, 7.0, 2, "failure"),
    ] {
        let out = d.path().join(format!("r{n}.json"));
        let r = run_ok(&config(d.path(), &[exe, n], "instructions"), &out);
        let change = (value(&r, "c.instructions") / before - 1.0) * 100.0;
        assert!(change > low && change < high, "{n}: {change}");
        keep_only(&out, "c.instructions");
        let o = compare(
            &baseline,
            &out,
            &[
                "--fail-on-warning",
                "--fail-on-regression",
                "--format",
                "json",
            ],
        );
        assert_eq!(o.status.code(), Some(code), "{n}");
        let c: Value = serde_json::from_slice(&o.stdout).unwrap();
        let m = c["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "c.instructions")
            .unwrap()
            .clone();
        assert_eq!(m["status"], status, "{m}");
        assert_eq!(m["kind"], "instructions");
        assert_eq!(m["thresholds"]["warning"], 1.0);
        assert_eq!(m["thresholds"]["failure"], 3.0);
    }
}

#[test]
fn a_program_reading_dev_urandom_is_not_deterministic_and_warns() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let exe = compile(
        d.path(),
        "random",
        r#"
#include <stdio.h>
int main(void) {
    unsigned int r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&r, sizeof r, 1, f) != 1) return 1;
    fclose(f);
    volatile unsigned long acc = 0;
    for (unsigned long i = 0; i < 100000 + (r % 1000000); i++) acc += i;
    return 0;
}
"#,
    );
    let out = d.path().join("r.json");
    let o = run(
        &config(d.path(), &[exe.to_str().unwrap()], "instructions"),
        &out,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("warning: c.instructions: not deterministic: two runs counted"),
        "{err}"
    );
    let r = read_json(&out);
    assert!(r["metrics"].get("c.instructions").is_none(), "not gated");
    let sk = &r["skipped"]["c.instructions"];
    assert_eq!(sk["warning"], true);
    assert!(
        sk["reason"].as_str().unwrap().contains("/dev/urandom"),
        "{sk}"
    );
    // Never a silent pass: a warning in compare, against any baseline.
    let baseline = capture(d.path(), &out);
    let o = compare(&baseline, &out, &["--fail-on-warning"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("not deterministic"), "{text}");
}

#[test]
fn without_valgrind_the_counts_are_skipped_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    let exe = compile(d.path(), "loop", LOOP_C);
    let exe = exe.to_str().unwrap();
    // A baseline holding the count, measured with Valgrind.
    let with = d.path().join("with.json");
    let cfg = config(d.path(), &[exe, "1000", "10"], "instructions, allocations");
    run_ok(&cfg, &with);
    let baseline = capture(d.path(), &with);
    // The same scenario where Valgrind is not on PATH.
    let empty = tempfile::tempdir().unwrap();
    let out = d.path().join("without.json");
    let o = bg()
        .env("PATH", empty.path())
        .args(["run", "--quiet", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("skipped: scenario 'c': instructions and allocations not measured: valgrind not found on PATH"),
        "{err}"
    );
    let r = read_json(&out);
    for m in [
        "c.instructions",
        "c.alloc_bytes",
        "c.alloc_blocks",
        "c.heap_peak_bytes",
    ] {
        assert_eq!(
            r["skipped"][m]["reason"], "valgrind not found on PATH",
            "{m}"
        );
        assert!(r["metrics"].get(m).is_none());
    }
    // Wide thresholds: one-sample wall times must not decide here.
    let wide = ["--warn-threshold", "1000", "--fail-threshold", "1000"];
    let o = compare(
        &baseline,
        &out,
        &[
            &wide[..],
            &[
                "--fail-on-warning",
                "--fail-on-regression",
                "--format",
                "markdown",
            ],
        ]
        .concat(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("| ⏭️ skipped: valgrind not found on PATH |"),
        "{text}"
    );
    let o = compare(
        &baseline,
        &out,
        &[&wide[..], &["--fail-on-regression"]].concat(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("4 metrics skipped (not measured here, see the table)")
            && text.contains("note: c.instructions: valgrind not found on PATH"),
        "{text}"
    );
    // A metric missing without a skip record still fails.
    let mut stripped = r.clone();
    stripped.as_object_mut().unwrap().remove("skipped");
    let bare = d.path().join("bare.json");
    std::fs::write(&bare, stripped.to_string()).unwrap();
    let o = compare(
        &baseline,
        &bare,
        &[&wide[..], &["--fail-on-regression"]].concat(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("missing from the results"), "{text}");
}

#[test]
fn a_program_crashing_under_valgrind_is_an_error_naming_the_scenario() {
    let d = tempfile::tempdir().unwrap();
    // Runs natively; under Valgrind (its preload is there) it crashes.
    let exe = compile(
        d.path(),
        "crashy",
        r#"
#include <stdlib.h>
#include <string.h>
#include <signal.h>
int main(void) {
    const char *p = getenv("LD_PRELOAD");
    if (p && strstr(p, "vgpreload")) raise(SIGSEGV);
    return 0;
}
"#,
    );
    let out = d.path().join("r.json");
    let o = run(
        &config(d.path(), &[exe.to_str().unwrap()], "instructions"),
        &out,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("scenario 'c' failed under Valgrind (cachegrind)")
            && err.contains("was killed by signal 11"),
        "{err}"
    );
    assert!(err.contains("Valgrind's log"), "{err}");
    assert!(!out.exists(), "no results written");
}

#[test]
fn dhat_counts_a_known_allocation_pattern() {
    let d = tempfile::tempdir().unwrap();
    let exe = compile(d.path(), "loop", LOOP_C);
    let exe = exe.to_str().unwrap();
    let mut got = Vec::new();
    for k in ["100", "300"] {
        let out = d.path().join(format!("r{k}.json"));
        let r = run_ok(&config(d.path(), &[exe, "10", k], "allocations"), &out);
        assert_eq!(r["metrics"]["c.alloc_bytes"]["unit"], "bytes");
        got.push([
            value(&r, "c.alloc_bytes"),
            value(&r, "c.alloc_blocks"),
            value(&r, "c.heap_peak_bytes"),
        ]);
    }
    // 200 more blocks of 1000 bytes, all live at the peak, and the
    // pointer array 200 × 8 bytes larger.
    assert_eq!(got[1][0] - got[0][0], 200.0 * 1000.0 + 200.0 * 8.0);
    assert_eq!(got[1][1] - got[0][1], 200.0);
    assert_eq!(got[1][2] - got[0][2], 200.0 * 1000.0 + 200.0 * 8.0);
    assert!(got[0][0] >= 100_000.0 && got[0][1] >= 101.0, "{got:?}");
}

#[test]
fn cachegrind_and_callgrind_out_files_import_as_instruction_metrics() {
    let d = tempfile::tempdir().unwrap();
    let exe = compile(d.path(), "loop", LOOP_C);
    let cg = d.path().join("cachegrind.out.1");
    let cl = d.path().join("callgrind.out.1");
    for (tool, file, extra) in [
        ("cachegrind", &cg, "--cache-sim=yes"),
        ("callgrind", &cl, "--dump-line=yes"),
    ] {
        let ok = std::process::Command::new("valgrind")
            .arg(format!("--tool={tool}"))
            .arg(extra)
            .arg(format!("--{tool}-out-file={}", file.display()))
            .arg("--log-file=/dev/null")
            .arg(&exe)
            .args(["1000", "3"])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    // The totals, read independently: the last number-bearing line.
    let total = |p: &Path, key: &str| -> Vec<f64> {
        let text = std::fs::read_to_string(p).unwrap();
        let line = text.lines().find(|l| l.starts_with(key)).unwrap();
        line[key.len()..]
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect()
    };
    let out = bg()
        .args(["import", "--format", "cachegrind"])
        .arg(&cg)
        .arg(&cl)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Both ran `loop 1000 3`: the same metric name, refused naming both.
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("both map to the metric name cachegrind.loop_1000_3.instructions"),
        "{err}"
    );
    for (file, key, first_other) in [
        (&cg, "summary:", "cachegrind.loop_1000_3.I1mr"),
        (&cl, "totals:", ""),
    ] {
        let out = bg()
            .args(["import", "--format", "cachegrind"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["workload"], "import:cachegrind");
        let m = &r["metrics"]["cachegrind.loop_1000_3.instructions"];
        assert_eq!(m["unit"], "instructions");
        assert_eq!(
            m["value"].as_f64().unwrap(),
            total(file, key)[0],
            "{file:?}"
        );
        if !first_other.is_empty() {
            assert_eq!(r["metrics"][first_other]["unit"], "events");
            assert_eq!(
                r["metrics"][first_other]["value"].as_f64().unwrap(),
                total(file, key)[1]
            );
        }
    }
    // Not such a file: an error naming it.
    let bad = d.path().join("notes.txt");
    std::fs::write(&bad, "hello\n").unwrap();
    bg().args(["import", "--format", "cachegrind"])
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicates::str::contains(format!(
            "{}: not a cachegrind or callgrind out file (no `events:` line",
            bad.display()
        )));
}

#[test]
fn side_by_side_the_base_is_counted_too_and_five_percent_more_fails() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(d.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    let write = |p: &str, text: &str| std::fs::write(d.path().join(p), text).unwrap();
    let program = |n: u32| {
        format!("int main(void) {{ volatile long acc = 0; for (long i = 0; i < {n}; i++) acc += i * 3; return 0; }}\n")
    };
    git(&["init", "-q"]);
    write(".gitignore", "prog\n");
    write(
        "bench-gate.yml",
        "scenarios:\n  job:\n    command: ./prog\n    iterations: 2\n    warmup: 0\n    measure: [wall, instructions]\nab:\n  setup: cc -O1 -o prog prog.c\n",
    );
    write("prog.c", &program(2_000_000));
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    write("prog.c", &program(2_110_000));
    git(&["commit", "-q", "-am", "slower"]);
    let out = bg()
        .current_dir(d.path())
        .args([
            "compare",
            "-q",
            "--ab",
            "HEAD~1",
            "--format",
            "json",
            "--save-results",
            "results.json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "reported only: {err}");
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = c["side_by_side"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "job.instructions")
        .unwrap_or_else(|| panic!("{c}"))
        .clone();
    assert_eq!(m["status"], "failure", "{m}");
    let change = m["change_pct"].as_f64().unwrap();
    assert!((5.0..7.0).contains(&change), "{m}");
    let saved = read_json(&d.path().join("results.json"));
    let base = value(&saved["ab"]["base"], "job.instructions");
    let head = value(&saved, "job.instructions");
    assert!(head > base, "{base} {head}");
    // Counted once per tree, not per pair, and not confirmed by measuring
    // again (a count does not change).
    assert_eq!(err.matches("2 runs under cachegrind").count(), 2, "{err}");
    assert!(!err.contains("job.instructions above the failure"), "{err}");
}

#[test]
fn merged_shards_keep_every_shards_skip_records() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("bench-gate.yml");
    std::fs::write(
        &cfg,
        "scenarios:\n  a:\n    command: [/bin/true]\n    iterations: 1\n    warmup: 0\n    measure: [instructions]\n  b:\n    command: [/bin/true]\n    iterations: 1\n    warmup: 0\n    measure: [instructions]\n",
    )
    .unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    for k in ["1/2", "2/2"] {
        let out = d.path().join(format!("shard-{}.json", &k[..1]));
        bg().env("PATH", empty.path())
            .args(["run", "--quiet", "--shard", k, "--config"])
            .arg(&cfg)
            .arg("--output")
            .arg(&out)
            .assert()
            .success();
        parts.push(out);
    }
    let merged = d.path().join("merged.json");
    bg().arg("merge")
        .args(&parts)
        .arg("--output")
        .arg(&merged)
        .assert()
        .success();
    let r = read_json(&merged);
    for m in ["a.instructions", "b.instructions"] {
        assert_eq!(
            r["skipped"][m]["reason"], "valgrind not found on PATH",
            "{r}"
        );
    }
}

/// Why it got slower: two revisions of a C program with two functions, one
/// made slower in the second; `compare --ab` fails on instructions, runs
/// the scenario under callgrind in both trees, names that function first,
/// and writes a differential flame graph naming it beside the results.
#[test]
fn a_failing_count_names_the_function_that_got_slower_and_draws_it() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(d.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    let write = |p: &str, text: &str| std::fs::write(d.path().join(p), text).unwrap();
    git(&["init", "-q"]);
    write(".gitignore", "prog\n*.json\n*.svg\n");
    write(
        "bench-gate.yml",
        "scenarios:\n  job:\n    command: ./prog\n    iterations: 2\n    warmup: 0\n    measure: [wall, instructions]\nab:\n  setup: cc -g -O1 -o prog prog.c\n",
    );
    write("prog.c", &two_functions(""));
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    write("prog.c", &two_functions(" + n / 4"));
    git(&["commit", "-q", "-am", "slower"]);
    let out = bg()
        .current_dir(d.path())
        .args([
            "compare",
            "-q",
            "--ab",
            "HEAD~1",
            "--fail-on-regression",
            "--format",
            "json",
            "--save-results",
            "results.json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "fails on instructions: {err}");
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = c["side_by_side"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "job.instructions" && m["status"] == "failure");
    assert!(failed, "{c}");
    assert!(err.contains("under callgrind in both trees"), "{err}");
    let saved = read_json(&d.path().join("results.json"));
    let why = &saved["why"][0];
    assert_eq!(why["scenario"], "job", "{saved}");
    assert_eq!(why["kind"], "changed", "{why}");
    let top = &why["functions"][0];
    assert_eq!(top["name"], "busy_work", "{why}");
    assert_eq!(top["file"], "prog.c", "{why}");
    assert!(
        top["line"].as_u64().is_some_and(|l| (1..=3).contains(&l)),
        "{why}"
    );
    let (before, after) = (
        top["before_self"].as_f64().unwrap(),
        top["after_self"].as_f64().unwrap(),
    );
    assert!(after > before * 1.2, "{top}");
    // other_work did not change: it is not in the list.
    let names: Vec<&str> = why["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"other_work"), "{names:?}");
    let svg_name = why["flamegraph"]
        .as_str()
        .unwrap_or_else(|| panic!("{why}"));
    assert_eq!(svg_name, "results.json.job.why.svg");
    let svg = std::fs::read_to_string(d.path().join(svg_name)).unwrap();
    assert!(svg.contains("<svg") && svg.contains("busy_work"), "{svg}");
    // The Markdown report lists it, collapsed.
    let report = bg()
        .current_dir(d.path())
        .args([
            "report",
            "--format",
            "markdown",
            "--ab",
            "HEAD~1",
            "--results",
            "results.json",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&report.stdout);
    assert!(
        md.contains("<details><summary>Why it got slower: scenario job"),
        "{md}"
    );
    assert!(md.contains("`busy_work`"), "{md}");
    // The HTML report shows the flame graph read back from beside the results.
    let html = bg()
        .current_dir(d.path())
        .args([
            "report",
            "--format",
            "html",
            "--ab",
            "HEAD~1",
            "--results",
            "results.json",
        ])
        .output()
        .unwrap();
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(html.contains("<code>busy_work</code>"), "{html}");
    assert!(html.contains("src=\"data:image/svg+xml;base64,"), "{html}");
}

/// A C program with two functions; `busy_extra` makes `busy_work` loop more.
fn two_functions(busy_extra: &str) -> String {
    format!(
        "__attribute__((noinline)) long busy_work(long n) {{\n  volatile long acc = 0;\n  for (long i = 0; i < n{busy_extra}; i++) acc += i * 3;\n  return acc;\n}}\n\
         __attribute__((noinline)) long other_work(long n) {{\n  volatile long acc = 1;\n  for (long i = 0; i < n; i++) acc ^= i;\n  return acc;\n}}\n\
         volatile long sink;\nint main(void) {{ sink = busy_work(1000000) + other_work(200000); return 0; }}\n"
    )
}

/// With a baseline file only (no base tree), a failing count lists the
/// head's hottest functions.
#[test]
fn without_a_base_tree_the_heads_hottest_functions_are_listed() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let build = |extra: &str| {
        std::fs::write(d.path().join("prog.c"), two_functions(extra)).unwrap();
        let out = std::process::Command::new("cc")
            .current_dir(d.path())
            .args(["-g", "-O1", "-o", "prog", "prog.c"])
            .output()
            .expect("cc runs");
        assert!(out.status.success(), "{out:?}");
    };
    build("");
    let cfg = config(d.path(), &["./prog"], "instructions");
    let first = d.path().join("r1.json");
    let o = bg()
        .current_dir(d.path())
        .args(["run", "--quiet", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&first)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    keep_only(&first, "c.instructions");
    let baseline = capture(d.path(), &first);
    build(" + n / 4");
    let out = bg()
        .current_dir(d.path())
        .args([
            "compare",
            "-q",
            "--no-ab",
            "--fail-on-regression",
            "--config",
        ])
        .arg(&cfg)
        .arg("--baseline")
        .arg(&baseline)
        .args(["--save-results", "r2.json", "--format", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let saved = read_json(&d.path().join("r2.json"));
    let why = &saved["why"][0];
    assert_eq!(why["kind"], "hottest", "{saved}");
    assert_eq!(why["functions"][0]["name"], "busy_work", "{why}");
    assert!(why["functions"][0].get("before_self").is_none(), "{why}");
    assert!(why.get("base_total").is_none(), "{why}");
    let svg = std::fs::read_to_string(d.path().join("r2.json.c.why.svg")).unwrap();
    assert!(svg.contains("busy_work"));
}
