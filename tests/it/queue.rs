//! Issue 19 end to end: a merge queue's check (`merge_group`), with GitHub's
//! example payloads, through the binary against the fake GitHub.

use serde_json::json;

use crate::gatekit::*;
use crate::support::FakeGitHub;

/// The queue's head and the pull request head its branch names, in
/// GitHub's example `merge_group` payload.
const QUEUE_HEAD: &str = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d";
const QUEUED: &str = "929f8209d40f77f4abc622a499c93a83babdbe64";

fn comment_writes(fake: &FakeGitHub) -> usize {
    fake.requests()
        .iter()
        .filter(|(m, p, _)| m != "GET" && p.contains("/comments"))
        .count()
}

/// A maintainer's override on pull request #104 at the queued commit
/// carries over to the queue's commit: the check is set on the queue's
/// head, green as overridden, with no comment; a branch naming another
/// commit of #104, another base or no pull request carries nothing, and
/// the same regression fails the queue.
#[test]
fn a_merge_queue_check_carries_the_override_of_its_pull_request() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.head_sha = QUEUED.into();
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
        s.timeline
            .push(("labeled".into(), LABEL.into(), "maint".into()));
    });
    let labeled = payload(&co, "pull_request.labeled.json", "q-label", |v| {
        v["label"]["name"] = json!(LABEL);
        v["sender"]["login"] = json!("maint");
        v["number"] = json!(104);
        v["pull_request"]["number"] = json!(104);
        v["pull_request"]["head"]["sha"] = json!(QUEUED);
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
    let writes = comment_writes(&fake);

    let queue = event("merge_group.checks_requested.json")
        .display()
        .to_string();
    let out = gate(
        &fake,
        &co,
        "merge_group",
        &queue,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(run.head_sha, QUEUE_HEAD, "the check is on the queue's head");
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("success"))
    );
    assert!(run.title.starts_with("Overridden"), "{}", run.title);
    assert!(
        run.summary
            .contains("Merge queue: pull request #104 queued at `929f820`"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("by @maint"), "{}", run.summary);
    assert_eq!(co.outputs()["result"], "overridden");
    assert!(std::fs::read_to_string(co.path("summary.md"))
        .unwrap()
        .contains("bench-gate: Overridden"));
    assert_eq!(
        comment_writes(&fake),
        writes,
        "no comment for a merge queue"
    );

    let other = "c".repeat(40);
    for (tag, head_ref, why) in [
        (
            "q-other-sha",
            format!("refs/heads/gh-readonly-queue/main/pr-104-{other}"),
            "not at ccccccc which the merge queue's branch names",
        ),
        (
            "q-other-base",
            format!("refs/heads/gh-readonly-queue/release/pr-104-{QUEUED}"),
            "",
        ),
        ("q-no-pr", "refs/heads/main".to_string(), ""),
    ] {
        let p = payload(&co, "merge_group.checks_requested.json", tag, |v| {
            v["merge_group"]["head_ref"] = json!(head_ref);
        });
        let out = gate(
            &fake,
            &co,
            "merge_group",
            &p,
            &["--results", &regressed(&co)],
        );
        assert_eq!(out.status.code(), Some(2), "{tag}: {}", text(&out));
        let run = last_check(&fake);
        assert_eq!(run.head_sha, QUEUE_HEAD);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{tag}");
        assert!(!run.title.starts_with("Overridden"), "{tag}: {}", run.title);
        if why.is_empty() {
            assert!(
                run.summary.contains("names no pull request of this base"),
                "{tag}: {}",
                run.summary
            );
        } else {
            assert!(run.summary.contains(why), "{tag}: {}", run.summary);
        }
        assert_eq!(co.outputs()["result"], "fail", "{tag}");
    }
    assert_eq!(
        comment_writes(&fake),
        writes,
        "no comment for a merge queue"
    );
}

/// A queue whose pull request was not overridden gates as usual: the same
/// results pass when clean, with the check on the queue's head.
#[test]
fn a_clean_merge_queue_commit_passes() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.head_sha = QUEUED.into());
    let clean = co.path("clean.json").display().to_string();
    let queue = event("merge_group.checks_requested.json")
        .display()
        .to_string();
    let out = gate(&fake, &co, "merge_group", &queue, &["--results", &clean]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (QUEUE_HEAD, Some("success"))
    );
    assert_eq!(co.outputs()["result"], "pass");
    assert_eq!(comment_writes(&fake), 0);
}

/// A config whose workload would fail if it ran, with `relevant_paths`
/// (and the files its globs name, so that they match the checkout).
fn relevant_config(co: &Checkout) {
    std::fs::create_dir_all(co.path("src")).unwrap();
    std::fs::write(co.path("src/lib.rs"), "// hot path\n").unwrap();
    std::fs::write(
        co.path("bench-gate.yml"),
        "relevant_paths: [\"src/**\", \"Cargo.lock\"]\nscenarios:\n  single:\n    command: [\"false\"]\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
}

/// `relevant_paths`: a docs-only pull request gets a green check at once,
/// titled as such, with the counts, and nothing is benchmarked (the
/// workload would fail) or commented; a source file, a setup file (the
/// config itself, the workflows), or a file list that cannot be read all
/// count as relevant, and the gate benchmarks (here: fails on the broken
/// workload, exit 3).
#[test]
fn a_pull_request_that_changes_no_benchmarked_path_passes_quickly() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    relevant_config(&co);
    fake.with(|s| {
        s.files = vec![
            "docs/guide.md".into(),
            "README.md".into(),
            "docs/src/x.rs".into(),
        ]
    });
    let out = gate(&fake, &co, "pull_request", "pull_request.opened.json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(
        (
            run.head_sha.as_str(),
            run.status.as_str(),
            run.conclusion.as_deref()
        ),
        (HEAD, "completed", Some("success"))
    );
    assert_eq!(run.title, "Not benchmarked: no benchmarked path changed");
    assert!(
        run.summary.contains("no benchmarked path changed: 3 changed files, none matching the 2 globs of relevant_paths"),
        "{}",
        run.summary
    );
    assert_eq!(co.outputs()["result"], "skipped");
    assert!(std::fs::read_to_string(co.path("summary.md"))
        .unwrap()
        .contains("not benchmarked"));
    assert_eq!(comment_writes(&fake), 0);

    for files in [
        vec!["docs/guide.md", "src/lib.rs"],
        vec!["docs/guide.md", "bench-gate.yml"],
        vec![".github/workflows/bench.yml"],
        vec!["Cargo.lock"],
    ] {
        fake.with(|s| s.files = files.iter().map(|f| f.to_string()).collect());
        let out = gate(&fake, &co, "pull_request", "pull_request.opened.json", &[]);
        assert_eq!(out.status.code(), Some(3), "{files:?}: {}", text(&out));
        assert!(
            text(&out).contains("benchmarking"),
            "{files:?}: {}",
            text(&out)
        );
        let run = last_check(&fake);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{files:?}");
        assert_eq!(run.title, "The benchmark could not run", "{files:?}");
    }

    // A file list that cannot be read is no proof of irrelevance.
    fake.with(|s| {
        s.files = vec!["docs/guide.md".into()];
        for _ in 0..4 {
            s.faults.push(crate::support::Fault {
                method: "GET",
                path: "/files",
                status: 502,
                retry_after: None,
                apply: false,
            });
        }
    });
    let out = gate(&fake, &co, "pull_request", "pull_request.opened.json", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("could not be listed"), "{}", text(&out));

    // The check run could not be created up front (every retry failed):
    // it is created when the answer is known, never left missing.
    fake.with(|s| {
        s.check_runs.clear();
        for _ in 0..4 {
            s.faults.push(crate::support::Fault {
                method: "POST",
                path: "/check-runs",
                status: 502,
                retry_after: None,
                apply: false,
            });
        }
    });
    let out = gate(&fake, &co, "pull_request", "pull_request.opened.json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let runs = fake.check_runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("success"))
    );
}

/// `relevant_paths` of which no glob matches a file of the checkout (a
/// typo, or globs written for another folder) are a wrong config, not a
/// pull request that changes nothing: the gate benchmarks, with a warning
/// naming the globs. The globs are relative to the config's folder.
#[test]
fn relevant_paths_that_match_no_file_of_the_checkout_fail_closed() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    relevant_config(&co);
    std::fs::write(
        co.path("bench-gate.yml"),
        "relevant_paths: [\"sorce/**\"]\nscenarios:\n  single:\n    command: [\"false\"]\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    fake.with(|s| s.files = vec!["docs/guide.md".into()]);
    let out = gate(&fake, &co, "pull_request", "pull_request.opened.json", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("relevant_paths: no glob matches a file of the checkout (\"sorce/**\""),
        "{}",
        text(&out)
    );
    assert_eq!(
        last_check(&fake).title,
        "The benchmark could not run",
        "{}",
        text(&out)
    );
}

const METRIC: &str = "generation.single.latency_p50_ms";

/// `comment` by `user` (seeded in the fake, as GitHub holds it) and the
/// `issue_comment` payload announcing it, on pull request 2 (or on issue 2
/// when `on_pr` is false).
fn comment_event(
    fake: &FakeGitHub,
    co: &Checkout,
    tag: &str,
    user: &str,
    body: &str,
    on_pr: bool,
) -> String {
    let id = fake.with(|s| s.seed_comment(body, user));
    let created = fake.comments().last().unwrap().created_at.clone();
    payload(co, "issue_comment.created.json", tag, |v| {
        v["issue"]["number"] = json!(2);
        if on_pr {
            v["issue"]["pull_request"] =
                json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"});
        }
        v["comment"]["id"] = json!(id);
        v["comment"]["body"] = json!(body);
        v["comment"]["user"]["login"] = json!(user);
        v["comment"]["created_at"] = json!(created);
        v["comment"]["updated_at"] = json!(created);
    })
}

/// The gate's own comment (marker, by the token's bot).
fn own(fake: &FakeGitHub) -> String {
    let c: Vec<_> = fake
        .comments()
        .into_iter()
        .filter(|c| c.user == "github-actions[bot]" && c.body.contains(MARKER))
        .collect();
    assert_eq!(c.len(), 1, "one comment of the gate's own");
    c[0].body.clone()
}

/// The gate's replies: its comments without the marker.
fn replies(fake: &FakeGitHub) -> Vec<String> {
    fake.comments()
        .into_iter()
        .filter(|c| c.user == "github-actions[bot]" && !c.body.contains(MARKER))
        .map(|c| c.body)
        .collect()
}

/// `/bench-gate accept` end to end: a maintainer's acceptance turns the one
/// failing metric green without benchmarking (the config would fail), with
/// the reason in the comment and the record; a writer is ignored and told
/// why, by name; on an issue nothing happens but a reply; a metric that is
/// not failing gets a reply listing the failing ones; `revoke` undoes it;
/// after a push the acceptance no longer applies. No check run is created
/// for a command that decides nothing.
#[test]
fn a_maintainer_accepts_one_metric_with_a_comment() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("broken.yml"),
        "scenarios:\n  a:\n    command: [\"false\"]\n",
    )
    .unwrap();
    fake.with(|s| {
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("writer".into(), "write".into()));
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let broken = ["--config", "broken.yml"];

    // The maintainer accepts.
    let body = format!("/bench-gate accept {METRIC} the new sampler is slower <b>on purpose</b>");
    let ev = comment_event(&fake, &co, "c-accept", "maint", &body, true);
    let out = gate(&fake, &co, "issue_comment", &ev, &broken);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("without benchmarking"),
        "{}",
        text(&out)
    );
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (HEAD, Some("success"))
    );
    assert_eq!(
        run.title,
        "Accepted: 1 metric above the failure threshold, accepted by a maintainer"
    );
    let c = own(&fake);
    assert!(
        c.contains(&format!("`{METRIC}` **accepted by @\u{200d}maint**: the new sampler is slower &lt;b&gt;on purpose&lt;/b&gt;")),
        "{c}"
    );
    assert!(!c.contains("<b>on purpose"), "{c}");
    assert_eq!(co.outputs()["result"], "overridden");
    let checks = fake.check_runs().len();

    // A writer: ignored, and told why.
    let ev = comment_event(
        &fake,
        &co,
        "c-writer",
        "writer",
        "/bench-gate revoke generation.single.latency_p50_ms",
        true,
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &broken);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(co.outputs()["result"], "skipped");
    let r = replies(&fake);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("@\u{200d}writer: ignored: @\u{200d}writer has the role `write`, and accepting or revoking a metric needs `maintain` or higher"), "{}", r[0]);
    assert_eq!(
        fake.check_runs().len(),
        checks,
        "no check run for a command that decides nothing"
    );

    // On an issue: a reply, nothing else.
    let ev = comment_event(&fake, &co, "c-issue", "maint", &body, false);
    let out = gate(&fake, &co, "issue_comment", &ev, &broken);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = replies(&fake);
    assert!(
        r[1].contains("work on pull requests only, and #2 is an issue"),
        "{}",
        r[1]
    );
    assert_eq!(fake.check_runs().len(), checks);

    // From a bot: skipped without a reply.
    let ev = comment_event(&fake, &co, "c-bot", "renovate[bot]", &body, true);
    let out = gate(&fake, &co, "issue_comment", &ev, &broken);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(replies(&fake).len(), 2);
    assert_eq!(fake.check_runs().len(), checks);

    // An edited comment: skipped without a reply (only a new comment counts).
    let ev = comment_event(&fake, &co, "c-edited", "maint", &body, true);
    let edited = payload(&co, &ev, "c-edited2", |v| {
        v["comment"]["updated_at"] = json!("2026-11-30T00:00:00Z");
    });
    let out = gate(&fake, &co, "issue_comment", &edited, &broken);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("the comment was edited"),
        "{}",
        text(&out)
    );
    assert_eq!(replies(&fake).len(), 2);
    assert_eq!(fake.check_runs().len(), checks);

    // A metric that is not failing: a reply naming the failing one; the
    // earlier acceptance still holds.
    let ev = comment_event(
        &fake,
        &co,
        "c-unknown",
        "maint",
        "/bench-gate accept startup.cli_cold_ms",
        true,
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &broken);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = replies(&fake);
    assert_eq!(r.len(), 3, "{r:?}");
    assert!(
        r[2].contains(&format!("`startup.cli_cold_ms` is not a failing metric for `ec26c3e`, so nothing was accepted; the failing ones: `{METRIC}`")),
        "{}",
        r[2]
    );
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("success"));

    // Revoked: the failure is back.
    let ev = comment_event(
        &fake,
        &co,
        "c-revoke",
        "maint",
        &format!("/bench-gate revoke {METRIC}"),
        true,
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &broken);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
    assert!(!own(&fake).contains("accepted by"), "{}", own(&fake));

    // Accepted again, then a push: the acceptance was for the old head.
    let ev = comment_event(&fake, &co, "c-again", "maint", &body, true);
    let out = gate(&fake, &co, "issue_comment", &ev, &broken);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let push = payload(&co, "pull_request.synchronize.json", "c-push", |v| {
        v["pull_request"]["head"]["sha"] = json!(B_SHA);
    });
    fake.with(|s| s.head_sha = B_SHA.into());
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &push,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (B_SHA, Some("failure"))
    );
    assert!(!own(&fake).contains("accepted by"));
}

/// Under `label-events: benchmark` a command is recorded, not decided from
/// the results in a comment: the check run is `cancelled` (not passing)
/// with a reply saying when it applies; the next measuring run of the head
/// (a re-run of the pull request's workflow) decides with it. An accept
/// written before the head was pushed is refused with a reply.
#[test]
fn under_label_events_benchmark_a_command_applies_at_the_next_measuring_run() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.permissions.push(("maint".into(), "maintain".into())));
    let r = regressed(&co);
    let measure = ["--label-events", "benchmark", "--results", &r];
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &measure,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let ev = comment_event(
        &fake,
        &co,
        "b-accept",
        "maint",
        &format!("/bench-gate accept {METRIC} intended"),
        true,
    );
    let lb = ["--label-events", "benchmark"];
    let out = gate(&fake, &co, "issue_comment", &ev, &lb);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (HEAD, Some("cancelled")),
        "{}",
        text(&out)
    );
    assert!(
        replies(&fake)
            .iter()
            .any(|r| r.contains("applies at the next measuring run")),
        "{:?}",
        replies(&fake)
    );
    assert!(
        own(&fake).contains("Failed"),
        "the verdict shown is unchanged"
    );
    // The pull request's run again (a re-run): measured, and accepted.
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &measure,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (HEAD, Some("success"))
    );

    // A push; an accept written before it, re-run after it: refused.
    let pushed = co.results("pushed.json", 1900.0, 50);
    let push = payload(&co, "pull_request.synchronize.json", "b-push", |v| {
        v["pull_request"]["head"]["sha"] = json!(B_SHA);
    });
    let old = comment_event(
        &fake,
        &co,
        "b-old",
        "maint",
        &format!("/bench-gate accept {METRIC} again"),
        true,
    );
    fake.with(|s| s.head_sha = B_SHA.into());
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &push,
        &[
            "--label-events",
            "benchmark",
            "--results",
            pushed.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = gate(&fake, &co, "issue_comment", &old, &lb);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        replies(&fake)
            .iter()
            .any(|r| r.contains("was pushed after the comment was written")),
        "{:?}",
        replies(&fake)
    );
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (B_SHA, Some("failure"))
    );
    // A comment written on B, but a re-run of its workflow run (attempt 2):
    // a re-run accepts nothing.
    let new = comment_event(
        &fake,
        &co,
        "b-new",
        "maint",
        &format!("/bench-gate accept {METRIC} ok"),
        true,
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .current_dir(co.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", "issue_comment")
        .env("GITHUB_EVENT_PATH", &new)
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_RUN_ID", "78")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env("BENCH_GATE_RETRY_BASE_MS", "20")
        .args(["gate", "--label-events", "benchmark"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        replies(&fake)
            .iter()
            .any(|r| r.contains("a re-run accepts nothing")),
        "{:?}",
        replies(&fake)
    );
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
}

/// The gate's own comment with its record rewritten by `edit` (any
/// workflow can post as the gate's bot: the record is only as good as the
/// comment it sits in).
fn rewrite_record(fake: &FakeGitHub, edit: impl FnOnce(&mut bench_gate::github::state::GateState)) {
    use bench_gate::github::state;
    fake.with(|s| {
        let c = s
            .comments
            .iter_mut()
            .find(|c| c.user == "github-actions[bot]" && c.body.contains(MARKER))
            .expect("the gate's comment");
        let mut record = state::decode(&c.body).unwrap().unwrap();
        let start = c.body.find("<!-- bench-gate:state ").unwrap();
        let end = start + c.body[start..].find(" -->").unwrap() + 4;
        edit(&mut record);
        c.body = format!(
            "{}{}{}",
            &c.body[..start],
            state::encode(&record),
            &c.body[end..]
        );
    });
}

fn acceptance(by: &str, comment_id: u64) -> bench_gate::github::state::Acceptance {
    bench_gate::github::state::Acceptance {
        metric: METRIC.into(),
        by: by.into(),
        role: "maintain".into(),
        reason: "forged".into(),
        head_sha: HEAD.into(),
        at: "2026-11-27T10:00:00Z".into(),
        comment_id,
    }
}

/// Acceptances cannot be forged: a record naming a writer's comment, a
/// maintainer who did not write the comment named, a comment that is gone,
/// or one revoked later by a maintainer counts for nothing; a copy of the
/// gate's comment with an acceptance, by someone else, is never read.
#[test]
fn a_forged_acceptance_counts_for_nothing() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("writer".into(), "write".into()));
    });
    let reopened = |fake: &FakeGitHub| {
        let out = gate(
            fake,
            &co,
            "pull_request",
            "pull_request.reopened.json",
            &["--results", &regressed(&co)],
        );
        (out.status.code(), co.outputs()["result"].clone())
    };
    assert_eq!(reopened(&fake), (Some(2), "fail".into()));
    let accept = format!("/bench-gate accept {METRIC}");
    let by_writer = fake.with(|s| s.seed_comment(&accept, "writer"));
    let by_maint = fake.with(|s| s.seed_comment(&accept, "maint"));

    // The control: the maintainer's own comment, recorded, counts.
    rewrite_record(&fake, |r| {
        r.acceptances = vec![acceptance("maint", by_maint)]
    });
    assert_eq!(reopened(&fake), (Some(0), "overridden".into()));

    for (what, forged) in [
        ("a writer's comment", acceptance("writer", by_writer)),
        ("someone else's comment", acceptance("maint", by_writer)),
        ("a comment that is not there", acceptance("maint", 999_999)),
    ] {
        rewrite_record(&fake, |r| r.acceptances = vec![forged]);
        assert_eq!(reopened(&fake), (Some(2), "fail".into()), "{what}");
        let record = bench_gate::github::state::decode(&own(&fake))
            .unwrap()
            .unwrap();
        assert!(
            record.acceptances.is_empty(),
            "{what}: dropped from the record"
        );
    }

    // Revoked by a maintainer after it: no longer counts.
    rewrite_record(&fake, |r| {
        r.acceptances = vec![acceptance("maint", by_maint)]
    });
    fake.with(|s| s.seed_comment(&format!("/bench-gate revoke {METRIC}"), "maint"));
    assert_eq!(reopened(&fake), (Some(2), "fail".into()), "revoked");

    // A copy of the gate's comment, with an acceptance, by someone else.
    let body = own(&fake);
    let by_maint2 = fake.with(|s| s.seed_comment(&accept, "maint"));
    rewrite_record(&fake, |r| {
        r.acceptances = vec![acceptance("maint", by_maint2)]
    });
    let copy = own(&fake);
    fake.with(|s| {
        let c = s.comments.iter_mut().find(|c| c.body == copy).unwrap();
        c.body = body;
        s.seed_comment(&copy, "mallory");
    });
    assert_eq!(
        reopened(&fake),
        (Some(2), "fail".into()),
        "a copy is not read"
    );
}

/// A metric accepted on the queued pull request, for the queued head, is
/// accepted on the queue's commit too; a branch naming another head of the
/// pull request carries nothing.
#[test]
fn a_merge_queue_check_carries_the_acceptances_of_its_pull_request() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.head_sha = QUEUED.into();
        s.permissions.push(("maint".into(), "maintain".into()));
    });
    let opened = payload(&co, "pull_request.opened.json", "qa-open", |v| {
        v["pull_request"]["head"]["sha"] = json!(QUEUED);
    });
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &opened,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let ev = comment_event(
        &fake,
        &co,
        "qa-accept",
        "maint",
        &format!("/bench-gate accept {METRIC} intended"),
        true,
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let queue = event("merge_group.checks_requested.json")
        .display()
        .to_string();
    let out = gate(
        &fake,
        &co,
        "merge_group",
        &queue,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(
        (run.head_sha.as_str(), run.conclusion.as_deref()),
        (QUEUE_HEAD, Some("success"))
    );
    assert!(run.title.starts_with("Accepted: 1 metric"), "{}", run.title);

    let other = payload(&co, "merge_group.checks_requested.json", "qa-other", |v| {
        v["merge_group"]["head_ref"] = json!(format!(
            "refs/heads/gh-readonly-queue/main/pr-104-{}",
            "d".repeat(40)
        ));
    });
    let out = gate(
        &fake,
        &co,
        "merge_group",
        &other,
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
}

/// A copy of the gate's comment (marker, record, results for the head)
/// posted by a person is no ground for a `/bench-gate accept`: the gate
/// replies that it has no results yet, and creates no check run.
#[test]
fn an_acceptance_never_re_decides_from_someone_elses_results() {
    let co = Checkout::new();
    let first = FakeGitHub::start();
    let out = gate(
        &first,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed(&co)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let copy = own(&first);

    let fake = FakeGitHub::start();
    fake.with(|s| {
        s.permissions.push(("maint".into(), "maintain".into()));
        s.seed_comment(&copy, "mallory");
    });
    let ev = comment_event(
        &fake,
        &co,
        "x-accept",
        "maint",
        &format!("/bench-gate accept {METRIC}"),
        true,
    );
    let out = gate(&fake, &co, "issue_comment", &ev, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = replies(&fake);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].contains("the gate has no results for `ec26c3e`"),
        "{}",
        r[0]
    );
    assert!(fake.check_runs().is_empty());
    assert_eq!(co.outputs()["result"], "skipped");
}

/// A/B on a merge queue: the queue's base commit (`merge_group.base_sha`)
/// is measured side by side with its head, in a real git repository.
#[test]
fn a_merge_queue_is_measured_side_by_side_with_its_base() {
    let _serial = crate::support::serial();
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(co.dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  job:\n    command: [\"true\"]\n    iterations: 3\n    warmup: 0\n",
    )
    .unwrap();
    std::fs::remove_dir_all(co.path("baselines")).unwrap();
    std::fs::write(co.path(".gitignore"), "*.json\n*.md\n*.txt\n").unwrap();
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    std::fs::write(co.path("README"), "queued\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "queued"]);
    let head = git(&["rev-parse", "HEAD"]);
    let queue = payload(&co, "merge_group.checks_requested.json", "ab", |v| {
        v["merge_group"]["base_sha"] = json!(base);
        v["merge_group"]["head_sha"] = json!(head);
    });
    let out = gate(
        &fake,
        &co,
        "merge_group",
        &queue,
        &[
            "--ab",
            "pr-base",
            "--warn-threshold",
            "5000",
            "--fail-threshold",
            "10000",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = last_check(&fake);
    assert_eq!(run.head_sha, head);
    assert!(
        run.summary.contains(&format!(
            "Against the base commit `{}`, measured side by side",
            &base[..7]
        )),
        "{}",
        run.summary
    );
    assert_eq!(comment_writes(&fake), 0);
}
