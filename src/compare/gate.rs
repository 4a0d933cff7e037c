//! The gate's decision: the comparison's verdict combined with the event
//! (a release tag needs a clean run), the maintainer override label and a
//! changed baseline. Pure; the GitHub module only carries the result out.

use serde::Serialize;

use crate::model::Exit;

use super::Verdict;
use crate::model::MissingPolicy;

/// Repository roles, weakest first: `admin` ⊃ `maintain` ⊃ `write` ⊃ `triage` ⊃ `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl crate::model::Named for Role {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (Role::Read, "read", "read access"),
        (Role::Triage, "triage", "triage access"),
        (Role::Write, "write", "write access"),
        (Role::Maintain, "maintain", "maintain access"),
        (Role::Admin, "admin", "admin access"),
    ];
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Triage => "triage",
            Role::Write => "write",
            Role::Maintain => "maintain",
            Role::Admin => "admin",
        }
    }

    /// GitHub's `role_name` (or `permission`); custom and unknown roles, and
    /// `none`, are below `read`.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "read" | "pull" => Role::Read,
            "triage" => Role::Triage,
            "write" | "push" => Role::Write,
            "maintain" => Role::Maintain,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// What became of the override label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Override {
    /// The label is not on the pull request.
    Absent,
    /// On the PR and applied by someone with enough permission.
    Granted { by: String, role: String },
    /// On the PR but applied by someone without the permission: ignored.
    Insufficient {
        by: String,
        role: String,
        required: Role,
    },
    /// On the PR, but who applied it could not be found or checked.
    Unverified { reason: String },
    /// Release tags ignore the label.
    Ignored,
    /// On the PR, but given for another head commit: an override covers the
    /// commit it was given for (`removed` when the gate took the label off).
    Stale {
        by: String,
        given_for: String,
        removed: bool,
    },
}

impl Override {
    pub fn granted(&self) -> bool {
        matches!(self, Override::Granted { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateResult {
    Pass,
    Warn,
    Fail,
    Overridden,
    NoBaseline,
}

impl GateResult {
    /// The action's `result` output.
    pub fn as_str(self) -> &'static str {
        match self {
            GateResult::Pass => "pass",
            GateResult::Warn => "warn",
            GateResult::Fail => "fail",
            GateResult::Overridden => "overridden",
            GateResult::NoBaseline => "no-baseline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateDecision {
    pub result: GateResult,
    /// Check-run conclusion: `success`, `failure` or `neutral` (which, like
    /// `skipped`, counts as passing for a required check).
    pub conclusion: &'static str,
    /// One line, for the check run's title and the comment's heading.
    pub title: String,
    pub exit_code: u8,
    /// The failure is that the benchmark's setup (baselines, workflows,
    /// `bench-gate.yml` and the files it names) changed, or could not be
    /// checked, without a maintainer's approval.
    pub approval_needed: bool,
}

/// What the pull request does to the files the benchmark's verdict rests on.
#[derive(Debug, Clone, PartialEq)]
pub enum SetupCheck {
    /// None of them changed (or there is no pull request).
    Unchanged,
    /// These repository-relative paths changed.
    Changed(Vec<String>),
    /// The list of changed files could not be read: not approved.
    Unknown(String),
}

impl SetupCheck {
    fn title(&self) -> Option<String> {
        match self {
            SetupCheck::Unchanged => None,
            SetupCheck::Changed(files) => {
                let shown: Vec<&str> = files.iter().take(3).map(String::as_str).collect();
                let more = files.len().saturating_sub(shown.len());
                Some(format!(
                    "Benchmark setup changed: needs a maintainer's approval ({}{})",
                    shown.join(", "),
                    if more > 0 {
                        format!(", {more} more")
                    } else {
                        String::new()
                    }
                ))
            }
            SetupCheck::Unknown(reason) => Some(format!(
                "Benchmark setup could not be checked: needs a maintainer's approval ({reason})"
            )),
        }
    }
}

pub struct GateInputs {
    /// `None` when there is no baseline to compare with yet.
    pub verdict: Option<Verdict>,
    pub failures: usize,
    pub warnings: usize,
    /// Baseline metrics absent from the results, and what they count as.
    pub missing: usize,
    pub missing_policy: MissingPolicy,
    pub release: bool,
    pub override_state: Override,
    pub setup: SetupCheck,
    pub fail_on_regression: bool,
    pub fail_on_warning: bool,
    /// The metrics above the failure threshold, by name (each once).
    pub failing: Vec<String>,
    /// Metrics a maintainer accepted for this very commit (`/bench-gate
    /// accept`), already checked; they no longer fail, the others still do.
    pub accepted: Vec<String>,
    /// The attempt number of an earlier attempt for this very commit that
    /// failed (from the gate's own record), if any: a re-run that passes
    /// does not replace it; only the override label does.
    pub earlier_failure: Option<u32>,
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// "2 metrics above the failure threshold", with the missing metrics that
/// count at this `level` after it: "…, 1 missing from the results" (or alone).
fn counted(n: usize, threshold: &str, i: &GateInputs, level: MissingPolicy) -> String {
    let missing = if i.missing_policy == level {
        i.missing
    } else {
        0
    };
    match (n, missing) {
        (_, 0) => format!("{} above the {threshold} threshold", plural(n, "metric")),
        (0, m) => format!("{} missing from the results", plural(m, "metric")),
        (n, m) => format!(
            "{} above the {threshold} threshold, {m} missing from the results",
            plural(n, "metric")
        ),
    }
}

/// The decision, with an earlier failing attempt of the same commit
/// standing: re-running a job until the noise passes does not turn the
/// check green. A pass or a warning after a recorded failure is a failure,
/// unless the override label is granted (an acceptance of every failing
/// metric is already `Overridden`, and a release tag fails anyway).
pub fn decide(i: &GateInputs) -> GateDecision {
    let d = decide_attempt(i);
    let granted = !i.release && i.override_state.granted();
    match i.earlier_failure {
        Some(n) if !granted && matches!(d.result, GateResult::Pass | GateResult::Warn) => {
            GateDecision {
                result: GateResult::Fail,
                conclusion: "failure",
                title: format!(
                    "Failed: an earlier attempt of this commit failed (attempt {n}): re-runs do not replace a failure; a maintainer can override"
                ),
                exit_code: if i.release || i.fail_on_regression || i.fail_on_warning {
                    Exit::Failure.code()
                } else {
                    Exit::Ok.code()
                },
                approval_needed: false,
            }
        }
        _ => d,
    }
}

/// The decision on this attempt's own comparison.
fn decide_attempt(i: &GateInputs) -> GateDecision {
    let fail_code = if i.release || i.fail_on_regression || i.fail_on_warning {
        Exit::Failure.code()
    } else {
        Exit::Ok.code()
    };
    let granted = !i.release && i.override_state.granted();
    let decision = |result, conclusion, title: String, exit_code| GateDecision {
        result,
        conclusion,
        title,
        exit_code,
        approval_needed: false,
    };
    if let Some(title) = i.setup.title().filter(|_| !i.release && !granted) {
        return GateDecision {
            approval_needed: true,
            ..decision(GateResult::Fail, "failure", title, fail_code)
        };
    }
    // Accepted metrics: on a pull request only, and never a metric missing
    // from the results (only a measured failure can be accepted).
    let accepted = if i.release {
        0
    } else {
        i.failing.iter().filter(|m| i.accepted.contains(m)).count()
    };
    let unaccepted = i.failing.len() - accepted;
    let missing_fails = i.missing_policy == MissingPolicy::Fail && i.missing > 0;
    match i.verdict {
        Some(Verdict::Fail) if !granted && accepted > 0 && unaccepted == 0 && !missing_fails => {
            decision(
                GateResult::Overridden,
                "success",
                format!(
                    "Accepted: {} above the failure threshold, accepted by a maintainer",
                    plural(accepted, "metric")
                ),
                0,
            )
        }
        Some(Verdict::Fail) if !granted && accepted > 0 => decision(
            GateResult::Fail,
            "failure",
            format!(
                "Failed: {} ({accepted} accepted)",
                counted(unaccepted, "failure", i, MissingPolicy::Fail)
            ),
            fail_code,
        ),
        None => decision(
            GateResult::NoBaseline,
            "neutral",
            "No baseline yet: nothing to compare with".into(),
            0,
        ),
        Some(Verdict::Fail) if granted => decision(
            GateResult::Overridden,
            "success",
            format!(
                "Overridden: {}",
                counted(i.failures, "failure", i, MissingPolicy::Fail)
            ),
            0,
        ),
        Some(Verdict::Fail) => decision(
            GateResult::Fail,
            "failure",
            format!(
                "Failed: {}",
                counted(i.failures, "failure", i, MissingPolicy::Fail)
            ),
            fail_code,
        ),
        Some(Verdict::Warn) => decision(
            GateResult::Warn,
            "success",
            format!(
                "Passed with warnings: {}",
                counted(i.warnings, "warning", i, MissingPolicy::Warn)
            ),
            if i.fail_on_warning {
                Exit::Warning.code()
            } else {
                Exit::Ok.code()
            },
        ),
        Some(Verdict::Pass) => decision(
            GateResult::Pass,
            "success",
            "Passed: no metric regressed".into(),
            0,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(verdict: Option<Verdict>) -> GateInputs {
        GateInputs {
            verdict,
            failures: 2,
            warnings: 1,
            missing: 0,
            missing_policy: MissingPolicy::Fail,
            release: false,
            override_state: Override::Absent,
            setup: SetupCheck::Unchanged,
            fail_on_regression: true,
            fail_on_warning: false,
            failing: vec!["a.p50".into(), "b.p50".into()],
            accepted: Vec::new(),
            earlier_failure: None,
        }
    }

    /// A failing attempt of the same commit stands: a later pass or
    /// warning fails, naming the attempt; the override label still turns
    /// it green, and a failure or no baseline is left as it is.
    #[test]
    fn an_earlier_failing_attempt_of_the_same_commit_stands() {
        for verdict in [Verdict::Pass, Verdict::Warn] {
            let mut i = inputs(Some(verdict));
            assert_eq!(decide(&i).conclusion, "success");
            i.earlier_failure = Some(1);
            let d = decide(&i);
            assert_eq!(
                (d.result, d.conclusion, d.exit_code),
                (GateResult::Fail, "failure", 2)
            );
            assert_eq!(
                d.title,
                "Failed: an earlier attempt of this commit failed (attempt 1): re-runs do not replace a failure; a maintainer can override"
            );
            i.fail_on_regression = false;
            assert_eq!(decide(&i).exit_code, 0);
            i.override_state = Override::Granted {
                by: "maint".into(),
                role: "maintain".into(),
            };
            let d = decide(&i);
            assert_eq!(d.conclusion, "success", "{d:?}");
            assert_ne!(d.result, GateResult::Fail);
        }
        let mut i = inputs(Some(Verdict::Fail));
        i.earlier_failure = Some(2);
        assert_eq!(
            decide(&i).title,
            "Failed: 2 metrics above the failure threshold"
        );
        let mut i = inputs(None);
        i.earlier_failure = Some(2);
        assert_eq!(decide(&i).result, GateResult::NoBaseline);
    }

    /// An accepted metric no longer fails; the others still do; all of
    /// them accepted, the check passes as overridden. Not on a release, not
    /// for a metric missing from the results, and a metric that is not
    /// failing accepts nothing.
    #[test]
    fn accepted_metrics_no_longer_fail_but_the_others_do() {
        let mut i = inputs(Some(Verdict::Fail));
        i.accepted = vec!["a.p50".into(), "not.failing".into()];
        let d = decide(&i);
        assert_eq!(
            (d.result, d.conclusion, d.exit_code),
            (GateResult::Fail, "failure", 2)
        );
        assert_eq!(
            d.title,
            "Failed: 1 metric above the failure threshold (1 accepted)"
        );
        i.accepted.push("b.p50".into());
        let d = decide(&i);
        assert_eq!(
            (d.result, d.conclusion, d.exit_code),
            (GateResult::Overridden, "success", 0)
        );
        assert_eq!(
            d.title,
            "Accepted: 2 metrics above the failure threshold, accepted by a maintainer"
        );
        i.missing = 1;
        assert_eq!(
            decide(&i).result,
            GateResult::Fail,
            "a missing metric still fails"
        );
        i.missing = 0;
        i.release = true;
        assert_eq!(decide(&i).result, GateResult::Fail, "not on a release");
        let mut i = inputs(Some(Verdict::Fail));
        i.accepted = vec!["not.failing".into()];
        assert_eq!(
            decide(&i).title,
            "Failed: 2 metrics above the failure threshold"
        );
        // A setup change still needs the label.
        let mut i = inputs(Some(Verdict::Fail));
        i.accepted = i.failing.clone();
        i.setup = SetupCheck::Changed(vec!["bench-gate.yml".into()]);
        assert!(decide(&i).approval_needed);
    }

    fn granted() -> Override {
        Override::Granted {
            by: "mona".into(),
            role: "maintain".into(),
        }
    }

    #[test]
    fn verdicts_map_to_conclusions() {
        let d = decide(&inputs(Some(Verdict::Fail)));
        assert_eq!(
            (d.result, d.conclusion, d.exit_code),
            (GateResult::Fail, "failure", 2)
        );
        assert_eq!(d.title, "Failed: 2 metrics above the failure threshold");
        let d = decide(&inputs(Some(Verdict::Warn)));
        assert_eq!(
            (d.result, d.conclusion, d.exit_code),
            (GateResult::Warn, "success", 0)
        );
        let d = decide(&inputs(None));
        assert_eq!(
            (d.result, d.conclusion, d.exit_code),
            (GateResult::NoBaseline, "neutral", 0)
        );
        let mut i = inputs(Some(Verdict::Fail));
        i.fail_on_regression = false;
        assert_eq!(decide(&i).exit_code, 0);
    }

    #[test]
    fn override_turns_a_failure_into_success_but_not_on_tags() {
        let mut i = inputs(Some(Verdict::Fail));
        i.override_state = granted();
        let d = decide(&i);
        assert_eq!(
            (d.result, d.conclusion, d.exit_code),
            (GateResult::Overridden, "success", 0)
        );
        assert!(d.title.starts_with("Overridden"));
        i.release = true;
        i.fail_on_regression = false;
        let d = decide(&i);
        assert_eq!(
            (d.result, d.conclusion, d.exit_code),
            (GateResult::Fail, "failure", 2)
        );
        let mut i = inputs(Some(Verdict::Fail));
        i.override_state = Override::Insufficient {
            by: "bob".into(),
            role: "read".into(),
            required: Role::Maintain,
        };
        assert_eq!(decide(&i).result, GateResult::Fail);
    }

    #[test]
    fn a_setup_change_or_an_unreadable_file_list_needs_approval() {
        let mut i = inputs(Some(Verdict::Pass));
        i.setup = SetupCheck::Changed(vec![
            "baselines/v1.yaml".into(),
            "bench-gate.yml".into(),
            ".github/workflows/b.yml".into(),
            "data/x.csv".into(),
        ]);
        let d = decide(&i);
        assert_eq!(
            (d.result, d.conclusion, d.approval_needed),
            (GateResult::Fail, "failure", true)
        );
        assert_eq!(
            d.title,
            "Benchmark setup changed: needs a maintainer's approval (baselines/v1.yaml, bench-gate.yml, .github/workflows/b.yml, 1 more)"
        );
        i.override_state = granted();
        assert_eq!(decide(&i).result, GateResult::Pass);
        // Not knowing what changed is not an approval.
        let mut i = inputs(Some(Verdict::Pass));
        i.setup = SetupCheck::Unknown("HTTP 502".into());
        let d = decide(&i);
        assert_eq!((d.result, d.approval_needed), (GateResult::Fail, true));
        assert!(d.title.contains("could not be checked") && d.title.contains("HTTP 502"));
        // A stale override approves nothing.
        i.override_state = Override::Stale {
            by: "mona".into(),
            given_for: "a".repeat(40),
            removed: true,
        };
        assert_eq!(decide(&i).result, GateResult::Fail);
    }

    #[test]
    fn titles_name_missing_metrics_as_what_they_count_as() {
        let mut i = inputs(Some(Verdict::Fail));
        i.missing = 3;
        assert_eq!(
            decide(&i).title,
            "Failed: 2 metrics above the failure threshold, 3 missing from the results"
        );
        i.failures = 0;
        let d = decide(&i);
        assert_eq!(d.title, "Failed: 3 metrics missing from the results");
        assert_eq!((d.conclusion, d.exit_code), ("failure", 2));
        i.override_state = granted();
        assert_eq!(
            decide(&i).title,
            "Overridden: 3 metrics missing from the results"
        );
        let mut i = inputs(Some(Verdict::Warn));
        i.missing = 1;
        i.missing_policy = MissingPolicy::Warn;
        i.warnings = 0;
        assert_eq!(
            decide(&i).title,
            "Passed with warnings: 1 metric missing from the results"
        );
        // Ignored, they are not named in the title.
        let mut i = inputs(Some(Verdict::Fail));
        i.missing = 4;
        i.missing_policy = MissingPolicy::Ignore;
        assert_eq!(
            decide(&i).title,
            "Failed: 2 metrics above the failure threshold"
        );
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin > Role::Maintain && Role::Maintain > Role::Write);
        assert!(Role::Write > Role::Triage && Role::Triage > Role::Read);
        assert_eq!(Role::parse("maintain"), Some(Role::Maintain));
        assert_eq!(Role::parse("none"), None);
        assert_eq!(Role::parse("security-manager"), None);
    }
}
