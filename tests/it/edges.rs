//! Rough edges a new user hit (issue 17, item 5): a failing scenario keeps
//! what was measured, errors say each cause once, the config in use is named,
//! and the small inconsistencies between commands, help and README.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn bg() -> Command {
    Command::cargo_bin("bench-gate").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const TWO_SCENARIOS: &str = "scenarios:\n  fine:\n    command: [\"true\"]\n    iterations: 3\n    warmup: 0\n    metrics:\n      app.fine.latency_p50_ms: wall_ms.p50\n  broken:\n    command: \"echo 'boom' >&2; exit 7\"\n    shell: true\n    iterations: 2\n    warmup: 0\nworkloads:\n  standard: [fine, broken]\n";

#[test]
fn a_failing_scenario_keeps_what_was_measured_and_nothing_accepts_it() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let cfg = write(d.path(), "bench-gate.yml", TWO_SCENARIOS);
    let out = d.path().join("r.json");
    bg().current_dir(d.path())
        .args(["run", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("incomplete: 1 scenario(s) measured").and(
                predicate::function(|e: &str| {
                    e.matches("scenario 'broken' failed on iteration 1").count() == 1
                }),
            ),
        );
    let r: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(r["incomplete"]["scenario"], "broken", "{r}");
    assert!(
        r["incomplete"]["error"]
            .as_str()
            .unwrap()
            .contains("exited with status 7"),
        "{r}"
    );
    assert_eq!(
        r["metrics"]["app.fine.latency_p50_ms"]["samples"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(r["scenarios"].as_array().unwrap().len(), 1);
    // Neither a baseline nor a comparison: both fail closed (3), naming why.
    let base = d.path().join("v1.0.0.yaml");
    bg().current_dir(d.path())
        .args(["capture", "--from"])
        .arg(&out)
        .arg("--output")
        .arg(&base)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "incomplete (scenario 'broken' failed",
        ));
    assert!(!base.exists());
    let complete = d.path().join("complete.json");
    let mut whole = r.clone();
    whole.as_object_mut().unwrap().remove("incomplete");
    std::fs::write(&complete, whole.to_string()).unwrap();
    bg().current_dir(d.path())
        .args(["capture", "--from"])
        .arg(&complete)
        .arg("--output")
        .arg(&base)
        .assert()
        .success();
    for format in ["table", "markdown", "json"] {
        bg().current_dir(d.path())
            .args([
                "compare",
                "--format",
                format,
                "--fail-on-regression",
                "--baseline",
            ])
            .arg(&base)
            .arg("--results")
            .arg(&out)
            .assert()
            .code(3)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(
                "the results are incomplete (scenario 'broken'",
            ));
    }
    // The first scenario failing leaves nothing to keep: no file.
    let cfg = write(
        d.path(),
        "first.yml",
        &TWO_SCENARIOS.replace("[fine, broken]", "[broken, fine]"),
    );
    let out = d.path().join("r2.json");
    bg().args(["run", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(3);
    assert!(!out.exists());
}

#[test]
fn errors_say_each_cause_once() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("missing.yml");
    let big = d.path().join("big.yml");
    std::fs::write(&big, vec![b'#'; (8 << 20) + 1]).unwrap();
    for (args, once) in [
        (
            vec!["run", "--config", missing.to_str().unwrap()],
            "No such file or directory (os error 2)",
        ),
        (
            vec!["run", "--config", big.to_str().unwrap()],
            "larger than the limit of 8 MiB",
        ),
        (
            vec![
                "compare",
                "--results",
                missing.to_str().unwrap(),
                "--baseline",
                missing.to_str().unwrap(),
            ],
            "No such file or directory (os error 2)",
        ),
    ] {
        let out = bg().current_dir(d.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.matches(once).count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn run_says_which_config_and_workload_it_chose_and_why() {
    let _serial = crate::support::serial();
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let sub = repo.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let above = write(
        repo.path(),
        "bench-gate.yml",
        "scenarios:\n  fine:\n    command: [\"true\"]\n    iterations: 2\n    warmup: 0\n",
    );
    // In a subfolder: the built-in workload, said so, with the config above named.
    bg().current_dir(&sub)
        .args(["run", "--workload", "quick", "--only", "cli_startup", "--iterations", "1", "--warmup", "0"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "no bench-gate.yml in this folder and no --config: benchmarking bench-gate's built-in workload 'quick' (--workload); {} is not used (it is in a parent folder): pass --config {} to benchmark it",
            above.display(),
            above.display()
        )));
    // At the top: the config found there.
    bg().current_dir(repo.path())
        .args(["run"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "config bench-gate.yml (found in this folder), workload 'standard' (the default)",
        ));
    bg().current_dir(&sub)
        .args(["run", "--config"])
        .arg(&above)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "config {} (--config), workload 'standard' (the default)",
            above.display()
        )));
}

#[test]
fn capture_takes_baseline_version_and_the_global_version_still_works() {
    let help = bg().args(["capture", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--baseline-version <VERSION>"), "{help}");
    assert!(!help.contains("--version <"), "{help}");
    bg().arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("bench-gate "));
    let co = crate::gatekit::Checkout::new();
    for flag in ["--baseline-version", "--version"] {
        let out = co.path(&format!("baselines/x{flag}.yaml"));
        bg().current_dir(co.dir.path())
            .args([
                "capture",
                flag,
                "9.9.9",
                "--from",
                &crate::gatekit::regressed(&co),
            ])
            .arg("--output")
            .arg(&out)
            .assert()
            .success();
        assert!(std::fs::read_to_string(&out)
            .unwrap()
            .contains("version: 9.9.9"));
    }
    let help = bg().args(["compare", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Startup-time changes smaller than this many ms"),
        "{help}"
    );
    assert!(
        !help.contains("Peak-memory and startup changes smaller than this many ms"),
        "{help}"
    );
}

#[test]
fn compare_markdown_leads_with_the_verdict() {
    let co = crate::gatekit::Checkout::new();
    let out = bg()
        .current_dir(co.dir.path())
        .args([
            "compare",
            "--format",
            "markdown",
            "--results",
            &crate::gatekit::regressed(&co),
        ])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("❌ **Failed**: 1 metric above the failure threshold"),
        "{md}"
    );
    assert!(
        md.contains("| `generation.single.latency_p50_ms` |"),
        "{md}"
    );
}

#[test]
fn gate_outside_github_carries_the_confirmation_note() {
    let co = crate::gatekit::Checkout::new();
    let mut r: Value =
        serde_json::from_slice(&std::fs::read(crate::gatekit::regressed(&co)).unwrap()).unwrap();
    r["confirmations"] = serde_json::json!([{"scenario": "single", "rounds": 2,
        "failing_before": ["generation.single.latency_p50_ms"],
        "failing_after": ["generation.single.latency_p50_ms"]}]);
    let p = co.path("confirmed.json");
    std::fs::write(&p, r.to_string()).unwrap();
    let out = bg()
        .current_dir(co.dir.path())
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_TOKEN")
        .args(["gate", "--results"])
        .arg(&p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("this is the comment that would be posted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("🔁 **Confirmation run**: generation.single.latency_p50_ms failed, so scenario `single` was measured 2 more time(s)"),
        "{stdout}"
    );
}

/// The README's fork-safe publisher is the repository's own, in what decides
/// when and with which rights it runs.
#[test]
fn the_readme_publisher_agrees_with_the_repository_workflow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let snippet = readme
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("# .github/workflows/benchmark-publish.yml"))
        .expect("the README shows benchmark-publish.yml");
    let readme: serde_yaml::Value = serde_yaml::from_str(snippet).unwrap();
    let ours: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root.join(".github/workflows/benchmark-publish.yml")).unwrap(),
    )
    .unwrap();
    for path in [&["on"][..], &["permissions"], &["jobs", "publish", "if"]] {
        let get = |v: &serde_yaml::Value| path.iter().fold(v.clone(), |v, k| v[*k].clone());
        assert_ne!(get(&ours), serde_yaml::Value::Null, "{path:?}");
        assert_eq!(get(&readme), get(&ours), "{path:?}");
    }
    let download = |v: &serde_yaml::Value| {
        v["jobs"]["publish"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/download-artifact"))
            })
            .cloned()
            .unwrap()
    };
    assert_eq!(download(&readme), download(&ours));
}
