//! capture → compare → report → list/clean/trends, from results files, so the
//! figures are exact and the snapshots stable.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

fn bg() -> Command {
    Command::cargo_bin("bench-gate").unwrap()
}

const DESIGN: &str = include_str!("fixtures/persona-v1.12.0.yaml");

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
            "Failed: 1 metric above the failure threshold, 1 metric above the warning threshold"
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
            "generation.batch_10.latency_p95_ms",
            "startup.cli_cold_ms",
            "generation.batch_50.latency_p50_ms",
            "generation.batch_10.latency_p50_ms",
            "generation.single.latency_p95_ms",
            "memory.batch_10_peak_mb",
            "generation.single.latency_p99_ms",
            "memory.single_peak_mb",
        ]
    );
    assert!(text.contains("missing"), "{text}");
    assert!(
        text.contains("note: startup.cli_cold_ms: in the baseline but not measured in this run")
    );
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
    // Thresholds from flags override the file: 30 % lets +26 % pass as a warning → exit 1.
    let out = compare(
        d.path(),
        &r,
        &["--fail-on-warning", "--fail-threshold", "30"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = compare(
        d.path(),
        &r,
        &[
            "--fail-on-regression",
            "--warn-threshold",
            "20",
            "--fail-threshold",
            "30",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
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
        .args(["capture", "--force", "--version", "1.13.1", "--from"])
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
        .stderr(predicate::str::contains("pass --version"));
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
