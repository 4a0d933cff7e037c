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
        .stderr(predicate::str::contains("scenario 'broken' failed").and(
            predicate::str::contains("incomplete: 1 scenario(s) measured"),
        ));
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
