//! Stage one of the gate: the event, routed into a plain [`Request`]:
//! which commit, which pull request, a label event or not, who applied
//! what, results given or to benchmark, release or report only.
//!
//! In two halves, with the check run created between them (by the flow, in
//! `gate.rs`): [`route`] reads the event, and for a pull request the pull
//! request as it is now, to name the commit the check run is about;
//! [`request`] then, with the check run open (so that an error fails it),
//! learns who the gate is (for an installation token: the App of that check
//! run), reads the gate's own record and checks a `workflow_run`'s
//! artifact. Routing reads from GitHub and writes nothing.

use anyhow::{Context as _, Result};

use super::api::{ApiError, Comment, GitHubApi};
use super::command::{self, Command};
use super::comment;
use super::context::{
    Context, Event, IssueCommentPayload, MergeGroupPayload, PullRequestPayload, WorkflowRunPayload,
};
use super::gate::{Failed, GateOptions, LabelEvents, Obtain, OverrideScope};
use super::state::{self, Acceptance, GateState};
use crate::compare::gate::Role;
use crate::model::Results;
use crate::report::escape;

/// Where an event leads.
#[derive(Debug)]
pub enum Route<'a> {
    /// An event the gate does not act on: this message, `result=skipped`, exit 0.
    Skip(String),
    /// No GitHub at all: print the comment that would be posted.
    Local,
    /// A `/bench-gate` command that decides nothing: this reply is posted
    /// on issue or pull request `number`, `result=skipped`, exit 0.
    Reply {
        number: u64,
        body: String,
    },
    Gate(Routed<'a>),
}

/// An event the gate acts on, before its check run is open.
#[derive(Debug)]
pub struct Routed<'a> {
    /// The commit the check run and comment are about: a pull request's
    /// head, never `GITHUB_SHA` (the merge commit).
    pub head: String,
    event: Pending<'a>,
}

#[derive(Debug)]
enum Pending<'a> {
    PullRequest(PullEvent),
    /// Checked in [`request`], with the check run open.
    WorkflowRun(&'a WorkflowRunPayload),
    MergeGroup(&'a MergeGroupPayload),
    Command(CommandEvent),
    Release,
    ReportOnly,
}

/// A `pull_request` event, with what the pull request says now.
#[derive(Debug)]
struct PullEvent {
    number: u64,
    label_event: bool,
    /// The pull request's labels now.
    labels: Vec<String>,
    /// Its head now (`None`: it could not be read).
    current_head: Option<String>,
    /// The payload's sender, when this event applied the override label.
    applied_now_by: Option<String>,
}

impl Routed<'_> {
    pub fn report_only(&self) -> bool {
        matches!(self.event, Pending::ReportOnly)
    }
}

/// A maintainer's `/bench-gate accept` or `revoke` on a pull request.
#[derive(Debug)]
struct CommandEvent {
    number: u64,
    labels: Vec<String>,
    command: Command,
    by: String,
    role: String,
    comment_id: u64,
    at: String,
}

/// The rest of routing's answer, once the check run is open.
#[derive(Debug)]
pub enum Admitted {
    Gate(Request),
    /// A `workflow_run` whose pull request has moved on.
    StoodDown(StoodDown),
    /// A `/bench-gate` command under `label-events: benchmark`: recorded,
    /// not decided (results in a comment never decide then).
    Recorded(Recorded),
}

/// A command written into the gate's own record without deciding: the
/// comment `comment_id` gets `body`, a reply says so, and the check run is
/// completed as `cancelled` (not passing) until the next measuring run.
#[derive(Debug)]
pub struct Recorded {
    pub pr: u64,
    pub comment_id: u64,
    pub body: String,
    pub reply: String,
}

/// Why a `workflow_run` decides nothing: its check run is completed as
/// `cancelled`, `result=stale`, exit 0.
#[derive(Debug)]
pub struct StoodDown {
    /// The `::notice` for the log.
    pub notice: String,
    pub pr: u64,
    /// The pull request's head now.
    pub now_at: String,
}

/// What to gate, and for whom.
#[derive(Debug)]
pub struct Request {
    /// The commit the check run and comment are about.
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
    /// A merge queue's head commit: a check run, no comment; the override
    /// of the pull request its branch names carries over.
    MergeGroup(Box<MergeQueue>),
    /// A release tag: a check run; the label does not apply.
    Release,
    /// A push to a branch or a manual run: files and log only, no API call.
    ReportOnly,
}

#[derive(Debug)]
pub struct PullRequest {
    pub number: u64,
    /// The login the gate posts as (`None` without a token, or when nothing
    /// can tell: then no comment is the gate's).
    pub me: Option<String>,
    /// The pull request's labels now.
    pub labels: Vec<String>,
    /// Who applied the override label in this very event (the payload's
    /// sender, or a `workflow_run`'s triggering actor when the timeline
    /// agrees and the gate has decided for this head before).
    pub applied_now_by: Option<String>,
    /// The pull request has moved on from this run's commit: the run
    /// changes nothing about the label.
    pub stale: bool,
    /// The record in the gate's own comment.
    pub state: GateState,
    /// The metric a `/bench-gate accept` of this event names (a reply
    /// lists the failing ones when it is not one of them).
    pub asked: Option<String>,
}

/// A merge queue's group, and the pull request its branch names.
#[derive(Debug)]
pub struct MergeQueue {
    /// The pull request the queue branch names, as it is now; `None` when
    /// the branch names none (then nothing carries over).
    pub queued: Option<Queued>,
}

#[derive(Debug)]
pub struct Queued {
    pub number: u64,
    /// The pull request's head commit the branch says was queued.
    pub queued_head: String,
    /// The pull request's head and labels now.
    pub head_now: String,
    pub labels: Vec<String>,
    /// The record in the gate's own comment on that pull request.
    pub state: GateState,
}

impl Queued {
    /// The queued pull request as its own route would see it, read-only:
    /// no login of the gate's, no label event, not stale, no command.
    pub fn as_pull_request(&self) -> PullRequest {
        PullRequest {
            number: self.number,
            me: None,
            labels: self.labels.clone(),
            applied_now_by: None,
            stale: false,
            state: self.state.clone(),
            asked: None,
        }
    }
}

/// Where the results come from.
#[derive(Debug)]
pub enum Source {
    /// Benchmark here, or read `--results`.
    Obtain,
    /// A `workflow_run`'s artifact, read and checked while routing.
    Artifact(Box<Results>),
    /// A label event: the results in the gate's own comment for this very
    /// commit; nothing is benchmarked.
    Reuse(Box<Results>),
}

/// Whether the event talks to GitHub at all. A `workflow_run` gate without
/// `--results` is refused here, before connecting.
pub fn wants_api(ctx: &Context, opts: &GateOptions) -> Result<bool> {
    Ok(match &ctx.event {
        Event::PullRequest(_) | Event::PushTag { .. } => true,
        Event::WorkflowRun(_) if !opts.results_given => anyhow::bail!(
            "a workflow_run gate publishes the results of the pull_request run: pass --results FILE (the downloaded artifact); it never benchmarks the default branch in its place"
        ),
        Event::WorkflowRun(_) | Event::MergeGroup(_) | Event::IssueComment(_) => true,
        Event::PushBranch { default, .. } => *default && opts.history_branch.is_some(),
        Event::Local | Event::Unsupported { .. } | Event::WorkflowDispatch { .. } => false,
    })
}

/// The first half: the event, and the commit its check run is about.
pub fn route<'a>(
    ctx: &'a Context,
    opts: &GateOptions,
    api: Option<&dyn GitHubApi>,
) -> Result<Route<'a>> {
    let gate = |head: &String, event| {
        Route::Gate(Routed {
            head: head.clone(),
            event,
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
                "bench-gate gate: the '{name}' event{detail} is not one the gate acts on (pull_request opened/synchronize/reopened/labeled/unlabeled, push, workflow_run, workflow_dispatch, merge_group checks_requested, issue_comment created); nothing to do."
            ))
        }
        Event::Local => Route::Local,
        Event::PullRequest(p) => pull_request(opts, p, api),
        Event::WorkflowRun(w) => {
            api.context(
                "a workflow_run gate needs a token that can write: set GITHUB_TOKEN or --token",
            )?;
            gate(&w.workflow_run.head_sha, Pending::WorkflowRun(w))
        }
        Event::MergeGroup(m) => gate(&m.merge_group.head_sha, Pending::MergeGroup(m)),
        Event::IssueComment(c) => issue_comment(opts, c, api, ctx.run_attempt.as_deref())?,
        Event::PushTag { sha, .. } => gate(sha, Pending::Release),
        Event::PushBranch { sha, .. } | Event::WorkflowDispatch { sha, .. } => {
            gate(sha, Pending::ReportOnly)
        }
    })
}

/// The second half, with the check run open: `app` is the App it belongs
/// to, when it could be created. An error here fails that check run.
pub fn request(
    ctx: &Context,
    opts: &GateOptions,
    api: Option<&dyn GitHubApi>,
    routed: Routed,
    app: Option<&str>,
    obtain: Obtain,
) -> Result<Admitted, Failed> {
    let Routed { head, event } = routed;
    let kind = match event {
        Pending::PullRequest(p) => {
            return Ok(Admitted::Gate(pull_request_request(
                opts, api, head, p, app,
            )?))
        }
        Pending::WorkflowRun(w) => {
            let api = api.context("a workflow_run gate needs a token that can write")?;
            return workflow_run(ctx, opts, w, api, app, obtain);
        }
        Pending::MergeGroup(m) => {
            let api = api.context("a merge_group gate needs a token that can write")?;
            let queued = merge_group(opts, m, api, app).map_err(|error| Failed {
                title: "The gate's own record could not be read",
                error,
            })?;
            let notes = vec![match &queued {
                Some(q) => format!(
                    "_Merge queue: pull request #{} queued at {}, on base {}._",
                    q.number,
                    escape::md_code(&q.queued_head[..7]),
                    escape::md_code(&m.merge_group.base_sha[..7.min(m.merge_group.base_sha.len())])
                ),
                None => format!(
                    "_Merge queue: the branch {} names no pull request of this base; no override carries over._",
                    escape::md_code(&m.merge_group.head_ref)
                ),
            }];
            return Ok(Admitted::Gate(Request {
                head,
                kind: Kind::MergeGroup(Box::new(MergeQueue { queued })),
                source: Source::Obtain,
                notes,
            }));
        }
        Pending::Command(c) => {
            let api = api.context("a /bench-gate command needs a token that can write")?;
            return command_request(opts, api, head, c, app);
        }
        Pending::Release => Kind::Release,
        Pending::ReportOnly => Kind::ReportOnly,
    };
    Ok(Admitted::Gate(Request {
        head,
        kind,
        source: Source::Obtain,
        notes: Vec::new(),
    }))
}

/// Who the gate is on GitHub: `--gate-login`; else `GET /user` (a personal
/// token); else, for an installation token (`GITHUB_TOKEN` or a GitHub
/// App's, which cannot read `/user`), the App of the check run it just
/// created: its comments are `slug[bot]`'s. `None` when nothing can tell
/// (a read-only token that could create no check run): then no comment is
/// the gate's. Any other failure is an error (a rate limit, an outage):
/// guessing would mean trusting someone else's comments.
fn identify(api: &dyn GitHubApi, opts: &GateOptions, app: Option<&str>) -> Result<Option<String>> {
    if let Some(l) = &opts.gate_login {
        return Ok(Some(l.clone()));
    }
    match api.user() {
        Ok(login) => Ok(Some(login)),
        Err(e)
            if e.status() == Some(403)
                && e.to_string().contains("Resource not accessible by integration") =>
        {
            Ok(app.map(|slug| format!("{slug}[bot]")))
        }
        Err(e) => Err(anyhow::anyhow!(
            "cannot tell which comments are the gate's own: {e}; set --gate-login (action input gate-login)"
        )),
    }
}

/// The gate's own comments on `pr` and the record in the newest; a record
/// that cannot be read counts as none (it grants nothing). Without a login
/// (`me`), no comment is the gate's.
fn own_state(
    api: Option<&dyn GitHubApi>,
    me: Option<&str>,
    pr: u64,
    check: &str,
) -> anyhow::Result<(Vec<Comment>, GateState)> {
    let (Some(api), Some(me)) = (api, me) else {
        return Ok((Vec::new(), GateState::new(check)));
    };
    // Not knowing the gate's own record is not "no record": deciding from a
    // fresh one would keep a stale override label and then overwrite the
    // record that says whom it was for.
    let mine = match api.comments(pr) {
        Ok(all) => comment::ours(all, check, me),
        Err(e) => {
            anyhow::bail!(
                "the gate's own record could not be read: the pull request's comments: {e}"
            )
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
    Ok((mine, state))
}

/// A new comment: a `/bench-gate` command from a person with the
/// override's permission, on a pull request whose head the gate has
/// results for, is routed to re-decide (with the check run on the head);
/// anything else is skipped, with a reply when a person asked for
/// something. Never benchmarks (the checkout of an `issue_comment` run is
/// the default branch).
fn issue_comment<'a>(
    opts: &GateOptions,
    c: &IssueCommentPayload,
    api: Option<&dyn GitHubApi>,
    run_attempt: Option<&str>,
) -> Result<Route<'a>> {
    let comment = &c.comment;
    let Some(parsed) = command::parse(&comment.body) else {
        return Ok(Route::Skip(
            "bench-gate gate: the comment is not a /bench-gate command; nothing to do.".into(),
        ));
    };
    let by = &comment.user.login;
    if comment.user.kind.eq_ignore_ascii_case("bot") || by.ends_with("[bot]") {
        return Ok(Route::Skip(format!(
            "bench-gate gate: the /bench-gate command is from a bot (@{}); ignored.",
            escape::log_text(by)
        )));
    }
    if !comment.updated_at.is_empty() && comment.updated_at != comment.created_at {
        return Ok(Route::Skip(
            "bench-gate gate: the comment was edited; only a new comment counts.".into(),
        ));
    }
    let api = api.context(
        "a /bench-gate command needs a token that can write: set GITHUB_TOKEN or --token",
    )?;
    let number = c.issue.number;
    let who = escape::md_text(&format!("@{by}"));
    let reply = |text: String| Route::Reply {
        number,
        body: format!("{who}: {text}"),
    };
    if c.issue.pull_request.is_none() {
        return Ok(reply(format!(
            "`/bench-gate` commands work on pull requests only, and #{number} is an issue; nothing was done."
        )));
    }
    let command = match parsed {
        Ok(command) => command,
        Err(usage) => return Ok(reply(format!("{usage}; nothing was done."))),
    };
    // A re-run of the command's workflow run can follow a push (anyone
    // with write access can re-run it): only a new comment accepts.
    let attempt = run_attempt.and_then(|a| a.trim().parse::<u64>().ok());
    if matches!(command, Command::Accept { .. }) && attempt.is_some_and(|n| n > 1) {
        return Ok(reply(
            "this is a re-run of the workflow run for the comment, and a re-run accepts nothing (it can follow a push); comment again to accept. Nothing was done.".into(),
        ));
    }
    let role = api
        .permission(by)
        .map_err(|e| anyhow::anyhow!("the permission of @{by} could not be read: {e}"))?;
    if Role::parse(&role).is_none_or(|r| r < opts.override_permission) {
        return Ok(reply(format!(
            "ignored: {who} has the role {}, and accepting or revoking a metric needs {} or higher (as the override label does).",
            escape::md_code(&role),
            escape::md_code(opts.override_permission.name())
        )));
    }
    let info = api
        .pull(number)
        .map_err(|e| anyhow::anyhow!("pull request #{number} could not be read: {e}"))?;
    // A re-run of this workflow after a push would otherwise carry the
    // comment to a commit nobody with the permission has seen.
    if let Command::Accept { .. } = &command {
        if let Err(why) = command_covers(api, &info.head_sha, &comment.created_at) {
            return Ok(reply(format!(
                "{}; nothing was done. Accept again on the pull request's head if it is intended.",
                escape::md_text(&why)
            )));
        }
    }
    // Whether there is anything to re-decide from: a comment that can be
    // the gate's (by its login, or by a bot when that is only known from
    // the check run still to be created). Once the check run is open, only
    // the gate's own comment is read.
    let me = identify(api, opts, None)?;
    let could_be_ours = |c: &Comment| {
        c.author().is_some_and(|a| match &me {
            Some(me) => a.eq_ignore_ascii_case(me),
            None => a.ends_with("[bot]"),
        })
    };
    let decided = api
        .comments(number)
        .map_err(|e| anyhow::anyhow!("the pull request's comments could not be read: {e}"))?
        .iter()
        .filter(|c| could_be_ours(c))
        .filter_map(|c| comment::decode(c.body.as_deref()?))
        .any(|e| e.head_sha == info.head_sha && e.check == opts.check_name);
    if !decided {
        return Ok(reply(format!(
            "the gate has no results for {} (the pull request's head) yet; comment again once its run has finished. Nothing was done.",
            escape::md_code(&info.head_sha[..7.min(info.head_sha.len())])
        )));
    }
    Ok(Route::Gate(Routed {
        head: info.head_sha,
        event: Pending::Command(CommandEvent {
            number,
            labels: info.labels,
            command,
            by: by.clone(),
            role,
            comment_id: comment.id,
            at: comment.created_at.clone(),
        }),
    }))
}

/// A maintainer's command, with the check run open: recorded in the
/// gate's own record (an acceptance for the head now; a revoke drops the
/// metric's), re-decided from the results in the gate's own comment for
/// this very head, which must be there.
fn command_request(
    opts: &GateOptions,
    api: &dyn GitHubApi,
    head: String,
    c: CommandEvent,
    app: Option<&str>,
) -> Result<Admitted, Failed> {
    let me = identify(api, opts, app)?;
    let (mine, mut state) = own_state(Some(api), me.as_deref(), c.number, &opts.check_name)
        .map_err(|error| Failed {
            title: "The gate's own record could not be read",
            error,
        })?;
    // Under `label-events: benchmark` results in a comment never decide
    // (anyone with write access can post as the gate's identity): record,
    // and let the next measuring run decide.
    let results = match opts.label_events {
        LabelEvents::Benchmark => None,
        LabelEvents::Reuse => {
            let own = mine.last();
            let reused = own.and_then(|own| reuse_results(own, &head, &opts.check_name));
            Some(reused.ok_or_else(|| Failed {
                title: "Nothing to re-decide from",
                error: anyhow::anyhow!(
                    "the gate's own comment holds no results for {head}; push, or re-run the gate's workflow"
                ),
            })?)
        }
    };
    let (verb, asked) = match &c.command {
        Command::Accept { metric, reason } => {
            state.acceptances.retain(|a| &a.metric != metric);
            state.acceptances.push(Acceptance {
                metric: metric.clone(),
                by: c.by.clone(),
                role: c.role.clone(),
                reason: reason.clone(),
                head_sha: head.clone(),
                at: c.at.clone(),
                comment_id: c.comment_id,
            });
            let over = state
                .acceptances
                .len()
                .saturating_sub(state::MAX_ACCEPTANCES);
            state.acceptances.drain(..over);
            ("accept", Some(metric.clone()))
        }
        Command::Revoke { metric } => {
            state.acceptances.retain(|a| &a.metric != metric);
            ("revoke", None)
        }
    };
    let Some(results) = results else {
        let own = mine.last().ok_or_else(|| Failed {
            title: "Nothing to record in",
            error: anyhow::anyhow!(
                "the gate has no comment of its own on #{} to record the command in; re-run the pull request's gate workflow first",
                c.number
            ),
        })?;
        let short = &head[..head.len().min(7)];
        println!(
            "bench-gate: /bench-gate {verb} by @{} recorded for {short}; under label-events: benchmark it applies at the next measuring run.",
            escape::log_text(&c.by)
        );
        return Ok(Admitted::Recorded(Recorded {
            pr: c.number,
            comment_id: own.id,
            body: state::with_record(own.body.as_deref().unwrap_or_default(), &state),
            reply: format!(
                "{}: `/bench-gate {verb}` recorded for {}. With `label-events: benchmark` results in a comment never decide, so it applies at the next measuring run of this commit (re-run the pull request's bench-gate workflow); until then the check is not passing.",
                escape::md_text(&format!("@{}", c.by)),
                escape::md_code(short)
            ),
        }));
    };
    println!(
        "bench-gate: /bench-gate {verb} by @{}; re-deciding from the results in the gate's own comment for {head}, without benchmarking.",
        escape::log_text(&c.by)
    );
    Ok(Admitted::Gate(Request {
        kind: Kind::PullRequest(Box::new(PullRequest {
            number: c.number,
            me,
            labels: c.labels,
            applied_now_by: None,
            stale: false,
            state,
            asked,
        })),
        head,
        source: Source::Reuse(Box::new(results)),
        notes: vec![format!(
            "_Re-decided after `/bench-gate {verb}` by {} from this commit's earlier results; nothing was benchmarked again._",
            escape::md_text(&format!("@{}", c.by))
        )],
    }))
}

/// The pull request a merge queue's branch names, as it is now, with the
/// gate's own record on it. Reading them fails the check (fail closed):
/// a queue that cannot tell whether an override carries over must not
/// guess.
fn merge_group(
    opts: &GateOptions,
    m: &MergeGroupPayload,
    api: &dyn GitHubApi,
    app: Option<&str>,
) -> Result<Option<Queued>> {
    let Some((number, queued_head)) = m.merge_group.queued_pull_request() else {
        println!(
            "bench-gate: the merge queue branch {} names no pull request of this base; nothing carries over.",
            escape::log_text(&m.merge_group.head_ref)
        );
        return Ok(None);
    };
    let info = api.pull(number).map_err(|e| {
        anyhow::anyhow!("pull request #{number} (the merge queue's) could not be read: {e}")
    })?;
    let me = identify(api, opts, app)?;
    let (_, state) = own_state(Some(api), me.as_deref(), number, &opts.check_name)?;
    Ok(Some(Queued {
        number,
        queued_head,
        head_now: info.head_sha,
        labels: info.labels,
        state,
    }))
}

/// Results embedded in the gate's own comment, if they are for this very commit.
fn reuse_results(own: &Comment, head: &str, check: &str) -> Option<Results> {
    let e = comment::decode(own.body.as_deref()?)?;
    (e.head_sha == head && e.check == check).then_some(e.results)
}

/// Whether a command written at `said_at` can cover a commit GitHub first
/// saw at `first_seen` (its earliest check suite): only a commit that
/// existed when the comment was written, so that neither a re-run of the
/// command's workflow nor a record naming another head carries it to a
/// later push. Both are GitHub's own timestamps; one missing or unreadable
/// covers nothing (fail closed).
pub fn predates(first_seen: Option<&str>, said_at: &str) -> bool {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (first_seen.and_then(t), t(said_at)) {
        (Some(pushed), Some(said)) => pushed < said,
        _ => false,
    }
}

/// Why a command written at `said_at` cannot cover `head`, if it cannot:
/// the commit was pushed after it (or GitHub shows no check suite for it,
/// or they cannot be read).
pub fn command_covers(api: &dyn GitHubApi, head: &str, said_at: &str) -> Result<(), String> {
    let short = &head[..head.len().min(7)];
    if !state::valid_sha(head) {
        return Err(format!("{short} is not a commit id"));
    }
    match api.commit_first_seen(head) {
        Ok(first) if predates(first.as_deref(), said_at) => Ok(()),
        Ok(Some(_)) => Err(format!(
            "commit {short} was pushed after the comment was written; an acceptance covers only a commit it was written on"
        )),
        Ok(None) => Err(format!(
            "GitHub shows no check suite for commit {short}, so when it was pushed is not known"
        )),
        Err(e) => Err(format!("the check suites of {short} could not be read: {e}")),
    }
}

/// Who applied `label` most recently, from the timeline.
pub fn label_applier(
    api: &dyn GitHubApi,
    pr: u64,
    label: &str,
) -> Result<Option<String>, ApiError> {
    Ok(latest_applier(&api.label_events(pr)?, label))
}

/// Who applied `label` last, in a timeline's label events (oldest first).
fn latest_applier(events: &[super::api::LabelEvent], label: &str) -> Option<String> {
    events
        .iter()
        .rev()
        .find(|e| e.labeled && e.label == label)
        .map(|e| e.actor.clone())
}

fn pull_request<'a>(
    opts: &GateOptions,
    p: &PullRequestPayload,
    api: Option<&dyn GitHubApi>,
) -> Route<'a> {
    let number = p.pull_request.number;
    let applied_now_by = (p.action == "labeled"
        && p.label
            .as_ref()
            .is_some_and(|l| l.name == opts.override_label))
    .then(|| p.sender.login.clone());
    // The payload is a snapshot; the pull request's labels and head now are
    // what count.
    let (mut labels, current_head) = match api.map(|a| a.pull(number)) {
        Some(Ok(info)) => (info.labels, Some(info.head_sha)),
        _ => (
            p.pull_request
                .labels
                .iter()
                .map(|l| l.name.clone())
                .collect(),
            None,
        ),
    };
    if p.action == "unlabeled" {
        if let Some(removed) = &p.label {
            labels.retain(|l| l != &removed.name);
        }
    }
    Route::Gate(Routed {
        head: p.pull_request.head.sha.clone(),
        event: Pending::PullRequest(PullEvent {
            number,
            label_event: matches!(p.action.as_str(), "labeled" | "unlabeled"),
            labels,
            current_head,
            applied_now_by,
        }),
    })
}

fn pull_request_request(
    opts: &GateOptions,
    api: Option<&dyn GitHubApi>,
    head: String,
    p: PullEvent,
    app: Option<&str>,
) -> Result<Request> {
    let me = api.map(|a| identify(a, opts, app)).transpose()?.flatten();
    let (mine, state) = own_state(api, me.as_deref(), p.number, &opts.check_name)?;
    let mut notes = Vec::new();
    let mut source = Source::Obtain;
    if p.label_event {
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
    // A run for a commit the pull request has left changes nothing about
    // the label: it only stands down (in the sinks) once it has decided.
    let stale = p.current_head.as_deref().is_some_and(|c| c != head);
    Ok(Request {
        kind: Kind::PullRequest(Box::new(PullRequest {
            number: p.number,
            me,
            labels: p.labels,
            applied_now_by: p.applied_now_by,
            stale,
            state,
            asked: None,
        })),
        head,
        source,
        notes,
    })
}

/// The publishing half of the two-job setup: the results come from the
/// pull request's own run (an artifact), so everything they claim is
/// checked against the event and the API before anything is published.
/// Whatever is refused fails the check run opened on the run's own head
/// commit (the server's word, not the artifact's), so a required check
/// never waits forever and never turns green from a refused file.
fn workflow_run(
    ctx: &Context,
    opts: &GateOptions,
    w: &WorkflowRunPayload,
    api: &dyn GitHubApi,
    app: Option<&str>,
    obtain: Obtain,
) -> Result<Admitted, Failed> {
    let run = &w.workflow_run;
    let refuse = |why: String| Failed {
        title: "The results could not be published",
        error: anyhow::anyhow!(
            "the results of workflow run {} were refused: {why}; refusing to publish",
            run.id
        ),
    };
    if run.event != "pull_request" {
        return Err(refuse(format!(
            "the workflow run was triggered by '{}', not by a pull_request event",
            run.event
        )));
    }
    let results = obtain().map_err(|e| refuse(format!("{e:#}")))?;
    let info = results.github.clone().ok_or_else(|| {
        refuse("the results file has no github section (pull request and head commit); it must come from `bench-gate gate` in the pull_request workflow".into())
    })?;
    let pr = info
        .pull_request
        .ok_or_else(|| refuse("the results file names no pull request".into()))?;
    let repo = ctx.repo.as_ref().map(|r| r.full()).unwrap_or_default();
    if !info.repository.eq_ignore_ascii_case(&repo) {
        return Err(refuse(format!(
            "the results are for repository {}, but this is {repo}",
            info.repository
        )));
    }
    if info.head_sha != run.head_sha {
        return Err(refuse(format!(
            "the results are for commit {}, but the workflow run is for {}",
            info.head_sha, run.head_sha
        )));
    }
    if !run.pull_requests.is_empty() && !run.pull_requests.iter().any(|p| p.number == pr) {
        return Err(refuse(format!(
            "pull request #{pr} is not one of the workflow run's pull requests"
        )));
    }
    let current = api
        .pull(pr)
        .map_err(|e| refuse(format!("pull request #{pr} could not be read: {e}")))?;
    // The pull request named must be the one whose head the run built: same
    // head repository and branch (a fork's run has no pull_requests list).
    // Checked before anything else about it, a stand-down included: the
    // number comes from the artifact.
    let run_repo = run
        .head_repository
        .as_ref()
        .map(|r| r.full_name.as_str())
        .unwrap_or_default();
    if !current.head_repo.eq_ignore_ascii_case(run_repo) || current.head_ref != run.head_branch {
        return Err(refuse(format!(
            "pull request #{pr}'s head is {}:{}, but the workflow run built {run_repo}:{}",
            current.head_repo, current.head_ref, run.head_branch
        )));
    }
    if current.head_sha != run.head_sha {
        return Ok(Admitted::StoodDown(StoodDown {
            notice: format!(
                "::notice title=bench-gate stood down::Pull request #{pr} has moved on to {} since the run for {}; not publishing stale results.",
                current.head_sha, run.head_sha
            ),
            pr,
            now_at: current.head_sha,
        }));
    }
    let me = identify(api, opts, app)?;
    let (_, mut state) =
        own_state(Some(api), me.as_deref(), pr, &opts.check_name).map_err(|error| Failed {
            title: "The gate's own record could not be read",
            error,
        })?;
    // The run's triggering actor is the server's word on who started it,
    // not on who applied the label or when. It stands for the labeler only
    // when the gate has already decided for this very head, the label has
    // been applied again since (the timeline counts more applications than
    // the gate recorded at its first decision for this head), and that
    // latest application is the actor's. An unrelated label event, a re-run
    // or "Update branch" by a maintainer therefore grants nothing.
    let label = &opts.override_label;
    let seen_this_head = state.head.as_deref() == Some(run.head_sha.as_str());
    let timeline = api.label_events(pr).ok();
    let applications = timeline.as_ref().map(|events| {
        events
            .iter()
            .filter(|e| e.labeled && &e.label == label)
            .count() as u64
    });
    let latest_by = timeline
        .as_ref()
        .and_then(|events| latest_applier(events, label));
    let applied_again = matches!((applications, state.label_mark), (Some(n), Some(m)) if n > m);
    let applied_now_by = match (&run.triggering_actor, opts.override_scope) {
        (Some(actor), OverrideScope::Commit)
            if seen_this_head && applied_again && current.labels.iter().any(|l| l == label) =>
        {
            latest_by.filter(|by| by.eq_ignore_ascii_case(&actor.login))
        }
        _ => None,
    };
    if !seen_this_head {
        state.label_mark = applications;
    }
    Ok(Admitted::Gate(Request {
        head: run.head_sha.clone(),
        kind: Kind::PullRequest(Box::new(PullRequest {
            number: pr,
            me,
            labels: current.labels,
            applied_now_by,
            stale: false,
            state,
            asked: None,
        })),
        source: Source::Artifact(Box::new(results)),
        notes: vec![format!("_Published from the results of workflow run {} (the pull request's own run), after checking that #{pr}'s head is still {}._", run.id, escape::md_code(&run.head_sha[..7.min(run.head_sha.len())]))],
    }))
}

#[cfg(test)]
mod tests {
    use super::predates;

    #[test]
    fn a_command_covers_only_a_commit_pushed_before_it() {
        let said = "2026-11-27T10:00:05Z";
        assert!(predates(Some("2026-11-27T10:00:04Z"), said));
        // Pushed the same second, or later: not covered.
        assert!(!predates(Some("2026-11-27T10:00:05Z"), said));
        assert!(!predates(Some("2026-11-27T10:00:06Z"), said));
        // Offsets are compared as instants.
        assert!(predates(Some("2026-11-27T11:00:04+02:00"), said));
        // Unknown or unreadable: nothing is covered.
        assert!(!predates(None, said));
        assert!(!predates(Some("yesterday"), said));
        assert!(!predates(Some("2026-11-27T10:00:04Z"), ""));
    }
}
