//! Stage one of the gate: the event, routed into a plain [`Request`]:
//! which commit, which pull request, a label event or not, who applied
//! what, results given or to benchmark, release or report only. It reads
//! from GitHub (the pull request's labels, the gate's own identity and
//! comment) and writes nothing: even a refused `workflow_run` artifact's
//! failing check run is the sinks' to write ([`Route::Refused`]).

use anyhow::{Context as _, Result};

use super::api::{ApiError, Comment, GitHubApi};
use super::comment;
use super::context::{Context, Event, PullRequestPayload, WorkflowRunPayload};
use super::gate::{GateOptions, LabelEvents, Obtain, OverrideScope, ACTIONS_BOT};
use super::state::{self, GateState};
use crate::model::Results;
use crate::report::escape;

/// Where an event leads.
#[derive(Debug)]
pub enum Route {
    /// An event the gate does not act on: this message, `result=skipped`, exit 0.
    Skip(String),
    /// No GitHub at all: print the comment that would be posted.
    Local,
    /// A `workflow_run` whose pull request has moved on: this notice,
    /// `result=stale`, exit 0.
    StoodDown(String),
    /// A `workflow_run` artifact that is not what it claims: a failing
    /// check run on the run's own head commit, then an error.
    Refused {
        head_sha: String,
        run_id: u64,
        why: String,
    },
    Gate(Request),
}

/// What to gate, and for whom.
#[derive(Debug)]
pub struct Request {
    /// The commit the check run and comment are about: a pull request's
    /// head, never `GITHUB_SHA` (the merge commit).
    pub head: String,
    pub kind: Kind,
    pub source: Source,
    /// Markdown lines for the comment (re-used results, the artifact's run).
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub enum Kind {
    /// A pull request: comment, check run, override label, setup check.
    PullRequest(Box<PullRequest>),
    /// A release tag: a check run; the label does not apply.
    Release,
    /// A push to a branch or a manual run: files and log only, no API call.
    ReportOnly,
}

#[derive(Debug)]
pub struct PullRequest {
    pub number: u64,
    /// The login the gate posts as (`None` without a token).
    pub me: Option<String>,
    /// The pull request's labels now.
    pub labels: Vec<String>,
    /// Who applied the override label in this very event (the payload's
    /// sender, or a `workflow_run`'s triggering actor when the timeline
    /// agrees).
    pub applied_now_by: Option<String>,
    /// The record in the gate's own comment.
    pub state: GateState,
}

/// Where the results come from.
#[derive(Debug)]
pub enum Source {
    /// Benchmark here, or read `--results`: after the check run shows
    /// "in progress".
    Obtain,
    /// A `workflow_run`'s artifact, read and checked while routing.
    Artifact(Box<Results>),
    /// A label event: the results in the gate's own comment for this very
    /// commit; nothing is benchmarked and no check run is opened first.
    Reuse(Box<Results>),
}

impl Request {
    pub fn report_only(&self) -> bool {
        matches!(self.kind, Kind::ReportOnly)
    }
}

/// Whether the event talks to GitHub at all. A `workflow_run` gate without
/// `--results` is refused here, before connecting.
pub fn wants_api(ctx: &Context, opts: &GateOptions) -> Result<bool> {
    Ok(match &ctx.event {
        Event::PullRequest(_) | Event::PushTag { .. } => true,
        Event::WorkflowRun(_) if !opts.results_given => anyhow::bail!(
            "a workflow_run gate publishes the results of the pull_request run: pass --results FILE (the downloaded artifact); it never benchmarks the default branch in its place"
        ),
        Event::WorkflowRun(_) => true,
        Event::Local
        | Event::Unsupported { .. }
        | Event::PushBranch { .. }
        | Event::WorkflowDispatch { .. } => false,
    })
}

pub fn route(
    ctx: &Context,
    opts: &GateOptions,
    api: Option<&dyn GitHubApi>,
    obtain: Obtain,
) -> Result<Route> {
    let gate = |head: &String, kind| {
        Route::Gate(Request {
            head: head.clone(),
            kind,
            source: Source::Obtain,
            notes: Vec::new(),
        })
    };
    Ok(match &ctx.event {
        Event::Unsupported { name, detail } => {
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            };
            Route::Skip(format!(
                "bench-gate gate: the '{name}' event{detail} is not one the gate acts on (pull_request opened/synchronize/reopened/labeled/unlabeled, push, workflow_run, workflow_dispatch); nothing to do."
            ))
        }
        Event::Local => Route::Local,
        Event::PullRequest(p) => pull_request(opts, p, api)?,
        Event::WorkflowRun(w) => workflow_run(ctx, opts, w, api, obtain)?,
        Event::PushTag { sha, .. } => gate(sha, Kind::Release),
        Event::PushBranch { sha, .. } | Event::WorkflowDispatch { sha, .. } => {
            gate(sha, Kind::ReportOnly)
        }
    })
}

/// Who the gate is on GitHub: `--gate-login`, else `GET /user`, else (an
/// installation token, which cannot read `/user`) `github-actions[bot]`.
/// Any other failure is an error: without knowing its own comments the
/// gate would have to trust someone else's.
fn identify(api: &dyn GitHubApi, opts: &GateOptions) -> Result<String> {
    if let Some(l) = &opts.gate_login {
        return Ok(l.clone());
    }
    match api.user() {
        Ok(login) => Ok(login),
        Err(e) if e.status() == Some(403) => Ok(ACTIONS_BOT.to_string()),
        Err(e) => Err(anyhow::anyhow!(
            "cannot tell which comments are the gate's own: {e}; set --gate-login (action input gate-login)"
        )),
    }
}

/// The gate's own comments on `pr` and the record in the newest; a record
/// that cannot be read counts as none (it grants nothing).
fn own_state(api: &dyn GitHubApi, me: &str, pr: u64, check: &str) -> (Vec<Comment>, GateState) {
    let mine = match api.comments(pr) {
        Ok(all) => comment::ours(all, check, me),
        Err(e) => {
            eprintln!("warning: could not read the pull request's comments: {e}");
            Vec::new()
        }
    };
    let state = match mine
        .last()
        .and_then(|c| c.body.as_deref())
        .map(state::decode)
    {
        Some(Ok(Some(s))) if s.check == check => s,
        Some(Err(e)) => {
            eprintln!(
                "warning: the gate's own comment holds no usable record ({e}); starting afresh"
            );
            GateState::new(check)
        }
        _ => GateState::new(check),
    };
    (mine, state)
}

/// Results embedded in the gate's own comment, if they are for this very commit.
fn reuse_results(own: &Comment, head: &str, check: &str) -> Option<Results> {
    let e = comment::decode(own.body.as_deref()?)?;
    (e.head_sha == head && e.check == check).then_some(e.results)
}

/// Who applied `label` most recently, from the timeline.
pub fn label_applier(
    api: &dyn GitHubApi,
    pr: u64,
    label: &str,
) -> Result<Option<String>, ApiError> {
    Ok(api
        .label_events(pr)?
        .into_iter()
        .rev()
        .find(|e| e.labeled && e.label == label)
        .map(|e| e.actor))
}

fn pull_request(
    opts: &GateOptions,
    p: &PullRequestPayload,
    api: Option<&dyn GitHubApi>,
) -> Result<Route> {
    let pr = p.pull_request.number;
    let head = p.pull_request.head.sha.clone();
    let label_event = matches!(p.action.as_str(), "labeled" | "unlabeled");
    let applied_now_by = (p.action == "labeled"
        && p.label
            .as_ref()
            .is_some_and(|l| l.name == opts.override_label))
    .then(|| p.sender.login.clone());
    // The payload is a snapshot; the pull request's labels now are what counts.
    let mut labels: Vec<String> = match api.map(|a| a.pull(pr)) {
        Some(Ok(info)) => info.labels,
        _ => p
            .pull_request
            .labels
            .iter()
            .map(|l| l.name.clone())
            .collect(),
    };
    if p.action == "unlabeled" {
        if let Some(removed) = &p.label {
            labels.retain(|l| l != &removed.name);
        }
    }
    let me = api.map(|a| identify(a, opts)).transpose()?;
    let (mine, state) = match (api, &me) {
        (Some(api), Some(me)) => own_state(api, me, pr, &opts.check_name),
        _ => (Vec::new(), GateState::new(&opts.check_name)),
    };
    let mut notes = Vec::new();
    let mut source = Source::Obtain;
    if label_event {
        let reused = match opts.label_events {
            LabelEvents::Reuse => mine
                .last()
                .and_then(|c| reuse_results(c, &head, &opts.check_name)),
            LabelEvents::Benchmark => None,
        };
        match reused {
            Some(r) => {
                println!("bench-gate: label change; re-deciding from the results in the gate's own comment for {head}, without benchmarking.");
                notes.push("_Re-decided after a label change from this commit's earlier results; nothing was benchmarked again._".to_string());
                source = Source::Reuse(Box::new(r));
            }
            None => println!(
                "bench-gate: label change; {} for {head}; benchmarking.",
                if opts.label_events == LabelEvents::Benchmark {
                    "label events benchmark again (label-events: benchmark)"
                } else {
                    "no earlier results of the gate's own"
                }
            ),
        }
    }
    Ok(Route::Gate(Request {
        head,
        kind: Kind::PullRequest(Box::new(PullRequest {
            number: pr,
            me,
            labels,
            applied_now_by,
            state,
        })),
        source,
        notes,
    }))
}

/// The publishing half of the two-job setup: the results come from the
/// pull request's own run (an artifact), so everything they claim is
/// checked against the event and the API before anything is published.
/// Whatever is refused gets a failing check on the run's own head commit
/// (the server's word, not the artifact's), so a required check never
/// waits forever and never turns green from a refused file.
fn workflow_run(
    ctx: &Context,
    opts: &GateOptions,
    w: &WorkflowRunPayload,
    api: Option<&dyn GitHubApi>,
    obtain: Obtain,
) -> Result<Route> {
    let run = &w.workflow_run;
    let api = api
        .context("a workflow_run gate needs a token that can write: set GITHUB_TOKEN or --token")?;
    let refuse = |why: String| Route::Refused {
        head_sha: run.head_sha.clone(),
        run_id: run.id,
        why,
    };
    if run.event != "pull_request" {
        return Ok(refuse(format!(
            "the workflow run was triggered by '{}', not by a pull_request event",
            run.event
        )));
    }
    let results = match obtain() {
        Ok(r) => r,
        Err(e) => return Ok(refuse(format!("{e:#}"))),
    };
    let Some(info) = results.github.clone() else {
        return Ok(refuse("the results file has no github section (pull request and head commit); it must come from `bench-gate gate` in the pull_request workflow".into()));
    };
    let Some(pr) = info.pull_request else {
        return Ok(refuse("the results file names no pull request".into()));
    };
    let repo = ctx.repo.as_ref().map(|r| r.full()).unwrap_or_default();
    if !info.repository.eq_ignore_ascii_case(&repo) {
        return Ok(refuse(format!(
            "the results are for repository {}, but this is {repo}",
            info.repository
        )));
    }
    if info.head_sha != run.head_sha {
        return Ok(refuse(format!(
            "the results are for commit {}, but the workflow run is for {}",
            info.head_sha, run.head_sha
        )));
    }
    if !run.pull_requests.is_empty() && !run.pull_requests.iter().any(|p| p.number == pr) {
        return Ok(refuse(format!(
            "pull request #{pr} is not one of the workflow run's pull requests"
        )));
    }
    let current = match api.pull(pr) {
        Ok(c) => c,
        Err(e) => return Ok(refuse(format!("pull request #{pr} could not be read: {e}"))),
    };
    if current.head_sha != run.head_sha {
        return Ok(Route::StoodDown(format!(
            "::notice title=bench-gate stood down::Pull request #{pr} has moved on to {} since the run for {}; not publishing stale results.",
            current.head_sha, run.head_sha
        )));
    }
    // The pull request named must be the one whose head the run built: same
    // head repository and branch (a fork's run has no pull_requests list).
    let run_repo = run
        .head_repository
        .as_ref()
        .map(|r| r.full_name.as_str())
        .unwrap_or_default();
    if !current.head_repo.eq_ignore_ascii_case(run_repo) || current.head_ref != run.head_branch {
        return Ok(refuse(format!(
            "pull request #{pr}'s head is {}:{}, but the workflow run built {run_repo}:{}",
            current.head_repo, current.head_ref, run.head_branch
        )));
    }
    let me = identify(api, opts)?;
    let (_, state) = own_state(api, &me, pr, &opts.check_name);
    // The run's triggering actor is the server's word on who started it: a
    // labeled event by a maintainer, when the timeline's latest application
    // of the label is theirs.
    let applied_now_by = match (&run.triggering_actor, opts.override_scope) {
        (Some(actor), OverrideScope::Commit)
            if current.labels.iter().any(|l| l == &opts.override_label) =>
        {
            match label_applier(api, pr, &opts.override_label) {
                Ok(Some(by)) if by.eq_ignore_ascii_case(&actor.login) => Some(by),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(Route::Gate(Request {
        head: run.head_sha.clone(),
        kind: Kind::PullRequest(Box::new(PullRequest {
            number: pr,
            me: Some(me),
            labels: current.labels,
            applied_now_by,
            state,
        })),
        source: Source::Artifact(Box::new(results)),
        notes: vec![format!("_Published from the results of workflow run {} (the pull request's own run), after checking that #{pr}'s head is still {}._", run.id, escape::md_code(&run.head_sha[..7.min(run.head_sha.len())]))],
    }))
}
