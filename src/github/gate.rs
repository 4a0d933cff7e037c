//! `bench-gate gate`: benchmark (or read results), compare, then tell the
//! pull request: one comment, one check run, the step summary and outputs.
//!
//! Order matters: results and the report are on disk and in the step
//! summary before any API call, so a publishing failure never loses them.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use super::actions::{self, Level};
use super::api::{ApiError, CheckOutput, Comment, GitHub};
use super::comment::{self, CommentInput, Embedded};
use super::context::{Context, Event};
use super::state::{self, GateState, Grant};
use crate::baseline::{self, discover};
use crate::compare::gate::{self as policy, GateDecision, GateInputs, Override, Role, SetupCheck};
use crate::compare::{self, Comparison, Status, ThresholdFlags};
use crate::model::{GithubInfo, Results};
use crate::report::{self, escape};

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

fn now() -> String {
    crate::model::now_rfc3339()
}

/// The comparison, or `None` when `--baseline latest` finds no baseline yet.
fn compare_with_baseline(
    results: &Results,
    opts: &GateOptions,
) -> Result<Option<(Comparison, String)>> {
    // A/B mode compares with the base commit even before a baseline exists.
    let chosen = match discover::choose(
        &opts.baseline,
        &opts.baselines_dir,
        results.ab.is_some(),
        discover::UnknownKeys::Warn,
    )? {
        discover::Chosen::NoneYet(_) => return Ok(None),
        chosen => chosen,
    };
    let text = chosen
        .path()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .unwrap_or_default();
    let (b, shown): (baseline::Baseline, String) = chosen.baseline()?;
    Ok(Some((
        compare::compare_checked(&b, &shown, results, opts.flags)?,
        text,
    )))
}

fn gate_inputs(
    c: Option<&Comparison>,
    release: bool,
    o: &Override,
    setup: SetupCheck,
    opts: &GateOptions,
) -> GateInputs {
    GateInputs {
        verdict: c.map(|c| c.verdict),
        failures: c.map_or(0, |c| c.deciding_view().0.counts.failure),
        warnings: c.map_or(0, |c| c.deciding_view().0.counts.warning),
        missing: c.map_or(0, |c| c.deciding_view().0.counts.missing),
        missing_policy: opts.flags.missing,
        release,
        override_state: o.clone(),
        setup,
        fail_on_regression: opts.fail_on_regression,
        fail_on_warning: opts.fail_on_warning,
    }
}

/// The Markdown report for the step summary and `report-path`.
fn report_markdown(decision: &GateDecision, c: Option<&Comparison>, check: &str) -> String {
    match c {
        Some(c) => format!(
            "## bench-gate · {}: {}\n\n{}",
            escape::md_text(check),
            escape::md_text(&decision.title),
            report::markdown::report(c)
        ),
        None => format!(
            "## bench-gate · {}: {}\n\nNo baseline was found; capture one with `bench-gate capture --output baselines/v0.1.0.yaml` and commit it.\n",
            escape::md_text(check),
            escape::md_text(&decision.title)
        ),
    }
}

/// Writes the results file, the report file, the step summary and the first
/// outputs. Runs before any API call.
fn write_local(
    ctx: &Context,
    opts: &GateOptions,
    results: &Results,
    report_md: &str,
    decision: &GateDecision,
) -> Result<()> {
    crate::fsutil::write_atomic(&opts.results_out, results.to_json().as_bytes())?;
    crate::fsutil::write_atomic(&opts.report_out, report_md.as_bytes())?;
    if let Some(summary) = &ctx.step_summary {
        if let Err(e) = actions::append_summary(summary, report_md) {
            eprintln!("warning: {e:#}");
        }
    }
    if let Some(out) = &ctx.output {
        actions::write_outputs(
            out,
            &[
                ("result", decision.result.as_str().to_string()),
                ("results-path", abs(&opts.results_out)),
                ("report-path", abs(&opts.report_out)),
            ],
        )?;
    }
    Ok(())
}

fn abs(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// 1-based line of a dotted metric in a baseline's YAML text, found by
/// following the keys' indentation.
pub fn metric_line(yaml: &str, name: &str) -> Option<usize> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (i, raw) in yaml.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or(raw);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let Some((key, _)) = trimmed.split_once(':') else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        while stack.last().is_some_and(|(d, _)| *d >= indent) {
            stack.pop();
        }
        stack.push((indent, key.trim().trim_matches('"').to_string()));
        if stack.len() > 1 && stack[0].1 == "metrics" {
            let dotted: Vec<&str> = stack[1..].iter().map(|(_, k)| k.as_str()).collect();
            if dotted.join(".") == name {
                return Some(i + 1);
            }
        }
    }
    None
}

struct Flagged {
    level: Level,
    title: String,
    message: String,
    line: Option<usize>,
}

/// Failures and warnings of the views that decide, each metric once.
fn flagged(c: &Comparison, yaml: &str) -> Vec<Flagged> {
    let mut seen = std::collections::BTreeSet::new();
    c.deciding_views()
        .into_iter()
        .flat_map(|v| v.metrics.iter())
        .filter(|m| matches!(m.effective_status(), Status::Failure | Status::Warning))
        .filter(|m| seen.insert(m.name.clone()))
        .map(|m| {
            let r = report::view::row(m);
            Flagged {
                level: if m.effective_status() == Status::Failure {
                    Level::Error
                } else {
                    Level::Warning
                },
                // Shown as plain text, in the check run or the log: one line each.
                title: escape::plain(&format!("{}: {} ({})", m.name, r.change, r.status)),
                message: escape::plain(&format!(
                    "{} went from {} to {} ({}); thresholds {}.{}",
                    m.name,
                    r.baseline,
                    r.current,
                    r.change,
                    r.threshold,
                    m.note
                        .as_deref()
                        .map(|n| format!(" {n}."))
                        .unwrap_or_default()
                )),
                line: metric_line(yaml, &m.name),
            }
        })
        .collect()
}

fn check_annotations(c: Option<&(Comparison, String)>) -> Vec<Value> {
    let Some((c, yaml)) = c else {
        return Vec::new();
    };
    flagged(c, yaml)
        .into_iter()
        .map(|f| {
            json!({
                "path": c.baseline_file.trim_start_matches("./"),
                "start_line": f.line.unwrap_or(1),
                "end_line": f.line.unwrap_or(1),
                "annotation_level": if f.level == Level::Error { "failure" } else { "warning" },
                "title": f.title,
                "message": f.message,
            })
        })
        .collect()
}

/// Log annotations, for when no check run could carry them.
fn log_annotations(c: Option<&(Comparison, String)>) {
    if let Some((c, yaml)) = c {
        for f in flagged(c, yaml) {
            println!(
                "{}",
                actions::annotation(
                    f.level,
                    Some(c.baseline_file.trim_start_matches("./")),
                    f.line,
                    &f.title,
                    &f.message
                )
            );
        }
    }
}

const TWO_WORKFLOWS: &str = "To publish for pull requests from forks (whose token is read-only), use the two-workflow pattern: \
the pull_request workflow runs `bench-gate gate` and uploads the results file as an artifact; a workflow_run workflow \
downloads it and runs `bench-gate gate --results FILE` with `permissions: { pull-requests: write, checks: write }`. See the README.";

fn explain_denied(what: &str, permission: &str, e: &ApiError) {
    println!(
        "{}",
        actions::annotation(
            Level::Warning,
            None,
            None,
            "bench-gate could not publish",
            &format!("Could not write the {what} ({e}). The workflow needs `permissions: {{ {permission} }}`. {TWO_WORKFLOWS}")
        )
    );
}

/// This gate's comments, oldest first (the newest is last): those with its
/// marker AND written by the gate's own identity `me`. Anyone else's
/// comment is never read, edited or deleted, whatever it holds.
fn ours(comments: Vec<Comment>, check: &str, me: &str) -> Vec<Comment> {
    let mut v: Vec<Comment> = comments
        .into_iter()
        .filter(|c| c.author().is_some_and(|a| a.eq_ignore_ascii_case(me)))
        .filter(|c| {
            c.body
                .as_deref()
                .is_some_and(|b| comment::is_ours(b, check))
        })
        .collect();
    v.sort_by(|a, b| (a.created_at.as_str(), a.id).cmp(&(b.created_at.as_str(), b.id)));
    v
}

/// Who the gate is on GitHub: `--gate-login`; else `GET /user` (a personal
/// token); else, for an installation token (`GITHUB_TOKEN` or a GitHub
/// App's, which cannot read `/user`), the App of the check run it just
/// created: its comments are `slug[bot]`'s. `None` when nothing can tell
/// (a read-only token that could create no check run): then no comment is
/// the gate's. Any other failure is an error (a rate limit, an outage):
/// guessing would mean trusting someone else's comments.
fn identify(api: &GitHub, opts: &GateOptions, app: Option<&str>) -> Result<Option<String>> {
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

/// The gate on GitHub: the client and the login it posts as.
struct Gh<'a> {
    api: &'a GitHub,
    me: String,
}

/// One comment per pull request and check name: update the newest, delete
/// duplicates a race left behind, create only when there is none (and look
/// again before retrying a create).
fn upsert_comment(gh: &Gh, pr: u64, check: &str, body: &str) -> Result<Comment, ApiError> {
    let api = gh.api;
    let mut existing = ours(api.comments(pr)?, check, &gh.me);
    for attempt in 0..3 {
        if let Some(newest) = existing.pop() {
            let updated = api.update_comment(newest.id, body)?;
            for dup in existing {
                if let Err(e) = api.delete_comment(dup.id) {
                    eprintln!(
                        "warning: could not delete duplicate comment {}: {e}",
                        dup.id
                    );
                } else {
                    println!("deleted duplicate bench-gate comment {}", dup.id);
                }
            }
            return Ok(updated);
        }
        match api.create_comment(pr, body) {
            Ok(c) => {
                if let Some(author) = c.author().filter(|a| !a.eq_ignore_ascii_case(&gh.me)) {
                    println!(
                        "{}",
                        actions::annotation(
                            Level::Warning,
                            None,
                            None,
                            "bench-gate does not know its own login",
                            &format!("The comment was posted as @{author}, but the gate took itself for @{}; it will not find this comment again. Set the action input gate-login: {author}.", gh.me)
                        )
                    );
                }
                return Ok(c);
            }
            Err(e) if e.is_transient() && attempt < 2 => {
                eprintln!("GitHub API: {e}; looking for the comment before trying again");
                std::thread::sleep(std::time::Duration::from_millis(500 * (attempt + 1)));
                existing = ours(api.comments(pr)?, check, &gh.me);
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// Who applied `label` most recently, from the timeline.
fn label_applier(api: &GitHub, pr: u64, label: &str) -> Result<Option<String>, ApiError> {
    Ok(api
        .label_events(pr)?
        .into_iter()
        .rev()
        .find(|e| e.labeled && e.label == label)
        .map(|e| e.actor))
}

/// The role of `by`, when it is enough to override; otherwise the
/// `Override` that says why not.
fn role_for_override(api: &GitHub, by: &str, opts: &GateOptions) -> Result<String, Override> {
    match api.permission(by) {
        Ok(role_name) => match Role::parse(&role_name) {
            Some(role) if role >= opts.override_permission => Ok(role_name),
            _ => Err(Override::Insufficient {
                by: by.to_string(),
                role: role_name,
                required: opts.override_permission,
            }),
        },
        Err(e) => Err(Override::Unverified {
            reason: format!("the permission of @{by} could not be read: {e}"),
        }),
    }
}

/// What the label means for `head` when it covers one commit (the default):
/// it counts when the gate's own record says it was applied, by someone
/// with the permission, to this very head commit, and the timeline agrees
/// that the label's latest application was theirs (a record is only as
/// good as the comment it sits in). Applied now (`labeled` event), it is
/// recorded for the event payload's head commit. Given for another commit,
/// it is taken off the pull request (so the label always means what it
/// shows) and counts for nothing.
fn commit_override(
    api: Option<&GitHub>,
    pr: u64,
    head: &str,
    labels: &[String],
    applied_now_by: Option<&str>,
    state: &mut GateState,
    opts: &GateOptions,
) -> Override {
    let label = &opts.override_label;
    if !labels.iter().any(|l| l == label) {
        state.grant = None;
        return Override::Absent;
    }
    let Some(api) = api else {
        return Override::Unverified {
            reason: "no token to look up who applied it".into(),
        };
    };
    if let Some(by) = applied_now_by {
        return match role_for_override(api, by, opts) {
            Ok(role) => {
                state.grant = Some(Grant {
                    label: label.clone(),
                    by: by.to_string(),
                    role: role.clone(),
                    head_sha: head.to_string(),
                    at: now(),
                });
                Override::Granted {
                    by: by.to_string(),
                    role,
                }
            }
            Err(o) => o,
        };
    }
    match state.grant.clone() {
        Some(g) if g.label == *label && g.head_sha == head => {
            match label_applier(api, pr, label) {
                Ok(Some(by)) if by.eq_ignore_ascii_case(&g.by) => {}
                Ok(by) => {
                    state.grant = None;
                    return Override::Unverified {
                        reason: format!(
                            "the record names @{}, but the label was last applied by {}",
                            g.by,
                            by.map_or("no one".into(), |b| format!("@{b}"))
                        ),
                    };
                }
                Err(e) => {
                    return Override::Unverified {
                        reason: format!("the timeline could not be read: {e}"),
                    }
                }
            }
            match role_for_override(api, &g.by, opts) {
                Ok(role) => Override::Granted { by: g.by, role },
                Err(o) => o,
            }
        }
        Some(g) if g.label == *label => {
            let removed = match api.remove_label(pr, label) {
                Ok(()) => {
                    println!(
                        "bench-gate: the override was given for {} by @{}; removed the label `{label}` from #{pr}, now at {head}.",
                        g.head_sha, g.by
                    );
                    true
                }
                Err(e) => {
                    eprintln!("warning: could not remove the stale label `{label}`: {e}");
                    false
                }
            };
            state.grant = None;
            Override::Stale {
                by: g.by,
                given_for: g.head_sha,
                removed,
            }
        }
        _ => Override::Unverified {
            reason: format!(
                "the gate has no record of it being applied to commit {}; remove it and apply it again to override this commit",
                &head[..head.len().min(7)]
            ),
        },
    }
}

/// The label covering the whole pull request (`override-scope:
/// pull-request`): whoever applied it last, from the event or the timeline.
fn override_state(
    api: Option<&GitHub>,
    pr: u64,
    labels: &[String],
    applied_now_by: Option<&str>,
    opts: &GateOptions,
) -> Override {
    if !labels.iter().any(|l| l == &opts.override_label) {
        return Override::Absent;
    }
    let Some(api) = api else {
        return Override::Unverified {
            reason: "no token to look up who applied it".into(),
        };
    };
    let by = match applied_now_by {
        Some(u) => u.to_string(),
        None => match label_applier(api, pr, &opts.override_label) {
            Ok(Some(u)) => u,
            Ok(None) => {
                return Override::Unverified {
                    reason: "no labeled event for it in the timeline".into(),
                }
            }
            Err(e) => {
                return Override::Unverified {
                    reason: format!("the timeline could not be read: {e}"),
                }
            }
        },
    };
    match role_for_override(api, &by, opts) {
        Ok(role) => Override::Granted { by, role },
        Err(o) => o,
    }
}

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
    match &ctx.event {
        Event::Unsupported { name, detail } => {
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            };
            println!(
                "bench-gate gate: the '{name}' event{detail} is not one the gate acts on (pull_request opened/synchronize/reopened/labeled/unlabeled, push, workflow_run, workflow_dispatch); nothing to do."
            );
            if let Some(out) = &ctx.output {
                actions::write_outputs(out, &[("result", "skipped".into())])?;
            }
            Ok(0)
        }
        Event::Local => local(opts, obtain),
        Event::PullRequest(p) => pull_request(ctx, opts, p, obtain),
        Event::WorkflowRun(w) => workflow_run(ctx, opts, w, obtain),
        Event::PushTag { sha, .. } => {
            let api = connect(ctx)?;
            publish(
                ctx,
                opts,
                Target {
                    api: api.as_ref(),
                    me: None,
                    pr: None,
                    head: sha.clone(),
                    release: true,
                    report_only: false,
                    override_state: Override::Absent,
                    label_on: false,
                    state: None,
                },
                obtain,
            )
        }
        Event::PushBranch { sha, .. } | Event::WorkflowDispatch { sha, .. } => publish(
            ctx,
            opts,
            Target {
                api: None,
                me: None,
                pr: None,
                head: sha.clone(),
                release: false,
                report_only: true,
                override_state: Override::Absent,
                label_on: false,
                state: None,
            },
            obtain,
        ),
    }
}

/// The gate's own comments on `pr` and the record in the newest; a record
/// that cannot be read counts as none (it grants nothing).
fn own_state(gh: &Gh, pr: u64, check: &str) -> (Vec<Comment>, GateState) {
    let mine = match gh.api.comments(pr) {
        Ok(all) => ours(all, check, &gh.me),
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

fn pull_request(
    ctx: &Context,
    opts: &GateOptions,
    p: &super::context::PullRequestPayload,
    obtain: Obtain,
) -> Result<u8> {
    let pr = p.pull_request.number;
    let head = p.pull_request.head.sha.clone();
    let label_event = matches!(p.action.as_str(), "labeled" | "unlabeled");
    let applied_now_by = (p.action == "labeled"
        && p.label
            .as_ref()
            .is_some_and(|l| l.name == opts.override_label))
    .then_some(p.sender.login.as_str());
    let api = connect(ctx)?;
    // The payload is a snapshot; the pull request's labels and head now are what count.
    let (mut labels, current_head) = match api.as_ref().map(|a| a.pull(pr)) {
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
    let label_on = labels.iter().any(|l| l == &opts.override_label);
    let check = CheckSlot::start(ctx, api.as_ref(), &opts.check_name, &head);
    guarded(api.as_ref(), check, |check| {
        let me = match api.as_ref() {
            Some(a) => identify(a, opts, check.app.as_deref())?,
            None => None,
        };
        let gh = api.as_ref().zip(me.clone()).map(|(api, me)| Gh { api, me });
        let (mine, mut state) = match &gh {
            Some(gh) => own_state(gh, pr, &opts.check_name),
            None => (Vec::new(), GateState::new(&opts.check_name)),
        };
        // A run for a commit the pull request has left changes nothing about
        // the label: it only stands down (below) once it has decided.
        let stale_run = current_head.as_deref().is_some_and(|c| c != head);
        let override_state = if stale_run {
            Override::Unverified {
                reason: format!(
                    "this run is for {}, no longer the pull request's head",
                    &head[..head.len().min(7)]
                ),
            }
        } else {
            match opts.override_scope {
                OverrideScope::Commit => commit_override(
                    api.as_ref(),
                    pr,
                    &head,
                    &labels,
                    applied_now_by,
                    &mut state,
                    opts,
                ),
                OverrideScope::PullRequest => {
                    override_state(api.as_ref(), pr, &labels, applied_now_by, opts)
                }
            }
        };
        state.head = Some(head.clone());
        let mut notes = Vec::new();
        let mut reused = None;
        if label_event {
            if opts.label_events == LabelEvents::Reuse {
                reused = mine
                    .last()
                    .and_then(|c| reuse_results(c, &head, &opts.check_name));
            }
            match &reused {
                Some(_) => {
                    println!("bench-gate: label change; re-deciding from the results in the gate's own comment for {head}, without benchmarking.");
                    notes.push("_Re-decided after a label change from this commit's earlier results; nothing was benchmarked again._".to_string());
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
        decide_and_publish(
            ctx,
            opts,
            &Target {
                api: api.as_ref(),
                me,
                pr: Some(pr),
                head: head.clone(),
                release: false,
                report_only: false,
                label_on,
                override_state,
                state: Some(state),
            },
            check,
            reused,
            notes,
            obtain,
        )
    })
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
    w: &super::context::WorkflowRunPayload,
    obtain: Obtain,
) -> Result<u8> {
    if !opts.results_given {
        anyhow::bail!(
            "a workflow_run gate publishes the results of the pull_request run: pass --results FILE (the downloaded artifact); it never benchmarks the default branch in its place"
        );
    }
    let run = &w.workflow_run;
    let api = connect(ctx)?
        .context("a workflow_run gate needs a token that can write: set GITHUB_TOKEN or --token")?;
    let check = CheckSlot::start(ctx, Some(&api), &opts.check_name, &run.head_sha);
    guarded(Some(&api), check, |check| {
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
        if current.head_sha != run.head_sha {
            println!(
                "::notice title=bench-gate stood down::Pull request #{pr} has moved on to {} since the run for {}; not publishing stale results.",
                current.head_sha, run.head_sha
            );
            if let Some(id) = check.id {
                let out = CheckOutput {
                    title: "Not decided: the pull request has moved on",
                    summary: &format!(
                        "Pull request #{pr} is now at {}; its own run decides.",
                        escape::md_code(&current.head_sha)
                    ),
                    text: "",
                    annotations: &[],
                };
                if let Err(e) = api.complete_check_run(id, "skipped", &now(), &out) {
                    eprintln!("warning: could not complete the check run: {e}");
                }
            }
            if let Some(out) = &ctx.output {
                actions::write_outputs(out, &[("result", "stale".into())])?;
            }
            return Ok(0);
        }
        // The pull request named must be the one whose head the run built:
        // same head repository and branch (a fork's run has no pull_requests list).
        let run_repo = run
            .head_repository
            .as_ref()
            .map(|r| r.full_name.as_str())
            .unwrap_or_default();
        if !current.head_repo.eq_ignore_ascii_case(run_repo) || current.head_ref != run.head_branch
        {
            return Err(refuse(format!(
                "pull request #{pr}'s head is {}:{}, but the workflow run built {run_repo}:{}",
                current.head_repo, current.head_ref, run.head_branch
            )));
        }
        let me = identify(&api, opts, check.app.as_deref())?;
        let (_, mut state) = match &me {
            Some(me) => own_state(
                &Gh {
                    api: &api,
                    me: me.clone(),
                },
                pr,
                &opts.check_name,
            ),
            None => (Vec::new(), GateState::new(&opts.check_name)),
        };
        // The run's triggering actor is the server's word on who started it.
        // It stands for the labeler only when the gate has already decided
        // for this very head (so the label cannot have been applied to an
        // earlier commit) and the timeline's latest application of the
        // label is theirs.
        let seen_this_head = state.head.as_deref() == Some(run.head_sha.as_str());
        let applied_now_by = match (&run.triggering_actor, opts.override_scope) {
            (Some(actor), OverrideScope::Commit)
                if seen_this_head && current.labels.iter().any(|l| l == &opts.override_label) =>
            {
                match label_applier(&api, pr, &opts.override_label) {
                    Ok(Some(by)) if by.eq_ignore_ascii_case(&actor.login) => Some(by),
                    _ => None,
                }
            }
            _ => None,
        };
        let override_state = match opts.override_scope {
            OverrideScope::Commit => commit_override(
                Some(&api),
                pr,
                &run.head_sha,
                &current.labels,
                applied_now_by.as_deref(),
                &mut state,
                opts,
            ),
            OverrideScope::PullRequest => {
                override_state(Some(&api), pr, &current.labels, None, opts)
            }
        };
        state.head = Some(run.head_sha.clone());
        let mut given = Some(results);
        let mut from_artifact = move || given.take().context("results already used");
        decide_and_publish(
            ctx,
            opts,
            &Target {
                api: Some(&api),
                me,
                pr: Some(pr),
                head: run.head_sha.clone(),
                release: false,
                report_only: false,
                label_on: current.labels.iter().any(|l| l == &opts.override_label),
                override_state,
                state: Some(state),
            },
            check,
            None,
            vec![format!("_Published from the results of workflow run {} (the pull request's own run), after checking that #{pr}'s head is still {}._", run.id, escape::md_code(&run.head_sha[..7.min(run.head_sha.len())]))],
            &mut from_artifact,
        )
    })
}

/// Results embedded in the gate's own comment, if they are for this very commit.
fn reuse_results(own: &Comment, head: &str, check: &str) -> Option<Results> {
    let e = comment::decode(own.body.as_deref()?)?;
    (e.head_sha == head && e.check == check).then_some(e.results)
}

/// Outside GitHub: print the comment that would be posted.
fn local(opts: &GateOptions, obtain: Obtain) -> Result<u8> {
    let results = obtain()?;
    let cmp = compare_with_baseline(&results, opts)?;
    let c = cmp.as_ref().map(|(c, _)| c);
    let decision = policy::decide(&gate_inputs(
        c,
        false,
        &Override::Absent,
        SetupCheck::Unchanged,
        opts,
    ));
    let (body, _) = comment::body(&CommentInput {
        check_name: &opts.check_name,
        decision: &decision,
        comparison: c,
        head_sha: "local",
        workload: &results.workload,
        override_state: &Override::Absent,
        override_label: &opts.override_label,
        override_permission: opts.override_permission,
        changed_setup: &[],
        state_block: String::new(),
        baselines_dir: &opts.baselines_dir.display().to_string(),
        run_url: None,
        notes: vec![
            "_Run outside GitHub Actions: this is the comment that would be posted._".into(),
        ],
        embedded: None,
    });
    println!("{}", escape::log_text(&body));
    Ok(match c {
        Some(c) => compare::exit_code(c.verdict, opts.fail_on_regression, opts.fail_on_warning),
        None => 0,
    })
}

struct Target<'a> {
    api: Option<&'a GitHub>,
    /// The gate's login, when there is a pull request to comment on.
    me: Option<String>,
    pr: Option<u64>,
    head: String,
    release: bool,
    report_only: bool,
    override_state: Override,
    /// The override label is on the pull request (or tag's pull request).
    label_on: bool,
    /// The record to keep in the comment (pull requests only).
    state: Option<GateState>,
}

/// The check run of this decision, created `in_progress` before anything
/// else: it shows the run is under way and, for an installation token,
/// tells which App (and so which `[bot]` login) the gate is. While it is
/// open an interrupt (a cancelled job) completes it as `cancelled`, and
/// [`guarded`] completes it as `failure` with the error when anything fails
/// before the decision does: it never stays in progress.
struct CheckSlot {
    id: Option<u64>,
    app: Option<String>,
    /// The token may not create check runs (a fork's read-only token).
    denied: bool,
    _on_interrupt: Option<crate::interrupt::Registration>,
}

impl CheckSlot {
    fn start(ctx: &Context, api: Option<&GitHub>, name: &str, head: &str) -> CheckSlot {
        let none = |denied| CheckSlot {
            id: None,
            app: None,
            denied,
            _on_interrupt: None,
        };
        let Some(api) = api else {
            return none(false);
        };
        let created = match api.create_check_run(name, head, &now()) {
            Ok(c) => c,
            Err(e) if e.is_permission() => {
                explain_denied("check run", "checks: write", &e);
                return none(true);
            }
            Err(e) => {
                eprintln!("warning: could not create the check run: {e}");
                return none(false);
            }
        };
        let id = created.id;
        let (url, token, repo) = (ctx.api_url.clone(), ctx.token.clone(), ctx.repo.clone());
        let hook = crate::interrupt::on_interrupt(move || {
            let (Some(token), Some(repo)) = (&token, &repo) else {
                return;
            };
            let out = CheckOutput {
                title: "Cancelled",
                summary: "The run was stopped (SIGINT or SIGTERM: a cancelled job) before it finished; nothing was decided.",
                text: "",
                annotations: &[],
            };
            match GitHub::new(&url, token, repo.clone()) {
                Ok(api) => {
                    if let Err(e) = api
                        .hurried()
                        .complete_check_run(id, "cancelled", &now(), &out)
                    {
                        eprintln!("could not mark the check run cancelled: {e}");
                    }
                }
                Err(e) => eprintln!("could not mark the check run cancelled: {e:#}"),
            }
        });
        CheckSlot {
            id: Some(id),
            app: created.app,
            denied: false,
            _on_interrupt: Some(hook),
        }
    }
}

/// Runs the decision with its check run open; on an error completes the
/// check as `failure` with the error (after an interrupt the handler
/// completes it as `cancelled` instead).
fn guarded(
    api: Option<&GitHub>,
    check: CheckSlot,
    decide: impl FnOnce(&CheckSlot) -> Result<u8, Failed>,
) -> Result<u8> {
    let result = decide(&check);
    crate::interrupt::wait_if_interrupted();
    if let (Err(Failed { title, error: e }), Some(api), Some(id)) = (&result, api, check.id) {
        let summary = truncate_bytes(
            &format!(
                "Nothing was decided; the run stopped with this error:\n\n{}",
                escape::md_block(&format!("{e:#}"))
            ),
            60_000,
        );
        let out = CheckOutput {
            title,
            summary: &summary,
            text: "",
            annotations: &[],
        };
        if let Err(e2) = api.complete_check_run(id, "failure", &now(), &out) {
            eprintln!("warning: could not mark the check run failed: {e2}");
        }
    }
    drop(check);
    result.map_err(|f| f.error)
}

/// Decides and publishes for a tag or branch push (no pull request).
fn publish(ctx: &Context, opts: &GateOptions, t: Target, obtain: Obtain) -> Result<u8> {
    let check_api = if t.report_only { None } else { t.api };
    let check = CheckSlot::start(ctx, check_api, &opts.check_name, &t.head);
    guarded(check_api, check, |check| {
        decide_and_publish(ctx, opts, &t, check, None, Vec::new(), obtain)
    })
}

/// An error after the check run was created, with the check's title for it.
struct Failed {
    title: &'static str,
    error: anyhow::Error,
}

impl From<anyhow::Error> for Failed {
    fn from(error: anyhow::Error) -> Failed {
        Failed {
            title: "The benchmark could not run",
            error,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn decide_and_publish(
    ctx: &Context,
    opts: &GateOptions,
    t: &Target,
    check: &CheckSlot,
    reused: Option<Results>,
    mut notes: Vec<String>,
    obtain: Obtain,
) -> Result<u8, Failed> {
    let api = t.api;
    let check_api = if t.report_only { None } else { api };
    let check_id = check.id;
    let mut denied = check.denied;
    let mut results = match reused {
        Some(r) => r,
        None => obtain()?,
    };
    if let Some(repo) = &ctx.repo {
        results.github = Some(GithubInfo {
            repository: repo.full(),
            event: ctx.event_name.clone(),
            pull_request: t.pr,
            head_sha: t.head.clone(),
        });
    }
    let cmp = compare_with_baseline(&results, opts).map_err(|error| Failed {
        title: "The results could not be compared",
        error,
    })?;
    let c = cmp.as_ref().map(|(c, _)| c);
    for conf in &results.confirmations {
        notes.push(format!(
            "🔁 **Confirmation run**: {}.",
            report::confirmation_markdown(conf)
        ));
    }

    let override_state = if t.release {
        if t.label_on {
            Override::Ignored
        } else {
            Override::Absent
        }
    } else {
        t.override_state.clone()
    };
    let dir = opts.baselines_dir.display().to_string();
    let dir = dir
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_string();
    // Fail closed: a file list that cannot be read is not an approval.
    let (setup, changed): (SetupCheck, Vec<String>) = match (api, t.pr) {
        (Some(api), Some(pr)) => match api.pull_files(pr) {
            Ok(files) => {
                let changed: Vec<String> = files
                    .into_iter()
                    .filter(|f| is_protected(f, &opts.protected))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if changed.is_empty() {
                    (SetupCheck::Unchanged, changed)
                } else {
                    (SetupCheck::Changed(changed.clone()), changed)
                }
            }
            Err(e) => {
                eprintln!("error: could not list the pull request's files, so a change to the benchmark's setup cannot be ruled out: {e}");
                (
                    SetupCheck::Unknown(format!(
                        "the pull request's files could not be listed: HTTP {}",
                        e.status().map_or("error".into(), |s| s.to_string())
                    )),
                    Vec::new(),
                )
            }
        },
        _ => (SetupCheck::Unchanged, Vec::new()),
    };
    let decision = policy::decide(&gate_inputs(c, t.release, &override_state, setup, opts));
    let report_md = report_markdown(&decision, c, &opts.check_name);
    write_local(ctx, opts, &results, &report_md, &decision)?;
    println!(
        "bench-gate: {} ({})",
        decision.title,
        decision.result.as_str()
    );
    if t.report_only {
        print!(
            "{}",
            escape::log_text(
                &c.map(report::terminal::comparison_table)
                    .unwrap_or_default()
            )
        );
        return Ok(0);
    }

    // A newer push makes this run stale: do not overwrite the newer commit's comment.
    let mut stale = false;
    if let (Some(api), Some(pr)) = (api, t.pr) {
        match api.pull(pr) {
            Ok(info) if info.head_sha != t.head => {
                println!(
                    "::notice title=bench-gate stood down::Pull request #{pr} is now at {}, newer than {} benchmarked here; the comment is left to that run.",
                    info.head_sha, t.head
                );
                stale = true;
            }
            Ok(_) => {}
            Err(e) => eprintln!("warning: could not read the pull request's current head: {e}"),
        }
    }

    if let Some(url) = opts.history_url.as_deref().and_then(escape::md_url) {
        notes.push(format!(
            "📈 [How each metric moved on the main branch]({url})"
        ));
    }
    let workload = results.workload.clone();
    let embedded = Embedded {
        version: 1,
        check: opts.check_name.clone(),
        head_sha: t.head.clone(),
        results,
    };
    let state_block = t.state.as_ref().map(state::encode).unwrap_or_default();
    let input = CommentInput {
        check_name: &opts.check_name,
        decision: &decision,
        comparison: c,
        head_sha: &t.head,
        workload: &workload,
        override_state: &override_state,
        override_label: &opts.override_label,
        override_permission: opts.override_permission,
        changed_setup: &changed,
        state_block: state_block.clone(),
        baselines_dir: &dir,
        run_url: run_url(ctx),
        notes: std::mem::take(&mut notes),
        embedded: Some(&embedded),
    };
    let (body, trim) = comment::body(&input);
    if trim != comment::Trim::default() {
        println!("bench-gate: the comment was trimmed to fit GitHub's limit ({trim:?}); the full report is in the step summary.");
    }
    let mut outputs: Vec<(&str, String)> = Vec::new();
    let gh = api.zip(t.me.clone()).map(|(api, me)| Gh { api, me });
    if let (Some(gh), Some(pr), false, true) = (&gh, t.pr, stale, opts.comment) {
        match upsert_comment(gh, pr, &opts.check_name, &body) {
            Ok(c) => {
                println!("bench-gate: comment {}", c.html_url);
                outputs.push(("comment-url", c.html_url));
            }
            Err(e) if e.is_permission() => {
                explain_denied("pull-request comment", "pull-requests: write", &e);
                denied = true;
            }
            Err(e) => {
                eprintln!("warning: could not post the comment: {e}");
                denied = true;
            }
        }
    }
    if let Some(api) = check_api.filter(|_| !denied || check_id.is_some()) {
        let summary = strip_hidden(&body, &opts.check_name, &state_block);
        let text = c.map(report::markdown::report).unwrap_or_default();
        let annotations = check_annotations(cmp.as_ref());
        let limit = |s: &str| truncate_bytes(s, 65_000);
        let (summary, text) = (limit(&summary), limit(&text));
        let title = escape::plain(&decision.title);
        let out = CheckOutput {
            title: &title,
            summary: &summary,
            text: &text,
            annotations: &annotations,
        };
        let result = match check_id {
            Some(id) => api
                .complete_check_run(id, decision.conclusion, &now(), &out)
                .map(|_| id),
            // Creating it up front failed: try once more now.
            None => api
                .create_check_run(&opts.check_name, &t.head, &now())
                .and_then(|c| {
                    api.complete_check_run(c.id, decision.conclusion, &now(), &out)
                        .map(|_| c.id)
                }),
        };
        match result {
            Ok(id) => outputs.push(("check-run-id", id.to_string())),
            Err(e) if e.is_permission() => {
                explain_denied("check run", "checks: write", &e);
                denied = true;
            }
            // The check would stay in progress (or be missing): the job
            // fails instead of passing quietly.
            Err(e) => {
                return Err(Failed {
                    title: "The decision could not be recorded",
                    error: anyhow::anyhow!("could not complete the check run: {e}"),
                })
            }
        }
    }
    if api.is_none() || denied {
        log_annotations(cmp.as_ref());
        println!("bench-gate: {TWO_WORKFLOWS}");
    }
    if let Some(out) = &ctx.output {
        if !outputs.is_empty() {
            actions::write_outputs(out, &outputs)?;
        }
    }
    Ok(decision.exit_code)
}

/// The comment without its marker and hidden results: the check run's summary.
fn strip_hidden(body: &str, check: &str, state_block: &str) -> String {
    let mut s = body.replace(&comment::marker(check), "");
    if !state_block.is_empty() {
        s = s.replace(state_block, "");
    }
    if let Some(i) = s.find("<!-- bench-gate:results ") {
        s.truncate(i);
    }
    s.trim().to_string()
}

fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max - 40;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n\n_(trimmed to fit the limit)_", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_lines_follow_indentation() {
        let y = include_str!("../../tests/fixtures/persona-v1.12.0.yaml");
        assert_eq!(metric_line(y, "generation.single.latency_p50_ms"), Some(9));
        assert_eq!(
            metric_line(y, "generation.batch_10.latency_p50_ms"),
            Some(13)
        );
        assert_eq!(metric_line(y, "memory.batch_10_peak_mb"), Some(17));
        assert_eq!(metric_line(y, "startup.cli_cold_ms"), Some(19));
        assert_eq!(metric_line(y, "nope"), None);
    }

    #[test]
    fn truncation_is_on_a_char_boundary() {
        let s = "é".repeat(40_000);
        let t = truncate_bytes(&s, 65_000);
        assert!(t.len() <= 65_000);
        assert!(t.ends_with("_(trimmed to fit the limit)_"));
    }
}
