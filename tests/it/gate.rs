//! `bench-gate gate` end to end: octocrab talking HTTP to a stateful fake
//! GitHub on 127.0.0.1, driven by GitHub's published example payloads.

use crate::support;

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use bench_gate::report::escape::check;
use serde_json::{json, Value};
use support::{FakeGitHub, Fault};

use crate::gatekit::*;

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

/// The newest of the gate's comments (across pages) is updated; older ones
/// by the same login are left alone: anyone with write access can post as
/// `github-actions[bot]`, so they are not provably the gate's to delete.
#[test]
fn duplicates_across_pages_are_left_alone() {
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
        ids.contains(&a) && ids.contains(&b),
        "older comments of the same login are never deleted"
    );
    assert_eq!(comments.len(), 6, "nothing is deleted");
    assert!(
        !fake.requests().iter().any(|(m, _, _)| m == "DELETE"),
        "no DELETE request"
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
        &[
            "--override-label",
            "bug",
            "--override-scope",
            "pull-request",
            "--results",
            &regressed(&co),
        ],
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
        &[
            "--override-label",
            "bug",
            "--override-scope",
            "pull-request",
        ],
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
    assert!(body.contains("🖥️ **This runner is not the machine the baseline was measured on** (it differs in cpu_model). 1 failure(s) are counted as warnings (policy `warn`; `env-mismatch: strict` keeps them). To compare like with like, turn on A/B mode (on by default for pull requests once `ab.setup` in bench-gate.yml builds each tree; or action input `ab: true`)"), "{body}");
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
    // ... and the baseline's 8, unchanged (with nothing compared there is no report).
    for (k, m) in bench_gate::baseline::Baseline::parse("b", DESIGN)
        .unwrap()
        .metrics
    {
        let unit = if k.ends_with("_mb") { "MB" } else { "ms" };
        metrics.insert(k, json!({"value": m.value, "unit": unit}));
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
    // 400 new metrics plus the baseline's 8.
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
    assert_eq!(
        run.title,
        "Benchmark setup changed: needs a maintainer's approval (baselines/v1.13.0.yaml)"
    );
    assert!(fake.comments()[0]
        .body
        .contains("changes files the benchmark's verdict rests on (`baselines/v1.13.0.yaml`)"));
    // Approved by a maintainer's label, applied to this commit.
    fake.with(|s| {
        s.labels = vec!["performance-override".into()];
        s.permissions.push(("lead".into(), "maintain".into()));
    });
    let labeled = payload_with(&co, "pull_request.labeled.json", |v| {
        v["label"]["name"] = json!("performance-override");
        v["sender"]["login"] = json!("lead");
    });
    let out = gate(&fake, &co, "pull_request", &labeled, &["--results", &clean]);
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
    r["github"] = json!({"repository": "Codertocat/Hello-World", "event": "pull_request", "pull_request": 2, "head_sha": wr_head});
    std::fs::write(co.path("artifact.json"), r.to_string()).unwrap();
    // GitHub's example run was triggered by repository_dispatch: a run of a
    // pull_request workflow says pull_request, and built the PR's head branch.
    fake.with(|s| {
        s.head_sha = wr_head.into();
        s.head_ref = "master".into();
        s.head_repo = "octo-org/octo-repo".into();
    });
    let dispatch = gate(
        &fake,
        &co,
        "workflow_run",
        "workflow_run.completed.json",
        &["--results", "artifact.json"],
    );
    assert_eq!(dispatch.status.code(), Some(3), "{}", text(&dispatch));
    assert!(text(&dispatch).contains("not by a pull_request event"));
    assert_eq!(
        fake.check_runs()
            .iter()
            .map(|r| (r.head_sha.as_str(), r.conclusion.as_deref()))
            .collect::<Vec<_>>(),
        vec![(wr_head, Some("failure"))],
        "a refused artifact leaves a failing check, never none"
    );
    fake.with(|s| s.check_runs.clear());
    let wr = payload_with(&co, "workflow_run.completed.json", |v| {
        v["workflow_run"]["event"] = json!("pull_request");
    });
    let wr = wr.as_str();
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        wr,
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
        wr,
        &["--results", "artifact.json"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("stood down"));
    // Its check run (on the old head) is closed as cancelled (not left open,
    // and not a conclusion a required check takes as passing),
    // and the first one's failure stands.
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(
        (runs[1].head_sha.as_str(), runs[1].conclusion.as_deref()),
        (wr_head, Some("cancelled"))
    );
    fake.with(|s| s.head_sha = wr_head.into());

    // Results for another commit are refused; so is benchmarking in place.
    r["github"]["head_sha"] = json!("4444444444444444444444444444444444444444");
    std::fs::write(co.path("other.json"), r.to_string()).unwrap();
    let out = gate(&fake, &co, "workflow_run", wr, &["--results", "other.json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("refusing to publish"));
    let out = gate(&fake, &co, "workflow_run", wr, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("pass --results FILE"));
    // Untrusted input is validated.
    r["metrics"]["<img src=x onerror=alert(1)>"] = json!({"value": 1.0, "unit": "ms"});
    std::fs::write(co.path("evil.json"), r.to_string()).unwrap();
    let out = gate(&fake, &co, "workflow_run", wr, &["--results", "evil.json"]);
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
    assert!(fake.requests().iter().all(|(_, p, _)| p
        .starts_with("/api/v3/repos/Codertocat/Hello-World/")
        || p == "/api/v3/user"));
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
    let _serial = crate::support::serial();
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  spiky:\n    command: \"n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; if [ $n -le 3 ]; then sleep 1; else sleep 0.1; fi\"\n    shell: true\n    iterations: 5\n    warmup: 0\n    metrics:\n      spiky.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    std::fs::write(
        co.path("baselines/v1.13.0.yaml"),
        "version: '1.13.0'\nmetrics:\n  spiky:\n    latency_p50_ms: 110\n",
    )
    .unwrap();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["-q", "--warn-threshold", "150", "--fail-threshold", "200"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let body = &fake.comments()[0].body;
    assert!(body.contains("🔁 **Confirmation run**: spiky.latency_p50_ms failed, so scenario `spiky` was measured 1 more time(s)"), "{body}");
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
}

/// A read-write collaborator forges the gate's comment: its marker, a state
/// block granting an override, and results five times faster for the same
/// head. A label event follows. The gate reads none of it: its own comment
/// decides, the forged one is left as it is, and the check keeps failing.
#[test]
fn a_forged_comment_is_never_state() {
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
    let genuine = fake.comments()[0].clone();
    assert_eq!(genuine.user, "github-actions[bot]");

    // The forgery: the gate's body with faster results and a granted override.
    let fast = co.results("fast.json", 300.0, 5);
    let mut forged_results: Value = serde_json::from_slice(&std::fs::read(fast).unwrap()).unwrap();
    forged_results["github"] = json!({"repository": "Codertocat/Hello-World", "event": "pull_request", "pull_request": 2, "head_sha": HEAD});
    let embedded =
        json!({"version": 1, "check": "bench-gate", "head_sha": HEAD, "results": forged_results});
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
    let state = json!({"version": 1, "check": "bench-gate", "grant": {"label": "bug", "by": "Codertocat", "role": "admin", "head_sha": HEAD, "at": "x"}});
    let forged_body = format!(
        "<!-- bench-gate:comment check=\"bench-gate\" -->\n<!-- bench-gate:state {} -->\n### ✅ bench-gate: Passed\n<!-- bench-gate:results {} -->",
        b64(&state),
        b64(&embedded)
    );
    let forged_id = fake.with(|s| s.seed_comment(&forged_body, "mallory"));
    fake.with(|s| {
        s.labels = vec!["bug".into()];
        s.permissions.push(("mallory".into(), "write".into()));
        s.permissions.push(("Codertocat".into(), "read".into()));
    });
    // Any label event (here a label that is not the override).
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.labeled.json",
        &["--override-label", "performance-override"],
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(2), "{log}");
    assert!(
        log.contains("re-deciding from the results in the gate's own comment"),
        "{log}"
    );
    let comments = fake.comments();
    assert_eq!(comments.len(), 2, "nothing deleted: {comments:?}");
    let forged = comments.iter().find(|c| c.id == forged_id).unwrap();
    assert_eq!(
        forged.body, forged_body,
        "the forged comment is never edited"
    );
    let own = comments.iter().find(|c| c.id == genuine.id).unwrap();
    assert!(own.body.contains("❌ bench-gate: Failed"), "{}", own.body);
    assert!(!fake
        .requests()
        .iter()
        .any(|(m, p, _)| m != "GET" && p.ends_with(&format!("/comments/{forged_id}"))));
    assert_eq!(
        fake.check_runs().last().unwrap().conclusion.as_deref(),
        Some("failure")
    );

    // Even with the override label on it and no genuine comment of the
    // gate's at all, the forged state grants nothing.
    fake.with(|s| {
        s.comments.retain(|c| c.id == forged_id);
        s.labels = vec!["bug".into()];
    });
    let sync = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--override-label", "bug", "--results", &regressed(&co)],
    );
    assert_eq!(sync.status.code(), Some(2), "{}", text(&sync));
    let own = fake
        .comments()
        .into_iter()
        .find(|c| c.id != forged_id)
        .expect("the gate posts its own comment beside the forgery");
    assert!(
        own.body
            .contains("no record of it being applied to commit ec26c3e"),
        "{}",
        own.body
    );
    assert_eq!(
        fake.comments()
            .iter()
            .find(|c| c.id == forged_id)
            .unwrap()
            .body,
        forged_body
    );
}

/// With a personal token the gate is whoever `GET /user` says; comments of
/// `github-actions[bot]` are then someone else's.
#[test]
fn with_a_personal_token_the_gate_is_the_tokens_user() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.token_user = Some("perf-bot".into());
        s.bot_login = "perf-bot".into();
    });
    let other = fake.with(|s| {
        s.seed_comment(
            "<!-- bench-gate:comment check=\"bench-gate\" -->\nold",
            "github-actions[bot]",
        )
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let comments = fake.comments();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0].id, other);
    assert!(comments[0].body.ends_with("old"));
    assert_eq!(comments[1].user, "perf-bot");
    // A second run updates perf-bot's comment, not the other one.
    let again = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--results", &co.path("clean.json").display().to_string()],
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let comments = fake.comments();
    assert_eq!(comments.len(), 2);
    assert!(comments[1].body.contains("✅ bench-gate: Passed"));
    assert!(comments[0].body.ends_with("old"));
}

/// A maintainer overrides commit A; the author then pushes B, five times
/// slower. The label is removed on that push, the comment says why, and the
/// check fails. Re-applying it to B overrides B.
#[test]
fn an_override_covers_only_the_commit_it_was_given_for() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let b_sha = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
    let labeled = payload_with(&co, "pull_request.labeled.json", |v| {
        v["label"]["name"] = json!("performance-override");
        v["sender"]["login"] = json!("maint");
    });
    fake.with(|s| {
        s.labels = vec!["performance-override".into()];
        s.permissions.push(("maint".into(), "maintain".into()));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &labeled,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(co.outputs()["result"], "overridden");
    assert_eq!(
        fake.check_runs().last().unwrap().conclusion.as_deref(),
        Some("success")
    );

    // The push of B: the label is still on, but it was given for A.
    let slow = co.results("slow.json", 7500.0, 20);
    let push = payload_with(&co, "pull_request.synchronize.json", |v| {
        v["pull_request"]["head"]["sha"] = json!(b_sha);
        v["pull_request"]["labels"] = json!([{"name": "performance-override"}]);
    });
    fake.with(|s| {
        s.head_sha = b_sha.into();
        // A commit date in the timeline says nothing: the author sets it.
        s.timeline
            .push(("committed".into(), b_sha.into(), "author".into()));
        s.timeline.push((
            "head_ref_force_pushed".into(),
            String::new(),
            "author".into(),
        ));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &push,
        &["--results", &slow.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        fake.with(|s| s.labels.is_empty()),
        "the stale label is removed"
    );
    assert!(fake
        .requests()
        .iter()
        .any(|(m, p, _)| m == "DELETE" && p.ends_with("/issues/2/labels/performance-override")));
    let body = fake.comments()[0].body.clone();
    assert!(
        body.contains("The override was given for `ec26c3e` by @maint; the label was removed because new commits arrived; apply the label `performance-override` again to override `b0b0b0b`."),
        "{body}"
    );
    let run = fake.check_runs().last().unwrap().clone();
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (b_sha, Some("failure"))
    );
    assert_eq!(co.outputs()["result"], "fail");

    // Someone puts the label back without a labeled run of the gate (or the
    // run is lost): still nothing for B.
    fake.with(|s| s.labels = vec!["performance-override".into()]);
    let reopened = payload_with(&co, "pull_request.reopened.json", |v| {
        v["pull_request"]["head"]["sha"] = json!(b_sha);
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &reopened,
        &["--results", &slow.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // The maintainer applies it to B: B is overridden.
    let labeled_b = payload_with(&co, "pull_request.labeled.json", |v| {
        v["label"]["name"] = json!("performance-override");
        v["sender"]["login"] = json!("maint");
        v["pull_request"]["head"]["sha"] = json!(b_sha);
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &labeled_b,
        &["--results", &slow.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(co.outputs()["result"], "overridden");

    // The old behaviour, on request: the label covers the pull request.
    let c_sha = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
    fake.with(|s| {
        s.head_sha = c_sha.into();
        s.timeline.push((
            "labeled".into(),
            "performance-override".into(),
            "maint".into(),
        ));
    });
    let push_c = payload_with(&co, "pull_request.synchronize.json", |v| {
        v["pull_request"]["head"]["sha"] = json!(c_sha);
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &push_c,
        &[
            "--override-scope",
            "pull-request",
            "--results",
            &slow.display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(fake.with(|s| s.labels.contains(&"performance-override".to_string())));
}

/// Setup files the verdict rests on: a changed workflow or `bench-gate.yml`
/// (and a file it names) needs approval like a baseline; so does not
/// knowing, when the file list cannot be read.
#[test]
fn setup_changes_and_an_unreadable_file_list_need_approval() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::create_dir(co.path("data")).unwrap();
    std::fs::write(co.path("data/interviews.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  single:\n    command: cat data/interviews.csv\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    let clean = co.path("clean.json").display().to_string();
    for (files, shown) in [
        (
            vec![".github/workflows/bench.yml"],
            ".github/workflows/bench.yml",
        ),
        (vec!["bench-gate.yml"], "bench-gate.yml"),
        (vec!["data/interviews.csv"], "data/interviews.csv"),
        (vec!["data/other.csv", "docs/x.md"], ""),
    ] {
        fake.with(|s| {
            s.files = files.iter().map(|f| f.to_string()).collect();
            s.check_runs.clear();
        });
        let out = gate(
            &fake,
            &co,
            "pull_request",
            "pull_request.opened.json",
            &["--results", &clean],
        );
        let run = fake.check_runs().last().unwrap().clone();
        if shown.is_empty() {
            assert_eq!(out.status.code(), Some(0), "{files:?}: {}", text(&out));
            assert_eq!(run.conclusion.as_deref(), Some("success"));
        } else {
            assert_eq!(out.status.code(), Some(2), "{files:?}: {}", text(&out));
            assert_eq!(
                run.title,
                format!("Benchmark setup changed: needs a maintainer's approval ({shown})")
            );
        }
    }
    // The file list answers 5xx every time: not approved.
    fake.with(|s| {
        s.files = vec!["src/lib.rs".into()];
        for _ in 0..4 {
            s.faults.push(Fault {
                method: "GET",
                path: "/files",
                status: 502,
                retry_after: None,
                apply: false,
            });
        }
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let run = fake.check_runs().last().unwrap().clone();
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title
            .starts_with("Benchmark setup could not be checked: needs a maintainer's approval"),
        "{}",
        run.title
    );
}

/// In a subfolder (`working-directory: sub`), the pull request's paths are
/// repository-relative: `sub/baselines/…` is a baseline change.
#[test]
fn baseline_changes_are_found_from_a_working_directory() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let sub = co.path("sub");
    std::fs::create_dir_all(sub.join("baselines")).unwrap();
    std::fs::write(sub.join("baselines/v1.12.0.yaml"), DESIGN).unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(co.dir.path())
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    fake.with(|s| s.files = vec!["sub/baselines/v1.13.0.yaml".into()]);
    let clean = co.path("clean.json").display().to_string();
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(&sub)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event("pull_request.opened.json"))
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", TOKEN)
        .env("BENCH_GATE_RETRY_BASE_MS", "20")
        .args(["gate", "--results", &clean])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        fake.check_runs().last().unwrap().title,
        "Benchmark setup changed: needs a maintainer's approval (sub/baselines/v1.13.0.yaml)"
    );
}

/// A timeline that cannot be read to its end (a pagination link to another
/// host) says nothing about who applied the label.
#[test]
fn an_incomplete_timeline_is_not_an_approval() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.labels = vec!["bug".into()];
        s.permissions
            .push(("octocat-maintainer".into(), "admin".into()));
        s.timeline
            .push(("labeled".into(), "bug".into(), "reader".into()));
        s.timeline
            .push(("labeled".into(), "other".into(), "reader".into()));
        s.timeline
            .push(("labeled".into(), "bug".into(), "octocat-maintainer".into()));
        s.foreign_next_link = true;
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &[
            "--override-label",
            "bug",
            "--override-scope",
            "pull-request",
            "--results",
            &regressed(&co),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let body = &fake.comments()[0].body;
    assert!(body.contains("the timeline could not be read"), "{body}");
    assert!(body.contains("could not be read completely"), "{body}");
}

/// An error after the check run was created completes it as a failure with
/// the error; it never stays in progress.
#[test]
fn an_error_after_the_check_was_created_fails_it() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(co.path("baselines/v1.12.0.yaml"), "version: [\n").unwrap();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  s:\n    command: [\"true\"]\n    iterations: 2\n    metrics:\n      s.p50: wall_ms.p50\n",
    )
    .unwrap();
    let out = gate(&fake, &co, "pull_request", "pull_request.opened.json", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    // The baseline is read before benchmarking (its confirmation runs need
    // it), so a baseline that does not load stops the gate there.
    assert_eq!(runs[0].title, "The benchmark could not run");
    assert!(
        runs[0].summary.contains("v1.12.0.yaml"),
        "{}",
        runs[0].summary
    );
}

/// A cancelled job (SIGINT, then the runner's SIGTERM) completes the check
/// run as cancelled.
#[cfg(unix)]
#[test]
fn a_cancelled_run_completes_the_check_as_cancelled() {
    let _serial = crate::support::serial();
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  s:\n    command: [\"sleep\", \"30\"]\n    iterations: 1\n    warmup: 0\n    metrics:\n      s.p50: wall_ms.p50\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .current_dir(co.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event("pull_request.opened.json"))
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", TOKEN)
        .arg("gate")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the check run is in progress, then cancel.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fake.check_runs().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no check run was created"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let run = fake.check_runs()[0].clone();
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("cancelled"))
    );
    assert!(fake.comments().is_empty());
}

/// The publishing half trusts nothing the artifact says: another
/// repository, a pull request whose head is another fork's branch, a pull
/// request that changes the workflow: each gets a failing check with the
/// reason. The override for the head commit comes from the run's
/// triggering actor (the server's word), when the label is theirs.
#[test]
fn workflow_run_checks_what_the_artifact_claims() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let wr_head = "3484a3fb816e0859fd6e1cea078d76385ff50625";
    let wr = payload_with(&co, "workflow_run.completed.json", |v| {
        v["workflow_run"]["event"] = json!("pull_request");
        // A fork's run lists no pull requests.
        v["workflow_run"]["pull_requests"] = json!([]);
        v["workflow_run"]["triggering_actor"]["login"] = json!("maint");
    });
    fake.with(|s| {
        s.head_sha = wr_head.into();
        s.head_ref = "master".into();
        s.head_repo = "octo-org/octo-repo".into();
    });
    let artifact = |name: &str, repo: &str, pr: u64, single: f64| -> String {
        let mut r: Value =
            serde_json::from_slice(&std::fs::read(co.results(name, single, 10)).unwrap()).unwrap();
        r["github"] = json!({"repository": repo, "event": "pull_request", "pull_request": pr, "head_sha": wr_head});
        std::fs::write(co.path(name), r.to_string()).unwrap();
        name.to_string()
    };
    let run = |results: &str| gate(&fake, &co, "workflow_run", &wr, &["--results", results]);
    let last_check = || fake.check_runs().last().cloned().unwrap();

    // Results claiming another repository.
    let other_repo = artifact("other-repo.json", "someone/else", 2, 1500.0);
    let out = run(&other_repo);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("the results are for repository someone/else"));
    let c = last_check();
    assert_eq!(
        (c.head_sha.as_str(), c.conclusion.as_deref()),
        (wr_head, Some("failure"))
    );
    assert!(c.summary.contains("someone/else"), "{}", c.summary);

    // A pull request whose head is not the branch the run built.
    fake.with(|s| s.head_ref = "innocent".into());
    let clean = artifact("clean-pr.json", "Codertocat/Hello-World", 2, 1500.0);
    let out = run(&clean);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("but the workflow run built octo-org/octo-repo:master"),
        "{}",
        text(&out)
    );
    assert!(fake.comments().is_empty());
    fake.with(|s| s.head_ref = "master".into());

    // The pull request changes the workflow that measured: the numbers are
    // clean, the check fails until a maintainer covers the commit.
    fake.with(|s| s.files = vec![".github/workflows/benchmark.yml".into()]);
    let out = run(&clean);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let c = last_check();
    assert_eq!(c.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        c.title,
        "Benchmark setup changed: needs a maintainer's approval (.github/workflows/benchmark.yml)"
    );
    // The maintainer labels it; the labeled run (triggered by maint) publishes.
    fake.with(|s| {
        s.labels = vec!["performance-override".into()];
        s.timeline.push((
            "labeled".into(),
            "performance-override".into(),
            "maint".into(),
        ));
        s.permissions.push(("maint".into(), "maintain".into()));
    });
    let out = run(&clean);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(last_check().conclusion.as_deref(), Some("success"));
    assert!(fake.comments()[0].body.contains("**Overridden** by @maint"));

    // A run triggered by someone else (the author's push) with the label
    // still on: the grant was for this head, so it stands; for a new head
    // it would be removed (see the pull_request tests).
    let by_author = payload_with(&co, "workflow_run.completed.json", |v| {
        v["workflow_run"]["event"] = json!("pull_request");
        v["workflow_run"]["pull_requests"] = json!([]);
        v["workflow_run"]["triggering_actor"]["login"] = json!("author");
    });
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        &by_author,
        &["--results", &clean],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Without any record, a label applied by someone who did not trigger
    // the run does not count.
    fake.with(|s| s.comments.clear());
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        &by_author,
        &["--results", &clean],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(fake.comments()[0]
        .body
        .contains("no record of it being applied"));
}

/// `pull_request_target` runs with a write token while the benchmark runs
/// the pull request's code: refused before anything is asked of GitHub,
/// unless allowed on purpose, and then handled as `pull_request`.
#[test]
fn pull_request_target_is_refused_unless_allowed() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let out = gate(
        &fake,
        &co,
        "pull_request_target",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("bench-gate does not run on pull_request_target events"),
        "{t}"
    );
    assert!(t.contains("--allow-pull-request-target"), "{t}");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert!(!co.path("bench-gate-results.json").exists());

    let out = gate(
        &fake,
        &co,
        "pull_request_target",
        "pull_request.opened.json",
        &["--results", &regressed(&co), "--allow-pull-request-target"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("warning: running on pull_request_target"));
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(fake.comments().len(), 1);
}

fn results_without(
    co: &Checkout,
    name: &str,
    drop: &[&str],
    rename: &str,
    workload: &str,
) -> String {
    let b = bench_gate::baseline::Baseline::parse("b", DESIGN).unwrap();
    let mut metrics = serde_json::Map::new();
    for (k, m) in b
        .metrics
        .iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
    {
        let unit = if k.ends_with("_mb") { "MB" } else { "ms" };
        metrics.insert(
            format!("{rename}{k}"),
            json!({"value": m.value, "unit": unit, "samples": vec![m.value; 5]}),
        );
    }
    let r = json!({
        "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
        "created_at": "2026-11-27T10:00:00Z", "workload": workload,
        "environment": {"platform": "linux-x86_64"}, "scenarios": [], "metrics": metrics,
    });
    std::fs::write(co.path(name), r.to_string()).unwrap();
    co.path(name).display().to_string()
}

fn opened(fake: &FakeGitHub, co: &Checkout, args: &[&str]) -> Output {
    gate(fake, co, "pull_request", "pull_request.opened.json", args)
}

#[test]
fn a_metric_missing_from_the_results_fails_the_check() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let r = results_without(
        &co,
        "dropped.json",
        &["startup.cli_cold_ms"],
        "",
        "standard",
    );
    let out = opened(&fake, &co, &["--results", &r]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let run = &fake.check_runs()[0];
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert_eq!(run.title, "Failed: 1 metric missing from the results");
    let row = "| `startup.cli_cold_ms` | 500 ms | — | — | +10% / +25% | ❌ missing (failure): in the baseline but not in the results: counted as a failure (missing: fail) |";
    assert!(run.summary.contains(row), "{}", run.summary);
    let body = &fake.comments()[0].body;
    assert!(
        body.contains("❌ bench-gate: Failed: 1 metric missing from the results"),
        "{body}"
    );
    assert!(body.contains(row), "{body}");
    // Annotated like a failure, on the metric's line in the baseline.
    assert_eq!(run.annotations.len(), 1, "{:?}", run.annotations);
    assert_eq!(run.annotations[0]["annotation_level"], "failure");
    assert_eq!(run.annotations[0]["start_line"], 19);
    assert_eq!(co.outputs()["result"], "fail");

    // `missing: warn` (the action input): passes with a warning.
    let fake = FakeGitHub::start();
    let out = opened(&fake, &co, &["--results", &r, "--missing", "warn"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = &fake.check_runs()[0];
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert_eq!(
        run.title,
        "Passed with warnings: 1 metric missing from the results"
    );
}

#[test]
fn nothing_compared_fails_the_check_closed() {
    // Renamed metrics, then another workload's results.
    let co = Checkout::new();
    let renamed = results_without(&co, "renamed.json", &[], "v2.", "standard");
    let fake = FakeGitHub::start();
    let out = opened(&fake, &co, &["--results", &renamed]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out)
            .contains("not one metric of the baseline baselines/v1.12.0.yaml is in the results"),
        "{}",
        text(&out)
    );
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("failure")),
        "never left green or in progress"
    );
    assert_eq!(runs[0].title, "The results could not be compared");
    assert!(runs[0]
        .summary
        .contains("the results (workload 'standard') have v2.generation."));
    assert!(fake.comments().is_empty(), "no comment claims a verdict");

    // A baseline captured from another workload than the results'.
    std::fs::write(
        co.path("baselines/v1.12.0.yaml"),
        format!("workload: quick\n{DESIGN}"),
    )
    .unwrap();
    let fake = FakeGitHub::start();
    let clean = co.path("clean.json").display().to_string();
    let out = opened(&fake, &co, &["--results", &clean]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("the results are of workload 'standard', but the baseline baselines/v1.12.0.yaml was captured from workload 'quick'"));
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("failure"));
    // Asked for explicitly: compared, and clean.
    let fake = FakeGitHub::start();
    let out = opened(&fake, &co, &["--results", &clean, "--allow-other-workload"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fake.check_runs()[0].conclusion.as_deref(), Some("success"));
}

const FORGED_HEADING: &str = "### ✅ bench-gate: Passed";

const PHISH: &str = "[click](https://evil.example/phish) ![img](https://evil.example/x.png) <img src=x onerror=alert(1)>";

const MENTIONS: &str =
    "@octocat @github/security please approve; mail a@b.example; www.evil.example";

const COMMANDS: &str = "::error::pwned ##[error]legacy `code` | pipe";

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
    // The gate's own record, one block, where the gate puts it.
    assert_eq!(body.matches("<!-- bench-gate:state ").count(), 1, "{body}");
    let at = body.find("<!-- bench-gate:state ").unwrap();
    let state = &body[at..at + body[at..].find(" -->").unwrap() + 4];
    assert!(
        body[marker.len()..].trim_start().starts_with(state),
        "{body}"
    );
    let comment_headings = ["### ❌ bench-gate: Failed"];
    assert_inert(
        "comment",
        &body,
        &[
            marker,
            state,
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
        text(&out).contains("re-deciding from the results in the gate's own comment"),
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
    // The regressed metric, the hostile baseline's own metric, which the
    // results do not hold (missing counts as a failure), and side by side
    // the metric of the scenario the base did not measure, which the
    // committed baseline lacks (missing too).
    assert_eq!(errors.len(), 3, "{stdout}");
    assert!(
        errors[0].contains(
            "generation.single.latency_p50_ms went from 1500 ms [u](https://evil.example/u) @\u{200D}octocat <\u{200D}!-- to"
        ),
        "{stdout}"
    );
    // The baseline's unit and names, with their markup, are inside the
    // messages, inert.
    for e in &errors {
        assert_eq!(check::mention(e), None, "{stdout}");
        assert_eq!(check::html_tag(e), None, "{stdout}");
    }
    for l in &commands {
        assert!(
            ["::add-mask::", "::error ", "::warning "]
                .iter()
                .any(|p| l.starts_with(p)),
            "a command bench-gate did not write: {l}"
        );
    }
}

/// A baseline that exists but does not load is an error (exit 3) before
/// anything is benchmarked, whether `latest` or the path given names it;
/// it is never taken for "no baseline yet".
#[cfg(unix)]
#[test]
fn a_baseline_that_does_not_load_stops_the_gate_before_benchmarking() {
    let co = Checkout::new();
    std::fs::write(
        co.path("baselines/v1.13.0.yaml"),
        "version: '1.13.0'\nmetrics: [\n",
    )
    .unwrap();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  s:\n    command: [\"touch\", \"benchmarked\"]\n    iterations: 2\n    metrics:\n      s.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    for baseline in ["latest", "baselines/v1.13.0.yaml"] {
        let out = Command::cargo_bin("bench-gate")
            .unwrap()
            .current_dir(co.dir.path())
            .env_remove("GITHUB_EVENT_NAME")
            .env_remove("GITHUB_EVENT_PATH")
            .env_remove("GITHUB_TOKEN")
            .args(["gate", "-q", "--baseline", baseline])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{baseline}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("v1.13.0.yaml"),
            "{baseline}: {}",
            text(&out)
        );
        assert!(!co.path("benchmarked").exists(), "{baseline}: benchmarked");
    }
}
