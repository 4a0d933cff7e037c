//! `bench-gate gate` end to end: octocrab talking HTTP to a stateful fake
//! GitHub on 127.0.0.1, driven by GitHub's published example payloads.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::{json, Value};
use support::{FakeGitHub, Fault};

const TOKEN: &str = "ghs_fakeToken0123456789secret";
const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const DESIGN: &str = include_str!("fixtures/persona-v1.12.0.yaml");

fn event(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events")
        .join(name)
}

/// A repository checkout: the design's baseline and a results file.
struct Checkout {
    dir: tempfile::TempDir,
}

impl Checkout {
    fn new() -> Checkout {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("baselines")).unwrap();
        std::fs::write(dir.path().join("baselines/v1.12.0.yaml"), DESIGN).unwrap();
        let c = Checkout { dir };
        c.results("regressed.json", 1890.0, 50);
        c.results("clean.json", 1500.0, 50);
        c
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    /// Results with `single_p50` for generation.single.latency_p50_ms (the
    /// baseline has 1500; 1890 is +26 %, a failure) and the rest equal.
    fn results(&self, name: &str, single_p50: f64, samples: usize) -> PathBuf {
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
        let r = json!({
            "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
            "created_at": "2026-11-27T10:00:00Z", "workload": "standard",
            "environment": {"platform": "linux-x86_64"}, "scenarios": [], "metrics": metrics,
        });
        let p = self.path(name);
        std::fs::write(&p, serde_json::to_string(&r).unwrap()).unwrap();
        p
    }
    fn outputs(&self) -> HashMap<String, String> {
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

fn gate(
    fake: &FakeGitHub,
    co: &Checkout,
    event_name: &str,
    payload: &str,
    args: &[&str],
) -> Output {
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(co.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", event(payload))
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
        .unwrap();
    // The token never appears anywhere but in the mask command.
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
    out
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn regressed(co: &Checkout) -> String {
    co.path("regressed.json").display().to_string()
}

#[test]
fn opened_posts_one_comment_and_a_failing_check() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("::add-mask::{TOKEN}\n")));

    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    assert!(body.starts_with("<!-- bench-gate:comment check=\"bench-gate\" -->"));
    assert!(
        body.contains("❌ bench-gate: Failed: 1 metric above the failure threshold"),
        "{body}"
    );
    assert!(body.contains("| `generation.single.latency_p50_ms` | 1.50 s | 1.89 s | +26.0% | +10% / +25% | ❌ failure |"));
    assert!(body.contains("Benchmarked `ec26c3e` (workload **standard**) against `baselines/v1.12.0.yaml` (version 1.12.0)"));
    assert!(body.contains("applies the label `performance-override`"));
    assert!(body.contains("<details><summary>Details"));
    assert!(body.contains("<!-- bench-gate:results "));
    assert!(
        body.contains("[Workflow run](https://github.com/Codertocat/Hello-World/actions/runs/42)")
    );

    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(
        (run.name.as_str(), run.head_sha.as_str()),
        ("bench-gate", HEAD),
        "the head commit, never GITHUB_SHA"
    );
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert!(
        run.started_at.is_some(),
        "created in progress with started_at"
    );
    assert_eq!(run.title, "Failed: 1 metric above the failure threshold");
    assert!(run
        .summary
        .contains("| `generation.single.latency_p50_ms` |"));
    assert!(!run.summary.contains("bench-gate:results"));
    assert_eq!(run.annotations.len(), 1);
    assert_eq!(run.annotations[0]["path"], "baselines/v1.12.0.yaml");
    assert_eq!(run.annotations[0]["start_line"], 9);
    assert_eq!(run.annotations[0]["annotation_level"], "failure");

    // Created in progress before the benchmark, completed after.
    let reqs = fake.requests();
    let create = reqs
        .iter()
        .position(|(m, p, _)| m == "POST" && p.ends_with("/check-runs"))
        .unwrap();
    let comment = reqs
        .iter()
        .position(|(m, p, _)| m == "POST" && p.ends_with("/comments"))
        .unwrap();
    assert!(create < comment);
    assert!(reqs[create].2.contains("\"status\":\"in_progress\""));

    let o = co.outputs();
    assert_eq!(o["result"], "fail");
    assert!(o["results-path"].ends_with("bench-gate-results.json"));
    assert!(o["report-path"].ends_with("bench-gate-report.md"));
    assert!(o["comment-url"].contains("#issuecomment-"));
    assert_eq!(o["check-run-id"], run.id.to_string());
    let summary = std::fs::read_to_string(co.path("summary.md")).unwrap();
    assert!(summary.contains("## bench-gate · bench-gate: Failed"));
    let saved: Value =
        serde_json::from_slice(&std::fs::read(co.path("bench-gate-results.json")).unwrap())
            .unwrap();
    assert_eq!(saved["github"]["pull_request"], 2);
    assert_eq!(saved["github"]["head_sha"], HEAD);
}

#[test]
fn synchronize_updates_the_same_comment() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    let first = fake.comments();
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--results", &clean],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = fake.comments();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, first[0].id);
    assert!(
        after[0].body.contains("✅ bench-gate: Passed"),
        "{}",
        after[0].body
    );
    assert!(fake
        .requests()
        .iter()
        .any(|(m, p, _)| m == "PATCH" && p.contains("/issues/comments/")));
    assert_eq!(co.outputs()["result"], "pass");
}

#[test]
fn duplicates_across_pages_are_cleaned_up() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let ours = "<!-- bench-gate:comment check=\"bench-gate\" -->\nold";
    let (a, b, c) = fake.with(|s| {
        s.seed_comment("LGTM", "mona");
        let a = s.seed_comment(ours, "github-actions[bot]");
        s.seed_comment("nice", "hubot");
        let b = s.seed_comment(ours, "github-actions[bot]");
        s.seed_comment(
            "<!-- bench-gate:comment check=\"other-gate\" -->",
            "github-actions[bot]",
        );
        let c = s.seed_comment(ours, "github-actions[bot]");
        (a, b, c)
    });
    gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.reopened.json",
        &["--results", &regressed(&co)],
    );
    let comments = fake.comments();
    let ids: Vec<u64> = comments.iter().map(|c| c.id).collect();
    assert!(ids.contains(&c), "the newest is kept");
    assert!(
        !ids.contains(&a) && !ids.contains(&b),
        "older duplicates deleted"
    );
    assert_eq!(
        comments.len(),
        4,
        "others' comments and another gate's stay"
    );
    assert!(comments
        .iter()
        .find(|x| x.id == c)
        .unwrap()
        .body
        .contains("Failed"));
    // Every page was read (page size 2, six comments).
    assert!(fake
        .requests()
        .iter()
        .any(|(_, p, _)| p.contains("/comments?per_page=100&page=3")));
}

/// Opened (fails), then a maintainer labels: overridden from the embedded
/// results, with a config that would fail if anything were benchmarked.
#[test]
fn labeled_by_a_maintainer_overrides_without_benchmarking() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    std::fs::write(
        co.path("broken.yml"),
        "scenarios:\n  a:\n    command: [\"false\"]\n",
    )
    .unwrap();
    fake.with(|s| {
        s.labels = vec!["bug".into()];
        s.permissions.push(("Codertocat".into(), "maintain".into()));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.labeled.json",
        &["--override-label", "bug", "--config", "broken.yml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("without benchmarking"));
    let comments = fake.comments();
    assert_eq!(comments.len(), 1);
    let body = &comments[0].body;
    assert!(
        body.contains("🔓 bench-gate: Overridden: 1 metric above the failure threshold"),
        "{body}"
    );
    assert!(body.contains("**Overridden** by @Codertocat (maintain) with the label `bug`"));
    assert!(body.contains("nothing was benchmarked again"));
    let runs = fake.check_runs();
    let last = runs.last().unwrap();
    assert_eq!(last.conclusion.as_deref(), Some("success"));
    assert!(last.title.starts_with("Overridden"));
    assert_eq!(co.outputs()["result"], "overridden");
}

#[test]
fn labeled_by_a_read_only_user_is_ignored_and_said_so() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.labels = vec!["bug".into()];
        s.permissions.push(("Codertocat".into(), "read".into()));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.labeled.json",
        &["--override-label", "bug", "--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2));
    let body = &fake.comments()[0].body;
    assert!(body.contains("The label `bug` was applied by @Codertocat, whose permission is `read`; overriding needs `maintain`"), "{body}");
    assert!(body.contains("❌ bench-gate: Failed"));
    assert_eq!(
        fake.check_runs().last().unwrap().conclusion.as_deref(),
        Some("failure")
    );
}

#[test]
fn unlabeled_fails_again_and_pushes_find_the_labeler_in_the_timeline() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    // A push (synchronize) while the label is on: who applied it comes from
    // the timeline, not from the pusher.
    fake.with(|s| {
        s.labels = vec!["bug".into()];
        s.timeline
            .push(("labeled".into(), "bug".into(), "octocat-maintainer".into()));
        s.permissions
            .push(("octocat-maintainer".into(), "admin".into()));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--override-label", "bug", "--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(fake.comments()[0]
        .body
        .contains("by @octocat-maintainer (admin)"));
    // Now the label is removed.
    fake.with(|s| s.labels.clear());
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.unlabeled.json",
        &["--override-label", "bug"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(fake.comments()[0].body.contains("❌ bench-gate: Failed"));
    assert_eq!(
        fake.check_runs().last().unwrap().conclusion.as_deref(),
        Some("failure")
    );
    assert_eq!(co.outputs()["result"], "fail");
}

#[test]
fn a_tag_push_ignores_the_label_and_fails() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.labels = vec!["performance-override".into()]);
    let out = gate(
        &fake,
        &co,
        "push",
        "push.tag.json",
        &[
            "--results",
            &regressed(&co),
            "--fail-on-regression",
            "false",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a release tag needs a clean run: {}",
        text(&out)
    );
    assert!(fake.comments().is_empty(), "no pull request, no comment");
    let runs = fake.check_runs();
    assert_eq!(runs[0].head_sha, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
}

#[test]
fn a_branch_push_only_reports() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let out = gate(
        &fake,
        &co,
        "push",
        "push.branch.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(fake.requests().is_empty(), "report only: no API call");
    assert!(std::fs::read_to_string(co.path("summary.md"))
        .unwrap()
        .contains("Failed"));
    assert_eq!(co.outputs()["result"], "fail");
}

#[test]
fn a_baseline_from_another_machine_turns_failures_into_warnings_and_says_so() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("baselines/v1.12.0.yaml"),
        DESIGN.replace(
            "  platform: \"linux-x86_64\"",
            "  platform: \"linux-x86_64\"\n  cpu_model: \"Baseline CPU\"",
        ),
    )
    .unwrap();
    let results = co.path("regressed.json");
    let text_of = std::fs::read_to_string(&results).unwrap();
    std::fs::write(
        &results,
        text_of.replace(
            "\"platform\":\"linux-x86_64\"",
            "\"platform\":\"linux-x86_64\",\"cpu_model\":\"Runner CPU\"",
        ),
    )
    .unwrap();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let body = &fake.comments()[0].body;
    assert!(body.contains("🖥️ **This runner is not the machine the baseline was measured on** (it differs in cpu_model). 1 failure(s) are counted as warnings (policy `warn`; `env-mismatch: strict` keeps them). To compare like with like, turn on A/B mode (action input `ab: true`)"), "{body}");
    assert!(body.contains("⚠️ warning: above the failure threshold, but measured on a different machine than the baseline (cpu_model): counted as a warning"), "{body}");
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));

    // `strict` keeps the failure.
    let fake = FakeGitHub::start();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co), "--env-mismatch", "strict"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("failure"));
}

#[test]
fn a_read_only_token_loses_nothing() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.read_only = true);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stdout.contains("::error file=baselines/v1.12.0.yaml,line=9,title=generation.single.latency_p50_ms%3A +26.0%25 (failure)::"), "{stdout}");
    assert!(stdout.contains("`permissions: { checks: write }`"));
    assert!(stdout.contains("two-workflow pattern"));
    assert!(fake.comments().is_empty());
    assert!(co.path("bench-gate-results.json").exists());
    assert!(std::fs::read_to_string(co.path("summary.md"))
        .unwrap()
        .contains("generation.single.latency_p50_ms"));
    let o = co.outputs();
    assert_eq!(o["result"], "fail");
    assert!(!o.contains_key("comment-url"));
}

#[test]
fn a_stale_head_stands_down() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.head_sha = "1111111111111111111111111111111111111111".into());
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert!(text(&out).contains("stood down"), "{}", text(&out));
    assert!(fake.comments().is_empty());
    assert!(!fake
        .requests()
        .iter()
        .any(|(m, p, _)| m != "GET" && p.contains("/comments")));
}

#[test]
fn an_oversized_comment_is_trimmed() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    // 400 metrics with 200 samples each: far over 60,000 bytes untrimmed.
    let mut metrics = serde_json::Map::new();
    for i in 0..400 {
        metrics.insert(
            format!("suite.case_{i:03}.with_a_rather_long_name.latency_p50_ms"),
            json!({"value": 10.0 + i as f64, "unit": "ms", "samples": vec![10.0 + i as f64; 200]}),
        );
    }
    let r = json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0", "created_at": "x", "workload": "big",
                   "environment": {}, "scenarios": [], "metrics": metrics});
    std::fs::write(co.path("big.json"), r.to_string()).unwrap();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", "big.json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let body = &fake.comments()[0].body;
    assert!(body.len() <= 60_000, "{} bytes", body.len());
    assert!(body.contains("left out to keep this comment under GitHub's size limit"));
    assert!(text(&out).contains("trimmed"));
    // The details and the hidden results go first; then as many table rows
    // as fit, worst first, saying how many are shown.
    assert!(!body.contains("<details>"));
    assert!(!body.contains("bench-gate:results"));
    // 400 new metrics plus the baseline's 8, which this run did not measure.
    let shown = body.lines().filter(|l| l.starts_with("| `")).count();
    assert!(shown > 350 && shown < 408, "{shown}");
    assert!(
        body.contains(&format!(
            "_The table shows the worst {shown} of 408 metrics._"
        )),
        "{}",
        &body[body.len() - 1500..]
    );
}

#[test]
fn transient_failures_are_retried_without_a_second_comment() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.faults.push(Fault {
            method: "GET",
            path: "/comments",
            status: 502,
            retry_after: None,
            apply: false,
        });
        s.faults.push(Fault {
            method: "POST",
            path: "/check-runs",
            status: 429,
            retry_after: Some(0),
            apply: false,
        });
        // The comment is created but the answer is lost.
        s.faults.push(Fault {
            method: "POST",
            path: "/issues/2/comments",
            status: 502,
            retry_after: None,
            apply: true,
        });
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(fake.comments().len(), 1, "looked before creating again");
    assert_eq!(fake.check_runs().len(), 1);
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("failure"));
}

#[test]
fn more_than_fifty_annotations_go_in_batches() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let mut metrics = serde_json::Map::new();
    let mut yaml = String::from("version: \"1\"\nmetrics:\n  suite:\n");
    for i in 0..120 {
        yaml.push_str(&format!("    case_{i:03}_ms: 10\n"));
        metrics.insert(
            format!("suite.case_{i:03}_ms"),
            json!({"value": 20.0, "unit": "ms", "samples": [20.0]}),
        );
    }
    std::fs::write(co.path("baselines/v1.13.0.yaml"), yaml).unwrap();
    let r = json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0", "created_at": "x", "workload": "w",
                   "environment": {}, "scenarios": [], "metrics": metrics});
    std::fs::write(co.path("many.json"), r.to_string()).unwrap();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", "many.json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let run = &fake.check_runs()[0];
    assert_eq!(run.annotations.len(), 120);
    assert_eq!(run.annotations[119]["start_line"], 123);
    let patches = fake
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "PATCH" && p.contains("/check-runs/"))
        .count();
    assert_eq!(patches, 3);
}

#[test]
fn a_baseline_change_needs_approval() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.files = vec!["src/lib.rs".into(), "baselines/v1.13.0.yaml".into()]);
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let run = &fake.check_runs()[0];
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(run.title.starts_with("Baseline change needs approval"));
    assert!(fake.comments()[0]
        .body
        .contains("changes baseline files (`baselines/v1.13.0.yaml`)"));
    // Approved by a maintainer's label.
    fake.with(|s| {
        s.labels = vec!["performance-override".into()];
        s.timeline.push((
            "labeled".into(),
            "performance-override".into(),
            "lead".into(),
        ));
        s.permissions.push(("lead".into(), "maintain".into()));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--results", &clean],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        fake.check_runs().last().unwrap().conclusion.as_deref(),
        Some("success")
    );
}

#[test]
fn workflow_run_publishes_the_artifact_after_checking_the_head() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let wr_head = "3484a3fb816e0859fd6e1cea078d76385ff50625";
    // The unprivileged pull_request run wrote results naming PR 2 at wr_head.
    let mut r: Value =
        serde_json::from_slice(&std::fs::read(co.path("regressed.json")).unwrap()).unwrap();
    r["github"] = json!({"repository": "octo-org/octo-repo", "event": "pull_request", "pull_request": 2, "head_sha": wr_head});
    std::fs::write(co.path("artifact.json"), r.to_string()).unwrap();
    fake.with(|s| s.head_sha = wr_head.into());
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        "workflow_run.completed.json",
        &["--results", "artifact.json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(fake.comments().len(), 1);
    assert!(fake.comments()[0]
        .body
        .contains("Published from the results of workflow run 289782451"));
    assert_eq!(fake.check_runs()[0].head_sha, wr_head);

    // The PR moved on: stand down.
    fake.with(|s| s.head_sha = "2222222222222222222222222222222222222222".into());
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        "workflow_run.completed.json",
        &["--results", "artifact.json"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("stood down"));
    assert_eq!(fake.check_runs().len(), 1);

    // Results for another commit are refused; so is benchmarking in place.
    r["github"]["head_sha"] = json!("4444444444444444444444444444444444444444");
    std::fs::write(co.path("other.json"), r.to_string()).unwrap();
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        "workflow_run.completed.json",
        &["--results", "other.json"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("refusing to publish"));
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        "workflow_run.completed.json",
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("pass --results FILE"));
    // Untrusted input is validated.
    r["metrics"]["<img src=x onerror=alert(1)>"] = json!({"value": 1.0, "unit": "ms"});
    std::fs::write(co.path("evil.json"), r.to_string()).unwrap();
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        "workflow_run.completed.json",
        &["--results", "evil.json"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("is not allowed"));
}

#[test]
fn other_events_exit_neutrally() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let out = gate(&fake, &co, "issues", "issues.opened.json", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("the 'issues' event is not one the gate acts on"));
    assert!(fake.requests().is_empty());
}

#[test]
fn github_enterprise_api_path_is_kept() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(co.dir.path())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event("pull_request.opened.json"))
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", format!("{}/api/v3", fake.uri))
        .env("GITHUB_TOKEN", TOKEN)
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["gate", "--results", &regressed(&co)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(fake
        .requests()
        .iter()
        .all(|(_, p, _)| p.starts_with("/api/v3/repos/Codertocat/Hello-World/")));
    assert_eq!(fake.comments().len(), 1);
}

#[test]
fn outside_github_it_prints_the_comment_and_exits_with_the_compare_code() {
    let co = Checkout::new();
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(co.dir.path())
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_TOKEN")
        .args(["gate", "--results", &regressed(&co)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("this is the comment that would be posted"));
    assert!(stdout.contains("| `generation.single.latency_p50_ms` | 1.50 s | 1.89 s | +26.0%"));
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(co.dir.path())
        .env_remove("GITHUB_EVENT_NAME")
        .args([
            "gate",
            "--fail-on-regression",
            "false",
            "--results",
            &regressed(&co),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// Benchmarking in the gate: a spike that a confirmation run clears is
/// reported in the comment, and the check passes.
#[cfg(target_os = "linux")]
#[test]
fn the_comment_reports_a_confirmation_run() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  spiky:\n    command: \"n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; if [ $n -le 3 ]; then sleep 0.3; else sleep 0.02; fi\"\n    shell: true\n    iterations: 5\n    warmup: 0\n    metrics:\n      spiky.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    std::fs::write(
        co.path("baselines/v1.13.0.yaml"),
        "version: '1.13.0'\nmetrics:\n  spiky:\n    latency_p50_ms: 22\n",
    )
    .unwrap();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["-q", "--warn-threshold", "50", "--fail-threshold", "100"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let body = &fake.comments()[0].body;
    assert!(body.contains("🔁 **Confirmation run**: spiky.latency_p50_ms failed, so scenario `spiky` was measured 1 more time(s)"), "{body}");
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
}

// ---- Free text never becomes markup or a command (issue 13) ----

use bench_gate::report::escape::check;

const FORGED_HEADING: &str = "### ✅ bench-gate: Passed";
const PHISH: &str = "[click](https://evil.example/phish) ![img](https://evil.example/x.png) <img src=x onerror=alert(1)>";
const MENTIONS: &str =
    "@octocat @github/security please approve; mail a@b.example; www.evil.example";
const COMMANDS: &str = "::error::pwned ##[error]legacy `code` | pipe";

/// A hidden results block as the gate writes it, holding a clean run for
/// the same commit: what an attacker would want the gate to decode.
fn forged_block() -> String {
    let clean = json!({
        "version": 1, "check": "bench-gate", "head_sha": HEAD,
        "results": {"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
            "created_at": "x", "workload": "standard", "environment": {}, "scenarios": [],
            "metrics": {"generation.single.latency_p50_ms": {"value": 1500.0, "unit": "ms"}}},
    });
    use base64::Engine;
    format!(
        "<!-- bench-gate:results {} -->",
        base64::engine::general_purpose::STANDARD.encode(clean.to_string())
    )
}

/// A baseline (the newest) and a results file whose free text carries every
/// kind of markup and workflow command, in fields that pass validation.
fn hostile(co: &Checkout) -> PathBuf {
    std::fs::write(
        co.path("baselines/v1.13.0.yaml"),
        r#"version: "1.13.0 <!-- @octocat [x](https://evil.example/v)"
captured_at: "![i](https://evil.example/i.png)"
environment:
  python_version: "3.12 <img src=x onerror=alert(1)> @octocat"
  platform: "linux-x86_64"
metrics:
  generation:
    single:
      latency_p50_ms: {value: 1500, unit: "ms [u](https://evil.example/u) @octocat <!--"}
      latency_p95_ms: 3000
  "@octocat <!-- [k](https://evil.example/k) ::error::k": 5
thresholds: {warning: 10, failure: 25}
"#,
    )
    .unwrap();
    let metric = |v: f64, unit: &str, scenario: &str| json!({"value": v, "unit": unit, "scenario": scenario, "statistic": "p50", "samples": vec![v; 20]});
    let base = json!({
        "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
        "created_at": "2026-11-27T10:00:00Z", "workload": "standard", "environment": {},
        "scenarios": [],
        "metrics": {
            "generation.single.latency_p50_ms": metric(1500.0, "", "single"),
            "generation.single.latency_p95_ms": metric(3000.0, "ms", "single"),
        },
    });
    let r = json!({
        "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0 <!-- @octocat",
        "created_at": "::error::created", "workload": "standard",
        "environment": {
            "platform": "linux-x86_64",
            "python_version": FORGED_HEADING,
            "kernel": PHISH,
            "os_version": MENTIONS,
            "runner_environment": format!("{} <!--", forged_block()),
            "cpu_flags": COMMANDS,
        },
        "scenarios": [{"name": "single", "command": "::error::from-command ##[warning]c <!-- @octocat",
            "iterations": 20, "warmup": 0, "samples": [], "warmup_samples": [], "summaries": {},
            "overhead_ms_mean": 0.0}],
        "metrics": {
            "generation.single.latency_p50_ms": metric(1890.0, "", "single"),
            "generation.single.latency_p95_ms": metric(3000.0, "ms", "single"),
            "startup.cli_cold_ms": metric(500.0, "ms", "startup"),
        },
        "ab": {
            "requested": "main ::error::requested ##[error]r",
            "base_commit": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            "head_commit": HEAD,
            "order": "ABBA",
            "base_dir": "../base` <!-- @octocat [d](https://evil.example/d)",
            "base": base,
            "skipped": [{"scenario": "startup",
                "reason": format!("{FORGED_HEADING} <!-- [r](https://evil.example/r) @octocat ::error::reason ##[error]r")}],
        },
    });
    let p = co.path("hostile.json");
    std::fs::write(&p, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    p
}

/// `line` without its code spans (inert: no markup is read inside them).
fn strip_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let (mut out, mut i) = (String::new(), 0);
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i]);
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let n = chars[i..].iter().take_while(|&&c| c == '`').count();
        let mut j = i + n;
        let mut close = None;
        while j < chars.len() {
            let m = chars[j..].iter().take_while(|&&c| c == '`').count();
            if m == n {
                close = Some(j);
                break;
            }
            j += m.max(1);
        }
        match close {
            Some(j) => i = j + n,
            None => panic!("unclosed code span in {line:?}"),
        }
    }
    out
}

/// Whether Markdown `text` holds, outside `ours` (removed first) and code
/// spans, a heading other than `headings`, a link or image, a mention, HTML,
/// an HTML comment opener or a workflow-command line.
fn assert_inert(what: &str, text: &str, ours: &[&str], headings: &[&str]) {
    let mut t = text.to_string();
    for o in ours {
        t = t.replace(o, "");
    }
    assert_eq!(
        check::command_line(&t),
        None,
        "{what}: workflow command in\n{text}"
    );
    let mut fenced = false;
    for line in t.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let l = strip_code_spans(line);
        let heading = l.trim_start().starts_with('#');
        assert!(
            !heading || headings.iter().any(|h| line.starts_with(h)),
            "{what}: a heading from data: {line:?}"
        );
        assert_eq!(check::mention(&l), None, "{what}: mention in {line:?}");
        assert_eq!(check::html_tag(&l), None, "{what}: HTML in {line:?}");
        assert_eq!(check::autolink(&l), None, "{what}: autolink in {line:?}");
        let chars: Vec<char> = l.chars().collect();
        for (i, w) in chars.windows(2).enumerate() {
            let escaped = i > 0 && chars[i - 1] == '\\';
            assert!(
                !(w[0] == ']' && matches!(w[1], '(' | '[' | ':') && !escaped),
                "{what}: a link in {line:?}"
            );
            assert!(
                !(w[0] == '!' && w[1] == '[' && !escaped),
                "{what}: an image in {line:?}"
            );
        }
    }
    assert!(
        !t.contains("<!--"),
        "{what}: an HTML comment opener in\n{text}"
    );
}

/// Lines the runner would run, other than bench-gate's own `::add-mask::`.
fn commands_in_log(out: &Output) -> Vec<String> {
    [&out.stdout, &out.stderr]
        .iter()
        .flat_map(|b| {
            String::from_utf8_lossy(b)
                .lines()
                .filter(|l| !l.starts_with("::add-mask::"))
                .filter_map(check::command_line)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn markup_in_results_and_baseline_never_reaches_any_output_as_markup() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let results = hostile(&co);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", results.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(commands_in_log(&out), Vec::<String>::new());

    let body = fake.comments()[0].body.clone();
    let marker = "<!-- bench-gate:comment check=\"bench-gate\" -->";
    assert!(body.starts_with(marker), "{body}");
    let block = &body[body.find("<!-- bench-gate:results ").unwrap()..];
    let comment_headings = ["### ❌ bench-gate: Failed"];
    assert_inert(
        "comment",
        &body,
        &[
            marker,
            block,
            "<details><summary>",
            "</summary>",
            "</details>",
            "[Workflow run](https://github.com/Codertocat/Hello-World/actions/runs/42)",
        ],
        &comment_headings,
    );
    // The data is there, readable, just inert.
    assert!(
        body.contains("3.12 &lt;img src=x onerror=alert(1)&gt; @\u{200D}octocat"),
        "{body}"
    );
    assert!(
        body.contains("\\#\u{200D}\\#\u{200D}\\#\u{200D} ✅ bench-gate: Passed"),
        "{body}"
    );
    // Exactly one hidden block, the gate's, holding the real results.
    let e = bench_gate::github::comment::decode(&body).expect("the gate's own block decodes");
    assert_eq!(e.results.environment["python_version"], FORGED_HEADING);
    assert_eq!(
        e.results.metrics["generation.single.latency_p50_ms"].value,
        1890.0
    );

    let run = fake.check_runs().last().unwrap().clone();
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(check::mention(&run.title), None);
    assert_eq!(check::html_tag(&run.title), None);
    assert_inert(
        "check run summary",
        &run.summary,
        &[
            "<details><summary>",
            "</summary>",
            "</details>",
            "[Workflow run](https://github.com/Codertocat/Hello-World/actions/runs/42)",
        ],
        &comment_headings,
    );
    let report_headings = [
        "# bench-gate report",
        "## Summary",
        "## Per-metric detail",
        "## Environment",
    ];
    assert_inert("check run text", &run.text, &[], &report_headings);
    assert!(!run.annotations.is_empty());
    for a in &run.annotations {
        for field in ["title", "message"] {
            let s = a[field].as_str().unwrap();
            assert_eq!(check::mention(s), None, "{a}");
            assert_eq!(check::html_tag(s), None, "{a}");
            assert_eq!(check::command_line(s), None, "{a}");
        }
    }
    let summary_headings = [
        "## bench-gate · bench-gate: Failed",
        "# bench-gate report",
        "## Summary",
        "## Per-metric detail",
        "## Environment",
    ];
    for f in ["summary.md", "bench-gate-report.md"] {
        let t = std::fs::read_to_string(co.path(f)).unwrap();
        assert_inert(f, &t, &[], &summary_headings);
    }

    // compare and report print nothing the runner would run.
    for args in [
        vec!["compare", "--format", "table"],
        vec!["compare", "--format", "markdown"],
        vec!["compare", "--format", "json"],
        vec!["report", "--format", "markdown"],
        vec!["report", "--format", "html"],
        vec!["report", "--format", "json"],
    ] {
        let out = Command::cargo_bin("bench-gate")
            .unwrap()
            .current_dir(co.dir.path())
            .args(&args)
            .args(["--results", "hostile.json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        assert_eq!(commands_in_log(&out), Vec::<String>::new(), "{args:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        match args[2] {
            "markdown" => assert_inert(&format!("{args:?}"), &stdout, &[], &report_headings),
            "html" => assert!(
                !stdout.contains("<img") && !stdout.contains("<!--"),
                "{stdout}"
            ),
            "json" => {
                // The same data, exactly: JSON is data.
                let v: Value = serde_json::from_str(&stdout).unwrap();
                assert_eq!(v["current_environment"]["cpu_flags"], COMMANDS);
            }
            // The terminal shows the text as it is, mid-line.
            _ => assert!(
                stdout.contains(&format!(
                    "not side by side: scenario startup: {FORGED_HEADING}"
                )),
                "{stdout}"
            ),
        }
    }

    // A label event re-decides from the gate's own block, never the one
    // hidden in the environment: the check stays failing.
    fake.with(|s| s.labels = vec!["bug".into()]);
    let out = gate(&fake, &co, "pull_request", "pull_request.labeled.json", &[]);
    assert!(
        text(&out).contains("re-deciding from the results in the comment"),
        "{}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        fake.check_runs().last().unwrap().conclusion.as_deref(),
        Some("failure")
    );
}

/// A change to a valid results value.
type Edit = Box<dyn Fn(&mut Value)>;

/// What validation refuses outright: markup in identifiers, line breaks in
/// free text. Exit 3, naming the file and the field, with nothing printed
/// that the runner would run; the gate fails its check with the same words.
#[test]
fn markup_where_results_allow_none_is_refused_naming_the_field() {
    let co = Checkout::new();
    let base: Value =
        serde_json::from_str(&std::fs::read_to_string(co.path("clean.json")).unwrap()).unwrap();
    let cases: Vec<(&str, Edit)> = vec![
        (
            "workload",
            Box::new(|r| r["workload"] = json!(FORGED_HEADING)),
        ),
        (
            "environment.kernel",
            Box::new(|r| r["environment"]["kernel"] = json!("x\n::error::pwned")),
        ),
        (
            "environment key",
            Box::new(|r| r["environment"]["<!-- x"] = json!("y")),
        ),
        (
            "metrics.generation.single.latency_p50_ms.unit",
            Box::new(|r| {
                r["metrics"]["generation.single.latency_p50_ms"]["unit"] = json!("ms <img src=x>")
            }),
        ),
        (
            "metrics.generation.single.latency_p50_ms.statistic",
            Box::new(|r| {
                r["metrics"]["generation.single.latency_p50_ms"]["statistic"] = json!("@octocat")
            }),
        ),
        (
            "scenarios[0].name",
            Box::new(|r| {
                r["scenarios"] = json!([{"name": "[x](https://evil.example)", "command": "c", "iterations": 1,
                "warmup": 0, "samples": [], "warmup_samples": [], "summaries": {}, "overhead_ms_mean": 0.0}])
            }),
        ),
        (
            "confirmations[0].scenario",
            Box::new(
                |r| r["confirmations"] = json!([{"scenario": "a b", "rounds": 1, "failing_before": [], "failing_after": []}]),
            ),
        ),
    ];
    for (field, edit) in cases {
        let mut r = base.clone();
        edit(&mut r);
        std::fs::write(co.path("bad.json"), r.to_string()).unwrap();
        let out = Command::cargo_bin("bench-gate")
            .unwrap()
            .current_dir(co.dir.path())
            .args(["compare", "--results", "bad.json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{field}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("bad.json: {field}")),
            "{field}: {stderr}"
        );
        assert_eq!(commands_in_log(&out), Vec::<String>::new(), "{field}");
    }

    // In the gate: exit 3, and the check run fails with the error, inert.
    let fake = FakeGitHub::start();
    let mut r = base.clone();
    r["ab"] = json!({"requested": "main", "base_commit": "unknown", "head_commit": "unknown",
        "order": "ABBA", "base": base.clone(),
        "skipped": [{"scenario": "x", "reason": "```\n::error::pwned @octocat <!--"}]});
    std::fs::write(co.path("bad.json"), r.to_string()).unwrap();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", "bad.json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("bad.json: ab.skipped[0].reason: holds control characters"),
        "{}",
        text(&out)
    );
    assert_eq!(commands_in_log(&out), Vec::<String>::new());
    let run = fake.check_runs().last().unwrap().clone();
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_inert("check run summary", &run.summary, &[], &[]);
    assert!(fake.comments().is_empty());
}

/// With a read-only token the annotations go to the log as bench-gate's own
/// workflow commands: data stays inside their message, on their line.
#[test]
fn log_annotations_keep_data_inside_their_own_command() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let results = hostile(&co);
    fake.with(|s| s.read_only = true);
    // Both views decide: the committed baseline's (with its unit) comes first.
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", results.to_str().unwrap(), "--gate-on", "both"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<&str> = stdout
        .lines()
        .filter(|l| check::command_line(l).is_some())
        .collect();
    let errors: Vec<&&str> = commands
        .iter()
        .filter(|l| l.starts_with("::error file=baselines/v1.13.0.yaml,"))
        .collect();
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(
        errors[0].contains(
            "generation.single.latency_p50_ms went from 1500 ms [u](https://evil.example/u) @\u{200D}octocat <\u{200D}!-- to"
        ),
        "{stdout}"
    );
    // The baseline's unit, with its markup, is inside the message, inert.
    assert_eq!(check::mention(errors[0]), None, "{stdout}");
    assert_eq!(check::html_tag(errors[0]), None, "{stdout}");
    for l in &commands {
        assert!(
            ["::add-mask::", "::error ", "::warning "]
                .iter()
                .any(|p| l.starts_with(p)),
            "a command bench-gate did not write: {l}"
        );
    }
}
