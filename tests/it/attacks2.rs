//! Second round of attacks on the gate's verdict (issue 13), on the
//! restructured gate (route → outcome → sinks). As in `attacks.rs`, each
//! test asserts the SAFE outcome: a failing test is an attack that works.

use crate::support;

use serde_json::json;
use support::{FakeGitHub, Fault};
use wiremock::ResponseTemplate;

use crate::gatekit::*;

/// What a required status check accepts as passing.
fn passes_required_check(c: Option<&str>) -> bool {
    matches!(c, Some("success" | "neutral" | "skipped"))
}

// ---------------------------------------------------------------------------
// b01: a stand-down chosen by the artifact
// ---------------------------------------------------------------------------

/// ATTACK (any GitHub user with a fork, two-workflow setup): the artifact
/// names ANOTHER open pull request (#3, anyone's) whose head is not this
/// run's commit. The publisher reads #3, sees that "the pull request has
/// moved on", and stands down: the check run on the fork's head commit A
/// is completed `skipped`, exit 0, BEFORE the head repository/branch of #3
/// is compared with the run's and before the setup check. `skipped`
/// passes a required check, so the fork's PR #2 at A (5x slower, with its
/// measuring workflow changed to upload the crafted artifact: a setup
/// change nobody looks at) is mergeable. No race, no maintainer needed.
///
/// Safe outcome: the check on A does not pass (refused: #3's head
/// repository/branch are not the run's).
/// Fault: src/github/route.rs `workflow_run`: the `current.head_sha !=
/// run.head_sha` stand-down comes before the head repo/branch check, and
/// the pull request number comes from the artifact (a fork's run has no
/// `pull_requests`); src/github/sinks.rs `stood_down` completes the run's
/// own commit as `skipped`.
#[test]
fn b01_an_artifact_naming_another_pull_request_makes_the_check_skipped() {
    let other_head = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";
    let fake = FakeGitHub::start_hooked(Box::new(move |req, _| {
        (req.method.as_str() == "GET" && req.url.path().ends_with("/pulls/3")).then(|| {
            ResponseTemplate::new(200).set_body_json(json!({
                "number": 3, "state": "open",
                "head": {"sha": other_head, "ref": "feature", "repo": {"full_name": "someone/Hello-World"}},
                "base": {"sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "ref": "master"},
                "labels": [], "changed_files": 1,
            }))
        })
    }));
    let co = Checkout::new();
    fork_pr(&fake, WR_A);
    fake.with(|s| {
        s.files = vec![
            "src/lib.rs".into(),
            ".github/workflows/benchmark.yml".into(),
        ]
    });
    let crafted = artifact_for(&co, "crafted.json", 3, WR_A, 7500.0);
    let wr = run_payload(&co, "b01", WR_A, "mallory");
    let out = gate(&fake, &co, "workflow_run", &wr, &["--results", &crafted]);
    let shown = shown_conclusion(&fake, WR_A);
    assert!(
        !passes_required_check(shown.as_deref()),
        "PR #2's head {WR_A} shows bench-gate {shown:?} (exit {:?}): {}",
        out.status.code(),
        text(&out)
    );
}

/// ATTACK (pull-request author, two-workflow setup): the `skipped` a real
/// stand-down leaves is on a commit that can become the head again. The
/// author pushes A (5x slower), and B right after; A's publisher stands
/// down (`skipped` on A). Then the author force-pushes A back: until A's
/// new measuring run has finished (minutes: the whole benchmark), the
/// check GitHub shows for the head A is `skipped`, which passes a required
/// check (auto-merge merges in that window).
///
/// Safe outcome: a stand-down leaves nothing that passes on its commit.
/// Fault: src/github/sinks.rs `stood_down` (`skipped`).
#[test]
fn b02_a_stand_down_leaves_a_passing_check_on_a_commit_that_returns() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fork_pr(&fake, B_SHA); // B was pushed before A's publisher ran
    let a = artifact_for(&co, "a.json", 2, WR_A, 7500.0);
    let wr = run_payload(&co, "b02", WR_A, "author");
    let out = gate(&fake, &co, "workflow_run", &wr, &["--results", &a]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    fork_pr(&fake, WR_A); // force-pushed back to A
    let shown = shown_conclusion(&fake, WR_A);
    assert!(
        !passes_required_check(shown.as_deref()),
        "head {WR_A} (5x slower) shows bench-gate {shown:?}"
    );
}

// ---------------------------------------------------------------------------
// b03: a label the gate has no record of, "applied now" by any maintainer run
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, two-workflow setup, with a maintainer's
/// routine click): a label with no record is never taken off, and any run
/// a maintainer triggers later (the README's measuring workflow runs on
/// every label event, so adding an unrelated label such as `needs-review`
/// is enough) counts as the override "applied now" to whatever the head is.
///
/// 1. A maintainer applies the override label to A while no decision for A
///    exists yet (A's run has not published): the labeled run's publisher
///    has not "decided for this head before", so nothing is recorded.
/// 2. A is decided (fail); the label stays on (no record: not "stale").
/// 3. The author pushes B, 5x slower: fail; the label STILL stays on.
/// 4. The maintainer adds the label `needs-review` to the pull request:
///    its measuring run (triggering actor: the maintainer) is published;
///    the timeline's latest application of the override label is the
///    maintainer's (at A), the gate has decided for B before: B is
///    "Overridden", green.
///
/// Safe outcome: B fails; the label was never applied to B.
/// Fault: src/github/route.rs `workflow_run` (`applied_now_by`: the
/// triggering actor of a run is not who applied the label, nor when), and
/// src/github/outcome.rs `commit_override` (a label without a record is
/// left on, so it keeps meaning something).
#[test]
fn b03_a_maintainers_unrelated_label_event_overrides_a_new_commit() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fork_pr(&fake, WR_A);
    fake.with(|s| {
        s.labels = vec![LABEL.into()];
        s.timeline
            .push(("labeled".into(), LABEL.into(), "maint".into()));
        s.permissions.push(("maint".into(), "maintain".into()));
    });
    // 1. The labeled run of A publishes first: nothing recorded.
    let a = artifact_for(&co, "a.json", 2, WR_A, 1890.0);
    let by_maint_a = run_payload(&co, "b03-a-maint", WR_A, "maint");
    let out = gate(&fake, &co, "workflow_run", &by_maint_a, &["--results", &a]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // 2. A's own run (the author's push).
    let by_author_a = run_payload(&co, "b03-a-author", WR_A, "author");
    let out = gate(&fake, &co, "workflow_run", &by_author_a, &["--results", &a]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // 3. B, pushed by the author.
    fork_pr(&fake, B_SHA);
    let b = artifact_for(&co, "b.json", 2, B_SHA, 7500.0);
    let by_author_b = run_payload(&co, "b03-b-author", B_SHA, "author");
    let out = gate(&fake, &co, "workflow_run", &by_author_b, &["--results", &b]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let label_still_on = fake.with(|s| s.labels.contains(&LABEL.to_string()));
    // 4. The maintainer adds `needs-review`: a run of B triggered by them.
    fake.with(|s| {
        s.labels.push("needs-review".into());
        s.timeline
            .push(("labeled".into(), "needs-review".into(), "maint".into()));
    });
    let by_maint_b = run_payload(&co, "b03-b-maint", B_SHA, "maint");
    let out = gate(&fake, &co, "workflow_run", &by_maint_b, &["--results", &b]);
    assert_eq!(
        shown_conclusion(&fake, B_SHA).as_deref(),
        Some("failure"),
        "B (5x slower) was overridden by a label applied to A (label left on after B's first run: {label_still_on}): {}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(2));
}

/// ATTACK (pull-request author, with a flaky API): the override recorded
/// for A is lost when the comments cannot be read at B's publish (a
/// warning, "starting afresh"), so the label given for A is not taken off,
/// the record is overwritten, and the maintainer's next run of B (a
/// re-run, or any label event) overrides B.
///
/// Safe outcome: B fails; an unreadable record fails closed (the label
/// given for another commit is not left meaning something).
/// Fault: src/github/route.rs `own_state` (a comments error is "no state"),
/// then as b03.
#[test]
fn b04_unreadable_comments_lose_the_record_and_keep_the_label() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    fork_pr(&fake, WR_A);
    fake.with(|s| s.permissions.push(("maint".into(), "maintain".into())));
    let a = artifact_for(&co, "a.json", 2, WR_A, 1890.0);
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        &run_payload(&co, "b04-a0", WR_A, "author"),
        &["--results", &a],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // The maintainer labels A after its first decision.
    fake.with(|s| {
        s.labels = vec![LABEL.into()];
        s.timeline
            .push(("labeled".into(), LABEL.into(), "maint".into()));
    });
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        &run_payload(&co, "b04-a1", WR_A, "maint"),
        &["--results", &a],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(co.outputs()["result"], "overridden");

    // B; its publisher cannot read the comments (every retry answered 502).
    fork_pr(&fake, B_SHA);
    fake.with(|s| {
        for _ in 0..4 {
            s.faults.push(Fault {
                method: "GET",
                path: "/issues/2/comments",
                status: 502,
                retry_after: None,
                apply: false,
            });
        }
    });
    let b = artifact_for(&co, "b.json", 2, B_SHA, 7500.0);
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        &run_payload(&co, "b04-b0", B_SHA, "author"),
        &["--results", &b],
    );
    let first = text(&out);
    // The maintainer re-runs B's job (or adds any label).
    let out = gate(
        &fake,
        &co,
        "workflow_run",
        &run_payload(&co, "b04-b1", B_SHA, "maint"),
        &["--results", &b],
    );
    assert_eq!(
        shown_conclusion(&fake, B_SHA).as_deref(),
        Some("failure"),
        "B overridden by A's label; first B run:\n{first}\nsecond:\n{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// b05: environment mismatch softens failures
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, one-job setup, no forgery at all): a
/// baseline captured on CI records the runner's fingerprint (cpu_model,
/// runner_image_version, bench_gate_version). GitHub updates its runner
/// image weekly, hosted runners come with several CPU models (push no-op
/// commits until one lands on another), and `persona/bench-gate@v1` is a
/// floating tag (a patch release changes bench_gate_version). Any one
/// differing key turns EVERY failure into a warning by default
/// (`env-mismatch: warn`): a 5x regression passes, green, exit 0 with
/// --fail-on-regression.
///
/// Safe outcome: a regression that clears the failure threshold is not
/// turned green by a fingerprint difference (at least not by default).
/// Fault: src/compare/rules/environment.rs `apply` with the default
/// `EnvPolicy::Warn` (src/cli.rs `env_mismatch` default "warn").
#[test]
fn b05_a_runner_image_update_turns_a_5x_regression_green() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    let with_env = DESIGN.replace(
        "  platform: \"linux-x86_64\"\n",
        "  platform: \"linux-x86_64\"\n  cpu_model: \"AMD EPYC 7763 64-Core Processor\"\n  runner_image_version: \"20250105.1.0\"\n",
    );
    assert_ne!(with_env, DESIGN);
    std::fs::write(co.path("baselines/v1.12.0.yaml"), with_env).unwrap();
    let mut r = Checkout::results_value(7500.0, 50);
    r["environment"] = json!({"platform": "linux-x86_64",
        "cpu_model": "AMD EPYC 7763 64-Core Processor", "runner_image_version": "20250112.1.0"});
    let p = co.write("next-week.json", &r);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &["--results", &p, "--fail-on-regression", "true"],
    );
    assert_eq!(
        shown_conclusion(&fake, HEAD).as_deref(),
        Some("failure"),
        "a 5x regression after a runner image update: exit {:?}, {}",
        out.status.code(),
        text(&out)
    );
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------------------
// b06: a pull request that deletes the baseline
// ---------------------------------------------------------------------------

/// ATTACK (pull-request author, one-job setup): delete the baselines
/// folder. `--baseline latest` then finds no baseline: `neutral` ("no
/// baseline yet"), which passes a required check, unless the setup check
/// fails it.
///
/// Safe outcome: failure (a setup change needing approval).
#[test]
fn b06_deleting_the_baseline_is_not_a_neutral_pass() {
    let fake = FakeGitHub::start();
    let co = Checkout::new();
    std::fs::remove_dir_all(co.path("baselines")).unwrap();
    fake.with(|s| s.files = vec!["src/lib.rs".into(), "baselines/v1.12.0.yaml".into()]);
    let r = co.results("slow.json", 7500.0, 50);
    let out = gate(
        &fake,
        &co,
        "pull_request",
        "pull_request.opened.json",
        &[
            "--results",
            &r.display().to_string(),
            "--fail-on-regression",
            "true",
        ],
    );
    let shown = shown_conclusion(&fake, HEAD);
    assert!(
        !passes_required_check(shown.as_deref()),
        "{shown:?}: {}",
        text(&out)
    );
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
}
