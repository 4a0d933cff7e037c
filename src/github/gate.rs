//! `bench-gate gate`: benchmark (or read results), compare, then tell the
//! pull request: one comment, one check run, the step summary and outputs.
//!
//! Three stages, each in its own module:
//! 1. [`route`](super::route): the event, routed into a plain request
//!    (which commit, which pull request, a label event or not, who applied
//!    the label, results given or to benchmark, release or report only).
//!    Routing has two halves: [`route::route`] reads the event (and the pull
//!    request as it is now) to name the commit; the check run for that
//!    commit is created then, FIRST in every flow, because its App tells an
//!    installation token's login; [`route::request`] then learns who the
//!    gate is, reads its own record and checks a `workflow_run`'s artifact;
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
use super::route::{self, Admitted, Kind, Request, Route, Source};
use super::sinks::{OpenCheck, Sinks, Target};
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
    /// The login the token posts as; by default `GET /user`, and for an
    /// installation token (which cannot read it) `slug[bot]` of the App
    /// its first check run belongs to (`github-actions[bot]` for
    /// `GITHUB_TOKEN`).
    pub gate_login: Option<String>,
    pub override_scope: OverrideScope,
    pub label_events: LabelEvents,
    /// Repository-relative files and folders whose change needs a
    /// maintainer's approval: the baselines folder, the workflows,
    /// `bench-gate.yml` and the files it names.
    pub protected: Vec<String>,
    /// `relevant_paths:` globs from `bench-gate.yml`: a pull request that
    /// changes none of them (and no protected file) is not benchmarked.
    pub relevant_paths: Option<Vec<String>>,
    /// On a push to the default branch: the branch main's history is kept
    /// on (created at the pushed commit when missing); `None`: not kept.
    pub history_branch: Option<String>,
    /// Runs kept per workload and environment fingerprint.
    pub history_keep: usize,
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

/// An error once the check run is open, with the check's title for it:
/// the check is completed as `failure` with it.
#[derive(Debug)]
pub struct Failed {
    pub title: &'static str,
    pub error: anyhow::Error,
}

impl From<anyhow::Error> for Failed {
    fn from(error: anyhow::Error) -> Failed {
        Failed {
            title: "The benchmark could not run",
            error,
        }
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
    let routed = match route::route(ctx, opts, api)? {
        Route::Gate(r) => r,
        Route::Skip(message) => return sinks.nothing_decided(&message, ResultValue::Skipped),
        Route::Reply { number, body } => {
            sinks.post_reply(number, &body);
            return sinks.nothing_decided(
                "bench-gate gate: the /bench-gate command changed nothing (see the reply).",
                ResultValue::Skipped,
            );
        }
        Route::Local => {
            let (body, code) = outcome::local(opts, &obtain()?)?;
            println!("{}", escape::log_text(&body));
            return Ok(code);
        }
    };
    // A push to the default branch, with main's history kept: the only
    // calls are the history's (data branch, issue), after the report.
    let history = match (&ctx.event, &opts.history_branch, api) {
        (
            Event::PushBranch {
                default: true,
                branch: pushed,
                ..
            },
            Some(branch),
            Some(api),
        ) => {
            anyhow::ensure!(
                pushed != branch,
                "--history-branch {}: that is the branch pushed to; main's history needs a branch of its own (e.g. bench-gate-data)",
                escape::log(branch)
            );
            Some(History { api, branch })
        }
        _ => None,
    };
    if routed.report_only() {
        // Files and the log only: no API call.
        sinks.api = None;
    }
    // The check run first, in every flow (label events too): it shows
    // "in progress" while benchmarking, its App tells an installation
    // token's login, and from here on it is never left in progress.
    let check = sinks.open_check(&routed.head);
    let result = with_check_open(&sinks, &check, routed, obtain, history);
    // After an interrupt the check is the handler's to complete (cancelled).
    crate::interrupt::wait_if_interrupted();
    if let Err(failed) = &result {
        sinks.fail_check(&check, failed);
    }
    drop(check);
    result.map_err(|f| f.error)
}

/// Where main's history is kept, on a push to the default branch.
struct History<'a> {
    api: &'a dyn GitHubApi,
    branch: &'a str,
}

/// Everything after the check run is open: the rest of routing, the
/// outcome, the sinks (and main's history).
fn with_check_open(
    sinks: &Sinks,
    check: &OpenCheck,
    routed: route::Routed,
    obtain: Obtain,
    history: Option<History>,
) -> Result<u8, Failed> {
    let (ctx, opts, api) = (sinks.ctx, sinks.opts, sinks.api);
    let app = check.app.as_deref();
    let req = match route::request(ctx, opts, api, routed, app, &mut *obtain)? {
        Admitted::Gate(r) => r,
        Admitted::StoodDown(s) => return sinks.stood_down(check, &s),
        Admitted::Recorded(r) => return sinks.recorded(check, &r),
    };
    let Request {
        head,
        mut kind,
        source,
        notes,
    } = req;
    // A pull request that changes no benchmarked path: a quick success.
    // Not for an artifact (it was measured), nor a merge queue (a group
    // holds the pull requests ahead of this one too), nor a run for a
    // commit the pull request has left (the file list GitHub gives is the
    // newer head's: such a run benchmarks, as any stale run does).
    if let (Some(api), Some(globs), Kind::PullRequest(p)) = (api, &opts.relevant_paths, &kind) {
        if !matches!(source, Source::Artifact(_)) && !p.stale {
            let (number, protected) = (p.number, &opts.protected);
            if let Some(message) = outcome::not_relevant(api, number, &head, globs, protected) {
                return sinks.not_relevant(check, &head, &message);
            }
        }
    }
    let override_state = match &mut kind {
        Kind::PullRequest(pr) => outcome::resolve_override(api, pr, &head, opts),
        Kind::MergeGroup(m) => match (api, &m.queued) {
            (Some(api), Some(q)) => outcome::queue_override(api, q, opts),
            _ => Override::Absent,
        },
        Kind::Release | Kind::ReportOnly => Override::Absent,
    };
    let accepted = match &mut kind {
        Kind::PullRequest(pr) => outcome::resolve_acceptances(api, pr, &head, opts),
        // The queued pull request's acceptances for the queued head, checked
        // as on the pull request (its record is not written).
        Kind::MergeGroup(m) => match &m.queued {
            Some(q) if q.head_now == q.queued_head => {
                let mut pr = q.as_pull_request();
                outcome::resolve_acceptances(api, &mut pr, &q.queued_head, opts)
            }
            _ => Vec::new(),
        },
        Kind::Release | Kind::ReportOnly => Vec::new(),
    };
    let pr = match &kind {
        Kind::PullRequest(p) => Some(p),
        Kind::MergeGroup(_) | Kind::Release | Kind::ReportOnly => None,
    };
    // The setup check: a pull request's files; a merge queue's, those of
    // the pull request its branch names (none named: not checked, so not
    // approved).
    let setup_of = match &kind {
        Kind::PullRequest(p) => SetupOf::Pull(p.number),
        Kind::MergeGroup(m) => match &m.queued {
            Some(q) => SetupOf::Pull(q.number),
            None => SetupOf::Unknown("the merge queue's branch names no pull request".into()),
        },
        Kind::Release | Kind::ReportOnly => SetupOf::Nothing,
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
        attempt: matches!(source, route::Source::Obtain).then(|| {
            let n = ctx.run_attempt.as_deref().and_then(|a| a.parse().ok());
            (ctx.run_id.clone(), n.unwrap_or(1))
        }),
        accepted,
        asked: pr.and_then(|p| p.asked.clone()),
    };
    let o = decide(sinks, &target, setup_of, source, facts, obtain)?;
    let code = sinks.publish(&target, check, &o)?;
    if let Some(h) = history {
        // Compared again (a pure, quick step) for the drift from the baseline.
        let compared = outcome::compare_with_baseline(&o.results, opts)?;
        let log = super::mainline::record(
            h.api,
            opts,
            h.branch,
            &head,
            &o.results,
            compared.as_ref().map(|(c, _)| c),
            ctx.repo
                .as_ref()
                .map(|r| format!("{}/{}", ctx.server_url, r.full()))
                .as_deref(),
        )
        .map_err(|e| e.context("main's history (needs `contents: write` and `issues: write`)"))?;
        for line in log {
            println!("{line}");
        }
    }
    Ok(code)
}

/// Whose changed files the setup check looks at.
enum SetupOf {
    Nothing,
    Pull(u64),
    Unknown(String),
}

/// Stage two: the results (benchmarked, given or re-used), compared and
/// decided with what routing and the override label said (`facts`).
fn decide(
    sinks: &Sinks,
    t: &Target,
    setup_of: SetupOf,
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
    let setup = match (sinks.api, setup_of) {
        (Some(api), SetupOf::Pull(pr)) => outcome::setup_check(api, pr, &opts.protected),
        (Some(_), SetupOf::Unknown(why)) => SetupCheck::Unknown(why),
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
    use super::super::api::LabelEvent;
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
        let before = fake.calls().len();
        let mut benchmark = || -> Result<Results> { panic!("a label event re-uses the results") };
        let code = flow(&labeled, &opts, Some(&fake), &mut benchmark).unwrap();
        assert_eq!(code, 0);
        // Its check run too is created first, before the gate asks who it
        // is (the App of that check run) or reads its own comment.
        assert_eq!(
            fake.calls()[before..before + 4],
            ["pull", "create_check_run", "user", "comments"]
        );
        assert!(fake.with(|s| s.check_runs.iter().all(|r| r.status == "completed")));
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
    /// read, or is not complete, is not an approval either.
    #[test]
    fn a_setup_change_fails_until_approved() {
        let (fake, co, opts) = setup();
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

        // An API error; a list shorter than the pull request's own count;
        // a list at GitHub's cap of 3,000 (it says nothing of the rest).
        let at_cap: Vec<String> = (0..3000).map(|i| format!("assets/{i:04}")).collect();
        for (files, count) in [
            (Err(502), None),
            (Ok(vec!["src/lib.rs".into()]), Some(3)),
            (Ok(at_cap), None),
        ] {
            fake.with(|s| (s.files, s.changed_files) = (files, count));
            assert_eq!(gate(&fake, &opened, &opts, Ok(results(1500.0))).unwrap(), 2);
            let (_, conclusion, title) = last_check(&fake);
            assert_eq!(conclusion.as_deref(), Some("failure"));
            assert!(
                title.starts_with("Benchmark setup could not be checked"),
                "{title}"
            );
        }

        // Approved: the maintainer's label covers the change.
        let mut opts = opts;
        opts.override_label = "bug".into();
        fake.with(|s| {
            s.files = Ok(vec!["baselines/v1.12.0.yaml".into()]);
            s.changed_files = None;
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
        let (fake, co, opts) = setup();
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
            runs[0]
                .summary
                .starts_with("Nothing was decided; the run stopped with this error:")
                && runs[0].summary.contains("the benchmark crashed"),
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

    /// A fake GitHub, a checkout, and the default options there.
    fn setup() -> (FakeGitHub, Checkout, GateOptions) {
        let co = Checkout::new();
        let opts = co.options();
        (FakeGitHub::default(), co, opts)
    }

    /// The last check run was completed as a failure.
    fn assert_failed(fake: &FakeGitHub) {
        let (status, conclusion, title) = last_check(fake);
        assert_eq!(
            (status.as_str(), conclusion.as_deref()),
            ("completed", Some("failure")),
            "{title}"
        );
    }

    /// The gate's own comment holding `record`, as an earlier run left it.
    fn seed_record(fake: &FakeGitHub, record: &GateState) {
        fake.seed_comment(
            &format!(
                "{}\n{}\nold",
                comment::marker("bench-gate"),
                state::encode(record)
            ),
            BOT,
        );
    }

    fn grant(opts: &GateOptions, by: &str, head: &str) -> GateState {
        let mut record = GateState::new("bench-gate");
        record.grant = Some(Grant {
            label: opts.override_label.clone(),
            by: by.into(),
            role: "maintain".into(),
            head_sha: head.into(),
            at: "2026-11-27T10:00:00Z".into(),
        });
        record
    }

    fn labeled_by(fake: &FakeGitHub, label: &str, actor: &str) {
        fake.with(|s| {
            s.timeline.push(LabelEvent {
                label: label.into(),
                actor: actor.into(),
                labeled: true,
            })
        });
    }

    /// For an installation token the gate is `slug[bot]` of the App its
    /// first check run belongs to: a comment that `github-actions[bot]`
    /// (any workflow) wrote with the gate's marker and passing results is
    /// not an App's own, so a label event benchmarks and leaves it alone. A
    /// 403 from `GET /user` that is not "Resource not accessible by
    /// integration" (a rate limit) is an error that fails the check, never
    /// a guess.
    #[test]
    fn an_installation_token_is_the_app_of_its_first_check_run() {
        let (fake, co, opts) = setup();
        fake.with(|s| s.bot_login = "perf-app[bot]".into());
        let forged_body = format!(
            "{}\n### ✅ bench-gate: Passed\n{}",
            comment::marker("bench-gate"),
            comment::encode(&comment::Embedded {
                version: 1,
                check: "bench-gate".into(),
                head_sha: HEAD.into(),
                results: results(300.0),
            })
        );
        let forged = fake.seed_comment(&forged_body, BOT);
        let labeled = co.context("pull_request", "pull_request.labeled.json");
        assert_eq!(gate(&fake, &labeled, &opts, regressed()).unwrap(), 2);
        assert_eq!(last_check(&fake).1.as_deref(), Some("failure"));
        let comments = fake.with(|s| s.comments.clone());
        let untouched = comments.iter().find(|c| c.id == forged);
        assert_eq!(untouched.and_then(|c| c.body.clone()), Some(forged_body));
        assert_eq!(
            comment::ours(comments, "bench-gate", "perf-app[bot]").len(),
            1,
            "the App's own comment"
        );

        fake.with(|s| s.user_error = Some("API rate limit exceeded for user ID 1.".into()));
        let err = gate(&fake, &labeled, &opts, regressed()).unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot tell which comments are the gate's own"),
            "{err:#}"
        );
        assert_failed(&fake);
    }

    /// A recorded override counts only while the timeline agrees that its
    /// maintainer applied the label last: a record in a comment written as
    /// the gate's identity (which any workflow can post as) naming someone
    /// who did not is dropped.
    #[test]
    fn a_recorded_grant_counts_only_when_the_timeline_agrees() {
        let (fake, co, opts) = setup();
        seed_record(&fake, &grant(&opts, "maint", HEAD));
        fake.with(|s| {
            s.labels = vec![opts.override_label.clone()];
            s.permissions.insert("maint".into(), "maintain".into());
        });
        labeled_by(&fake, &opts.override_label, "maint");
        let reopened = co.context("pull_request", "pull_request.reopened.json");
        assert_eq!(gate(&fake, &reopened, &opts, regressed()).unwrap(), 0);
        assert_eq!(co.outputs()["result"], "overridden");

        labeled_by(&fake, &opts.override_label, "mallory");
        assert_eq!(gate(&fake, &reopened, &opts, regressed()).unwrap(), 2);
        assert_eq!(last_check(&fake).1.as_deref(), Some("failure"));
        let body = own_comment(&fake);
        let reason =
            escape::md_text("the record names @maint, but the label was last applied by @mallory");
        assert!(body.contains(&reason), "{body}");
        assert_eq!(state::decode(&body).unwrap().unwrap().grant, None);
    }

    /// A run for a commit the pull request has left changes nothing about
    /// the label: the current head's override stays, and the run leaves the
    /// comment to the current head's run.
    #[test]
    fn a_run_for_a_commit_the_pull_request_has_left_touches_no_label() {
        let (fake, co, opts) = setup();
        let now_at = "b".repeat(40);
        seed_record(&fake, &grant(&opts, "maint", &now_at));
        fake.with(|s| {
            s.head_sha = now_at.clone();
            s.labels = vec![opts.override_label.clone()];
            s.permissions.insert("maint".into(), "maintain".into());
        });
        labeled_by(&fake, &opts.override_label, "maint");
        let old_run = co.context("pull_request", "pull_request.synchronize.json");
        assert_eq!(gate(&fake, &old_run, &opts, regressed()).unwrap(), 2);
        assert_eq!(fake.with(|s| s.labels.clone()), [opts.override_label]);
        let calls = fake.calls();
        assert!(!calls.contains(&"remove_label".to_string()), "{calls:?}");
        assert!(
            !calls
                .iter()
                .any(|c| c == "create_comment" || c == "update_comment"),
            "{calls:?}"
        );
        assert_failed(&fake);
    }

    /// A check run that cannot be completed would stay in progress: the
    /// job fails once the comment is posted, and the check is then
    /// completed as a failure saying so.
    #[test]
    fn a_check_run_that_cannot_be_completed_fails_the_job() {
        let (fake, co, opts) = setup();
        let opened = co.context("pull_request", "pull_request.opened.json");
        fake.with(|s| s.fail_completions = 1);
        let err = gate(&fake, &opened, &opts, Ok(results(1500.0))).unwrap_err();
        assert!(
            format!("{err:#}").contains("could not complete the check run"),
            "{err:#}"
        );
        assert!(own_comment(&fake).contains("bench-gate: Passed"));
        assert_eq!(
            last_check(&fake),
            (
                "completed".into(),
                Some("failure".into()),
                "The decision could not be recorded".into()
            )
        );
    }

    /// The results of a `workflow_run`'s artifact, for pull request 2 at `head`.
    fn artifact(head: &str) -> Result<Results> {
        let mut r = results(1890.0);
        r.github = Some(GithubInfo {
            repository: "Codertocat/Hello-World".into(),
            event: "pull_request".into(),
            pull_request: Some(2),
            head_sha: head.into(),
        });
        Ok(r)
    }

    /// The publishing half of the two-job setup, for pull request 2 at
    /// HEAD, run (or re-run) by `actor`.
    fn workflow_run(co: &Checkout, actor: &str) -> Context {
        let payload = co.payload("workflow_run.completed.json", |v| {
            let run = &mut v["workflow_run"];
            run["event"] = "pull_request".into();
            run["head_sha"] = HEAD.into();
            run["head_branch"] = "changes".into();
            run["head_repository"]["full_name"] = "Codertocat/Hello-World".into();
            run["triggering_actor"]["login"] = actor.into();
        });
        co.context("workflow_run", &payload)
    }

    /// A refused artifact fails the check run opened first, on the run's
    /// own head commit, and nothing else is asked of GitHub.
    #[test]
    fn a_refused_artifact_fails_the_check_opened_first() {
        let (fake, co) = (FakeGitHub::default(), Checkout::new());
        // GitHub's example run was triggered by repository_dispatch.
        let dispatch = co.context("workflow_run", "workflow_run.completed.json");
        let err = gate(&fake, &dispatch, &co.options(), artifact(HEAD)).unwrap_err();
        assert!(
            format!("{err:#}").contains("not by a pull_request event; refusing to publish"),
            "{err:#}"
        );
        assert_eq!(fake.calls(), ["create_check_run", "complete_check_run"]);
        let run = fake.with(|s| s.check_runs[0].clone());
        assert_eq!(
            (
                run.head_sha.as_str(),
                run.conclusion.as_deref(),
                run.title.as_str()
            ),
            (
                "3484a3fb816e0859fd6e1cea078d76385ff50625",
                Some("failure"),
                "The results could not be published"
            )
        );
        assert!(
            run.summary
                .starts_with("Nothing was decided; the run stopped with this error:"),
            "{}",
            run.summary
        );
    }

    /// In the two-job setup the run's triggering actor stands for the
    /// labeler only for a label applied after the gate's first decision for
    /// the head (a maintainer's re-run, or any label event, carries no
    /// earlier application); a run for a commit the pull request has left
    /// stands down, its check run completed as cancelled.
    #[test]
    fn a_maintainers_run_counts_as_the_label_only_for_a_head_already_decided() {
        let (fake, co, opts) = setup();
        fake.with(|s| {
            s.labels = vec![opts.override_label.clone()];
            s.permissions.insert("maint".into(), "maintain".into());
        });
        labeled_by(&fake, &opts.override_label, "maint");
        let by_maint = workflow_run(&co, "maint");
        assert_eq!(gate(&fake, &by_maint, &opts, artifact(HEAD)).unwrap(), 2);
        let record = state::decode(&own_comment(&fake)).unwrap().unwrap();
        assert_eq!(
            (record.head.as_deref(), record.grant, record.label_mark),
            (Some(HEAD), None, Some(1)),
            "decided for HEAD, nothing granted, one application counted"
        );
        // Run again by the maintainer without applying the label again: the
        // application was before the first decision, so nothing.
        assert_eq!(gate(&fake, &by_maint, &opts, artifact(HEAD)).unwrap(), 2);

        // Applied again, now: it covers HEAD.
        labeled_by(&fake, &opts.override_label, "maint");
        assert_eq!(gate(&fake, &by_maint, &opts, artifact(HEAD)).unwrap(), 0);
        assert_eq!(co.outputs()["result"], "overridden");
        let record = state::decode(&own_comment(&fake)).unwrap().unwrap();
        assert_eq!(record.grant.map(|g| g.by), Some("maint".to_string()));

        fake.with(|s| s.head_sha = "b".repeat(40));
        assert_eq!(gate(&fake, &by_maint, &opts, artifact(HEAD)).unwrap(), 0);
        assert_eq!(co.outputs()["result"], "stale");
        assert_eq!(
            last_check(&fake),
            (
                "completed".into(),
                Some("cancelled".into()),
                "Not decided: the pull request has moved on".into()
            )
        );
    }
}
