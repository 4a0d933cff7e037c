//! The GitHub REST calls the gate makes, and nothing else. This is the one
//! file that uses octocrab: its raw `_get`/`_post`/`_patch`/`_delete` are used
//! because the typed API has gaps the gate would trip over (in 0.54:
//! `update_comment` sends POST, not PATCH; the collaborator-permission call
//! cannot parse `role_name`; check runs have no `started_at`; its retries are
//! immediate and also repeat POSTs). Retries here back off, honour
//! `retry-after` and the rate-limit reset, and never repeat a create blindly.

use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::{Repo, Token};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("GitHub API {method} {path} answered HTTP {status}: {message}")]
    Status {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    #[error("GitHub API {method} {path} failed: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },
    /// A list could not be read to its end (a pagination link to another
    /// host, or more pages than the bound): what was read is not the whole.
    #[error("GitHub API GET {path}: the list could not be read completely: {message}")]
    Incomplete { path: String, message: String },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::Transport { .. } | ApiError::Incomplete { .. } => None,
        }
    }
    /// 403 and 404 on a write: the token lacks a permission (or the repository
    /// is not visible to it), as with read-only tokens on fork pull requests.
    pub fn is_permission(&self) -> bool {
        matches!(self.status(), Some(403 | 404))
    }
    /// Worth retrying: server errors, rate limits and transport failures.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Status {
                status, message, ..
            } => {
                *status >= 500
                    || *status == 429
                    || (*status == 403 && message.contains("rate limit"))
            }
            ApiError::Transport { .. } => true,
            ApiError::Incomplete { .. } => false,
        }
    }
}

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    /// First back-off delay, doubled after each attempt.
    pub base: Duration,
    /// Longest single wait (a rate-limit reset an hour away is not waited for).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// `BENCH_GATE_RETRY_BASE_MS` shortens the back-off (tests use it).
    pub fn from_env() -> RetryPolicy {
        let mut p = RetryPolicy::default();
        if let Some(ms) = std::env::var("BENCH_GATE_RETRY_BASE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            p.base = Duration::from_millis(ms);
        }
        p
    }

    fn wait(&self, attempt: u32, hint: RetryHint) -> Duration {
        let wait = if let Some(secs) = hint.retry_after {
            Duration::from_secs(secs)
        } else if let Some(reset) = hint.reset {
            let now = chrono::Utc::now().timestamp();
            Duration::from_secs((reset - now).max(1) as u64)
        } else {
            self.base * 2u32.saturating_pow(attempt)
        };
        wait.min(self.max_wait)
    }
}

/// What a failed response says about waiting: `retry-after` seconds, or the
/// rate-limit reset time when no requests remain.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RetryHint {
    pub retry_after: Option<u64>,
    pub reset: Option<i64>,
}

impl RetryHint {
    pub fn from_headers(headers: &HeaderMap) -> RetryHint {
        let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
        RetryHint {
            retry_after: header("retry-after").and_then(|v| v.parse().ok()),
            reset: (header("x-ratelimit-remaining") == Some("0"))
                .then(|| header("x-ratelimit-reset").and_then(|v| v.parse().ok()))
                .flatten(),
        }
    }
}

/// A check run's output.
pub struct CheckOutput<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub text: &'a str,
    pub annotations: &'a [Value],
}

/// A response: status, headers and the JSON body (Null when empty).
struct Reply {
    headers: HeaderMap,
    body: Value,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct User {
    pub login: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub created_at: String,
    /// Later than `created_at` once the comment was edited.
    #[serde(default)]
    pub updated_at: String,
    /// Who wrote it; a comment without an author is nobody's.
    #[serde(default)]
    pub user: Option<User>,
}

impl Comment {
    pub fn author(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.login.as_str())
    }
}

/// A check run just created: its id, and the GitHub App it belongs to
/// (`github-actions` for `GITHUB_TOKEN`), whose comments are `slug[bot]`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedCheck {
    pub id: u64,
    pub app: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PullInfo {
    pub head_sha: String,
    /// The head branch's name and repository (`owner/name`; empty when the
    /// fork was deleted).
    pub head_ref: String,
    pub head_repo: String,
    pub labels: Vec<String>,
    /// How many files it changes, by GitHub's count.
    pub changed_files: u64,
}

/// A file read from a branch.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    pub content: String,
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Issue {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub user: Option<User>,
}

impl Issue {
    pub fn author(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.login.as_str())
    }
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved
/// characters kept).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// A repository path, each segment encoded, the slashes kept.
fn encode_path(p: &str) -> String {
    p.split('/').map(encode).collect::<Vec<_>>().join("/")
}

fn unsupported(what: &str) -> ApiError {
    ApiError::Transport {
        method: "-".into(),
        path: what.into(),
        message: "not supported by this client".into(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelEvent {
    pub label: String,
    pub actor: String,
    pub labeled: bool,
}

/// The calls the gate makes, and nothing else: the gate's flow sees GitHub
/// only through this, so it runs against [`GitHub`] (HTTP, octocrab) in
/// the binary and against an in-memory fake in its unit tests.
pub trait GitHubApi {
    fn pull(&self, number: u64) -> Result<PullInfo, ApiError>;
    /// Every path the pull request touches, repository-relative (a renamed
    /// file under its old name too).
    fn pull_files(&self, number: u64) -> Result<Vec<String>, ApiError>;
    fn comments(&self, number: u64) -> Result<Vec<Comment>, ApiError>;
    /// Not retried: a retried create could post twice.
    fn create_comment(&self, number: u64, body: &str) -> Result<Comment, ApiError>;
    fn update_comment(&self, id: u64, body: &str) -> Result<Comment, ApiError>;
    fn delete_comment(&self, id: u64) -> Result<(), ApiError>;
    /// The user's role on the repository (`role_name`, else `permission`).
    fn permission(&self, user: &str) -> Result<String, ApiError>;
    /// When GitHub first saw commit `sha` in this repository: the earliest
    /// `created_at` of its check suites (GitHub creates them when the
    /// commit is pushed; no workflow can create one dated earlier). `None`:
    /// the commit has no check suite.
    fn commit_first_seen(&self, sha: &str) -> Result<Option<String>, ApiError>;
    /// `labeled` and `unlabeled` events from the timeline, oldest first.
    fn label_events(&self, number: u64) -> Result<Vec<LabelEvent>, ApiError>;
    /// The login the token acts as; 403 for an installation token.
    fn user(&self) -> Result<String, ApiError>;
    /// A label already gone is not an error.
    fn remove_label(&self, number: u64, label: &str) -> Result<(), ApiError>;
    /// An in-progress check run, created once; with the App it belongs
    /// to, which tells an installation token's login.
    fn create_check_run(
        &self,
        name: &str,
        head_sha: &str,
        started_at: &str,
    ) -> Result<CreatedCheck, ApiError>;
    fn complete_check_run(
        &self,
        id: u64,
        conclusion: &str,
        completed_at: &str,
        out: &CheckOutput,
    ) -> Result<(), ApiError>;
    /// A file on a branch, decoded, and its blob SHA (for the update);
    /// `None` when the file or the branch does not exist.
    fn read_file(&self, _branch: &str, _path: &str) -> Result<Option<DataFile>, ApiError> {
        Err(unsupported("read_file"))
    }
    /// Creates or replaces a file on a branch (`sha`: the blob replaced);
    /// the commit that wrote it, when the answer names one.
    fn write_file(
        &self,
        _branch: &str,
        _path: &str,
        _content: &str,
        _sha: Option<&str>,
        _message: &str,
    ) -> Result<Option<String>, ApiError> {
        Err(unsupported("write_file"))
    }
    /// Creates branch `branch` at commit `sha`.
    fn create_branch(&self, _branch: &str, _sha: &str) -> Result<(), ApiError> {
        Err(unsupported("create_branch"))
    }
    /// The repository's open issues (not pull requests), every page.
    fn open_issues(&self) -> Result<Vec<Issue>, ApiError> {
        Err(unsupported("open_issues"))
    }
    /// Not retried: a retried create could open two.
    fn create_issue(&self, _title: &str, _body: &str) -> Result<Issue, ApiError> {
        Err(unsupported("create_issue"))
    }
    fn update_issue(&self, _number: u64, _body: &str) -> Result<Issue, ApiError> {
        Err(unsupported("update_issue"))
    }
    /// The pull requests a commit belongs to (merged into the default
    /// branch, or open with it), as (number, title).
    fn commit_pulls(&self, _sha: &str) -> Result<Vec<(u64, String)>, ApiError> {
        Err(unsupported("commit_pulls"))
    }
    /// While the returned registration lives, an interrupt (a cancelled
    /// job) completes check run `id` as `cancelled`. `None`: nothing to do
    /// (a client that cannot be reached from the interrupt handler).
    fn cancel_on_interrupt(&self, _id: u64) -> Option<crate::interrupt::Registration> {
        None
    }
}

pub struct GitHub {
    rt: tokio::runtime::Runtime,
    octo: octocrab::Octocrab,
    repo: Repo,
    retry: RetryPolicy,
    /// host[:port] of the API, the only host pagination links may name.
    authority: String,
    /// What a fresh client needs (the interrupt handler makes one); the
    /// token is also taken out of any text an answer echoes it in.
    api_url: String,
    token: Token,
}

fn message_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// The most files GitHub lists for a pull request.
const MAX_PULL_FILES: usize = 3000;

/// GitHub lists at most 3,000 files of a pull request without saying more
/// were left out: a list (at `path`) of `listed` files is complete only
/// below that cap and at least as long as the pull request's own count.
pub(crate) fn whole_file_list(
    path: &str,
    listed: usize,
    changed_files: u64,
) -> Result<(), ApiError> {
    let expected = usize::try_from(changed_files).unwrap_or(usize::MAX);
    if listed >= MAX_PULL_FILES || listed < expected {
        return Err(ApiError::Incomplete {
            path: path.to_string(),
            message: format!(
                "GitHub lists {listed} of the {} files (it lists at most {MAX_PULL_FILES})",
                expected.max(listed)
            ),
        });
    }
    Ok(())
}

/// A bound on the pages of one list, against a server that links forever.
const MAX_PAGES: usize = 1000;

/// The `rel="next"` link as a path and query. A link to any host other than
/// the API host we were given (`authority`) is never followed, so the token
/// is never sent elsewhere; it is an error (`Err`), because the list would
/// be incomplete and the gate decides nothing from a partial list.
fn next_link(headers: &HeaderMap, authority: &str) -> Result<Option<String>, String> {
    let Some(link) = headers.get("link") else {
        return Ok(None);
    };
    let link = link
        .to_str()
        .map_err(|_| "the Link header is not text".to_string())?;
    for part in link.split(',') {
        let Some((url, rel)) = part.split_once(';') else {
            continue;
        };
        if !rel.contains("rel=\"next\"") {
            continue;
        }
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let uri: http::Uri = url
            .parse()
            .map_err(|_| format!("the next page's link is not a URL: {url}"))?;
        if uri.authority().map(|a| a.as_str()) != Some(authority) {
            return Err(format!(
                "the next page's link points at another host ({url}); not followed"
            ));
        }
        return Ok(uri.path_and_query().map(|p| p.as_str().to_string()));
    }
    Ok(None)
}

impl GitHub {
    pub fn new(api_url: &str, token: &Token, repo: Repo) -> anyhow::Result<GitHub> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let octo = {
            let _guard = rt.enter();
            octocrab::Octocrab::builder()
                .base_uri(api_url)
                .map_err(|e| anyhow::anyhow!("GITHUB_API_URL '{api_url}' is not a URL: {e}"))?
                .personal_token(token.expose().to_string())
                .add_header(
                    http::header::ACCEPT,
                    "application/vnd.github+json".to_string(),
                )
                .add_header(
                    http::header::USER_AGENT,
                    concat!("bench-gate/", env!("CARGO_PKG_VERSION")).to_string(),
                )
                .set_connect_timeout(Some(Duration::from_secs(15)))
                .set_read_timeout(Some(Duration::from_secs(60)))
                .build()
                .map_err(|e| anyhow::anyhow!("cannot set up the GitHub client: {e}"))?
        };
        let authority = api_url
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_string()))
            .unwrap_or_default();
        Ok(GitHub {
            rt,
            octo,
            repo,
            retry: RetryPolicy::from_env(),
            authority,
            api_url: api_url.to_string(),
            token: token.clone(),
        })
    }

    /// The same client with short retries (3 attempts, waits of at most a
    /// second): for the interrupt handler, which has seconds before the
    /// runner kills the job, not minutes.
    pub fn hurried(mut self) -> GitHub {
        self.retry = RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(200),
            max_wait: Duration::from_secs(1),
        };
        self
    }

    /// Text from an answer (an error body, a link), made safe to show
    /// anywhere: the token taken out (an echoing proxy or server could
    /// return it), on one line, and never a workflow command.
    fn clean(&self, s: &str) -> String {
        crate::escape::log(&s.replace(self.token.expose(), "***"))
    }

    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.repo.owner, self.repo.name)
    }

    /// One request, without retries. A failure comes with the response
    /// headers, which say how long to wait before trying again.
    fn once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, (ApiError, RetryHint)> {
        let fail = |message: String| {
            (
                ApiError::Transport {
                    method: method.to_string(),
                    path: path.to_string(),
                    message: self.clean(&message),
                },
                RetryHint::default(),
            )
        };
        self.rt.block_on(async {
            let resp = match *method {
                Method::GET => self.octo._get(path).await,
                Method::POST => self.octo._post(path, body).await,
                Method::PATCH => self.octo._patch(path, body).await,
                Method::PUT => self.octo._put(path, body).await,
                Method::DELETE => self.octo._delete(path, None::<&()>).await,
                _ => unreachable!("only the methods above are used"),
            }
            .map_err(|e| fail(e.to_string()))?;
            let status: StatusCode = resp.status();
            let headers = resp.headers().clone();
            let text = self
                .octo
                .body_to_string(resp)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if !status.is_success() {
                let limited = status == StatusCode::FORBIDDEN
                    && headers
                        .get("x-ratelimit-remaining")
                        .is_some_and(|v| v.as_bytes() == b"0");
                let mut message = self.clean(&message_of(&text));
                if limited && !message.contains("rate limit") {
                    message.push_str(" (rate limit)");
                }
                return Err((
                    ApiError::Status {
                        method: method.to_string(),
                        path: path.to_string(),
                        status: status.as_u16(),
                        message,
                    },
                    RetryHint::from_headers(&headers),
                ));
            }
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)
                    .map_err(|e| fail(format!("the answer is not JSON: {e}")))?
            };
            Ok(Reply { headers, body })
        })
    }

    /// A request retried on transient failures, waiting as the response says
    /// (`retry-after`, rate-limit reset) or with exponential back-off.
    fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Reply, ApiError> {
        let mut attempt = 0;
        loop {
            match self.once(&method, path, body) {
                Ok(r) => return Ok(r),
                Err((e, hint)) if e.is_transient() && attempt + 1 < self.retry.attempts => {
                    let wait = self.retry.wait(attempt, hint);
                    eprintln!("{e}; retrying in {:.1} s", wait.as_secs_f64());
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Every page of a list endpoint.
    fn get_all(&self, path: &str) -> Result<Vec<Value>, ApiError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{sep}per_page=100"));
        let mut out = Vec::new();
        let mut pages = 0;
        while let Some(p) = next.take() {
            let reply = self.request(Method::GET, &p, None)?;
            match reply.body {
                Value::Array(items) => out.extend(items),
                other => out.push(other),
            }
            pages += 1;
            match next_link(&reply.headers, &self.authority) {
                Ok(None) => {}
                Ok(Some(_)) if pages >= MAX_PAGES => {
                    return Err(ApiError::Incomplete {
                        path: path.to_string(),
                        message: format!("more than {MAX_PAGES} pages"),
                    })
                }
                Ok(Some(n)) => next = Some(n),
                Err(message) => {
                    return Err(ApiError::Incomplete {
                        path: path.to_string(),
                        message: self.clean(&message),
                    })
                }
            }
        }
        Ok(out)
    }
}

impl GitHubApi for GitHub {
    fn pull(&self, number: u64) -> Result<PullInfo, ApiError> {
        let r = self.request(
            Method::GET,
            &self.repo_path(&format!("/pulls/{number}")),
            None,
        )?;
        let text = |p: &str| {
            r.body
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(PullInfo {
            head_sha: text("/head/sha"),
            head_ref: text("/head/ref"),
            head_repo: text("/head/repo/full_name"),
            changed_files: r.body["changed_files"].as_u64().unwrap_or(0),
            labels: r.body["labels"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .filter_map(|l| l["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// Every path the pull request touches, repository-relative; a renamed
    /// file is listed under its old name too (moving a file out of a
    /// protected folder changes that folder). GitHub lists at most 3,000
    /// files without saying more were left out: a list that long, or
    /// shorter than the pull request's own count, is an error.
    fn pull_files(&self, number: u64) -> Result<Vec<String>, ApiError> {
        let path = self.repo_path(&format!("/pulls/{number}/files"));
        let entries = self.get_all(&path)?;
        whole_file_list(&path, entries.len(), self.pull(number)?.changed_files)?;
        Ok(entries
            .iter()
            .flat_map(|f| {
                [&f["filename"], &f["previous_filename"]]
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
            })
            .collect())
    }

    /// The login the token acts as (`GET /user`). An installation token
    /// (`GITHUB_TOKEN`) cannot read it and answers 403; the caller decides
    /// what that means.
    fn user(&self) -> Result<String, ApiError> {
        let r = self.request(Method::GET, "/user", None)?;
        r.body["login"]
            .as_str()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ApiError::Transport {
                method: "GET".into(),
                path: "/user".into(),
                message: "the answer names no login".into(),
            })
    }

    /// Removes a label from an issue or pull request; a label that is
    /// already gone (404) is not an error.
    fn remove_label(&self, number: u64, label: &str) -> Result<(), ApiError> {
        let encoded = encode(label);
        match self.request(
            Method::DELETE,
            &self.repo_path(&format!("/issues/{number}/labels/{encoded}")),
            None,
        ) {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    fn comments(&self, number: u64) -> Result<Vec<Comment>, ApiError> {
        Ok(self
            .get_all(&self.repo_path(&format!("/issues/{number}/comments")))?
            .into_iter()
            .filter_map(|c| serde_json::from_value(c).ok())
            .collect())
    }

    /// Creates a comment; not retried (a retried create could post twice):
    /// the caller looks for the comment before trying again.
    fn create_comment(&self, number: u64, body: &str) -> Result<Comment, ApiError> {
        let r = self
            .once(
                &Method::POST,
                &self.repo_path(&format!("/issues/{number}/comments")),
                Some(&json!({ "body": body })),
            )
            .map_err(|(e, _)| e)?;
        Ok(serde_json::from_value(r.body).unwrap_or(Comment {
            id: 0,
            body: None,
            html_url: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            user: None,
        }))
    }

    /// PATCH, as GitHub's REST description requires.
    fn update_comment(&self, id: u64, body: &str) -> Result<Comment, ApiError> {
        let r = self.request(
            Method::PATCH,
            &self.repo_path(&format!("/issues/comments/{id}")),
            Some(&json!({ "body": body })),
        )?;
        Ok(serde_json::from_value(r.body).unwrap_or(Comment {
            id,
            body: None,
            html_url: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            user: None,
        }))
    }

    fn delete_comment(&self, id: u64) -> Result<(), ApiError> {
        self.request(
            Method::DELETE,
            &self.repo_path(&format!("/issues/comments/{id}")),
            None,
        )
        .map(|_| ())
    }

    /// The user's role on the repository (`admin`, `maintain`, `write`,
    /// `triage`, `read` or a custom role), from `role_name`, falling back to
    /// the coarser `permission`.
    fn permission(&self, user: &str) -> Result<String, ApiError> {
        let r = self.request(
            Method::GET,
            &self.repo_path(&format!("/collaborators/{user}/permission")),
            None,
        )?;
        Ok(r.body["role_name"]
            .as_str()
            .or_else(|| r.body["permission"].as_str())
            .unwrap_or("none")
            .to_string())
    }

    /// The earliest `created_at` of the commit's check suites, every page.
    fn commit_first_seen(&self, sha: &str) -> Result<Option<String>, ApiError> {
        let path = self.repo_path(&format!("/commits/{sha}/check-suites"));
        Ok(self
            .get_all(&path)?
            .iter()
            .filter_map(|page| page["check_suites"].as_array())
            .flatten()
            .filter_map(|s| s["created_at"].as_str())
            .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .min()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
    }

    fn read_file(&self, branch: &str, path: &str) -> Result<Option<DataFile>, ApiError> {
        let r = match self.request(
            Method::GET,
            &self.repo_path(&format!(
                "/contents/{}?ref={}",
                encode_path(path),
                encode(branch)
            )),
            None,
        ) {
            Ok(r) => r,
            Err(e) if e.status() == Some(404) => return Ok(None),
            Err(e) => return Err(e),
        };
        let bad = |message: &str| ApiError::Transport {
            method: "GET".into(),
            path: format!("contents/{path}"),
            message: message.into(),
        };
        let b64: String = r.body["content"]
            .as_str()
            .ok_or_else(|| bad("no content (not a file, or larger than 1 MB)"))?
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| bad(&format!("content is not base64: {e}")))?;
        Ok(Some(DataFile {
            content: String::from_utf8(bytes).map_err(|_| bad("content is not UTF-8"))?,
            sha: r.body["sha"].as_str().unwrap_or_default().to_string(),
        }))
    }

    fn write_file(
        &self,
        branch: &str,
        path: &str,
        content: &str,
        sha: Option<&str>,
        message: &str,
    ) -> Result<Option<String>, ApiError> {
        use base64::Engine as _;
        let mut body = json!({
            "message": message,
            "content": base64::engine::general_purpose::STANDARD.encode(content),
            "branch": branch,
        });
        if let Some(sha) = sha {
            body["sha"] = json!(sha);
        }
        let r = self.request(
            Method::PUT,
            &self.repo_path(&format!("/contents/{}", encode_path(path))),
            Some(&body),
        )?;
        Ok(r.body
            .pointer("/commit/sha")
            .and_then(Value::as_str)
            .map(str::to_string))
    }

    fn create_branch(&self, branch: &str, sha: &str) -> Result<(), ApiError> {
        self.once(
            &Method::POST,
            &self.repo_path("/git/refs"),
            Some(&json!({"ref": format!("refs/heads/{branch}"), "sha": sha})),
        )
        .map(|_| ())
        .map_err(|(e, _)| e)
    }

    fn open_issues(&self) -> Result<Vec<Issue>, ApiError> {
        Ok(self
            .get_all(&self.repo_path("/issues?state=open"))?
            .into_iter()
            .filter(|i| i.get("pull_request").is_none())
            .filter_map(|i| serde_json::from_value(i).ok())
            .collect())
    }

    fn create_issue(&self, title: &str, body: &str) -> Result<Issue, ApiError> {
        let r = self
            .once(
                &Method::POST,
                &self.repo_path("/issues"),
                Some(&json!({ "title": title, "body": body })),
            )
            .map_err(|(e, _)| e)?;
        serde_json::from_value(r.body).map_err(|e| ApiError::Transport {
            method: "POST".into(),
            path: "issues".into(),
            message: format!("not an issue: {e}"),
        })
    }

    fn update_issue(&self, number: u64, body: &str) -> Result<Issue, ApiError> {
        let r = self.request(
            Method::PATCH,
            &self.repo_path(&format!("/issues/{number}")),
            Some(&json!({ "body": body })),
        )?;
        serde_json::from_value(r.body).map_err(|e| ApiError::Transport {
            method: "PATCH".into(),
            path: format!("issues/{number}"),
            message: format!("not an issue: {e}"),
        })
    }

    fn commit_pulls(&self, sha: &str) -> Result<Vec<(u64, String)>, ApiError> {
        Ok(self
            .get_all(&self.repo_path(&format!("/commits/{}/pulls", encode(sha))))?
            .iter()
            .filter_map(|p| {
                Some((
                    p["number"].as_u64()?,
                    p["title"].as_str().unwrap_or_default().to_string(),
                ))
            })
            .collect())
    }

    /// `labeled` and `unlabeled` events from the issue's timeline, oldest first.
    fn label_events(&self, number: u64) -> Result<Vec<LabelEvent>, ApiError> {
        Ok(self
            .get_all(&self.repo_path(&format!("/issues/{number}/timeline")))?
            .iter()
            .filter_map(|e| {
                let kind = e["event"].as_str()?;
                if kind != "labeled" && kind != "unlabeled" {
                    return None;
                }
                Some(LabelEvent {
                    label: e.pointer("/label/name")?.as_str()?.to_string(),
                    actor: e.pointer("/actor/login")?.as_str()?.to_string(),
                    labeled: kind == "labeled",
                })
            })
            .collect())
    }

    /// An in-progress check run; the id of an existing one with the same name
    /// for the commit is reused when a retried create may already have landed.
    fn create_check_run(
        &self,
        name: &str,
        head_sha: &str,
        started_at: &str,
    ) -> Result<CreatedCheck, ApiError> {
        let created = |r: &Value| CreatedCheck {
            id: r["id"].as_u64().unwrap_or(0),
            app: r
                .pointer("/app/slug")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        };
        let body = json!({
            "name": name,
            "head_sha": head_sha,
            "status": "in_progress",
            "started_at": started_at,
        });
        let path = self.repo_path("/check-runs");
        let mut attempt = 0;
        loop {
            match self.once(&Method::POST, &path, Some(&body)) {
                Ok(r) => return Ok(created(&r.body)),
                Err((e, hint)) if e.is_transient() && attempt + 1 < self.retry.attempts => {
                    std::thread::sleep(self.retry.wait(attempt, hint));
                    attempt += 1;
                    // Look before creating again.
                    let existing = self.request(
                        Method::GET,
                        &self.repo_path(&format!(
                            "/commits/{head_sha}/check-runs?check_name={name}"
                        )),
                        None,
                    )?;
                    // The one this create made: in progress, started when
                    // ours was (never an older, completed run of another
                    // event for the same commit); the newest if several.
                    if let Some(run) = existing.body["check_runs"].as_array().and_then(|runs| {
                        runs.iter()
                            .filter(|r| r["status"].as_str() != Some("completed"))
                            .filter(|r| r["started_at"].as_str().is_none_or(|s| s == started_at))
                            .max_by_key(|r| r["id"].as_u64())
                    }) {
                        return Ok(created(run));
                    }
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Completes a check run. GitHub takes at most 50 annotations per
    /// request, so further ones are sent in more updates.
    fn complete_check_run(
        &self,
        id: u64,
        conclusion: &str,
        completed_at: &str,
        out: &CheckOutput,
    ) -> Result<(), ApiError> {
        let path = self.repo_path(&format!("/check-runs/{id}"));
        let mut chunks = out.annotations.chunks(50);
        let first = chunks.next().unwrap_or(&[]);
        self.request(
            Method::PATCH,
            &path,
            Some(&json!({
                "status": "completed",
                "conclusion": conclusion,
                "completed_at": completed_at,
                "output": {"title": out.title, "summary": out.summary, "text": out.text, "annotations": first},
            })),
        )?;
        for chunk in chunks {
            self.request(
                Method::PATCH,
                &path,
                Some(&json!({"output": {"title": out.title, "summary": out.summary, "annotations": chunk}})),
            )?;
        }
        Ok(())
    }

    /// The handler runs on its own thread while this client may be busy, so
    /// it makes a fresh one with short retries: it has seconds before the
    /// runner kills the job, not minutes.
    fn cancel_on_interrupt(&self, id: u64) -> Option<crate::interrupt::Registration> {
        let (url, token, repo) = (self.api_url.clone(), self.token.clone(), self.repo.clone());
        Some(crate::interrupt::on_interrupt(move || {
            let out = CheckOutput {
                title: "Cancelled",
                summary: "The run was stopped (SIGINT or SIGTERM: a cancelled job) before it finished; nothing was decided.",
                text: "",
                annotations: &[],
            };
            let now = crate::model::now_rfc3339();
            match GitHub::new(&url, &token, repo.clone()) {
                Ok(api) => {
                    if let Err(e) = api
                        .hurried()
                        .complete_check_run(id, "cancelled", &now, &out)
                    {
                        eprintln!("could not mark the check run cancelled: {e}");
                    }
                }
                Err(e) => eprintln!("could not mark the check run cancelled: {e:#}"),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_only_on_the_api_host() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            "<https://evil.example/repos/o/r/issues/1/comments?page=2>; rel=\"next\", <https://x/last?page=9>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h, "evil.example").unwrap().as_deref(),
            Some("/repos/o/r/issues/1/comments?page=2")
        );
        let refused = next_link(&h, "api.github.com").unwrap_err();
        assert!(
            refused.contains("another host"),
            "another host is never followed, and the list is incomplete: {refused}"
        );
        assert_eq!(next_link(&HeaderMap::new(), "api.github.com"), Ok(None));
    }

    #[test]
    fn waits_honour_retry_after_and_reset_with_a_cap() {
        let p = RetryPolicy::default();
        let hint = |h: &HeaderMap| RetryHint::from_headers(h);
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(p.wait(0, hint(&h)), Duration::from_secs(3));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        let reset = chrono::Utc::now().timestamp() + 10;
        h.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
        let w = p.wait(0, hint(&h));
        assert!(
            w >= Duration::from_secs(8) && w <= Duration::from_secs(11),
            "{w:?}"
        );
        h.insert(
            "x-ratelimit-reset",
            (reset + 7200).to_string().parse().unwrap(),
        );
        assert_eq!(p.wait(0, hint(&h)), Duration::from_secs(60));
        // A reset is only a reason to wait when no requests remain.
        h.insert("x-ratelimit-remaining", "17".parse().unwrap());
        assert_eq!(hint(&h).reset, None);
        assert_eq!(p.wait(2, RetryHint::default()), Duration::from_secs(4));
    }

    #[test]
    fn transient_and_permission_errors() {
        let e = |status, message: &str| ApiError::Status {
            method: "GET".into(),
            path: "/x".into(),
            status,
            message: message.into(),
        };
        assert!(e(502, "bad gateway").is_transient());
        assert!(e(403, "API rate limit exceeded").is_transient());
        assert!(!e(403, "Resource not accessible by integration").is_transient());
        assert!(e(403, "Resource not accessible by integration").is_permission());
        assert!(e(404, "Not Found").is_permission());
    }
}
