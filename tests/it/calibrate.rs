//! `bench-gate calibrate`: A/A noise per metric, proposed thresholds, and
//! `--write` into a baseline that `compare` then uses.
#![cfg(target_os = "linux")]

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn bg(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("bench-gate").unwrap();
    c.current_dir(dir);
    c
}

/// Two sleeps of about 200 ms: `quiet` always 200 ms, `noisy` 140–260 ms
/// (±30 %), drawn from a hash of the run folder and iteration (seeded: the
/// two sides of a pair run in different folders). Long enough that a loaded
/// machine's delays (a few ms per process started) stay small beside it.
fn config(dir: &Path) {
    let draw = "n=$(echo '{run_dir}{iteration}' | cksum | cut -d' ' -f1)";
    std::fs::write(
        dir.join("bench-gate.yml"),
        format!(
            "scenarios:
  quiet:
    command: \"{draw}; sleep 0.$((200 + 0 * (n % 121)))\"
    shell: true
    iterations: 16
    warmup: 1
    metrics:
      app.quiet.latency_p50_ms: wall_ms.p50
      app.quiet.peak_mb: peak_mb.max
  noisy:
    command: \"{draw}; sleep 0.$((140 + n % 121))\"
    shell: true
    iterations: 16
    warmup: 1
    metrics:
      app.noisy.latency_p50_ms: wall_ms.p50
workloads:
  standard: [quiet, noisy]
"
        ),
    )
    .unwrap();
}

fn by_name<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {v}"))
}

#[test]
fn calibrate_widens_thresholds_for_a_noisy_command_relative_to_a_quiet_one() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    config(d.path());
    let out = bg(d.path())
        .args(["calibrate", "--max-time", "1s", "--format", "json"])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let o = out.get_output();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("[noisy (A/A)]"), "{stderr}");
    assert!(stderr.contains("1 round(s), 32 A/A pair(s)"), "{stderr}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let quiet = by_name(&v, "app.quiet.latency_p50_ms");
    let noisy = by_name(&v, "app.noisy.latency_p50_ms");
    assert_eq!(noisy["pairs"], 16);
    let f = |m: &Value, k: &str| m[k].as_f64().unwrap();
    assert!(
        f(noisy, "noise_pct") > f(quiet, "noise_pct"),
        "quiet {quiet}, noisy {noisy}"
    );
    assert!(
        f(&noisy["proposed"], "failure") > f(&quiet["proposed"], "failure"),
        "quiet {quiet}, noisy {noisy}"
    );
    // ±30 % uniform on each side: log-ratios with an sd near 25 %.
    assert!(f(noisy, "noise_pct") > 12.0, "{noisy}");
    // Proposals: failure at least the 5 % floor, warning half of it.
    for m in [quiet, noisy] {
        let p = &m["proposed"];
        assert!(f(p, "failure") >= 5.0, "{m}");
        assert_eq!(f(p, "warning"), (f(p, "failure") / 2.0).ceil(), "{m}");
    }
    // The maximum of memory has no approximation: its default is kept.
    let peak = by_name(&v, "app.quiet.peak_mb");
    assert_eq!(peak["proposed"], peak["default"]);
}

#[test]
fn calibrate_writes_thresholds_into_a_baseline_that_compare_uses() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    config(dir);
    let quick = ["--iterations", "4", "--warmup", "0", "-q"];
    // An existing baseline: its values are kept, its thresholds set.
    bg(dir)
        .args(["capture", "--output", "v1.0.0.yaml"])
        .args(quick)
        .assert()
        .success();
    let before = std::fs::read_to_string(dir.join("v1.0.0.yaml")).unwrap();
    let out = bg(dir)
        .args([
            "calibrate",
            "--max-time",
            "1s",
            "--format",
            "json",
            "--write",
        ])
        .arg("v1.0.0.yaml")
        .args(quick)
        .assert()
        .success();
    let o = out.get_output();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr
            .contains("merged into the existing baseline): thresholds of 3 metric(s) set, 0 added"),
        "{stderr}"
    );
    let proposed: Value = serde_json::from_slice(&o.stdout).unwrap();
    let after = std::fs::read_to_string(dir.join("v1.0.0.yaml")).unwrap();
    let value = |yaml: &str| -> Value {
        let y: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        serde_json::to_value(y).unwrap()
    };
    let (b, a) = (value(&before), value(&after));
    assert_eq!(b["version"], a["version"]);
    assert_eq!(
        b["metrics"]["app"]["noisy"]["latency_p50_ms"],
        a["metrics"]["app"]["noisy"]["latency_p50_ms"]["value"]
    );
    // compare reads them as the metric's own thresholds.
    bg(dir)
        .args(["run", "--output", "r.json"])
        .args(quick)
        .assert()
        .success();
    let c = bg(dir)
        .args([
            "compare",
            "--results",
            "r.json",
            "--baseline",
            "v1.0.0.yaml",
        ])
        .args(["--format", "json"])
        .assert()
        .get_output()
        .stdout
        .clone();
    let c: Value = serde_json::from_slice(&c).unwrap();
    for name in ["app.quiet.latency_p50_ms", "app.noisy.latency_p50_ms"] {
        let m = c["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap();
        assert_eq!(m["threshold_source"], "metric", "{m}");
        assert_eq!(m["thresholds"], by_name(&proposed, name)["proposed"], "{m}");
    }

    // A new file: a baseline of the values measured here.
    bg(dir)
        .args(["calibrate", "--max-time", "1s", "--write", "fresh.yaml"])
        .args(quick)
        .assert()
        .success();
    let fresh = value(&std::fs::read_to_string(dir.join("fresh.yaml")).unwrap());
    assert_eq!(fresh["version"], "calibrated");
    assert!(fresh["metrics"]["app"]["quiet"]["latency_p50_ms"]["failure"].is_number());

    // A baseline that does not load is refused before measuring, untouched.
    std::fs::write(dir.join("bad.yaml"), "version: 1\nmetrics: [1]\n").unwrap();
    bg(dir)
        .args(["calibrate", "--write", "bad.yaml"])
        .args(quick)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("bad.yaml"))
        .stderr(predicates::str::contains("round(s)").not());
    assert_eq!(
        std::fs::read_to_string(dir.join("bad.yaml")).unwrap(),
        "version: 1\nmetrics: [1]\n"
    );
    // A baseline of another workload is refused before measuring.
    std::fs::write(
        dir.join("other.yaml"),
        "version: 1\nworkload: quick\nmetrics:\n  a_ms: 1\n",
    )
    .unwrap();
    bg(dir)
        .args(["calibrate", "--write", "other.yaml"])
        .args(quick)
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "other.yaml: a baseline of workload 'quick', but the workload calibrated is 'standard'",
        ))
        .stderr(predicates::str::contains("round(s)").not());
    // A time budget that is not one.
    bg(dir)
        .args(["calibrate", "--max-time", "0"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("more than 0"));
}
