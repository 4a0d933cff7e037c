//! A small LLM-based CLI (Python, official openai client) gated by
//! bench-gate end to end, with `bench-gate serve` started from the config.
//! In a test binary of its own: cargo runs test binaries one at a time, so
//! no other test loads the machine between its baseline and its run.
#![cfg(target_os = "linux")]

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{free_port, python3, serve_config};

const BIN: &str = env!("CARGO_BIN_EXE_bench-gate");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A provider delay added between baseline and run shows up as a regression.
#[test]
fn a_slower_provider_shows_up_as_a_regression_of_the_cli() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("data")).unwrap();
    std::fs::copy(
        Path::new(ROOT).join("data/sample/interviews.csv"),
        d.path().join("data/interviews.csv"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(ROOT).join("tests/fixtures/llm-cli/llm_cli.py"),
        d.path().join("llm_cli.py"),
    )
    .unwrap();
    let port = free_port();
    // A JSON string is a YAML double-quoted scalar.
    let python = serde_json::to_string(&python3()).unwrap();
    let scenario = format!(
        "  single:\n    command: [{python}, \"llm_cli.py\", \"--from\", \"data\", \"--count\", \"2\", \"--output\", \"{{run_dir}}/out-{{iteration}}\"]\n    env: {{LLM_BASE_URL: \"http://127.0.0.1:{port}/v1\"}}\n    iterations: 4\n    warmup: 1\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n      memory.single_peak_mb: peak_mb.max\n"
    );
    let cfg = serve_config(d.path(), port, 0, &scenario);
    let out = Command::new(BIN)
        .current_dir(d.path())
        .args([
            "capture",
            "-q",
            "--output",
            "baselines/v1.0.0.yaml",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The provider now takes a second longer (the CLI itself takes about 0.5 s).
    let cfg = serve_config(d.path(), port, 1000, &scenario);
    let out = Command::new(BIN)
        .current_dir(d.path())
        .args([
            "compare",
            "-q",
            "--fail-on-regression",
            "--format",
            "json",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "generation.single.latency_p50_ms")
        .unwrap();
    assert_eq!(m["status"], "failure");
    let change = m["change_pct"].as_f64().unwrap();
    assert!(change > 25.0, "{change}");
}
