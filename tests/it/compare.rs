//! capture → compare → report → list/clean/trends, from results files, so the
//! figures are exact and the snapshots stable.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

fn bg() -> Command {
    Command::cargo_bin("bench-gate").unwrap()
}

const DESIGN: &str = include_str!("../fixtures/persona-v1.12.0.yaml");

/// A results file with the design's metric names and chosen values.
fn results(dir: &Path, name: &str, values: &[(&str, f64)]) -> PathBuf {
    let mut metrics = serde_json::Map::new();
    for (k, v) in values {
        let unit = if k.ends_with("_mb") { "MB" } else { "ms" };
        metrics.insert(
            k.to_string(),
            json!({"value": v, "unit": unit, "direction": "lower",
                   "samples": [v * 0.98, *v, v * 1.02]}),
        );
    }
    let r = json!({
        "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
        "created_at": "2026-11-27T10:00:00Z", "workload": "standard",
        "environment": {"platform": "linux-x86_64", "python_version": "3.12", "cpu_model": "Test CPU"},
        "scenarios": [], "metrics": metrics,
    });
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    p
}

/// Design baseline values, with single p50 +26 % (failure), batch_10 p95 +12 % (warning),
/// memory single −30 % (improved), startup missing, and one new metric.
fn mixed(dir: &Path) -> PathBuf {
    results(
        dir,
        "mixed.json",
        &[
            ("generation.single.latency_p50_ms", 1890.0),
            ("generation.single.latency_p95_ms", 3000.0),
            ("generation.single.latency_p99_ms", 4400.0),
            ("generation.batch_10.latency_p50_ms", 12000.0),
            ("generation.batch_10.latency_p95_ms", 20160.0),
            ("memory.single_peak_mb", 358.4),
            ("memory.batch_10_peak_mb", 1024.0),
            ("generation.batch_50.latency_p50_ms", 50000.0),
        ],
    )
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let bdir = d.path().join("baselines");
    std::fs::create_dir(&bdir).unwrap();
    std::fs::write(bdir.join("v1.12.0.yaml"), DESIGN).unwrap();
    (d, bdir)
}

fn compare(dir: &Path, results: &Path, extra: &[&str]) -> std::process::Output {
    bg().current_dir(dir)
        .args(["compare", "--results"])
        .arg(results)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn compare_table_statuses_and_exit_codes() {
    let (d, _) = setup();
    let r = mixed(d.path());
    let out = compare(d.path(), &r, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "failures are only reported by default"
    );
    assert!(
        text.contains(
            "Failed: 1 metric above the failure threshold, 1 metric missing from the results, 1 metric above the warning threshold"
        ),
        "{text}"
    );
    // Worst first.
    let order: Vec<&str> = text
        .lines()
        .filter(|l| l.contains('┆'))
        .filter_map(|l| l.split('┆').next())
        .map(|cell| cell.trim_start_matches('│').trim())
        .filter(|n| n.contains('.'))
        .collect();
    assert_eq!(
        order,
        [
            "generation.single.latency_p50_ms",
            "startup.cli_cold_ms",
            "generation.batch_10.latency_p95_ms",
            "generation.batch_50.latency_p50_ms",
            "generation.batch_10.latency_p50_ms",
            "generation.single.latency_p95_ms",
            "memory.batch_10_peak_mb",
            "generation.single.latency_p99_ms",
            "memory.single_peak_mb",
        ]
    );
    assert!(text.contains("missing (failure)"), "{text}");
    assert!(text.contains(
        "note: startup.cli_cold_ms: in the baseline but not in the results: counted as a failure (missing: fail)"
    ));
    // Only keys both sides record are compared: the baseline has no cpu_model.
    assert!(!text.contains("environment differs"), "{text}");
    assert_eq!(
        compare(d.path(), &r, &["--fail-on-regression"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        compare(d.path(), &r, &["--fail-on-warning"]).status.code(),
        Some(2)
    );
    // Thresholds from flags override the file: 30 % lets +26 % pass as a
    // warning → exit 1 (with the missing metric a warning too).
    let out = compare(
        d.path(),
        &r,
        &[
            "--fail-on-warning",
            "--fail-threshold",
            "30",
            "--missing",
            "warn",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Thresholds that pass +26 % as a warning: the missing metric alone fails
    // it by default, and ignored nothing fails.
    let lenient = [
        "--fail-on-regression",
        "--warn-threshold",
        "20",
        "--fail-threshold",
        "30",
    ];
    let out = compare(
        d.path(),
        &r,
        &[&lenient[..], &["--missing", "ignore"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0));
    let out = compare(d.path(), &r, &lenient);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(
        "❌ Failed: 1 metric missing from the results, 1 metric above the warning threshold\n"
    ));
}

#[test]
fn compare_json_and_markdown_snapshots() {
    let (d, _) = setup();
    let r = mixed(d.path());
    let md = String::from_utf8(compare(d.path(), &r, &["--format", "markdown"]).stdout).unwrap();
    insta::assert_snapshot!("compare_markdown_table", md);
    let json_out: Value =
        serde_json::from_slice(&compare(d.path(), &r, &["--format", "json"]).stdout).unwrap();
    insta::assert_json_snapshot!("compare_json", json_out);
}

#[test]
fn report_markdown_snapshot_and_html_is_self_contained() {
    let (d, _) = setup();
    let r = mixed(d.path());
    let out = bg()
        .current_dir(d.path())
        .args(["report", "--format", "markdown", "--results"])
        .arg(&r)
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("report_markdown", String::from_utf8(out.stdout).unwrap());

    let html_path = d.path().join("report.html");
    bg().current_dir(d.path())
        .args(["report", "--format", "html", "--results"])
        .arg(&r)
        .arg("--output")
        .arg(&html_path)
        .assert()
        .success();
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // One chart per metric, each with its bars.
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 9);
    assert!(html.contains("aria-label=\"generation.single.latency_p50_ms\""));
    assert!(html.contains("class=\"cur failure\""));
    // Nothing loaded from elsewhere.
    for needle in ["http://", "https://", "<script", "<link", "src=", "url("] {
        assert!(!html.contains(needle), "HTML contains {needle}");
    }
}

#[test]
fn capture_round_trips_and_refuses_to_overwrite() {
    let (d, bdir) = setup();
    let r = results(
        d.path(),
        "r.json",
        &[
            ("generation.single.latency_p50_ms", 12.345678901234),
            ("memory.single_peak_mb", 9.1),
        ],
    );
    let out_file = bdir.join("v1.13.0.yaml");
    bg().current_dir(d.path())
        .args(["capture", "--from"])
        .arg(&r)
        .arg("--output")
        .arg(&out_file)
        .assert()
        .success()
        .stderr(predicate::str::contains("version 1.13.0"));
    // Compare the same results with what was captured: identical values, 0 % change.
    let out = bg()
        .current_dir(d.path())
        .args([
            "compare",
            "--format",
            "json",
            "--baseline",
            "latest",
            "--results",
        ])
        .arg(&r)
        .output()
        .unwrap();
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["baseline_file"], "baselines/v1.13.0.yaml");
    for m in c["metrics"].as_array().unwrap() {
        assert_eq!(m["baseline"], m["current"], "{m}");
        assert_eq!(m["change_pct"], 0.0);
        assert_eq!(m["baseline_summary"]["n"], 3, "samples were captured");
    }
    // Refuses to overwrite, then --force.
    let before = std::fs::read(&out_file).unwrap();
    bg().current_dir(d.path())
        .args(["capture", "--from"])
        .arg(&r)
        .arg("--output")
        .arg(&out_file)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("baseline exists; pass --force"));
    assert_eq!(std::fs::read(&out_file).unwrap(), before);
    bg().current_dir(d.path())
        .args([
            "capture",
            "--force",
            "--baseline-version",
            "1.13.1",
            "--from",
        ])
        .arg(&r)
        .arg("--output")
        .arg(&out_file)
        .assert()
        .success();
    assert!(std::fs::read_to_string(&out_file)
        .unwrap()
        .contains("version: 1.13.1"));
    // A file name that is no version needs --version.
    bg().current_dir(d.path())
        .args(["capture", "--from"])
        .arg(&r)
        .args(["--output", "baselines/nightly.yaml"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("pass --baseline-version"));
}

#[test]
fn bad_baselines_and_results_exit_3_naming_the_file() {
    let (d, bdir) = setup();
    let r = mixed(d.path());
    let write = |name: &str, text: &str| {
        let p = bdir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let cases = vec![
        (
            write("a.yaml", "version: '1'\nmetrics:\n  x: [1\n"),
            "a.yaml:".to_string(),
        ),
        (
            write("b.yaml", "version: '1'\nmetrics:\n  x:\n    y: fast\n"),
            "b.yaml:4:8: metrics.x.y: expected a number, found the text \"fast\"".into(),
        ),
        (
            write("c.yaml", "version: '1'\nmetrics:\n  x: -1\n"),
            "c.yaml:3:6: metrics.x: -1 is negative".into(),
        ),
        (
            write("d.yaml", "version: '1'\nmetrics:\n  x: .inf\n"),
            "d.yaml:3:6: metrics.x: inf is not a finite number".into(),
        ),
        (
            write(
                "e.yaml",
                "version: '1'\nmetrics:\n  x: 1\nthresholds: {warning: 50, failure: 20}\n",
            ),
            "e.yaml:4:13: thresholds: warning threshold 50% is above failure threshold 20%".into(),
        ),
        (
            write("f.yaml", "version: '1'\nmetrics: {}\n"),
            "f.yaml:2:10: metrics: the metrics tree is empty".into(),
        ),
        (
            // The reviewer reads 500; serde_yaml alone kept 5 silently.
            write(
                "g.yaml",
                "version: '1'\nmetrics:\n  startup:\n    cli_cold_ms: 500\n    cli_cold_ms: 5\n",
            ),
            "g.yaml:5:5: duplicate key `metrics.startup.cli_cold_ms` (first given on line 4)"
                .into(),
        ),
        (
            write("h.yaml", "version: '1'\nmetrics:\n  x: 1\nversion: '2'\n"),
            "h.yaml:4:1: duplicate key `version` (first given on line 1)".into(),
        ),
        (
            bdir.join("none.yaml").display().to_string(),
            "none.yaml: cannot read baseline".into(),
        ),
    ];
    for (file, expected) in cases {
        let out = compare(d.path(), &r, &["--baseline", &file]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{file}: {err}");
        assert!(
            err.contains(&expected),
            "{file}: expected {expected:?} in {err}"
        );
    }
    // Results that are not results.
    let bogus = d.path().join("bogus.json");
    std::fs::write(&bogus, "{\"hello\": 1}").unwrap();
    let out = compare(d.path(), &bogus, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("bogus.json:1:12: not a bench-gate results file"));
    // Warning above failure on the command line.
    let out = compare(
        d.path(),
        &r,
        &["--warn-threshold", "30", "--fail-threshold", "20"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--warn-threshold 30 is above --fail-threshold 20"));
    // No baseline at all.
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir(empty.path().join("baselines")).unwrap();
    let out = compare(empty.path(), &r, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no baseline named by version"));
}

/// Oversize inputs are refused before they are read whole: a sparse 65 MiB
/// results file and a 9 MiB baseline by their size, `/dev/zero` (which has
/// no size) after 64 MiB. Each error names the file and the limit.
#[test]
#[cfg(unix)] // /dev/zero
fn oversize_results_and_baselines_exit_3_naming_the_limit() {
    let (d, bdir) = setup();
    let r = mixed(d.path());
    let big = d.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let zero = Path::new("/dev/zero");
    for results in [big.as_path(), zero] {
        let out = compare(d.path(), results, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{}: {err}", results.display());
        assert!(
            err.contains(&format!("{}: cannot read results", results.display()))
                && err.contains("limit of 64 MiB"),
            "{err}"
        );
    }
    let big_baseline = bdir.join("big.yaml");
    std::fs::File::create(&big_baseline)
        .unwrap()
        .set_len(9 << 20)
        .unwrap();
    let out = compare(
        d.path(),
        &r,
        &["--baseline", &big_baseline.display().to_string()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("big.yaml: cannot read baseline") && err.contains("limit of 8 MiB"),
        "{err}"
    );
}

/// 200 KB of `[` in a baseline is refused by a pre-check, naming the line and
/// column where the nesting passes the limit (the parser alone took 25 s).
#[test]
fn a_deeply_nested_baseline_exits_3_naming_the_line() {
    let (d, bdir) = setup();
    let r = mixed(d.path());
    let deep = bdir.join("deep.yaml");
    std::fs::write(
        &deep,
        format!("version: '1'\nmetrics:\n  x: {}\n", "[".repeat(200_000)),
    )
    .unwrap();
    let out = compare(d.path(), &r, &["--baseline", &deep.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("deep.yaml:3:134: nested deeper than the limit of 128 levels"),
        "{err}"
    );
}

#[test]
fn unknown_keys_warn_but_load() {
    let (d, bdir) = setup();
    std::fs::write(
        bdir.join("v1.12.0.yaml"),
        format!("{DESIGN}owner: perf-team\n"),
    )
    .unwrap();
    let out = compare(d.path(), &mixed(d.path()), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("warning: baselines/v1.12.0.yaml: unknown key 'owner' ignored"));
}

#[test]
fn list_clean_and_trends() {
    let (d, bdir) = setup();
    for (v, p50) in [("1.10.0", 1400.0), ("1.11.0", 1450.0), ("1.13.0", 1600.0)] {
        std::fs::write(
            bdir.join(format!("v{v}.yaml")),
            DESIGN
                .replace("\"1.12.0\"", &format!("\"{v}\""))
                .replace("latency_p50_ms: 1500", &format!("latency_p50_ms: {p50}")),
        )
        .unwrap();
    }
    bg().current_dir(d.path())
        .args(["list", "--verbose"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("v1.13.0.yaml")
                .and(predicate::str::contains("2025-01-15T10:00:00Z"))
                .and(predicate::str::contains("10% / 25%")),
        );
    let out = bg()
        .current_dir(d.path())
        .args(["trends", "--metric", "generation.single.latency_p50_ms"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "generation.single.latency_p50_ms");
    assert!(
        lines[1].trim_start().starts_with("1.10.0") && lines[1].ends_with("1.40 s"),
        "{text}"
    );
    assert!(
        lines[4].trim_start().starts_with("1.13.0") && lines[4].ends_with("1.60 s"),
        "{text}"
    );
    let j: Value = serde_json::from_slice(
        &bg()
            .current_dir(d.path())
            .args(["trends", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        j["versions"],
        json!(["1.10.0", "1.11.0", "1.12.0", "1.13.0"])
    );
    assert_eq!(
        j["metrics"]["generation.single.latency_p50_ms"],
        json!([1400.0, 1450.0, 1500.0, 1600.0])
    );
    bg().current_dir(d.path())
        .args(["trends", "--metric", "nope"])
        .assert()
        .code(3);

    bg().current_dir(d.path())
        .args(["clean", "--keep", "2", "--dry-run"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("would delete baselines/v1.11.0.yaml").and(
                predicate::str::contains("would delete baselines/v1.10.0.yaml"),
            ),
        );
    assert!(bdir.join("v1.10.0.yaml").exists());
    bg().current_dir(d.path())
        .args(["clean", "--keep", "2"])
        .assert()
        .success();
    let mut left: Vec<String> = std::fs::read_dir(&bdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["v1.12.0.yaml", "v1.13.0.yaml"]);
    bg().current_dir(d.path())
        .args(["clean", "--name", "v1.12.0.yaml"])
        .assert()
        .success();
    bg().current_dir(d.path())
        .args(["clean", "--name", "v9.yaml"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no such baseline"));
    bg().current_dir(d.path()).args(["clean"]).assert().code(3);
}

#[test]
fn changes_carry_a_bootstrap_interval_when_both_sides_have_samples() {
    let (d, bdir) = setup();
    std::fs::write(
        bdir.join("v2.0.0.yaml"),
        "version: '2.0.0'\nmetrics:\n  x:\n    latency_p50_ms: 100\nsamples:\n  x.latency_p50_ms: [97, 98, 99, 100, 100, 101, 102, 103]\n",
    )
    .unwrap();
    let r = d.path().join("r.json");
    std::fs::write(
        &r,
        json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0", "created_at": "x", "workload": "w",
               "environment": {}, "scenarios": [],
               "metrics": {"x.latency_p50_ms": {"value": 120.0, "unit": "ms", "statistic": "p50",
                                                "samples": [117.0, 118.0, 119.0, 120.0, 120.0, 121.0, 122.0, 123.0]}}})
        .to_string(),
    )
    .unwrap();
    let out = compare(
        d.path(),
        &r,
        &["--baseline", "baselines/v2.0.0.yaml", "--format", "json"],
    );
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let i = &c["metrics"][0]["interval"];
    let (lo, hi) = (i["lo"].as_f64().unwrap(), i["hi"].as_f64().unwrap());
    assert!(lo < 20.0 && 20.0 < hi && hi - lo < 10.0, "{i}");
    assert_eq!(i["confidence"], 0.95);
    // Reproducible, and shown in the table.
    let again: Value = serde_json::from_slice(
        &compare(
            d.path(),
            &r,
            &["--baseline", "baselines/v2.0.0.yaml", "--format", "json"],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(&again["metrics"][0]["interval"], i);
    let md = String::from_utf8(
        compare(
            d.path(),
            &r,
            &[
                "--baseline",
                "baselines/v2.0.0.yaml",
                "--format",
                "markdown",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert!(md.contains("| +20.0% ["), "{md}");
    // With the interval rule and the failure threshold inside the interval:
    // an inconclusive warning, not a failure; the threshold rule fails it.
    let args = [
        "--baseline",
        "baselines/v2.0.0.yaml",
        "--format",
        "json",
        "--fail-threshold",
        "19.5",
        "--warn-threshold",
        "5",
    ];
    let mut threshold_rule = args.to_vec();
    threshold_rule.extend(["--decision", "threshold"]);
    let by_threshold: Value =
        serde_json::from_slice(&compare(d.path(), &r, &threshold_rule).stdout).unwrap();
    assert_eq!(
        by_threshold["metrics"][0]["status"], "failure",
        "+20 % is above 19.5 %"
    );
    // The interval rule is the default.
    let by_interval: Value = serde_json::from_slice(&compare(d.path(), &r, &args).stdout).unwrap();
    let m = &by_interval["metrics"][0];
    assert_eq!(m["status"], "warning", "{m}");
    assert!(
        m["note"]
            .as_str()
            .unwrap()
            .starts_with("inconclusive: the 95 % interval"),
        "{m}"
    );
    assert!(
        m["note"]
            .as_str()
            .unwrap()
            .contains("more iterations would settle it"),
        "{m}"
    );
}

/// A results file of `workload` with these metrics, each with raw samples
/// whose median is its value.
fn results_of(dir: &Path, name: &str, workload: &str, values: &[(&str, f64)]) -> PathBuf {
    let p = results(dir, name, values);
    let mut r: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    r["workload"] = workload.into();
    for (_, m) in r["metrics"].as_object_mut().unwrap() {
        m["statistic"] = "p50".into();
    }
    std::fs::write(&p, r.to_string()).unwrap();
    p
}

#[test]
fn nothing_compared_exits_3_naming_both_sides() {
    let (d, _) = setup();
    // Renamed metrics: not one of the baseline's is in the results.
    let renamed = results(
        d.path(),
        "renamed.json",
        &[("gen.single.p50_ms", 1500.0), ("gen.single.p95_ms", 3000.0)],
    );
    for extra in [&[][..], &["--fail-on-regression"], &["--missing", "ignore"]] {
        let out = compare(d.path(), &renamed, extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{extra:?}: {err}");
        assert!(
            err.contains("not one metric of the baseline baselines/v1.12.0.yaml is in the results, so nothing can be compared"),
            "{err}"
        );
        assert!(
            err.contains("The baseline has generation.batch_10.latency_p50_ms, ")
                && err.contains("(8 in all)"),
            "{err}"
        );
        assert!(
            err.contains("the results (workload 'standard') have gen.single.p50_ms, gen.single.p95_ms (2 in all)"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "no table, no verdict");
    }
    // `report` too.
    bg().current_dir(d.path())
        .args(["report", "--results"])
        .arg(&renamed)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("nothing can be compared"));
    // A results file with no metrics at all.
    let empty = d.path().join("empty.json");
    std::fs::write(
        &empty,
        json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0", "created_at": "x",
               "workload": "standard", "environment": {}, "scenarios": [], "metrics": {}})
        .to_string(),
    )
    .unwrap();
    let out = compare(d.path(), &empty, &["--fail-on-regression"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the results hold no metrics"));
}

#[test]
fn another_workloads_results_are_refused_unless_asked_for() {
    let (d, bdir) = setup();
    let values = [("x.latency_p50_ms", 100.0), ("x.latency_p95_ms", 120.0)];
    let standard = results_of(d.path(), "standard.json", "standard", &values);
    bg().current_dir(d.path())
        .args(["capture", "--from"])
        .arg(&standard)
        .arg("--output")
        .arg(bdir.join("v2.0.0.yaml"))
        .assert()
        .success();
    let quick = results_of(d.path(), "quick.json", "quick", &values);
    let out = compare(d.path(), &quick, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the results are of workload 'quick', but the baseline baselines/v2.0.0.yaml was captured from workload 'standard'"),
        "{err}"
    );
    // Asked for explicitly: on the command line, or in bench-gate.yml.
    let out = compare(d.path(), &quick, &["--allow-other-workload"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        d.path().join("bench-gate.yml"),
        "scenarios:\n  x:\n    command: [\"true\"]\ncompare:\n  allow_other_workload: true\n",
    )
    .unwrap();
    assert_eq!(compare(d.path(), &quick, &[]).status.code(), Some(0));
    // The same workload is compared as always.
    std::fs::remove_file(d.path().join("bench-gate.yml")).unwrap();
    assert_eq!(compare(d.path(), &standard, &[]).status.code(), Some(0));
}

#[test]
fn the_missing_policy_from_flag_and_config() {
    let (d, _) = setup();
    let r = mixed(d.path());
    let verdict = |extra: &[&str]| {
        let out = compare(d.path(), &r, &[&["--format", "json"][..], extra].concat());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let c: Value = serde_json::from_slice(&out.stdout).unwrap();
        let startup = c["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "startup.cli_cold_ms")
            .unwrap()
            .clone();
        (
            c["verdict"].clone(),
            c["counts"]["missing_policy"].clone(),
            startup["counts_as"].clone(),
        )
    };
    // The thresholds make the rest pass: only the missing metric decides.
    let lenient = ["--warn-threshold", "30", "--fail-threshold", "40"];
    assert_eq!(
        verdict(&lenient),
        (json!("fail"), json!("fail"), json!("failure"))
    );
    let with = |p: &'static str| [&lenient[..], &["--missing", p]].concat();
    assert_eq!(
        verdict(&with("warn")),
        (json!("warn"), json!("warn"), json!("warning"))
    );
    assert_eq!(
        verdict(&with("ignore")),
        (json!("pass"), json!("ignore"), Value::Null)
    );
    // From bench-gate.yml; a flag wins over it.
    let cfg = d.path().join("bench-gate.yml");
    std::fs::write(
        &cfg,
        "scenarios:\n  x:\n    command: [\"true\"]\ncompare:\n  missing: warn\n",
    )
    .unwrap();
    assert_eq!(verdict(&lenient).0, json!("warn"));
    assert_eq!(verdict(&with("fail")).0, json!("fail"));
    // The markdown says what the missing metric counts as.
    let md = String::from_utf8(compare(d.path(), &r, &["--format", "markdown"]).stdout).unwrap();
    assert!(
        md.contains("| `startup.cli_cold_ms` | 500 ms | — | — | +10% / +25% | ⚠️ missing (warning): in the baseline but not in the results: counted as a warning (missing: warn) |"),
        "{md}"
    );
    // A value the key does not take: the file, line and column.
    std::fs::write(
        &cfg,
        "scenarios:\n  x:\n    command: [\"true\"]\ncompare:\n  missing: sometimes\n",
    )
    .unwrap();
    let out = compare(d.path(), &r, &[]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bench-gate.yml:5:12: compare.missing: unknown variant `sometimes`, expected one of `fail`, `warn`, `ignore`"),
        "{err}"
    );
}

#[test]
fn a_hand_edited_baseline_value_is_the_truth() {
    let (d, bdir) = setup();
    // Twenty samples around 100 ms, the value their median.
    let xs: Vec<f64> = (0..20)
        .map(|k| 100.0 * (1.0 + 0.04 * ((k * 7 % 20) as f64 / 19.0 - 0.5)))
        .collect();
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    let p50 = (sorted[9] + sorted[10]) / 2.0;
    let r = d.path().join("r.json");
    std::fs::write(
        &r,
        json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0", "created_at": "x",
               "workload": "standard", "environment": {}, "scenarios": [],
               "metrics": {"job.latency_p50_ms": {"value": p50, "unit": "ms", "statistic": "p50", "samples": xs}}})
        .to_string(),
    )
    .unwrap();
    let file = bdir.join("v3.0.0.yaml");
    bg().current_dir(d.path())
        .args(["capture", "--from"])
        .arg(&r)
        .arg("--output")
        .arg(&file)
        .assert()
        .success();
    let args = [
        "--baseline",
        "baselines/v3.0.0.yaml",
        "--fail-on-regression",
    ];
    // As captured: 0 % with its interval.
    let out = compare(d.path(), &r, &args);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0.0% ["));
    // Edited by hand to be 1.6x faster; the samples are left as they were.
    let text = std::fs::read_to_string(&file).unwrap();
    let edited: Vec<String> = text
        .lines()
        .map(|l| match l.split_once("latency_p50_ms: ") {
            Some((indent, v)) if !indent.contains('.') => {
                assert_eq!(v.parse::<f64>().unwrap(), p50, "captured exactly");
                format!("{indent}latency_p50_ms: {}", p50 / 1.6)
            }
            _ => l.to_string(),
        })
        .collect();
    assert_ne!(edited.join("\n"), text.trim_end());
    std::fs::write(&file, edited.join("\n")).unwrap();
    let out = compare(d.path(), &r, &args);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the failure stands: {table} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains("┆ +60.0% ┆"),
        "no interval from the stale samples: {table}"
    );
    assert!(
        table.contains("note: job.latency_p50_ms: value edited by hand; its samples are ignored (the value 62.5 ms is not the p50 of its 20 samples, 100 ms)"),
        "{table}"
    );
    let md = String::from_utf8(
        compare(
            d.path(),
            &r,
            &[&args[..2], &["--format", "markdown"]].concat(),
        )
        .stdout,
    )
    .unwrap();
    assert!(
        md.contains(
            "| +60.0% | +10% / +25% | ❌ failure: value edited by hand; its samples are ignored"
        ),
        "{md}"
    );
    let c: Value = serde_json::from_slice(
        &compare(d.path(), &r, &[&args[..2], &["--format", "json"]].concat()).stdout,
    )
    .unwrap();
    let m = &c["metrics"][0];
    assert_eq!(m["baseline_samples_ignored"], true, "{m}");
    assert_eq!(m["interval"], Value::Null);
    assert_eq!(m["baseline_summary"], Value::Null);
    assert_eq!(m["status"], "failure");
    // The report's detail table has only the current side's samples.
    let out = bg()
        .current_dir(d.path())
        .args(["report", "--baseline", "baselines/v3.0.0.yaml", "--results"])
        .arg(&r)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("value edited by hand; its samples are ignored"),
        "{report}"
    );
    assert!(!report.contains("| baseline | 20 |"), "{report}");
    let html = d.path().join("edited.html");
    bg().current_dir(d.path())
        .args([
            "report",
            "--format",
            "html",
            "--baseline",
            "baselines/v3.0.0.yaml",
            "--results",
        ])
        .arg(&r)
        .arg("--output")
        .arg(&html)
        .assert()
        .success();
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(
        html.contains("❌ failure: value edited by hand; its samples are ignored"),
        "{html}"
    );
}
