//! `bench-gate gate`: benchmark (or read results), compare, then tell the
//! pull request: one comment, one check run, the step summary and outputs.
//!
//! Three stages, each in its own module:
//! 1. [`route`](super::route): the event, routed into a plain request
//!    (which commit, which pull request, a label event or not, who applied
//!    the label, results given or to benchmark, release or report only);
//! 2. [`outcome`](super::outcome): the override's meaning for this commit,
//!    the setup check, the policy's decision, and the report, comment and
//!    check run's text, as plain values;
//! 3. [`sinks`](super::sinks): the outputs, in order: files (results,
//!    report), step summary, outputs, check run, comment, annotations.
//!
//! GitHub is reached only through [`GitHubApi`], so the flow runs against
//! an in-memory fake in the unit tests below.

use std::path::PathBuf;

use anyhow::Result;

use super::actions;
use super::api::{GitHub, GitHubApi};
use super::context::{Context, Event};
use super::outcome::{self, Evidence, Facts};
use super::outputs::ResultValue;
use super::route::{self, Kind, Request, Route, Source};
use super::sinks::{Failed, OpenCheck, Sinks, Target};
use crate::compare::gate::{Override, Role, SetupCheck};
use crate::compare::ThresholdFlags;
use crate::model::{GithubInfo, Results};
use crate::report::escape;

#[derive(Debug, Clone)]
pub struct GateOptions {
    pub check_name: String,
    pub override_label: String,
    pub override_permission: Role,
    pub comment: bool,
    pub fail_on_regression: bool,
    pub fail_on_warning: bool,
    pub results_out: PathBuf,
    pub report_out: PathBuf,
    pub baseline: String,
    pub baselines_dir: PathBuf,
    pub flags: ThresholdFlags,
    pub workload: String,
    /// Results came from a file (`--results`), not from benchmarking here.
    pub results_given: bool,
    /// Linked from the comment: the metrics' history charts.
    pub history_url: Option<String>,
    /// The login the token posts as, when `GET /user` cannot tell (a
    /// GitHub App's `name[bot]`); by default `GET /user`, and
    /// `github-actions[bot]` for `GITHUB_TOKEN`.
    pub gate_login: Option<String>,
    pub override_scope: OverrideScope,
    pub label_events: LabelEvents,
    /// Repository-relative files and folders whose change needs a
    /// maintainer's approval: the baselines folder, the workflows,
    /// `bench-gate.yml` and the files it names.
    pub protected: Vec<String>,
}

/// What the override label covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideScope {
    /// The head commit it was applied to (the default).
    Commit,
    /// The whole pull request, whatever is pushed later (the old behaviour).
    PullRequest,
}

/// What a label event re-decides from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelEvents {
    /// The results in the gate's own comment for the same head commit.
    Reuse,
    /// A new benchmark: for repositories that do not trust anything a
    /// workflow with write access could have written.
    Benchmark,
}

/// The login `GITHUB_TOKEN` posts as.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// Whether a repository-relative path is protected (equal to, or inside,
/// one of `protected`).
pub fn is_protected(path: &str, protected: &[String]) -> bool {
    protected.iter().any(|p| {
        let p = p.trim_end_matches('/');
        !p.is_empty()
            && (path == p
                || path
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/')))
    })
}

/// Benchmarks, or reads `--results`; supplied by the caller.
pub type Obtain<'a> = &'a mut dyn FnMut() -> Result<Results>;

fn connect(ctx: &Context) -> Result<Option<GitHub>> {
    match (&ctx.token, &ctx.repo) {
        (Some(token), Some(repo)) => Ok(Some(GitHub::new(&ctx.api_url, token, repo.clone())?)),
        (None, _) => {
            println!("bench-gate: no GITHUB_TOKEN (or --token); the report goes to the log and step summary only.");
            Ok(None)
        }
        (_, None) => {
            println!("bench-gate: no GITHUB_REPOSITORY; the report goes to the log and step summary only.");
            Ok(None)
        }
    }
}

fn run_url(ctx: &Context) -> Option<String> {
    Some(format!(
        "{}/{}/actions/runs/{}",
        ctx.server_url,
        ctx.repo.as_ref()?.full(),
        ctx.run_id.as_ref()?
    ))
}

pub fn run(ctx: &Context, opts: &GateOptions, obtain: Obtain) -> Result<u8> {
    if let Some(t) = &ctx.token {
        if !matches!(ctx.event, Event::Local) {
            actions::mask(t.expose());
        }
    }
    let api = if route::wants_api(ctx, opts)? {
        connect(ctx)?
    } else {
        None
    };
    flow(ctx, opts, api.as_ref().map(|a| a as &dyn GitHubApi), obtain)
}

/// The three stages, with whatever client `api` is (`None`: no token).
fn flow(
    ctx: &Context,
    opts: &GateOptions,
    api: Option<&dyn GitHubApi>,
    obtain: Obtain,
) -> Result<u8> {
    let mut sinks = Sinks { ctx, opts, api };
    let req = match route::route(ctx, opts, api, obtain)? {
        Route::Gate(r) => r,
        Route::Skip(message) => return sinks.nothing_decided(&message, ResultValue::Skipped),
        Route::StoodDown(notice) => return sinks.nothing_decided(&notice, ResultValue::Stale),
        Route::Local => {
            let (body, code) = outcome::local(opts, &obtain()?)?;
            println!("{}", escape::log_text(&body));
            return Ok(code);
        }
        Route::Refused {
            head_sha,
            run_id,
            why,
        } => return Err(sinks.refuse(&head_sha, run_id, &why)),
    };
    if req.report_only() {
        // Files and the log only: no API call.
        sinks.api = None;
    }
    let Request {
        head,
        mut kind,
        source,
        notes,
    } = req;
    let override_state = match &mut kind {
        Kind::PullRequest(pr) => outcome::resolve_override(api, pr, &head, opts),
        Kind::Release | Kind::ReportOnly => Override::Absent,
    };
    // The check run shows "in progress" while benchmarking.
    let check = match &source {
        Source::Reuse(_) => OpenCheck::none(),
        Source::Obtain | Source::Artifact(_) => sinks.open_check(&head),
    };
    let pr = match &kind {
        Kind::PullRequest(p) => Some(p),
        Kind::Release | Kind::ReportOnly => None,
    };
    let target = Target {
        head: &head,
        pr: pr.map(|p| p.number),
        me: pr.and_then(|p| p.me.as_deref()),
        report_only: matches!(kind, Kind::ReportOnly),
    };
    let facts = Facts {
        override_state,
        release: matches!(kind, Kind::Release),
        head: head.clone(),
        state: pr.map(|p| p.state.clone()),
        notes,
        run_url: run_url(ctx),
    };
    let result = decide(&sinks, &target, source, facts, obtain)
        .and_then(|o| sinks.publish(&target, &check, &o));
    // After an interrupt the check is the handler's to complete (cancelled).
    crate::interrupt::wait_if_interrupted();
    if let Err(failed) = &result {
        sinks.fail_check(&check, failed);
    }
    drop(check);
    result.map_err(|f| f.error)
}

/// Stage two: the results (benchmarked, given or re-used), compared and
/// decided with what routing and the override label said (`facts`).
fn decide(
    sinks: &Sinks,
    t: &Target,
    source: Source,
    facts: Facts,
    obtain: Obtain,
) -> Result<outcome::Outcome, Failed> {
    let (ctx, opts) = (sinks.ctx, sinks.opts);
    let mut results = match source {
        Source::Reuse(r) | Source::Artifact(r) => *r,
        Source::Obtain => obtain()?,
    };
    if let Some(repo) = &ctx.repo {
        results.github = Some(GithubInfo {
            repository: repo.full(),
            event: ctx.event_name.clone(),
            pull_request: t.pr,
            head_sha: t.head.to_string(),
        });
    }
    let compared = outcome::compare_with_baseline(&results, opts).map_err(|error| Failed {
        title: "The results could not be compared",
        error,
    })?;
    let setup = match (sinks.api, t.pr) {
        (Some(api), Some(pr)) => outcome::setup_check(api, pr, &opts.protected),
        _ => SetupCheck::Unchanged,
    };
    let evidence = Evidence {
        results,
        compared,
        setup,
    };
    Ok(outcome::decide(opts, evidence, facts))
}

#[cfg(test)]
mod tests {
    use super::super::comment;
    use super::super::fake::{results, Checkout, FakeGitHub, BOT, HEAD};
    use super::super::state::{self, GateState, Grant};
    use super::*;

    /// The flow against the fake, with these results.
    fn gate(
        fake: &FakeGitHub,
        ctx: &Context,
        opts: &GateOptions,
        r: Result<Results>,
    ) -> Result<u8> {
        let mut r = Some(r);
        let mut obtain = || r.take().expect("results obtained once");
        flow(ctx, opts, Some(fake as &dyn GitHubApi), &mut obtain)
    }

    fn regressed() -> Result<Results> {
        Ok(results(1890.0))
    }

    fn own_comment(fake: &FakeGitHub) -> String {
        let mine: Vec<_> = fake.with(|s| s.comments.clone());
        let own = comment::ours(mine, "bench-gate", BOT);
        assert_eq!(own.len(), 1, "one comment of the gate's own");
        own[0].body.clone().unwrap()
    }

    fn last_check(fake: &FakeGitHub) -> (String, Option<String>, String) {
        fake.with(|s| {
            let r = s.check_runs.last().expect("a check run").clone();
            (r.status, r.conclusion, r.title)
        })
    }

    /// A maintainer's label on a failing pull request: the label event
    /// re-decides from the gate's own comment (nothing is benchmarked) and
    /// the check turns green, titled "Overridden".
    #[test]
    fn a_failing_comparison_with_a_granted_override_is_overridden() {
        let (fake, co) = (FakeGitHub::default(), Checkout::new());
        let mut opts = co.options();
        opts.override_label = "bug".into(); // the label in GitHub's example payload
        let opened = co.context("pull_request", "pull_request.opened.json");
        assert_eq!(gate(&fake, &opened, &opts, regressed()).unwrap(), 2);
        assert_eq!(co.outputs()["result"], "fail");

        fake.with(|s| {
            s.labels = vec!["bug".into()];
            s.permissions.insert("Codertocat".into(), "maintain".into());
        });
        let labeled = co.context("pull_request", "pull_request.labeled.json");
        let mut benchmark = || -> Result<Results> { panic!("a label event re-uses the results") };
        let code = flow(&labeled, &opts, Some(&fake), &mut benchmark).unwrap();
        assert_eq!(code, 0);
        assert_eq!(
            last_check(&fake),
            (
                "completed".into(),
                Some("success".into()),
                "Overridden: 1 metric above the failure threshold".into()
            )
        );
        let body = own_comment(&fake);
        assert!(body.contains("Overridden** by @Codertocat"), "{body}");
        // The grant is recorded for this very head commit.
        let grant = state::decode(&body).unwrap().unwrap().grant.unwrap();
        assert_eq!(
            (grant.by.as_str(), grant.head_sha.as_str()),
            ("Codertocat", HEAD)
        );
        assert_eq!(co.outputs()["result"], "overridden");
    }

    /// A label given for another commit: taken off the pull request, and
    /// the failure stands, saying why.
    #[test]
    fn a_stale_override_is_removed_and_the_failure_stands() {
        let (fake, co) = (FakeGitHub::default(), Checkout::new());
        let mut opts = co.options();
        opts.override_label = "bug".into();
        let mut record = GateState::new("bench-gate");
        record.grant = Some(Grant {
            label: "bug".into(),
            by: "maint".into(),
            role: "maintain".into(),
            head_sha: "a".repeat(40),
            at: "2026-11-27T10:00:00Z".into(),
        });
        fake.seed_comment(
            &format!(
                "{}\n{}\nold",
                comment::marker("bench-gate"),
                state::encode(&record)
            ),
            BOT,
        );
        fake.with(|s| {
            s.labels = vec!["bug".into()];
            s.permissions.insert("maint".into(), "admin".into());
        });
        let pushed = co.context("pull_request", "pull_request.synchronize.json");
        assert_eq!(gate(&fake, &pushed, &opts, regressed()).unwrap(), 2);
        assert!(
            fake.with(|s| s.labels.is_empty()),
            "the stale label is taken off"
        );
        assert!(fake.calls().contains(&"remove_label".to_string()));
        assert_eq!(last_check(&fake).1.as_deref(), Some("failure"));
        let body = own_comment(&fake);
        assert!(
            body.contains("The override was given for `aaaaaaa` by @maint; the label was removed because new commits arrived"),
            "{body}"
        );
        assert_eq!(state::decode(&body).unwrap().unwrap().grant, None);
    }

    /// A pull request that changes a baseline needs a maintainer's
    /// approval even when nothing regressed; a file list that cannot be
    /// read is not an approval either.
    #[test]
    fn a_setup_change_fails_until_approved() {
        let (fake, co) = (FakeGitHub::default(), Checkout::new());
        let opts = co.options();
        let opened = co.context("pull_request", "pull_request.opened.json");
        fake.with(|s| s.files = Ok(vec!["src/lib.rs".into(), "baselines/v1.12.0.yaml".into()]));
        assert_eq!(gate(&fake, &opened, &opts, Ok(results(1500.0))).unwrap(), 2);
        let (_, conclusion, title) = last_check(&fake);
        assert_eq!(conclusion.as_deref(), Some("failure"));
        assert_eq!(
            title,
            "Benchmark setup changed: needs a maintainer's approval (baselines/v1.12.0.yaml)"
        );
        assert!(own_comment(&fake)
            .contains("changes files the benchmark's verdict rests on (`baselines/v1.12.0.yaml`)"));

        fake.with(|s| s.files = Err(502));
        assert_eq!(gate(&fake, &opened, &opts, Ok(results(1500.0))).unwrap(), 2);
        let (_, conclusion, title) = last_check(&fake);
        assert_eq!(conclusion.as_deref(), Some("failure"));
        assert!(
            title.starts_with("Benchmark setup could not be checked"),
            "{title}"
        );

        // Approved: the maintainer's label covers the change.
        let mut opts = opts;
        opts.override_label = "bug".into();
        fake.with(|s| {
            s.files = Ok(vec!["baselines/v1.12.0.yaml".into()]);
            s.labels = vec!["bug".into()];
            s.permissions.insert("Codertocat".into(), "maintain".into());
        });
        let labeled = co.context("pull_request", "pull_request.labeled.json");
        assert_eq!(
            gate(&fake, &labeled, &opts, Ok(results(1500.0))).unwrap(),
            0
        );
        assert_eq!(last_check(&fake).1.as_deref(), Some("success"));
    }

    /// An error after the check run was created completes it as a failure
    /// with the error, whichever stage it comes from; it never stays in
    /// progress.
    #[test]
    fn a_check_run_is_completed_as_failure_on_an_error_after_creation() {
        let (fake, co) = (FakeGitHub::default(), Checkout::new());
        let opts = co.options();
        let opened = co.context("pull_request", "pull_request.opened.json");
        let err = gate(
            &fake,
            &opened,
            &opts,
            Err(anyhow::anyhow!("the benchmark crashed")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("the benchmark crashed"));
        let runs = fake.with(|s| s.check_runs.clone());
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (
                runs[0].status.as_str(),
                runs[0].conclusion.as_deref(),
                runs[0].title.as_str()
            ),
            ("completed", Some("failure"), "The benchmark could not run")
        );
        assert!(
            runs[0].summary.contains("the benchmark crashed"),
            "{}",
            runs[0].summary
        );
        assert_eq!(
            fake.calls()
                .iter()
                .filter(|c| c.ends_with("_comment"))
                .count(),
            0,
            "no comment about a run that decided nothing"
        );

        std::fs::write(co.path("baselines/v1.12.0.yaml"), "version: [\n").unwrap();
        assert!(gate(&fake, &opened, &opts, regressed()).is_err());
        let (status, conclusion, title) = last_check(&fake);
        assert_eq!(
            (status.as_str(), conclusion.as_deref(), title.as_str()),
            (
                "completed",
                Some("failure"),
                "The results could not be compared"
            )
        );
    }

    /// A push to a branch reports: files, summary and outputs, and no API
    /// call at all, even with a client at hand.
    #[test]
    fn a_report_only_run_makes_no_api_call() {
        let (fake, co) = (FakeGitHub::default(), Checkout::new());
        let ctx = co.context("push", "push.branch.json");
        assert_eq!(gate(&fake, &ctx, &co.options(), regressed()).unwrap(), 0);
        assert!(fake.calls().is_empty(), "{:?}", fake.calls());
        assert!(co.path("results.json").exists() && co.path("report.md").exists());
        assert_eq!(co.outputs()["result"], "fail");
    }
}
