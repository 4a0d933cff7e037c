//! Attacks on the gate's verdict (issue 13), each as a test of the real
//! binary against the stateful fake GitHub. A test here asserts the SAFE
//! outcome: one that fails is an attack that succeeds today. Each says who
//! the attacker is (pull-request author, commenter, collaborator with triage
//! or write access, a flaky network or API) and what they do.

use crate::support;

use assert_cmd::Command;
use base64::Engine;
use serde_json::{json, Value};
use support::{FakeGitHub, Fault};
use wiremock::ResponseTemplate;

use crate::gatekit::*;

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}

/// The gate's hidden record granting the override to `head`, as `by`.
fn state_block(by: &str, head: &str) -> String {
    let state = json!({"version": 1, "check": "bench-gate", "grant": {
        "label": LABEL, "by": by, "role": "maintain", "head_sha": head, "at": "2026-11-27T10:00:00Z"}});
    format!("<!-- bench-gate:state {} -->", b64(&state))
}

/// The gate's hidden results block, for `head`.
fn results_block(head: &str, results: &Value) -> String {
    let e = json!({"version": 1, "check": "bench-gate", "head_sha": head, "results": results});
    format!("<!-- bench-gate:results {} -->", b64(&e))
}

// ---------------------------------------------------------------------------
// The workflow_run publisher (the recommended setup)
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, with a maintainer's routine click): the
/// override given for commit A is carried to commit B by ANY run of B that
/// the maintainer triggers (a "Re-run jobs" after a crash, "Update branch",
/// a fixup commit pushed by the maintainer).
///
/// 1. A maintainer labels A; the publisher records the override for A.
/// 2. The author pushes B, five times slower, whose benchmark crashes on its
///    first run (the author's code can crash at will): no artifact, the
///    publisher refuses the run BEFORE looking at the label, so the label
///    given for A stays on.
/// 3. The maintainer re-runs B's failed job. `triggering_actor` is now the
///    maintainer, the timeline's latest `labeled` is theirs, so the
///    publisher treats the run as "the label applied now, to B".
///
/// Safe outcome: B fails; the label counts only for A.
/// Fault: src/github/gate.rs `workflow_run`, the `applied_now_by` match:
/// `triggering_actor` names who started the run, not who applied the label
/// to this head; the run's event (labeled or not) is not known there.
#[test]
fn a01_workflow_run_override_follows_the_maintainers_next_run() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fork_pr(&fake, WR_A);
    fake.with(|s| s.permissions.push(("maint".into(), "maintain".into())));
    // 0. A's first run (the author's push), published: it fails. (The
    //    triggering actor of a later run stands for the labeler only for a
    //    label applied after the gate's first decision for that head.)
    let a = artifact(&co, "a.json", WR_A, 1890.0);
    let by_author_a = run_payload(&co, "wr-a0", WR_A, "author");
    let out = gate(&fake, &co, "workflow_run", &by_author_a, &["--results", &a]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    fake.with(|s| {
        s.labels = vec![LABEL.into()];
        s.timeline
            .push(("labeled".into(), LABEL.into(), "maint".into()));
    });
    // 1. The labeled run of A, triggered by the maintainer: overridden.
    let by_maint_a = run_payload(&co, "wr-a", WR_A, "maint");
    let out = gate(&fake, &co, "workflow_run", &by_maint_a, &["--results", &a]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(co.outputs()["result"], "overridden");

    // 2. B, pushed by the author; its measuring job crashed: no artifact.
    fork_pr(&fake, B_SHA);
    let by_author_b = run_payload(&co, "wr-b-author", B_SHA, "author");
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        &by_author_b,
        &["--results", "no-such-artifact.json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        fake.with(|s| s.labels.contains(&LABEL.to_string())),
        "the label given for A is still on"
    );

    // 3. The maintainer re-runs B's job: B is five times slower.
    let b = artifact(&co, "b.json", B_SHA, 7500.0);
    let by_maint_b = run_payload(&co, "wr-b-maint", B_SHA, "maint");
    let out = gate(&fake, &co, "workflow_run", &by_maint_b, &["--results", &b]);
    let log = text(&out);
    assert_eq!(
        shown_conclusion(&fake, B_SHA).as_deref(),
        Some("failure"),
        "B was overridden by a label given for A: {log}\n{}",
        fake.comments()
            .last()
            .map(|c| c.body.clone())
            .unwrap_or_default()
    );
    assert_eq!(out.status.code(), Some(2), "{log}");
}

// ---------------------------------------------------------------------------
// Forged state
// ---------------------------------------------------------------------------

/// ATTACK (collaborator with write access, under the README's recommended
/// defence): the grant record is read from a comment that any workflow of
/// the repository can write as `github-actions[bot]`.
///
/// The README's defence against "a workflow of their own" is a ruleset that
/// requires the benchmark workflow to run from the default branch, plus
/// `label-events: benchmark` so that results are never read from a comment.
/// But the override RECORD still is: mallory (write access) pushes a branch
/// whose own workflow (not the required one; the ruleset does not stop it
/// from running) posts, as `github-actions[bot]`, a comment with the gate's
/// marker and a state block "granted by @maint (maintain) for HEAD". She
/// applies the label herself (write access can label; her own `labeled`
/// event is rightly refused), then closes and reopens the pull request. The
/// required workflow's gate reads the forged record, checks @maint's role
/// (a real maintainer) and overrides: the check turns green, and the job
/// exits 0 with --fail-on-regression.
///
/// Safe outcome: failure. A record can only be trusted when the timeline's
/// latest application of the label is by the recorded maintainer (or the
/// record is otherwise bound to something such a workflow cannot write).
/// Fault: src/github/gate.rs `commit_override` (the `state.grant` arm
/// trusts `g.by` without the timeline) and `own_state`.
#[test]
fn a02_a_grant_record_forged_as_the_gates_identity_overrides() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let regressed = co.path("regressed.json").display().to_string();
    let args = ["--label-events", "benchmark", "--results", &regressed];
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &args,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    fake.with(|s| {
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("mallory".into(), "write".into()));
        s.labels = vec![LABEL.into()];
        s.timeline
            .push(("labeled".into(), LABEL.into(), "mallory".into()));
    });
    // Her own labeled event: refused, rightly.
    let by_mallory = labeled(&co, "mallory", LABEL, "mallory", HEAD);
    let out = gate(&fake, &co, "pull_request", &by_mallory, &args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // Her branch's workflow posts as the gate's identity.
    fake.with(|s| {
        s.seed_comment(
            &format!(
                "{MARKER}\n{}\n### ❌ bench-gate: Failed",
                state_block("maint", HEAD)
            ),
            "github-actions[bot]",
        )
    });
    let reopened = payload(&co, "pull_request.reopened.json", "reopened", |v| {
        v["sender"]["login"] = json!("mallory");
    });
    let out = gate(&fake, &co, "pull_request", &reopened, &args);
    let log = text(&out);
    assert_eq!(
        last_check(&fake).conclusion.as_deref(),
        Some("failure"),
        "a forged record overrode: {log}\n{}",
        fake.comments().last().unwrap().body
    );
    assert_eq!(out.status.code(), Some(2), "{log}");
}

/// ATTACK (collaborator with write access, against a repository that posts
/// with a GitHub App token so that its check runs can be told apart): the
/// gate takes itself for `github-actions[bot]` and trusts that identity's
/// comments.
///
/// An App's installation token cannot read `GET /user` (403), so without
/// `gate-login` the gate assumes `github-actions[bot]`, the identity every
/// workflow's `GITHUB_TOKEN` posts as, and its own comments (`perf-app[bot]`)
/// are never found again. A workflow of mallory's branch posts, as
/// `github-actions[bot]`, the gate's marker and results five times faster
/// for the head; on the next label event the App re-decides from them and
/// sets `success` on a check whose source is the App. The warning "does not
/// know its own login" is printed only when the gate creates a comment: here
/// it updates the forged one (its "own") and prints nothing.
///
/// Safe outcome: failure, the forged comment untouched. A 403 from `GET
/// /user` cannot tell `GITHUB_TOKEN` from an App's token; assuming the most
/// widely shared identity is failing open.
/// Fault: src/github/gate.rs `identify` (the 403 arm).
#[test]
fn a03_an_app_token_trusts_comments_of_github_actions_bot() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.token_user = None;
        s.bot_login = "perf-app[bot]".into();
    });
    let regressed = co.path("regressed.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let mut fast = Checkout::results_value(300.0, 5);
    fast["github"] = json!({"repository": "Codertocat/Hello-World", "event": "pull_request", "pull_request": 2, "head_sha": HEAD});
    let forged_body = format!(
        "{MARKER}\n### ✅ bench-gate: Passed\n{}",
        results_block(HEAD, &fast)
    );
    let forged = fake.with(|s| s.seed_comment(&forged_body, "github-actions[bot]"));
    // Any label event (a triage user labels the pull request "bug").
    let out = gate(&fake, &co, "pull_request", "pull_request.labeled.json", &[]);
    let log = text(&out);
    assert_eq!(
        last_check(&fake).conclusion.as_deref(),
        Some("failure"),
        "the App re-decided from github-actions[bot]'s comment: {log}"
    );
    assert_eq!(
        fake.comments()
            .iter()
            .find(|c| c.id == forged)
            .map(|c| c.body.clone()),
        Some(forged_body),
        "someone else's comment was edited"
    );
}

/// Blocked (commenter): comments by look-alikes of the gate's login, each
/// with the marker, a grant for the head and results five times faster.
#[test]
fn a04_look_alike_logins_are_not_the_gate() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let regressed = co.path("regressed.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(2));
    let mut fast = Checkout::results_value(300.0, 5);
    fast["github"] = json!({"repository": "Codertocat/Hello-World", "event": "pull_request", "pull_request": 2, "head_sha": HEAD});
    let body = format!(
        "{MARKER}\n{}\n{}",
        state_block("maint", HEAD),
        results_block(HEAD, &fast)
    );
    let forged: Vec<u64> = fake.with(|s| {
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
        [
            "github-actions",
            "github\u{2010}actions[bot]",
            "\u{ff47}ithub-actions[bot]",
            "github-actions[bot]\u{200b}",
            "github-actions[bоt]",
            "",
        ]
        .iter()
        .map(|u| s.seed_comment(&body, u))
        .collect()
    });
    let out = gate(&fake, &co, "pull_request", "pull_request.labeled.json", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
    for id in forged {
        assert_eq!(
            fake.comments().iter().find(|c| c.id == id).unwrap().body,
            body
        );
    }
}

// ---------------------------------------------------------------------------
// Overrides and races
// ---------------------------------------------------------------------------

/// Blocked (race): the maintainer labels A while the author has already
/// pushed B. The `labeled` run for A stands down (it writes no record), B
/// fails, and B's later push run sees no grant.
#[test]
fn a05_a_label_for_a_commit_the_pull_request_has_left() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let regressed = co.path("regressed.json").display().to_string();
    let slow = co.results("slow.json", 7500.0, 20).display().to_string();
    gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed],
    );
    fake.with(|s| {
        s.head_sha = B_SHA.into();
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
    });
    let on_a = labeled(&co, "maint-a", LABEL, "maint", HEAD);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &on_a,
        &["--results", &regressed],
    );
    assert!(text(&out).contains("stood down"), "{}", text(&out));
    let sync_b = payload(&co, "pull_request.synchronize.json", "sync-b", |v| {
        v["pull_request"]["head"]["sha"] = json!(B_SHA);
    });
    let out = gate(&fake, &co, "pull_request", &sync_b, &["--results", &slow]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(shown_conclusion(&fake, B_SHA).as_deref(), Some("failure"));
}

/// Blocked (triage): a triage user removes the maintainer's label and
/// applies it again; the re-application is theirs and counts for nothing.
#[test]
fn a06_a_triage_user_relabels() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let regressed = co.path("regressed.json").display().to_string();
    fake.with(|s| {
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("tri".into(), "triage".into()));
    });
    let by_maint = labeled(&co, "maint", LABEL, "maint", HEAD);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &by_maint,
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    fake.with(|s| s.labels.clear());
    let unlabeled = payload(&co, "pull_request.unlabeled.json", "tri-off", |v| {
        v["label"]["name"] = json!(LABEL);
        v["sender"]["login"] = json!("tri");
    });
    let out = gate(&fake, &co, "pull_request", &unlabeled, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    fake.with(|s| s.labels = vec![LABEL.into()]);
    let by_tri = labeled(&co, "tri-on", LABEL, "tri", HEAD);
    let out = gate(&fake, &co, "pull_request", &by_tri, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
}

/// Blocked (race): B's push run finishes before A's `labeled` run, which
/// read the head before B arrived and so records the grant for A last. A
/// later label event on B (a triage user's "bug") removes the stale label.
#[test]
fn a07_labeled_and_synchronize_runs_race() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let regressed = co.path("regressed.json").display().to_string();
    let slow = co.results("slow.json", 7500.0, 20).display().to_string();
    gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed],
    );
    fake.with(|s| {
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
        s.permissions.push(("tri".into(), "triage".into()));
        s.head_sha = B_SHA.into();
    });
    let sync_b = payload(&co, "pull_request.synchronize.json", "sync-b", |v| {
        v["pull_request"]["head"]["sha"] = json!(B_SHA);
    });
    let out = gate(&fake, &co, "pull_request", &sync_b, &["--results", &slow]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // A's labeled run, which saw the head at A.
    fake.with(|s| s.head_sha = HEAD.into());
    let on_a = labeled(&co, "maint-a", LABEL, "maint", HEAD);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        &on_a,
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    fake.with(|s| s.head_sha = B_SHA.into());
    let bug_on_b = labeled(&co, "tri-bug", "bug", "tri", B_SHA);
    let out = gate(&fake, &co, "pull_request", &bug_on_b, &["--results", &slow]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(shown_conclusion(&fake, B_SHA).as_deref(), Some("failure"));
    assert!(fake.with(|s| s.labels.is_empty()));
}

/// LOST DATA (race, or anyone who can re-run a workflow): a run for an
/// older head removes the maintainer's override of the current head.
///
/// The author pushes A then B; A's run is queued behind others. The
/// maintainer overrides B (label, record for B). A's run finally starts: it
/// finds a grant "for another commit" and removes the label, saying "apply
/// the label again to override A", although the pull request is at B, and
/// only then notices it is stale. B's override is gone: the next event on
/// B fails it again. A re-run of any old run does the same on purpose.
///
/// Safe outcome: a run whose head is not the pull request's current head
/// changes nothing (the label stays).
/// Fault: src/github/gate.rs `pull_request` calls `commit_override` (which
/// removes the label) before `decide_and_publish` checks for staleness.
#[test]
fn a08_a_stale_run_removes_the_current_heads_override() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let slow = co.results("slow.json", 7500.0, 20).display().to_string();
    fake.with(|s| {
        s.head_sha = B_SHA.into();
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
    });
    let on_b = labeled(&co, "maint-b", LABEL, "maint", B_SHA);
    let out = gate(&fake, &co, "pull_request", &on_b, &["--results", &slow]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The queued run for A (GitHub's example synchronize payload is at A).
    let regressed = co.path("regressed.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--results", &regressed],
    );
    assert!(text(&out).contains("stood down"), "{}", text(&out));
    assert!(
        fake.with(|s| s.labels.contains(&LABEL.to_string())),
        "a stale run removed the override of the current head: {}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// Setup changes that go unseen
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author): hide a baseline change behind GitHub's
/// 3000-file cap on `GET /pulls/{n}/files`.
///
/// GitHub documents that this list "includes a maximum of 3000 files", with
/// no error and no further page; `GET /pulls/{n}` says how many really
/// changed (`changed_files`). A pull request that adds 3000 files sorting
/// before `baselines/` (say `assets/0000…2999`) and rewrites the baseline
/// shows the gate exactly those 3000: "setup unchanged", and the weakened
/// baseline decides.
///
/// Safe outcome: a list at the cap (or shorter than `changed_files`) is
/// incomplete, so the setup "could not be checked" and the check fails.
/// Fault: src/github/api.rs `pull_files` / src/github/gate.rs
/// `decide_and_publish` take the list as complete.
#[test]
fn a09_a_baseline_change_behind_the_3000_file_cap() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.page_size = 100;
        // What GitHub answers for a pull request of 3001 files, the last
        // being baselines/v1.12.0.yaml.
        s.files = (0..3000).map(|i| format!("assets/{i:04}.txt")).collect();
    });
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    assert_eq!(
        last_check(&fake).conclusion.as_deref(),
        Some("failure"),
        "a file list at GitHub's cap was taken as complete: {}",
        last_check(&fake).title
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// ATTACK (pull-request author): change the local composite action that the
/// measuring workflow runs (`uses: ./.github/actions/benchmark`), e.g. to
/// pass `--missing ignore`, to drop a scenario, or to upload another file as
/// the artifact. Only `.github/workflows/` is protected, so the change is
/// not a "setup change", although it changes the workflow's steps exactly
/// as an edit of the workflow file would.
///
/// Safe outcome: "Benchmark setup changed" (failure until approved).
/// Fault: src/app.rs `protected_paths` (`.github/workflows` only; local
/// actions, e.g. all of `.github/`, or the paths the workflows `uses: ./`).
#[test]
fn a10_a_local_action_the_workflow_runs_is_setup() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.files = vec![".github/actions/benchmark/action.yml".into()]);
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    assert_eq!(
        last_check(&fake).conclusion.as_deref(),
        Some("failure"),
        "{}",
        last_check(&fake).title
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// ATTACK (pull-request author, one-job setup): delete a data file that
/// `bench-gate.yml` names. Only files that exist in the checkout are
/// protected, and in the pull request's checkout the deleted file does not
/// exist, so deleting it (the benchmark then does less work, or a command
/// that tolerates a missing input is faster) is not a setup change.
///
/// Safe outcome: "Benchmark setup changed (data/interviews.csv)".
/// Fault: src/workload/config.rs `named_paths` (`p.exists()`) and
/// src/app.rs `protected_paths` (`relative` canonicalises, so needs the file).
#[test]
fn a11_deleting_a_named_data_file_is_not_a_setup_change() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::create_dir(co.path("data")).unwrap();
    std::fs::write(co.path("data/other.csv"), "a\n").unwrap();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  single:\n    command: ./bench data/interviews.csv data/other.csv\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    fake.with(|s| s.files = vec!["data/interviews.csv".into()]);
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    assert_eq!(
        last_check(&fake).title,
        "Benchmark setup changed: needs a maintainer's approval (data/interviews.csv)",
        "{}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Blocked (pull-request author): move the baseline out of `baselines/`
/// (GitHub lists a rename under the new name with `previous_filename`).
#[test]
fn a12_a_baseline_renamed_out_of_the_folder() {
    let fake = FakeGitHub::start_hooked(Box::new(|req, _| {
        (req.method.as_str() == "GET" && req.url.path().ends_with("/pulls/2/files")).then(|| {
            ResponseTemplate::new(200).set_body_json(json!([
                {"filename": "attic/v1.12.0.yaml", "previous_filename": "baselines/v1.12.0.yaml", "status": "renamed"}
            ]))
        })
    }));
    let co = Checkout::new();
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(last_check(&fake).title.contains("(baselines/v1.12.0.yaml)"));
}

/// Blocked (pull-request author): `compare: missing: ignore` in the pull
/// request's own `bench-gate.yml`, with the regressed metric dropped from
/// the results: the config change needs approval.
#[test]
fn a13_missing_ignore_in_the_pull_requests_own_config() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("bench-gate.yml"),
        "scenarios:\n  single:\n    command: [\"true\"]\n    metrics:\n      generation.batch_10.latency_p50_ms: wall_ms.p50\ncompare:\n  missing: ignore\n",
    )
    .unwrap();
    let mut r = Checkout::results_value(1890.0, 5);
    r["metrics"]
        .as_object_mut()
        .unwrap()
        .remove("generation.single.latency_p50_ms");
    let dropped = co.write("dropped.json", &r);
    fake.with(|s| s.files = vec!["bench-gate.yml".into()]);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &dropped],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        last_check(&fake).title,
        "Benchmark setup changed: needs a maintainer's approval (bench-gate.yml)"
    );
}

// ---------------------------------------------------------------------------
// Results that should never pass
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, in the two-workflow setup the fork's
/// artifact): negative durations. Only finiteness is checked, so -1890 ms
/// for a latency is a "-226%" improvement and the check passes. No clock
/// measures a negative duration or a negative peak memory: such a file was
/// written by hand.
///
/// Safe outcome: refused as bad input (exit 3), the check failing.
/// Fault: src/results.rs `check_metrics` (finite only; nothing on sign for
/// units ms/s/MB).
#[test]
fn a14_negative_durations_are_refused() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let negative = co
        .results("negative.json", -1890.0, 20)
        .display()
        .to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &negative],
    );
    assert_ne!(
        last_check(&fake).conclusion.as_deref(),
        Some("success"),
        "{}",
        last_check(&fake).summary
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

/// Blocked (pull-request author): a metric renamed only in case is missing
/// (and its look-alike is new); it fails.
#[test]
fn a15_a_metric_renamed_only_in_case() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let mut r = Checkout::results_value(1890.0, 5);
    let m = r["metrics"]
        .as_object_mut()
        .unwrap()
        .remove("generation.single.latency_p50_ms")
        .unwrap();
    r["metrics"]["Generation.single.latency_p50_ms"] = m;
    let renamed = co.write("renamed.json", &r);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &renamed],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
}

// ---------------------------------------------------------------------------
// A flaky network or API
// ---------------------------------------------------------------------------

/// Blocked (flaky API): every list answers with a pagination link to
/// another host (incomplete lists): no comment state, no file list, no
/// timeline; nothing is approved.
#[test]
fn a16_every_list_incomplete() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        s.page_size = 1;
        s.foreign_next_link = true;
        s.files = vec!["src/a.rs".into(), "src/b.rs".into()];
        s.labels = vec![LABEL.into()];
        s.permissions.push(("maint".into(), "maintain".into()));
        s.timeline
            .push(("labeled".into(), LABEL.into(), "maint".into()));
        s.timeline
            .push(("labeled".into(), "bug".into(), "maint".into()));
    });
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.synchronize.json",
        &["--override-scope", "pull-request", "--results", &clean],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(last_check(&fake).conclusion.as_deref(), Some("failure"));
}

/// LOST DATA (flaky API): the answer to creating the check run is lost (it
/// was created). The retry looks for "a check run of that name for the
/// commit" and takes the FIRST one listed: an older, completed run of an
/// earlier event for the same commit. The gate completes that old run, and
/// the one it just created stays `in_progress` forever (a required check
/// then never resolves).
///
/// Safe outcome: no check run left in progress.
/// Fault: src/github/api.rs `create_check_run` (`find_map` over every run
/// of the name, not the one created `in_progress` at `started_at`).
#[test]
fn a17_a_lost_create_answer_adopts_an_older_check_run() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let regressed = co.path("regressed.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(2));
    fake.with(|s| {
        s.faults.push(Fault {
            method: "POST",
            path: "/check-runs",
            status: 502,
            retry_after: None,
            apply: true,
        })
    });
    // A re-run for the same commit.
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.reopened.json",
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let open: Vec<_> = fake
        .check_runs()
        .into_iter()
        .filter(|r| r.status != "completed")
        .collect();
    assert!(open.is_empty(), "left in progress: {open:?}");
}

/// LOST DATA (flaky API): completing the check run answers 502 on every
/// attempt. The gate prints a warning and exits with the verdict's code (0
/// here); the run stays `in_progress` for ever. The error path that
/// completes a check run as `failure` ("Any error after the check run was
/// created completes it") is not taken: the error is swallowed inside
/// `decide_and_publish`, which returns Ok. One more attempt would have
/// worked (the fake fails exactly the four retried ones).
///
/// Safe outcome: the check run is completed (or the job fails, exit 3).
/// Fault: src/github/gate.rs `decide_and_publish` (the `complete_check_run`
/// result: warning only) and `publish` (completes on Err only).
#[test]
fn a18_check_completion_failing_leaves_it_in_progress() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| {
        for _ in 0..4 {
            s.faults.push(Fault {
                method: "PATCH",
                path: "/check-runs/",
                status: 502,
                retry_after: None,
                apply: false,
            });
        }
    });
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    let run = last_check(&fake);
    assert!(
        run.status == "completed" || out.status.code() == Some(3),
        "check left {} and the job exits {:?}: {}",
        run.status,
        out.status.code(),
        text(&out)
    );
}

/// ATTACK (flaky API or a proxy in front of it): an error body is copied
/// into the public comment. The gate masks the token in the log
/// (`::add-mask::`), but a comment is not a log: when the permission lookup
/// fails, "the permission of @maint could not be read: <the API's message>"
/// is posted verbatim (escaped as Markdown, not redacted). A proxy or API
/// error page that echoes the request (its `Authorization` header) puts the
/// token in a comment anyone can read.
///
/// Safe outcome: the token appears in no comment and no check run.
/// Fault: src/github/gate.rs `role_for_override` (and the timeline reason in
/// `override_state`, `SetupCheck::Unknown`): API messages reach the comment
/// and check run with no redaction of the token.
#[test]
fn a19_an_api_error_body_echoing_the_token_reaches_the_comment() {
    let fake = FakeGitHub::start_hooked(Box::new(|req, _| {
        req.url.path().ends_with("/collaborators/maint/permission").then(|| {
            ResponseTemplate::new(502).set_body_json(json!({
                "message": format!("upstream error; request was GET with Authorization: token {TOKEN}")
            }))
        })
    }));
    let co = Checkout::new();
    fake.with(|s| s.labels = vec![LABEL.into()]);
    let regressed = co.path("regressed.json").display().to_string();
    let on = labeled(&co, "maint", LABEL, "maint", HEAD);
    let out = run_gate(&fake, &co, "pull_request", &on, &["--results", &regressed]);
    let comment = fake
        .comments()
        .last()
        .map(|c| c.body.clone())
        .unwrap_or_default();
    assert!(
        !comment.contains(TOKEN) && !comment.contains(&TOKEN[..20]),
        "the token is in the pull request's comment:\n{comment}"
    );
    assert!(!last_check(&fake).summary.contains(TOKEN));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// ATTACK (flaky API or proxy): an error body with a line that is a
/// workflow command. `eprintln!("warning: …: {e}")` prints API messages
/// raw; the runner reads commands on stderr too, so `::error …::` becomes a
/// forged annotation and `::stop-commands::x` silences every later
/// annotation of the gate (its `::error` lines on a read-only token).
///
/// Safe outcome: no line from data starts with `::` or holds `##[`.
/// Fault: every `eprintln!` of an `ApiError` in src/github/gate.rs and the
/// retry line in src/github/api.rs `request` (not passed through
/// `escape::log_text`, unlike the final error in src/main.rs).
#[test]
fn a20_an_api_error_body_cannot_run_workflow_commands() {
    let fake = FakeGitHub::start_hooked(Box::new(|req, _| {
        (req.method.as_str() == "GET" && req.url.path().ends_with("/issues/2/comments")).then(
            || {
                ResponseTemplate::new(502).set_body_json(json!({
                    "message": "bad gateway\n::stop-commands::pwned\n::error title=bench-gate::forged ##[error]forged"
                }))
            },
        )
    }));
    let co = Checkout::new();
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &clean],
    );
    let bad: Vec<String> = text(&out)
        .lines()
        .filter(|l| l.contains("forged") || l.contains("pwned"))
        .filter(|l| l.trim_start().starts_with("::") || l.contains("##["))
        .map(str::to_string)
        .collect();
    assert!(
        bad.is_empty(),
        "workflow commands from an API body: {bad:#?}"
    );
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, one-job setup): `secrets: pass_through:
/// [GITHUB_TOKEN]` in the pull request's own `bench-gate.yml`. The change is
/// flagged as a setup change, but only in the verdict, after the benchmark
/// ran: the pull request's command has already been given the write token.
/// (Defence in depth only, as the README says; still, the key that lets a
/// secret through is honoured from a config that nobody approved.)
///
/// Safe outcome: a `pass_through` that the pull request itself adds is not
/// honoured (or the run refuses before benchmarking).
/// Fault: src/workload/config.rs `secrets` / src/measure/env.rs (the policy
/// comes from the checkout's config, whatever its origin).
#[test]
fn a21_the_pull_requests_own_config_lets_the_token_through() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::write(
        co.path("bench-gate.yml"),
        "secrets:\n  pass_through: [GITHUB_TOKEN]\nscenarios:\n  single:\n    command: [\"sh\", \"-c\", \"env > stolen.txt\"]\n    iterations: 1\n    warmup: 0\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n",
    )
    .unwrap();
    fake.with(|s| s.files = vec!["bench-gate.yml".into()]);
    let out = gate(&fake, &co, "pull_request", "pull_request.opened.json", &[]);
    let stolen = std::fs::read_to_string(co.path("stolen.txt")).unwrap_or_default();
    assert!(
        !stolen.contains(TOKEN),
        "the benchmarked command got GITHUB_TOKEN from the pull request's own config"
    );
    // Refused before anything ran, naming the entry.
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(stolen.is_empty(), "the command ran: {}", text(&out));
    assert!(
        text(&out).contains("GITHUB_TOKEN is the job's own credential"),
        "{}",
        text(&out)
    );
    // No check turned green (an error before the run is set up leaves none,
    // which a required check reads as pending).
    assert!(
        fake.check_runs()
            .iter()
            .all(|r| r.conclusion.as_deref() == Some("failure")),
        "{:?}",
        fake.check_runs()
    );
}

/// ATTACK (pull-request author, against a common configuration): with an
/// absolute `baselines-dir` (`${{ github.workspace }}/baselines`, a usual
/// way to write paths in a workflow) or one that climbs (`../../baselines`
/// from a `working-directory`), the protected "baselines folder" is the
/// string `"{prefix}{dir}"` without normalisation (`/home/runner/…` or
/// `sub/../../baselines`), which no repository-relative path in the file
/// list ever equals: a pull request that rewrites the baseline it is
/// compared with is not a setup change.
///
/// Safe outcome: "Benchmark setup changed (baselines/v1.12.0.yaml)".
/// Fault: src/app.rs `protected_paths` (the baselines folder is not made
/// repository-relative the way `relative()` does for the config).
#[test]
fn a22_an_absolute_baselines_dir_protects_nothing() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fake.with(|s| s.files = vec!["baselines/v1.12.0.yaml".into()]);
    let dir = co.path("baselines").display().to_string();
    let clean = co.path("clean.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--baselines-dir", &dir, "--results", &clean],
    );
    assert_eq!(
        last_check(&fake).title,
        "Benchmark setup changed: needs a maintainer's approval (baselines/v1.12.0.yaml)",
        "{}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Robustness (careless user): a token with a control character (a secret
/// pasted with one) makes octocrab panic (exit 101, a backtrace) instead of
/// a clear error (exit 3). Fails closed, but "never panic".
/// Fault: src/github/api.rs `GitHub::new` (octocrab's builder unwraps an
/// invalid header value).
#[test]
fn a23_a_token_with_a_control_character_is_bad_input_not_a_panic() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let clean = co.path("clean.json").display().to_string();
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(co.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event("pull_request.opened.json"))
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", "ghs_sec\u{1}ret")
        .args(["gate", "--results", &clean])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
}

/// LOST DATA (a cancelled job on a slow API): a label event that re-decides
/// from the comment creates its check run and completes it later with no
/// interrupt hook in between. When completing it is being retried (5xx,
/// back-off) and the job is cancelled, the process dies on SIGTERM without
/// completing it: the check stays `in_progress` for ever. (The benchmarking
/// path registers `OpenCheck`, which marks it `cancelled`.)
///
/// Safe outcome: the check run is completed (`cancelled`).
/// Fault: src/github/gate.rs `decide_and_publish`, the `None =>` arm that
/// creates and completes a check run without `OpenCheck`.
#[cfg(unix)]
#[test]
fn a24_a_cancelled_label_event_leaves_its_check_in_progress() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let regressed = co.path("regressed.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(2));
    let first = fake.check_runs().len();
    fake.with(|s| {
        for _ in 0..3 {
            s.faults.push(Fault {
                method: "PATCH",
                path: "/check-runs/",
                status: 502,
                retry_after: None,
                apply: false,
            });
        }
    });
    let patches = || {
        fake.requests()
            .iter()
            .filter(|(m, p, _)| m == "PATCH" && p.contains("/check-runs/"))
            .count()
    };
    let before = patches();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .current_dir(co.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event("pull_request.labeled.json"))
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .env("GITHUB_API_URL", &fake.uri)
        .env("GITHUB_TOKEN", TOKEN)
        .env("BENCH_GATE_RETRY_BASE_MS", "3000")
        .arg("gate")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while patches() == before {
        assert!(std::time::Instant::now() < deadline, "no completion tried");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Cancelled while the completion waits to be retried.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap();
    let runs = fake.check_runs();
    assert_eq!(runs.len(), first + 1, "{runs:?}");
    let run = runs.last().unwrap();
    assert_eq!(run.status, "completed", "left in progress: {run:?}");
}

/// ATTACK (flaky API, plus a collaborator with write access): with a
/// personal token (the gate is `perf-bot`), a rate-limited `GET /user`
/// (403 "API rate limit exceeded", after the retries) is read as "an
/// installation token", so the gate takes itself for `github-actions[bot]`
/// for that run and re-decides from a comment any workflow could post as
/// `github-actions[bot]`.
///
/// Safe outcome: the run fails (it cannot tell its own comments), the
/// forged comment untouched.
/// Fault: src/github/gate.rs `identify` (any 403, rate limits included,
/// becomes `github-actions[bot]`).
#[test]
fn a25_a_rate_limited_get_user_makes_a_personal_token_trust_github_actions_bot() {
    let limited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let l = limited.clone();
    let fake = FakeGitHub::start_hooked(Box::new(move |req, _| {
        (l.load(std::sync::atomic::Ordering::SeqCst) && req.url.path() == "/user").then(|| {
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "API rate limit exceeded for user ID 1."}))
        })
    }));
    let co = Checkout::new();
    fake.with(|s| {
        s.token_user = Some("perf-bot".into());
        s.bot_login = "perf-bot".into();
    });
    let regressed = co.path("regressed.json").display().to_string();
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &regressed],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let mut fast = Checkout::results_value(300.0, 5);
    fast["github"] = json!({"repository": "Codertocat/Hello-World", "event": "pull_request", "pull_request": 2, "head_sha": HEAD});
    let forged_body = format!(
        "{MARKER}\n### ✅ bench-gate: Passed\n{}",
        results_block(HEAD, &fast)
    );
    let forged = fake.with(|s| s.seed_comment(&forged_body, "github-actions[bot]"));
    limited.store(true, std::sync::atomic::Ordering::SeqCst);
    let out = gate(&fake, &co, "pull_request", "pull_request.labeled.json", &[]);
    assert_ne!(
        last_check(&fake).conclusion.as_deref(),
        Some("success"),
        "re-decided from github-actions[bot]'s comment: {}",
        text(&out)
    );
    assert_eq!(
        fake.comments()
            .iter()
            .find(|c| c.id == forged)
            .map(|c| c.body.clone()),
        Some(forged_body)
    );
}

/// Blocked (any GitHub user with a fork): mallory pushes PR 2's very head
/// commit to a branch of her fork named like PR 2's branch (`changes`),
/// opens her own pull request from it, and makes her run's artifact name
/// PR 2. The head repository differs: refused, nothing posted on PR 2.
/// (The refusal's failing check lands on the shared commit, so on PR 2's
/// check too; check runs belong to commits, so any pull request with the
/// same head commit can do that: GitHub's model, not the gate's.)
#[test]
fn a26_a_fork_branch_named_like_the_pull_requests_with_its_commit() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let clean = artifact(&co, "clean-pr2.json", HEAD, 1500.0);
    let wr = payload(&co, "workflow_run.completed.json", "mallory", |v| {
        v["workflow_run"]["event"] = json!("pull_request");
        v["workflow_run"]["pull_requests"] = json!([]);
        v["workflow_run"]["head_sha"] = json!(HEAD);
        v["workflow_run"]["head_branch"] = json!("changes");
        v["workflow_run"]["head_repository"]["full_name"] = json!("mallory/Hello-World");
        v["workflow_run"]["triggering_actor"]["login"] = json!("mallory");
    });
    let out = gate(&fake, &co, "workflow_run", &wr, &["--results", &clean]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(fake.comments().is_empty());
    assert_ne!(last_check(&fake).conclusion.as_deref(), Some("success"));
}

/// Blocked (pull-request author): a fork branch named with markup (git
/// allows `<`, `!`, `@`, `#`, backticks in branch names) reaches the
/// refusal's check summary and the log escaped.
#[test]
fn a27_a_branch_name_with_markup_in_the_refusal() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let clean = artifact(&co, "clean-pr2.json", HEAD, 1500.0);
    let branch = "x<!--@maint`#1<img/src=x>";
    let wr = payload(&co, "workflow_run.completed.json", "markup", |v| {
        v["workflow_run"]["event"] = json!("pull_request");
        v["workflow_run"]["pull_requests"] = json!([]);
        v["workflow_run"]["head_sha"] = json!(HEAD);
        v["workflow_run"]["head_branch"] = json!(branch);
    });
    let out = gate(&fake, &co, "workflow_run", &wr, &["--results", &clean]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let summary = last_check(&fake).summary;
    assert!(summary.contains("x"), "{summary}");
    // In a fenced code block (`#1` is inert there); the rest broken up.
    assert!(summary.contains("\n```\n"), "{summary}");
    for raw in ["<!--", "@maint", "<img"] {
        assert!(!summary.contains(raw), "{raw} in {summary}");
    }
    assert!(!text(&out)
        .lines()
        .any(|l| l.trim_start().starts_with("::") && l.contains("maint")));
}
