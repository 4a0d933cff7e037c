//! What the gate's end-to-end tests share: a checkout with the design's
//! baseline and results files, the binary run as GitHub Actions runs it
//! against the fake GitHub (checking the token reaches no log or file), and
//! GitHub's example payloads, edited.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::{json, Value};

use crate::support::FakeGitHub;

pub const TOKEN: &str = "ghs_fakeToken0123456789secret";
pub const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
pub const B_SHA: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
pub const DESIGN: &str = include_str!("../fixtures/persona-v1.12.0.yaml");
pub const LABEL: &str = "performance-override";
pub const MARKER: &str = "<!-- bench-gate:comment check=\"bench-gate\" -->";

pub fn event(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events")
        .join(name)
}

/// A repository checkout: the design's baseline and results files.
pub struct Checkout {
    pub dir: tempfile::TempDir,
}

impl Checkout {
    pub fn new() -> Checkout {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("baselines")).unwrap();
        std::fs::write(dir.path().join("baselines/v1.12.0.yaml"), DESIGN).unwrap();
        let c = Checkout { dir };
        c.results("regressed.json", 1890.0, 50);
        c.results("clean.json", 1500.0, 50);
        c
    }
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    pub fn results_value(single_p50: f64, samples: usize) -> Value {
        let b = bench_gate::baseline::Baseline::parse("b", DESIGN).unwrap();
        let mut metrics = serde_json::Map::new();
        for (k, m) in &b.metrics {
            let v = if k == "generation.single.latency_p50_ms" {
                single_p50
            } else {
                m.value
            };
            let unit = if k.ends_with("_mb") { "MB" } else { "ms" };
            metrics.insert(
                k.clone(),
                json!({"value": v, "unit": unit, "samples": vec![v; samples]}),
            );
        }
        json!({
            "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
            "created_at": "2026-11-27T10:00:00Z", "workload": "standard",
            "environment": {"platform": "linux-x86_64"}, "scenarios": [], "metrics": metrics,
        })
    }
    /// Results with `single_p50` for generation.single.latency_p50_ms (the
    /// baseline has 1500; 1890 is +26 %, a failure) and the rest equal.
    pub fn results(&self, name: &str, single_p50: f64, samples: usize) -> PathBuf {
        self.write(name, &Checkout::results_value(single_p50, samples));
        self.path(name)
    }
    pub fn write(&self, name: &str, v: &Value) -> String {
        let p = self.path(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.display().to_string()
    }
    pub fn outputs(&self) -> HashMap<String, String> {
        let text = std::fs::read_to_string(self.path("output.txt")).unwrap_or_default();
        let mut out = HashMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let (name, delim) = line.split_once("<<").expect("heredoc output");
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        }
        out
    }
}

/// The binary in `co`, with nothing asserted about its output.
pub fn run_gate(
    fake: &FakeGitHub,
    co: &Checkout,
    event_name: &str,
    payload: &str,
    args: &[&str],
) -> Output {
    let p = Path::new(payload);
    Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(co.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", event_name)
        .env(
            "GITHUB_EVENT_PATH",
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                event(payload)
            },
        )
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_SHA", "0000000000000000000000000000000000merge")
        .env("GITHUB_STEP_SUMMARY", co.path("summary.md"))
        .env("GITHUB_OUTPUT", co.path("output.txt"))
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "42")
        .env("BENCH_GATE_RETRY_BASE_MS", "20")
        .arg("gate")
        .args(args)
        .output()
        .unwrap()
}

/// The binary, and the token in no log line (but the mask), no file.
pub fn gate(
    fake: &FakeGitHub,
    co: &Checkout,
    event_name: &str,
    payload: &str,
    args: &[&str],
) -> Output {
    let out = run_gate(fake, co, event_name, payload, args);
    assert_no_token_in_logs(&out, co);
    out
}

pub fn assert_no_token_in_logs(out: &Output, co: &Checkout) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let leaked = stdout
        .lines()
        .filter(|l| l.contains(TOKEN) && !l.starts_with("::add-mask::"))
        .count();
    assert_eq!(leaked, 0, "token printed:\n{stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    for f in [
        "summary.md",
        "output.txt",
        "bench-gate-results.json",
        "bench-gate-report.md",
    ] {
        assert!(
            !std::fs::read_to_string(co.path(f))
                .unwrap_or_default()
                .contains(TOKEN),
            "token in {f}"
        );
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// One of GitHub's example payloads with `edit` applied, written into the
/// checkout as `tag.json`; returns its absolute path.
pub fn payload(co: &Checkout, name: &str, tag: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_slice(&std::fs::read(event(name)).unwrap()).unwrap();
    edit(&mut v);
    let p = co.path(&format!("payload-{tag}.json"));
    std::fs::write(&p, v.to_string()).unwrap();
    p.display().to_string()
}

/// A `labeled` payload: `label` applied by `sender` at `head`.
pub fn labeled(co: &Checkout, tag: &str, label: &str, sender: &str, head: &str) -> String {
    payload(co, "pull_request.labeled.json", tag, |v| {
        v["label"]["name"] = json!(label);
        v["sender"]["login"] = json!(sender);
        v["pull_request"]["head"]["sha"] = json!(head);
    })
}

/// One of GitHub's example payloads with `edit` applied, written into the
/// checkout; returns its absolute path for `gate`.
pub fn payload_with(co: &Checkout, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    payload(co, name, &format!("edited-{name}"), edit)
}

/// The design's regressed results (+26 % on one metric, a failure).
pub fn regressed(co: &Checkout) -> String {
    co.path("regressed.json").display().to_string()
}

/// The head commit of the fork's pull request in the workflow_run tests.
pub const WR_A: &str = "3484a3fb816e0859fd6e1cea078d76385ff50625";

pub fn last_check(fake: &FakeGitHub) -> crate::support::FakeCheckRun {
    fake.check_runs().last().cloned().expect("a check run")
}

pub fn checks_for(fake: &FakeGitHub, sha: &str) -> Vec<crate::support::FakeCheckRun> {
    fake.check_runs()
        .into_iter()
        .filter(|r| r.head_sha == sha)
        .collect()
}

/// The check GitHub shows for `sha`: its newest run.
pub fn shown_conclusion(fake: &FakeGitHub, sha: &str) -> Option<String> {
    checks_for(fake, sha)
        .last()
        .and_then(|r| r.conclusion.clone())
}

/// The fork's pull request #2 (octo-org/octo-repo:master) at `head`.
pub fn fork_pr(fake: &FakeGitHub, head: &str) {
    fake.with(|s| {
        s.head_sha = head.into();
        s.head_ref = "master".into();
        s.head_repo = "octo-org/octo-repo".into();
    });
}

/// The completed measuring run of the fork's pull request, for `head`,
/// triggered by `actor` (a push, a re-run, or any label event: the
/// README's measuring workflow runs on labeled/unlabeled).
pub fn run_payload(co: &Checkout, tag: &str, head: &str, actor: &str) -> String {
    payload(co, "workflow_run.completed.json", tag, |v| {
        v["workflow_run"]["event"] = json!("pull_request");
        v["workflow_run"]["pull_requests"] = json!([]);
        v["workflow_run"]["head_sha"] = json!(head);
        v["workflow_run"]["triggering_actor"]["login"] = json!(actor);
    })
}

/// The measuring run's artifact: results for pull request `pr` at `head`.
pub fn artifact_for(co: &Checkout, name: &str, pr: u64, head: &str, single_p50: f64) -> String {
    let mut r = Checkout::results_value(single_p50, 20);
    r["github"] = json!({"repository": "Codertocat/Hello-World", "event": "pull_request", "pull_request": pr, "head_sha": head});
    co.write(name, &r)
}

/// The artifact for pull request #2 at `head`.
pub fn artifact(co: &Checkout, name: &str, head: &str, single_p50: f64) -> String {
    artifact_for(co, name, 2, head, single_p50)
}
