//! Everything the gate needs from the Actions environment, read once into
//! one plain value. Payloads are parsed with small types holding only the
//! fields the gate uses, so unrelated payload changes never break it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A token that never shows in `Debug` output, logs or errors.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(s: String) -> Option<Token> {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(Token(s))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub owner: String,
    pub name: String,
}

impl Repo {
    pub fn parse(full: &str) -> Option<Repo> {
        let (owner, name) = full.split_once('/')?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (ok(owner) && ok(name) && !name.contains('/')).then(|| Repo {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
    pub fn full(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

// ---- the payload fields we read ----

#[derive(Debug, Clone, Deserialize)]
pub struct Login {
    pub login: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabelName {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepoRef {
    pub full_name: String,
    /// In a `push` payload: the repository's default branch.
    #[serde(default)]
    pub default_branch: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommitRef {
    pub sha: String,
    #[serde(rename = "ref", default)]
    pub git_ref: String,
    #[serde(default)]
    pub repo: Option<RepoRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub head: CommitRef,
    pub base: CommitRef,
    #[serde(default)]
    pub labels: Vec<LabelName>,
    /// GitHub's test-merge commit of head into base (what `actions/checkout`
    /// checks out by default), when it has been computed.
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestPayload {
    pub action: String,
    pub pull_request: PullRequest,
    #[serde(default)]
    pub label: Option<LabelName>,
    pub sender: Login,
    pub repository: RepoRef,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PushPayload {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub after: String,
    pub repository: RepoRef,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRunPullRequest {
    pub number: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub head_sha: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub pull_requests: Vec<WorkflowRunPullRequest>,
    /// The branch and repository the run built (a fork's, for a fork's
    /// pull request).
    #[serde(default)]
    pub head_branch: String,
    #[serde(default)]
    pub head_repository: Option<RepoRef>,
    /// Who started the run: for a `labeled` event, the labeler.
    #[serde(default)]
    pub triggering_actor: Option<Login>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRunPayload {
    pub workflow_run: WorkflowRun,
    pub repository: RepoRef,
}

/// A merge queue's group: the queue's head commit, built on `base_sha`.
#[derive(Debug, Clone, Deserialize)]
pub struct MergeGroup {
    pub head_sha: String,
    /// `refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha>`.
    pub head_ref: String,
    pub base_sha: String,
    #[serde(default)]
    pub base_ref: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MergeGroupPayload {
    pub action: String,
    pub merge_group: MergeGroup,
    pub repository: RepoRef,
}

impl MergeGroup {
    /// The pull request a queue branch is for, and the head commit it was
    /// queued at: `gh-readonly-queue/<base>/pr-<N>-<sha>`, with `<base>`
    /// the group's own base branch. `None` for anything else: nothing is
    /// carried over from a branch that does not name them exactly.
    pub fn queued_pull_request(&self) -> Option<(u64, String)> {
        let rest = self
            .head_ref
            .strip_prefix("refs/heads/gh-readonly-queue/")?;
        let (base, last) = rest.rsplit_once('/')?;
        let base_ref = self.base_ref.strip_prefix("refs/heads/").unwrap_or("");
        if base.is_empty() || base != base_ref {
            return None;
        }
        let (n, sha) = last.strip_prefix("pr-")?.split_once('-')?;
        let digits = !n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit());
        let is_sha = sha.len() == 40 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        (digits && is_sha && !n.starts_with('0'))
            .then(|| Some((n.parse().ok()?, sha.to_string())))
            .flatten()
    }
}

/// The issue (or pull request) a comment is on.
#[derive(Debug, Clone, Deserialize)]
pub struct IssueRef {
    pub number: u64,
    /// Present when the issue is a pull request.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommentUser {
    pub login: String,
    /// `User` or `Bot`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: String,
    pub user: CommentUser,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueCommentPayload {
    pub action: String,
    pub issue: IssueRef,
    pub comment: IssueComment,
    pub repository: RepoRef,
}

/// The events the gate acts on.
#[derive(Debug, Clone)]
pub enum Event {
    /// No GitHub at all: print the comment, exit with the compare code.
    Local,
    PullRequest(Box<PullRequestPayload>),
    /// `push` of a tag: release gating, the label is ignored.
    PushTag {
        tag: String,
        sha: String,
    },
    /// `push` to a branch: report only (and main's history, when kept).
    PushBranch {
        branch: String,
        sha: String,
        /// The branch is the repository's default branch.
        default: bool,
    },
    /// The privileged half of the fork-safe pattern.
    WorkflowRun(Box<WorkflowRunPayload>),
    /// A merge queue asks for the required checks of its head commit.
    MergeGroup(Box<MergeGroupPayload>),
    /// A new comment: `/bench-gate accept` or `revoke`, or nothing to do.
    IssueComment(Box<IssueCommentPayload>),
    WorkflowDispatch {
        git_ref: String,
        sha: String,
    },
    /// Anything else: a message and a neutral exit.
    Unsupported {
        name: String,
        detail: String,
    },
}

#[derive(Debug, Clone)]
pub struct Context {
    pub event_name: String,
    pub event: Event,
    pub repo: Option<Repo>,
    pub api_url: String,
    pub token: Option<Token>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub server_url: String,
    pub run_id: Option<String>,
    /// `GITHUB_RUN_ATTEMPT`: 2 and up for a re-run of the same run.
    pub run_attempt: Option<String>,
    /// `RUNNER_*` variables, for the log.
    pub runner: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("GITHUB_EVENT_PATH {path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("GITHUB_EVENT_PATH {path}: not a {event} payload: {message}")]
    Payload {
        path: String,
        event: String,
        message: String,
    },
    #[error("GITHUB_REPOSITORY '{0}' is not OWNER/NAME")]
    Repository(String),
    #[error("{PULL_REQUEST_TARGET_REFUSED}")]
    PullRequestTarget,
    #[error("{0} holds characters a token cannot hold (blanks or control characters inside it); check how the secret was pasted")]
    BadToken(&'static str),
}

/// Why `pull_request_target` is refused, and what to do instead.
pub const PULL_REQUEST_TARGET_REFUSED: &str = "\
bench-gate does not run on pull_request_target events: that event runs with a token that can \
write to the repository and with the repository's secrets, and benchmarking the pull request \
means running its code, so any pull request could take them. Measure on `pull_request` \
(read-only permissions, actions/checkout with `persist-credentials: false`) and publish from a \
separate `workflow_run` job that runs none of the pull request's code (see the README, \
\"Secrets and the code under test\"). If you accept the risk, pass --allow-pull-request-target \
(action input `allow-pull-request-target: true`).";

/// Environment lookup, injectable for tests.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, key: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.is_empty())
    }
}

fn read_payload<T: for<'de> Deserialize<'de>>(path: &Path, event: &str) -> Result<T, ContextError> {
    let text =
        crate::fsutil::read_capped_string(path, crate::fsutil::MAX_DATA_BYTES).map_err(|e| {
            ContextError::Read {
                path: path.display().to_string(),
                source: e,
            }
        })?;
    serde_json::from_str(&text).map_err(|e| ContextError::Payload {
        path: path.display().to_string(),
        event: event.to_string(),
        message: e.to_string(),
    })
}

/// A token as given (blanks around it are dropped), refused when it holds
/// anything no token holds: it would otherwise reach an HTTP header.
fn checked_token(s: String, what: &'static str) -> Result<Option<Token>, ContextError> {
    let t = s.trim();
    if t.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ContextError::BadToken(what));
    }
    Ok(Token::new(t.to_string()))
}

impl Context {
    /// Refuses a `pull_request_target` event unless `allowed`
    /// (`--allow-pull-request-target`), whatever its action.
    pub fn refuse_pull_request_target(&self, allowed: bool) -> Result<(), ContextError> {
        if self.event_name == "pull_request_target" && !allowed {
            return Err(ContextError::PullRequestTarget);
        }
        Ok(())
    }

    /// Reads the context; `token` (from `--token`) wins over `GITHUB_TOKEN`.
    pub fn from_env(env: &dyn Env, token: Option<String>) -> Result<Context, ContextError> {
        let event_name = env.var("GITHUB_EVENT_NAME").unwrap_or_default();
        let path = env.var("GITHUB_EVENT_PATH").map(PathBuf::from);
        let sha = env.var("GITHUB_SHA").unwrap_or_default();
        let event = match (event_name.as_str(), &path) {
            ("", _) | (_, None) => Event::Local,
            ("pull_request" | "pull_request_target", Some(p)) => {
                let payload: PullRequestPayload = read_payload(p, &event_name)?;
                match payload.action.as_str() {
                    "opened" | "synchronize" | "reopened" | "labeled" | "unlabeled" => {
                        Event::PullRequest(Box::new(payload))
                    }
                    other => Event::Unsupported {
                        name: event_name.clone(),
                        detail: format!("action '{other}'"),
                    },
                }
            }
            ("push", Some(p)) => {
                let payload: PushPayload = read_payload(p, "push")?;
                let sha = if payload.after.chars().all(|c| c == '0') {
                    sha.clone()
                } else {
                    payload.after.clone()
                };
                if let Some(tag) = payload.git_ref.strip_prefix("refs/tags/") {
                    Event::PushTag {
                        tag: tag.to_string(),
                        sha,
                    }
                } else {
                    let branch = payload
                        .git_ref
                        .strip_prefix("refs/heads/")
                        .unwrap_or(&payload.git_ref)
                        .to_string();
                    Event::PushBranch {
                        default: payload.repository.default_branch.as_deref()
                            == Some(branch.as_str()),
                        branch,
                        sha,
                    }
                }
            }
            ("workflow_run", Some(p)) => {
                Event::WorkflowRun(Box::new(read_payload(p, "workflow_run")?))
            }
            ("merge_group", Some(p)) => {
                let payload: MergeGroupPayload = read_payload(p, "merge_group")?;
                if payload.action == "checks_requested" {
                    Event::MergeGroup(Box::new(payload))
                } else {
                    Event::Unsupported {
                        name: event_name.clone(),
                        detail: format!("action '{}'", payload.action),
                    }
                }
            }
            ("issue_comment", Some(p)) => {
                let payload: IssueCommentPayload = read_payload(p, "issue_comment")?;
                if payload.action == "created" {
                    Event::IssueComment(Box::new(payload))
                } else {
                    Event::Unsupported {
                        name: event_name.clone(),
                        detail: format!("action '{}'", payload.action),
                    }
                }
            }
            ("workflow_dispatch", Some(_)) => Event::WorkflowDispatch {
                git_ref: env.var("GITHUB_REF").unwrap_or_default(),
                sha: sha.clone(),
            },
            (other, Some(_)) => Event::Unsupported {
                name: other.to_string(),
                detail: String::new(),
            },
        };
        let repo = match env.var("GITHUB_REPOSITORY") {
            Some(r) => Some(Repo::parse(&r).ok_or(ContextError::Repository(r))?),
            None => None,
        };
        let runner = [
            "RUNNER_OS",
            "RUNNER_ARCH",
            "RUNNER_NAME",
            "RUNNER_ENVIRONMENT",
            "ImageOS",
            "ImageVersion",
        ]
        .iter()
        .filter_map(|k| env.var(k).map(|v| (k.to_string(), v)))
        .collect();
        Ok(Context {
            event_name,
            event,
            repo,
            api_url: env
                .var("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".into())
                .trim_end_matches('/')
                .to_string(),
            token: match token {
                Some(t) => checked_token(t, "the token (--token)")?,
                None => match env.var("GITHUB_TOKEN") {
                    Some(t) => checked_token(t, "GITHUB_TOKEN")?,
                    None => None,
                },
            },
            step_summary: env.var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: env.var("GITHUB_OUTPUT").map(PathBuf::from),
            server_url: env
                .var("GITHUB_SERVER_URL")
                .unwrap_or_else(|| "https://github.com".into()),
            run_id: env.var("GITHUB_RUN_ID"),
            run_attempt: env.var("GITHUB_RUN_ATTEMPT"),
            runner,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/events");

    fn ctx(name: &str, file: &str) -> Context {
        let path = format!("{EVENTS}/{file}");
        let env = [
            ("GITHUB_EVENT_NAME", name),
            ("GITHUB_EVENT_PATH", path.as_str()),
            ("GITHUB_REPOSITORY", "Codertocat/Hello-World"),
            ("GITHUB_SHA", "mergecommitsha"),
            ("GITHUB_API_URL", "https://ghe.example/api/v3/"),
            ("GITHUB_TOKEN", "ghs_secret"),
        ];
        Context::from_env(&env, None).unwrap()
    }

    #[test]
    fn pull_request_uses_the_head_sha_not_github_sha() {
        let c = ctx("pull_request", "pull_request.opened.json");
        let Event::PullRequest(p) = &c.event else {
            panic!("{:?}", c.event)
        };
        assert_eq!(
            p.pull_request.head.sha,
            "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
        );
        assert_eq!(p.pull_request.number, 2);
        assert_eq!(c.api_url, "https://ghe.example/api/v3");
        assert_eq!(format!("{:?}", c.token), "Some(Token(***))");
    }

    #[test]
    fn push_tag_branch_workflow_run_and_others() {
        assert!(
            matches!(ctx("push", "push.tag.json").event, Event::PushTag { ref tag, .. } if tag == "simple-tag")
        );
        assert!(
            matches!(ctx("push", "push.branch.json").event, Event::PushBranch { ref branch, .. } if branch == "master")
        );
        let Event::WorkflowRun(w) = ctx("workflow_run", "workflow_run.completed.json").event else {
            panic!()
        };
        assert_eq!(
            w.workflow_run.head_sha,
            "3484a3fb816e0859fd6e1cea078d76385ff50625"
        );
        assert!(matches!(
            ctx("issues", "issues.opened.json").event,
            Event::Unsupported { .. }
        ));
        assert!(matches!(
            ctx("workflow_dispatch", "workflow_dispatch.json").event,
            Event::WorkflowDispatch { .. }
        ));
    }

    #[test]
    fn a_merge_group_maps_its_queue_branch_to_the_pull_request() {
        let c = ctx("merge_group", "merge_group.checks_requested.json");
        let Event::MergeGroup(m) = &c.event else {
            panic!("{:?}", c.event)
        };
        let g = &m.merge_group;
        assert_eq!(g.head_sha, "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d");
        assert_eq!(g.base_sha, "380387fbc80638b734a49e1be1c4dfec1c01b33c");
        assert_eq!(
            g.queued_pull_request(),
            Some((104, "929f8209d40f77f4abc622a499c93a83babdbe64".into()))
        );
        let sha = "929f8209d40f77f4abc622a499c93a83babdbe64";
        let with = |head_ref: &str, base_ref: &str| {
            MergeGroup {
                head_ref: head_ref.into(),
                base_ref: base_ref.into(),
                ..g.clone()
            }
            .queued_pull_request()
        };
        assert_eq!(
            with(
                &format!("refs/heads/gh-readonly-queue/release/1.x/pr-7-{sha}"),
                "refs/heads/release/1.x"
            ),
            Some((7, sha.into()))
        );
        for (head_ref, base_ref) in [
            (
                format!("refs/heads/gh-readonly-queue/main/pr-7-{sha}"),
                "refs/heads/other",
            ),
            (
                format!("refs/heads/gh-readonly-queue/main/pr-7-{}", &sha[..39]),
                "refs/heads/main",
            ),
            (
                format!("refs/heads/gh-readonly-queue/main/pr-x-{sha}"),
                "refs/heads/main",
            ),
            (
                format!("refs/heads/gh-readonly-queue/main/pr-07-{sha}"),
                "refs/heads/main",
            ),
            (
                format!(
                    "refs/heads/gh-readonly-queue/main/pr-7-{}",
                    sha.to_uppercase()
                ),
                "refs/heads/main",
            ),
            (
                format!("refs/heads/my-queue/main/pr-7-{sha}"),
                "refs/heads/main",
            ),
            (
                format!("refs/heads/gh-readonly-queue/pr-7-{sha}"),
                "refs/heads/main",
            ),
        ] {
            assert_eq!(with(&head_ref, base_ref), None, "{head_ref} on {base_ref}");
        }
    }

    #[test]
    fn an_issue_comment_is_read_and_other_actions_are_not_acted_on() {
        let c = ctx("issue_comment", "issue_comment.created.json");
        let Event::IssueComment(p) = &c.event else {
            panic!("{:?}", c.event)
        };
        assert_eq!(
            (p.issue.number, p.comment.id, p.comment.user.kind.as_str()),
            (1, 492700400, "User")
        );
        assert!(
            p.issue.pull_request.is_none(),
            "GitHub's example is on an issue"
        );
        assert_eq!(p.comment.created_at, p.comment.updated_at);
    }

    #[test]
    fn pull_request_target_is_refused_unless_allowed() {
        let c = ctx("pull_request_target", "pull_request.opened.json");
        let err = c.refuse_pull_request_target(false).unwrap_err();
        assert!(
            err.to_string().contains("--allow-pull-request-target"),
            "{err}"
        );
        assert!(c.refuse_pull_request_target(true).is_ok());
        let c = ctx("pull_request", "pull_request.opened.json");
        assert!(c.refuse_pull_request_target(false).is_ok());
    }

    #[test]
    fn no_event_is_local_and_bad_inputs_are_clear() {
        let env = [("GITHUB_TOKEN", "")];
        let c = Context::from_env(&env, None).unwrap();
        assert!(matches!(c.event, Event::Local));
        assert!(c.token.is_none());
        let env = [("GITHUB_REPOSITORY", "no-slash")];
        assert_eq!(
            Context::from_env(&env, None).unwrap_err().to_string(),
            "GITHUB_REPOSITORY 'no-slash' is not OWNER/NAME"
        );
        let env = [
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", "/nonexistent.json"),
        ];
        assert!(Context::from_env(&env, None)
            .unwrap_err()
            .to_string()
            .starts_with("GITHUB_EVENT_PATH /nonexistent.json: cannot read"));
    }
}
