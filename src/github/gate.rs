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
