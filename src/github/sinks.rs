//! Stage three of the gate: the outputs, written in order. Files (results,
//! report), the step summary and the first outputs come before any API
//! call, so a publishing failure never loses them; then the check run, the
//! comment, annotations in the log when no check run could carry them, and
//! the outputs the API calls produced. Also the check run's life around
//! the other stages: created `in_progress` first in every flow, completed
//! with the decision, as `failure` on an error, as `cancelled` when a
//! `workflow_run` stands down, and as `cancelled` on an interrupt; never
//! left in progress.

use anyhow::Result;

use super::actions;
use super::api::{ApiError, CheckOutput, Comment, GitHubApi};
use super::comment;
use super::context::Context;
use super::gate::{Failed, GateOptions};
use super::outcome::{truncate_bytes, Outcome};
use super::outputs::{self, Output, ResultValue};
use super::route::{Recorded, StoodDown};
use crate::report::escape;

fn now() -> String {
    crate::model::now_rfc3339()
}

/// Where the outputs go.
pub struct Sinks<'a> {
    pub ctx: &'a Context,
    pub opts: &'a GateOptions,
    /// `None`: no token (or a report-only run): files and log only.
    pub api: Option<&'a dyn GitHubApi>,
}

/// Whom the outputs are about.
pub struct Target<'a> {
    pub head: &'a str,
    pub pr: Option<u64>,
    /// The gate's login, when there is a pull request to comment on.
    pub me: Option<&'a str>,
    pub report_only: bool,
}

/// The check run created `in_progress` before anything else. While it
/// lives, an interrupt (a cancelled job) completes it as `cancelled`.
pub struct OpenCheck {
    pub id: Option<u64>,
    /// The GitHub App it belongs to (`github-actions` for `GITHUB_TOKEN`):
    /// an installation token's comments are `slug[bot]`'s.
    pub app: Option<String>,
    /// Creating it was refused for want of permission (a fork's read-only
    /// token).
    pub denied: bool,
    _on_interrupt: Option<crate::interrupt::Registration>,
}

impl OpenCheck {
    /// No check run (no client, a report-only run, or creating it failed).
    pub fn none() -> OpenCheck {
        OpenCheck {
            id: None,
            app: None,
            denied: false,
            _on_interrupt: None,
        }
    }
}

const TWO_WORKFLOWS: &str = "To publish for pull requests from forks (whose token is read-only), use the two-workflow pattern: \
the pull_request workflow runs `bench-gate gate` and uploads the results file as an artifact; a workflow_run workflow \
downloads it and runs `bench-gate gate --results FILE` with `permissions: { pull-requests: write, checks: write }`. See the README.";

/// A write the gate makes, for the messages when it fails.
struct Write {
    what: &'static str,
    /// "could not …", for a failure that is not a permission.
    verb: &'static str,
    permission: &'static str,
}

const CREATE_CHECK: Write = Write {
    what: "check run",
    verb: "create the check run",
    permission: "checks: write",
};
const COMPLETE_CHECK: Write = Write {
    verb: "complete the check run",
    ..CREATE_CHECK
};
const COMMENT: Write = Write {
    what: "pull-request comment",
    verb: "post the comment",
    permission: "pull-requests: write",
};

impl Write {
    /// Says why it failed: a permission the workflow lacks (with what to
    /// do about it, as a warning annotation), or another error.
    fn failed(&self, e: &ApiError) {
        if e.is_permission() {
            println!(
                "{}",
                actions::warning(
                    "bench-gate could not publish",
                    &format!("Could not write the {} ({e}). The workflow needs `permissions: {{ {} }}`. {TWO_WORKFLOWS}", self.what, self.permission)
                )
            );
        } else {
            eprintln!("warning: could not {}: {e}", self.verb);
        }
    }
}

fn abs(p: &std::path::Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

impl Sinks<'_> {
    fn outputs(&self, outputs: &[Output]) -> Result<()> {
        outputs::write(self.ctx.output.as_deref(), outputs)
    }

    /// `result=skipped` or `result=stale`: nothing was decided.
    pub fn nothing_decided(&self, message: &str, result: ResultValue) -> Result<u8> {
        println!("{message}");
        self.outputs(&[Output::Result(result)])?;
        Ok(0)
    }

    /// The check run, `in_progress` until the decision (or an error).
    pub fn open_check(&self, head: &str) -> OpenCheck {
        let Some(api) = self.api else {
            return OpenCheck::none();
        };
        match api.create_check_run(&self.opts.check_name, head, &now()) {
            Ok(c) => OpenCheck {
                id: Some(c.id),
                app: c.app,
                denied: false,
                _on_interrupt: api.cancel_on_interrupt(c.id),
            },
            Err(e) => {
                CREATE_CHECK.failed(&e);
                OpenCheck {
                    denied: e.is_permission(),
                    ..OpenCheck::none()
                }
            }
        }
    }

    /// An error once the check run is open completes it as `failure`, with
    /// the error: nothing was decided.
    pub fn fail_check(&self, check: &OpenCheck, failed: &Failed) {
        let summary = truncate_bytes(
            &format!(
                "Nothing was decided; the run stopped with this error:\n\n{}",
                escape::md_block(&crate::report::messages::chain(&failed.error))
            ),
            60_000,
        );
        self.complete(
            check,
            "failure",
            failed.title,
            &summary,
            "mark the check run failed",
        );
    }

    /// A `workflow_run` whose pull request has moved on decides nothing:
    /// its check run is completed as `cancelled` (that commit's own run
    /// decides), `result=stale`, exit 0.
    pub fn stood_down(&self, check: &OpenCheck, s: &StoodDown) -> Result<u8, Failed> {
        let summary = format!(
            "Pull request #{} is now at {}; its own run decides.",
            s.pr,
            escape::md_code(&s.now_at)
        );
        // `cancelled`, not `skipped` or `neutral`: a required check takes
        // those as passing, and the commit may become the head again.
        self.complete(
            check,
            "cancelled",
            "Not decided: the pull request has moved on",
            &summary,
            "complete the check run",
        );
        Ok(self.nothing_decided(&s.notice, ResultValue::Stale)?)
    }

    /// A command recorded without deciding (`label-events: benchmark`):
    /// the record written into the gate's own comment, a reply, and the
    /// check run `cancelled` (a required check does not take it as
    /// passing) until the next measuring run decides.
    pub fn recorded(&self, check: &OpenCheck, r: &Recorded) -> Result<u8, Failed> {
        if let Some(api) = self.api {
            api.update_comment(r.comment_id, &r.body)
                .map_err(|e| Failed {
                    title: "The command could not be recorded",
                    error: anyhow::anyhow!("the gate's own comment could not be updated: {e}"),
                })?;
        }
        self.post_reply(r.pr, &r.reply);
        self.complete(
            check,
            "cancelled",
            "Not decided: a command applies at the next measuring run",
            "With `label-events: benchmark`, results in a comment never decide; the command was recorded and the next measuring run of this commit decides with it.",
            "complete the check run",
        );
        Ok(self.nothing_decided(
            "bench-gate gate: the /bench-gate command was recorded; the next measuring run decides.",
            ResultValue::Skipped,
        )?)
    }

    /// A reply to a `/bench-gate` command; a failure is only a warning.
    pub fn post_reply(&self, number: u64, body: &str) {
        let Some(api) = self.api else {
            println!(
                "bench-gate: (no token) would reply: {}",
                escape::log_text(body)
            );
            return;
        };
        match api.create_comment(number, body) {
            Ok(c) => println!("bench-gate: replied {}", c.html_url),
            Err(e) => COMMENT.failed(&e),
        }
    }

    /// A pull request that changes no benchmarked path: its check run is
    /// completed as `success` at once, `result=skipped`, exit 0; nothing is
    /// benchmarked and the comment is left as it is.
    pub fn not_relevant(&self, check: &OpenCheck, head: &str, message: &str) -> Result<u8, Failed> {
        let summary = format!("Nothing was benchmarked: {}.", escape::md_text(message));
        // Creating it up front failed (not for want of permission): once
        // more now, so that a required check is not left waiting.
        let retried = match (self.api, check.id, check.denied) {
            (Some(api), None, false) => api
                .create_check_run(&self.opts.check_name, head, &now())
                .map_err(|e| CREATE_CHECK.failed(&e))
                .ok()
                .map(|c| OpenCheck {
                    id: Some(c.id),
                    app: c.app,
                    ..OpenCheck::none()
                }),
            _ => None,
        };
        self.complete(
            retried.as_ref().unwrap_or(check),
            "success",
            "Not benchmarked: no benchmarked path changed",
            &summary,
            "complete the check run",
        );
        if let Some(summary_file) = &self.ctx.step_summary {
            let report = format!(
                "## bench-gate · {}: not benchmarked\n\n{summary}\n",
                escape::md_text(&self.opts.check_name)
            );
            if let Err(e) = actions::append_summary(summary_file, &report) {
                eprintln!("warning: {e:#}");
            }
        }
        Ok(self.nothing_decided(&format!("bench-gate: {message}."), ResultValue::Skipped)?)
    }

    /// Completes the open check run with no decision in it; a failure is
    /// only a warning (`verb`: what could not be done).
    fn complete(
        &self,
        check: &OpenCheck,
        conclusion: &str,
        title: &str,
        summary: &str,
        verb: &str,
    ) {
        let (Some(api), Some(id)) = (self.api, check.id) else {
            return;
        };
        let out = CheckOutput {
            title,
            summary,
            text: "",
            annotations: &[],
        };
        if let Err(e) = api.complete_check_run(id, conclusion, &now(), &out) {
            eprintln!("warning: could not {verb}: {e}");
        }
    }

    /// Every sink, in order; the exit code is the decision's.
    pub fn publish(&self, t: &Target, check: &OpenCheck, o: &Outcome) -> Result<u8, Failed> {
        let opts = self.opts;
        // Files, step summary and the first outputs: before any API call.
        // The flame graphs go beside the results (the artifact), named in them.
        let results = crate::report::why::save_beside(&opts.results_out, &o.results)?;
        crate::fsutil::write_atomic(&opts.results_out, results.to_json().as_bytes())?;
        crate::fsutil::write_atomic(&opts.report_out, o.report.as_bytes())?;
        if let Some(summary) = &self.ctx.step_summary {
            if let Err(e) = actions::append_summary(summary, &o.report) {
                eprintln!("warning: {e:#}");
            }
        }
        self.outputs(&[
            Output::Result(ResultValue::Decided(o.decision.result)),
            Output::ResultsPath(abs(&opts.results_out)),
            Output::ReportPath(abs(&opts.report_out)),
        ])?;
        println!(
            "bench-gate: {} ({})",
            o.decision.title,
            o.decision.result.as_str()
        );
        if t.report_only {
            print!("{}", escape::log_text(&o.table));
            return Ok(0);
        }
        if o.trim != comment::Trim::default() {
            println!("bench-gate: the comment was trimmed to fit GitHub's limit ({:?}); the full report is in the step summary.", o.trim);
        }
        let mut denied = check.denied;
        let mut written = Vec::new();
        // A check run that cannot be completed (other than for want of
        // permission) would stay in progress, or be missing: the job fails
        // (exit 3), after the comment, instead of passing quietly.
        let unrecorded = match self.check_run(t, check, o) {
            Ok(Some(id)) => {
                written.push(Output::CheckRunId(id));
                None
            }
            Ok(None) => None,
            Err(e) if e.is_permission() => {
                COMPLETE_CHECK.failed(&e);
                denied = true;
                None
            }
            Err(e) => Some(e),
        };
        if let Some(url) = self.comment(t, o, &mut denied) {
            written.push(Output::CommentUrl(url));
        }
        if let (Some(reply), Some(pr)) = (&o.reply, t.pr) {
            self.post_reply(pr, reply);
        }
        if self.api.is_none() || denied {
            for line in &o.log_annotations {
                println!("{line}");
            }
            println!("bench-gate: {TWO_WORKFLOWS}");
        }
        if let Some(e) = unrecorded {
            return Err(Failed {
                title: "The decision could not be recorded",
                error: anyhow::anyhow!("could not complete the check run: {e}"),
            });
        }
        self.outputs(&written)?;
        Ok(o.decision.exit_code)
    }

    /// Completes the open check run with the decision, or (creating it up
    /// front failed) creates and completes one now; not when creating was
    /// refused already. `Ok(None)`: no check run to write.
    fn check_run(
        &self,
        t: &Target,
        check: &OpenCheck,
        o: &Outcome,
    ) -> Result<Option<u64>, ApiError> {
        let Some(api) = self.api.filter(|_| !check.denied || check.id.is_some()) else {
            return Ok(None);
        };
        let out = o.check.output();
        let conclusion = o.decision.conclusion;
        let id = match check.id {
            Some(id) => id,
            None => {
                api.create_check_run(&self.opts.check_name, t.head, &now())?
                    .id
            }
        };
        api.complete_check_run(id, conclusion, &now(), &out)?;
        Ok(Some(id))
    }

    /// The pull request's comment, unless a newer push made this run stale
    /// (the newer commit's run owns the comment then).
    fn comment(&self, t: &Target, o: &Outcome, denied: &mut bool) -> Option<String> {
        let (api, pr) = (self.api?, t.pr?);
        match api.pull(pr) {
            Ok(info) if info.head_sha != t.head => {
                println!(
                    "::notice title=bench-gate stood down::Pull request #{pr} is now at {}, newer than {} benchmarked here; the comment is left to that run.",
                    info.head_sha, t.head
                );
                return None;
            }
            Ok(_) => {}
            Err(e) => eprintln!("warning: could not read the pull request's current head: {e}"),
        }
        let me = t.me.filter(|_| self.opts.comment)?;
        match upsert_comment(api, me, pr, &self.opts.check_name, &o.comment) {
            Ok(c) => {
                println!("bench-gate: comment {}", c.html_url);
                Some(c.html_url)
            }
            Err(e) => {
                COMMENT.failed(&e);
                *denied = true;
                None
            }
        }
    }
}

/// One comment per pull request and check name: update the newest, create
/// only when there is none (and look again before retrying a create).
/// Older ones are left alone, never deleted: anyone with write access can
/// post as the gate's identity (`github-actions[bot]`), so a comment by
/// that login is not provably the gate's, and deleting it could lose a
/// person's data.
fn upsert_comment(
    api: &dyn GitHubApi,
    me: &str,
    pr: u64,
    check: &str,
    body: &str,
) -> Result<Comment, ApiError> {
    let mut existing = comment::ours(api.comments(pr)?, check, me);
    for attempt in 0..3 {
        if let Some(newest) = existing.pop() {
            if !existing.is_empty() {
                println!(
                    "bench-gate: {} older comment(s) of the same identity left as they are (never deleted)",
                    existing.len()
                );
            }
            return api.update_comment(newest.id, body);
        }
        match api.create_comment(pr, body) {
            Ok(c) => {
                if let Some(author) = c.author().filter(|a| !a.eq_ignore_ascii_case(me)) {
                    println!(
                        "{}",
                        actions::warning(
                            "bench-gate does not know its own login",
                            &format!("The comment was posted as @{author}, but the gate took itself for @{me}; it will not find this comment again. Set the action input gate-login: {author}.")
                        )
                    );
                }
                return Ok(c);
            }
            Err(e) if e.is_transient() && attempt < 2 => {
                eprintln!("{e}; looking for the comment before trying again");
                std::thread::sleep(std::time::Duration::from_millis(500 * (attempt + 1)));
                existing = comment::ours(api.comments(pr)?, check, me);
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::super::fake::{results, Checkout, FakeGitHub, BOT, HEAD};
    use super::super::outcome::{self, Evidence, Facts};
    use super::*;
    use crate::compare::gate::{Override, SetupCheck};

    fn outcome(opts: &GateOptions) -> Outcome {
        let results = results(1890.0);
        let compared = outcome::compare_with_baseline(&results, opts).unwrap();
        outcome::decide(
            opts,
            Evidence {
                results,
                compared,
                setup: SetupCheck::Unchanged,
            },
            Facts {
                override_state: Override::Absent,
                release: false,
                head: HEAD.into(),
                state: None,
                notes: Vec::new(),
                run_url: None,
                attempt: None,
                accepted: Vec::new(),
                asked: None,
            },
        )
    }

    /// Files, step summary and the first outputs are on disk before any
    /// API call; then the check run, then the comment.
    #[test]
    fn files_are_written_before_any_api_call() {
        let (fake, co) = (FakeGitHub::default(), Checkout::new());
        let opts = co.options();
        let ctx = co.context("pull_request", "pull_request.opened.json");
        let o = outcome(&opts);
        fake.with(|s| s.probe = Some(co.path("results.json")));
        let sinks = Sinks {
            ctx: &ctx,
            opts: &opts,
            api: Some(&fake),
        };
        let target = Target {
            head: HEAD,
            pr: Some(2),
            me: Some(BOT),
            report_only: false,
        };
        assert_eq!(sinks.publish(&target, &OpenCheck::none(), &o).unwrap(), 2);
        let probed = fake.with(|s| s.probed.clone());
        assert!(!probed.is_empty());
        assert!(
            probed.iter().all(|(_, existed)| *existed),
            "an API call before the results were on disk: {probed:?}"
        );
        assert_eq!(
            fake.calls(),
            [
                "create_check_run",
                "complete_check_run",
                "pull",
                "comments",
                "create_comment"
            ]
        );
        assert!(std::fs::read_to_string(co.path("summary.md"))
            .unwrap()
            .contains("## bench-gate · bench-gate: Failed"));
        let out = co.outputs();
        let names: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "check-run-id",
                "comment-url",
                "report-path",
                "result",
                "results-path"
            ]
        );
    }

    /// Without a client, nothing is lost: files, summary, outputs, and the
    /// annotations in the log.
    #[test]
    fn without_a_client_the_files_and_outputs_are_all_there() {
        let co = Checkout::new();
        let opts = co.options();
        let ctx = co.context("pull_request", "pull_request.opened.json");
        let o = outcome(&opts);
        assert_eq!(o.log_annotations.len(), 1);
        assert!(
            o.log_annotations[0].starts_with("::error file=")
                && o.log_annotations[0].contains("v1.12.0.yaml,line=9,"),
            "{}",
            o.log_annotations[0]
        );
        let sinks = Sinks {
            ctx: &ctx,
            opts: &opts,
            api: None,
        };
        let target = Target {
            head: HEAD,
            pr: Some(2),
            me: None,
            report_only: false,
        };
        assert_eq!(sinks.publish(&target, &OpenCheck::none(), &o).unwrap(), 2);
        assert!(co.path("results.json").exists() && co.path("report.md").exists());
        assert_eq!(co.outputs()["result"], "fail");
        assert!(!co.outputs().contains_key("comment-url"));
    }
}
