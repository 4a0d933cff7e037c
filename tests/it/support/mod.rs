//! A stateful fake GitHub on 127.0.0.1 (wiremock with one responder that
//! keeps state), for the gate's tests. It serves the few REST calls the gate
//! makes, paginates with Link headers, and can fail on purpose.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Debug, Clone)]
pub struct FakeComment {
    pub id: u64,
    pub body: String,
    pub user: String,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct FakeCheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: Option<String>,
    pub title: String,
    pub summary: String,
    pub text: String,
    pub annotations: Vec<Value>,
}

/// A failure to inject: the next request matching `method` and a path
/// containing `path` gets `status` (with `retry-after` when set). With
/// `apply` the request still takes effect, as when a response is lost.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path: &'static str,
    pub status: u16,
    pub retry_after: Option<u64>,
    pub apply: bool,
}

#[derive(Debug, Clone)]
pub struct FakeIssue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub user: String,
    pub updates: usize,
}

#[derive(Debug)]
pub struct State {
    /// Branches that exist (the data branch is created by the gate).
    pub branches: Vec<String>,
    /// (branch, path) → (content, blob sha), as the Contents API stores them.
    pub data_files: std::collections::BTreeMap<(String, String), (String, String)>,
    pub issues: Vec<FakeIssue>,
    /// commit → pull requests (number, title) it belongs to.
    pub commit_pulls: std::collections::BTreeMap<String, Vec<(u64, String)>>,
    pub head_sha: String,
    pub labels: Vec<String>,
    pub files: Vec<String>,
    pub comments: Vec<FakeComment>,
    /// (event, label, actor) in order.
    pub timeline: Vec<(String, String, String)>,
    pub permissions: Vec<(String, String)>,
    pub check_runs: Vec<FakeCheckRun>,
    /// (commit, created_at) of each commit's check suite: GitHub creates
    /// one when a commit is pushed. The default head's is older than
    /// anything else; a head set later gets one at the first request after
    /// (as if pushed then), and so does a check run's commit.
    pub check_suites: Vec<(String, String)>,
    /// Every request: method, path with query, body.
    pub requests: Vec<(String, String, String)>,
    /// 403 "Resource not accessible by integration" on every write.
    pub read_only: bool,
    pub faults: Vec<Fault>,
    pub page_size: usize,
    /// The login `GET /user` answers; `None` answers 403 as it does for
    /// `GITHUB_TOKEN` (an installation token).
    pub token_user: Option<String>,
    /// Who the token's comments are written by.
    pub bot_login: String,
    /// The pull request's head branch and repository.
    pub head_ref: String,
    pub head_repo: String,
    /// Pagination links point at another host (a list that cannot be
    /// read completely).
    pub foreign_next_link: bool,
    next_id: u64,
    clock: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            branches: vec!["master".into()],
            data_files: Default::default(),
            issues: Vec::new(),
            commit_pulls: Default::default(),
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
            labels: Vec::new(),
            files: vec!["src/lib.rs".into()],
            comments: Vec::new(),
            timeline: Vec::new(),
            permissions: Vec::new(),
            check_runs: Vec::new(),
            check_suites: vec![(
                "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
                "2026-11-27T09:00:00Z".into(),
            )],
            requests: Vec::new(),
            read_only: false,
            faults: Vec::new(),
            page_size: 2,
            token_user: None,
            bot_login: "github-actions[bot]".into(),
            head_ref: "changes".into(),
            head_repo: "Codertocat/Hello-World".into(),
            foreign_next_link: false,
            next_id: 1000,
            clock: 0,
        }
    }
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
    fn timestamp(&mut self) -> String {
        self.clock += 1;
        format!(
            "2026-11-27T10:{:02}:{:02}Z",
            self.clock / 60,
            self.clock % 60
        )
    }
    /// A check suite for `sha` unless it has one (its push, now).
    pub fn pushed(&mut self, sha: &str) {
        if !sha.is_empty() && !self.check_suites.iter().any(|(c, _)| c == sha) {
            let at = self.timestamp();
            self.check_suites.push((sha.to_string(), at));
        }
    }
    /// Adds a comment as if someone (or an earlier run) had posted it.
    pub fn seed_comment(&mut self, body: &str, user: &str) -> u64 {
        let id = self.id();
        let created_at = self.timestamp();
        self.comments.push(FakeComment {
            id,
            body: body.into(),
            user: user.into(),
            created_at,
        });
        id
    }
}

pub struct FakeGitHub {
    pub uri: String,
    pub state: Arc<Mutex<State>>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs a wiremock server on its own runtime thread, answering every
/// request with the responder `make` builds from the server's address.
/// Returns the address, a sender whose drop stops the server, and the thread.
fn serve_in_thread<R: Respond + 'static>(
    make: impl FnOnce(String) -> R + Send + 'static,
) -> (
    String,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (uri_tx, uri_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::any())
                .respond_with(make(server.uri()))
                .mount(&server)
                .await;
            uri_tx.send(server.uri()).unwrap();
            // Serve until the test drops the sender.
            let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
        });
    });
    (uri_rx.recv().unwrap(), stop_tx, thread)
}

impl FakeGitHub {
    pub fn start() -> FakeGitHub {
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        let (uri, stop, thread) = serve_in_thread(move |base| Responder { state: s, base });
        FakeGitHub {
            uri,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn comments(&self) -> Vec<FakeComment> {
        self.with(|s| s.comments.clone())
    }

    pub fn check_runs(&self) -> Vec<FakeCheckRun> {
        self.with(|s| s.check_runs.clone())
    }

    pub fn requests(&self) -> Vec<(String, String, String)> {
        self.with(|s| s.requests.clone())
    }
}

/// Answers every request from the shared state; `base` is the server's own
/// address, used in pagination links as GitHub uses its API host.
struct Responder {
    state: Arc<Mutex<State>>,
    base: String,
}

fn json_response(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn comment_json(base: &str, c: &FakeComment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": {"login": c.user},
        "created_at": c.created_at,
        "updated_at": c.created_at,
        "html_url": format!("{base}/Codertocat/Hello-World/pull/2#issuecomment-{}", c.id),
    })
}

fn paginate(
    base: &str,
    path: &str,
    query_page: usize,
    size: usize,
    items: Vec<Value>,
    foreign: bool,
) -> ResponseTemplate {
    let base = if foreign {
        "http://elsewhere.invalid"
    } else {
        base
    };
    let pages = items.len().div_ceil(size).max(1);
    let page = query_page.clamp(1, pages);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    let mut r = json_response(200, Value::Array(slice));
    if page < pages {
        r = r.insert_header(
            "link",
            format!("<{base}{path}?per_page=100&page={}>; rel=\"next\", <{base}{path}?per_page=100&page={pages}>; rel=\"last\"", page + 1).as_str(),
        );
    }
    r
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.state.lock().unwrap();
        let method = req.method.to_string();
        let full_path = req.url.path().to_string();
        // GitHub Enterprise serves the API under /api/v3.
        let path = full_path
            .strip_prefix("/api/v3")
            .unwrap_or(&full_path)
            .to_string();
        let query: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let page = query
            .iter()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        s.requests.push((
            method.clone(),
            format!(
                "{}{}",
                full_path,
                req.url.query().map(|q| format!("?{q}")).unwrap_or_default()
            ),
            String::from_utf8_lossy(&req.body).into_owned(),
        ));
        let base = self.base.clone();
        let base_api = format!(
            "{base}{}",
            if full_path.starts_with("/api/v3") {
                "/api/v3"
            } else {
                ""
            }
        );

        let mut fault_hit = None;
        if let Some(i) = s
            .faults
            .iter()
            .position(|f| f.method == method && path.contains(f.path))
        {
            fault_hit = Some(s.faults.remove(i));
        }
        if let Some(f) = &fault_hit {
            if !f.apply {
                let mut r = json_response(f.status, json!({"message": "injected failure"}));
                if let Some(secs) = f.retry_after {
                    r = r.insert_header("retry-after", secs.to_string().as_str());
                }
                return r;
            }
        }
        if s.read_only && method != "GET" {
            return json_response(
                403,
                json!({"message": "Resource not accessible by integration", "status": "403"}),
            );
        }
        let head = s.head_sha.clone();
        s.pushed(&head);
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let response = match (method.as_str(), segs.as_slice()) {
            ("GET", ["repos", _, _, "contents", rest @ ..]) => {
                let file = percent_decode(&rest.join("/"));
                let branch = query
                    .iter()
                    .find(|(k, _)| k == "ref")
                    .map_or("master".to_string(), |(_, v)| v.clone());
                match s.data_files.get(&(branch.clone(), file.clone())) {
                    Some((content, sha)) if s.branches.contains(&branch) => {
                        use base64::Engine as _;
                        let b64 = base64::engine::general_purpose::STANDARD.encode(content);
                        // GitHub wraps the base64 at 60 characters.
                        let wrapped: Vec<String> = b64
                            .as_bytes()
                            .chunks(60)
                            .map(|c| String::from_utf8(c.to_vec()).unwrap())
                            .collect();
                        json_response(
                            200,
                            json!({"type": "file", "encoding": "base64", "name": file.rsplit('/').next(),
                                   "path": file, "sha": sha, "size": content.len(),
                                   "content": wrapped.join("\n")}),
                        )
                    }
                    _ => json_response(404, json!({"message": "Not Found"})),
                }
            }
            ("PUT", ["repos", _, _, "contents", rest @ ..]) => {
                let file = percent_decode(&rest.join("/"));
                let branch = body["branch"].as_str().unwrap_or("master").to_string();
                if !s.branches.contains(&branch) {
                    return json_response(
                        404,
                        json!({"message": format!("Branch {branch} not found")}),
                    );
                }
                let key = (branch, file.clone());
                let current = s.data_files.get(&key).map(|(_, sha)| sha.clone());
                if current.as_deref() != body["sha"].as_str() {
                    return json_response(
                        409,
                        json!({"message": format!("{file} does not match {}", body["sha"])}),
                    );
                }
                use base64::Engine as _;
                let content = String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(body["content"].as_str().unwrap_or_default())
                        .unwrap(),
                )
                .unwrap();
                let sha = format!("{:040x}", s.id());
                s.data_files.insert(key, (content, sha.clone()));
                json_response(
                    if current.is_some() { 200 } else { 201 },
                    json!({"content": {"path": file, "sha": sha}, "commit": {"sha": sha}}),
                )
            }
            ("POST", ["repos", _, _, "git", "refs"]) => {
                let name = body["ref"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches("refs/heads/")
                    .to_string();
                if s.branches.contains(&name) {
                    json_response(422, json!({"message": "Reference already exists"}))
                } else {
                    s.branches.push(name.clone());
                    json_response(
                        201,
                        json!({"ref": format!("refs/heads/{name}"), "object": {"sha": body["sha"], "type": "commit"}}),
                    )
                }
            }
            ("GET", ["repos", _, _, "issues"]) => {
                let items = s
                    .issues
                    .iter()
                    .map(|i| json!({"number": i.number, "title": i.title, "body": i.body,
                                    "user": {"login": i.user}, "state": "open",
                                    "html_url": format!("{base}/Codertocat/Hello-World/issues/{}", i.number)}))
                    .collect();
                paginate(&base_api, &path, page, s.page_size, items, false)
            }
            ("POST", ["repos", _, _, "issues"]) => {
                let number = s.id();
                let issue = FakeIssue {
                    number,
                    title: body["title"].as_str().unwrap_or_default().into(),
                    body: body["body"].as_str().unwrap_or_default().into(),
                    user: s.bot_login.clone(),
                    updates: 0,
                };
                s.issues.push(issue);
                json_response(
                    201,
                    json!({"number": number, "title": body["title"], "body": body["body"], "user": {"login": s.bot_login},
                           "html_url": format!("{base}/Codertocat/Hello-World/issues/{number}")}),
                )
            }
            ("PATCH", ["repos", _, _, "issues", n]) => {
                let n: u64 = n.parse().unwrap_or(0);
                match s.issues.iter_mut().find(|i| i.number == n) {
                    Some(i) => {
                        i.body = body["body"].as_str().unwrap_or_default().into();
                        i.updates += 1;
                        json_response(
                            200,
                            json!({"number": n, "title": i.title, "body": i.body, "user": {"login": i.user},
                                   "html_url": format!("{base}/Codertocat/Hello-World/issues/{n}")}),
                        )
                    }
                    None => json_response(404, json!({"message": "Not Found"})),
                }
            }
            ("GET", ["repos", _, _, "commits", sha, "pulls"]) => {
                let items = s
                    .commit_pulls
                    .get(*sha)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(n, t)| json!({"number": n, "title": t, "state": "closed"}))
                    .collect();
                paginate(&base_api, &path, page, s.page_size, items, false)
            }
            ("GET", ["repos", _, _, "pulls", n]) => json_response(
                200,
                json!({
                    "number": n.parse::<u64>().unwrap_or(0),
                    "state": "open",
                    "head": {"sha": s.head_sha, "ref": s.head_ref, "repo": {"full_name": s.head_repo}},
                    "base": {"sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "ref": "master"},
                    "labels": s.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
                    "changed_files": s.files.len(),
                }),
            ),
            ("GET", ["repos", _, _, "pulls", _, "files"]) => {
                let items = s
                    .files
                    .iter()
                    .map(|f| json!({"filename": f, "status": "modified"}))
                    .collect();
                paginate(
                    &base_api,
                    &path,
                    page,
                    s.page_size,
                    items,
                    s.foreign_next_link,
                )
            }
            ("GET", ["repos", _, _, "issues", _, "comments"]) => {
                let items = s.comments.iter().map(|c| comment_json(&base, c)).collect();
                paginate(
                    &base_api,
                    &path,
                    page,
                    s.page_size,
                    items,
                    s.foreign_next_link,
                )
            }
            ("POST", ["repos", _, _, "issues", _, "comments"]) => {
                let id = s.id();
                let created_at = s.timestamp();
                let c = FakeComment {
                    id,
                    body: body["body"].as_str().unwrap_or_default().into(),
                    user: s.bot_login.clone(),
                    created_at,
                };
                s.comments.push(c.clone());
                json_response(201, comment_json(&base, &c))
            }
            ("PATCH", ["repos", _, _, "issues", "comments", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                match s.comments.iter_mut().find(|c| c.id == id) {
                    Some(c) => {
                        c.body = body["body"].as_str().unwrap_or_default().into();
                        let c = c.clone();
                        json_response(200, comment_json(&base, &c))
                    }
                    None => json_response(404, json!({"message": "Not Found"})),
                }
            }
            ("DELETE", ["repos", _, _, "issues", "comments", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                let before = s.comments.len();
                s.comments.retain(|c| c.id != id);
                if s.comments.len() < before {
                    ResponseTemplate::new(204)
                } else {
                    json_response(404, json!({"message": "Not Found"}))
                }
            }
            ("GET", ["repos", _, _, "collaborators", user, "permission"]) => {
                let role = s
                    .permissions
                    .iter()
                    .find(|(u, _)| u == user)
                    .map(|(_, r)| r.clone())
                    .unwrap_or_else(|| "read".into());
                let permission = match role.as_str() {
                    "maintain" => "write",
                    "triage" => "read",
                    r => r,
                }
                .to_string();
                json_response(
                    200,
                    json!({"permission": permission, "role_name": role, "user": {"login": user}}),
                )
            }
            ("GET", ["repos", _, _, "issues", _, "timeline"]) => {
                let items = s
                    .timeline
                    .iter()
                    .map(|(event, label, actor)| match event.as_str() {
                        "labeled" | "unlabeled" => json!({"event": event, "label": {"name": label}, "actor": {"login": actor}}),
                        // A pushed commit: its date is whatever its author set.
                        "committed" => json!({"event": event, "sha": label, "committer": {"name": actor, "date": "2001-01-01T00:00:00Z"}}),
                        _ => json!({"event": event, "actor": {"login": actor}}),
                    })
                    .collect();
                paginate(
                    &base_api,
                    &path,
                    page,
                    s.page_size,
                    items,
                    s.foreign_next_link,
                )
            }
            ("GET", ["user"]) => match &s.token_user {
                Some(login) => json_response(200, json!({"login": login, "id": 1, "type": "User"})),
                None => json_response(
                    403,
                    json!({"message": "Resource not accessible by integration", "status": "403"}),
                ),
            },
            ("DELETE", ["repos", _, _, "issues", _, "labels", name]) => {
                let name = percent_decode(name);
                let before = s.labels.len();
                s.labels.retain(|l| *l != name);
                if s.labels.len() < before {
                    let actor = s.bot_login.clone();
                    s.timeline.push(("unlabeled".into(), name, actor));
                    let labels: Vec<Value> = s.labels.iter().map(|l| json!({"name": l})).collect();
                    json_response(200, Value::Array(labels))
                } else {
                    json_response(404, json!({"message": "Label does not exist"}))
                }
            }
            ("POST", ["repos", _, _, "check-runs"]) => {
                s.pushed(body["head_sha"].as_str().unwrap_or_default());
                let id = s.id();
                let run = FakeCheckRun {
                    id,
                    name: body["name"].as_str().unwrap_or_default().into(),
                    head_sha: body["head_sha"].as_str().unwrap_or_default().into(),
                    status: body["status"].as_str().unwrap_or("queued").into(),
                    conclusion: None,
                    started_at: body["started_at"].as_str().map(str::to_string),
                    title: String::new(),
                    summary: String::new(),
                    text: String::new(),
                    annotations: Vec::new(),
                };
                s.check_runs.push(run);
                json_response(
                    201,
                    json!({"id": id, "name": body["name"], "head_sha": body["head_sha"], "status": body["status"],
                           "app": {"slug": s.bot_login.trim_end_matches("[bot]")}}),
                )
            }
            ("PATCH", ["repos", _, _, "check-runs", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                match s.check_runs.iter_mut().find(|r| r.id == id) {
                    Some(r) => {
                        if let Some(st) = body["status"].as_str() {
                            r.status = st.into();
                        }
                        if let Some(c) = body["conclusion"].as_str() {
                            r.conclusion = Some(c.into());
                        }
                        let out = &body["output"];
                        if let Some(t) = out["title"].as_str() {
                            r.title = t.into();
                        }
                        if let Some(t) = out["summary"].as_str() {
                            r.summary = t.into();
                        }
                        if let Some(t) = out["text"].as_str() {
                            r.text = t.into();
                        }
                        if let Some(a) = out["annotations"].as_array() {
                            if a.len() > 50 {
                                return json_response(
                                    422,
                                    json!({"message": "Only 50 annotations are allowed per request"}),
                                );
                            }
                            r.annotations.extend(a.iter().cloned());
                        }
                        json_response(
                            200,
                            json!({"id": id, "status": r.status, "conclusion": r.conclusion}),
                        )
                    }
                    None => json_response(404, json!({"message": "Not Found"})),
                }
            }
            ("GET", ["repos", _, _, "commits", sha, "check-suites"]) => {
                let suites: Vec<Value> = s
                    .check_suites
                    .iter()
                    .enumerate()
                    .filter(|(_, (c, _))| c == sha)
                    .map(|(i, (c, at))| {
                        json!({"id": 500 + i, "head_sha": c, "status": "queued", "created_at": at,
                               "app": {"slug": "github-actions"}})
                    })
                    .collect();
                json_response(
                    200,
                    json!({"total_count": suites.len(), "check_suites": suites}),
                )
            }
            ("GET", ["repos", _, _, "commits", sha, "check-runs"]) => {
                let name = query
                    .iter()
                    .find(|(k, _)| k == "check_name")
                    .map(|(_, v)| v.clone());
                let runs: Vec<Value> = s
                    .check_runs
                    .iter()
                    .filter(|r| r.head_sha == *sha && name.as_ref().is_none_or(|n| *n == r.name))
                    .map(|r| json!({"id": r.id, "name": r.name, "status": r.status, "started_at": r.started_at,
                                    "app": {"slug": s.bot_login.trim_end_matches("[bot]")}}))
                    .collect();
                json_response(200, json!({"total_count": runs.len(), "check_runs": runs}))
            }
            _ => json_response(
                404,
                json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
            ),
        };
        match fault_hit {
            // The request took effect, but its answer is lost.
            Some(f) => json_response(
                f.status,
                json!({"message": "injected failure after the write"}),
            ),
            None => response,
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves fixed files on 127.0.0.1 (a release server), counting requests.
pub struct StaticServer {
    pub uri: String,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Files {
    files: Vec<(String, Vec<u8>)>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Respond for Files {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        self.hits.lock().unwrap().push(path.clone());
        match self.files.iter().find(|(p, _)| *p == path) {
            Some((_, bytes)) => ResponseTemplate::new(200).set_body_bytes(bytes.clone()),
            None => ResponseTemplate::new(404).set_body_string("Not Found"),
        }
    }
}

impl StaticServer {
    pub fn start(files: Vec<(String, Vec<u8>)>) -> StaticServer {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let h = hits.clone();
        let (uri, stop, thread) = serve_in_thread(move |_| Files { files, hits: h });
        StaticServer {
            uri,
            hits,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A free TCP port on 127.0.0.1 (released again; a tiny race is accepted).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A bench-gate.yml with a `bench-gate serve` service on `port` answering
/// after `delay_ms`, and the given `scenarios:` body.
pub fn serve_config(
    dir: &std::path::Path,
    port: u16,
    delay_ms: u64,
    scenarios: &str,
) -> std::path::PathBuf {
    let p = dir.join("bench-gate.yml");
    std::fs::write(
        &p,
        format!(
            "services:\n  llm:\n    command: [\"{{bench_gate}}\", \"serve\", \"--bind\", \"127.0.0.1:{port}\", \"--delay-ms\", \"{delay_ms}\", \"--max-seconds\", \"300\"]\n    ready: {{http: \"http://127.0.0.1:{port}/health\"}}\n    start_timeout: 20\nscenarios:\n{scenarios}"
        ),
    )
    .unwrap();
    p
}

/// The Python that has the test tools (the official `openai` and `ollama`
/// clients): the virtual environment that `scripts/ci/install-test-deps.sh`
/// makes at target/test-venv when it is there, else `python3` on PATH.
pub fn python3() -> std::path::PathBuf {
    let venv =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// Answers a request before the stateful fake does, or leaves it (`None`):
/// for what GitHub (or a proxy in front of it) really says and the fake
/// does not, such as an error body of its own or a renamed file.
pub type Hook = Box<dyn Fn(&Request, &mut State) -> Option<ResponseTemplate> + Send + Sync>;

struct Hooked {
    hook: Hook,
    inner: Responder,
}

impl Respond for Hooked {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let answered = {
            let mut s = self.inner.state.lock().unwrap();
            (self.hook)(req, &mut s)
        };
        answered.unwrap_or_else(|| self.inner.respond(req))
    }
}

impl FakeGitHub {
    /// The fake with `hook` asked first.
    pub fn start_hooked(hook: Hook) -> FakeGitHub {
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        let (uri, stop, thread) = serve_in_thread(move |base| Hooked {
            hook,
            inner: Responder { state: s, base },
        });
        FakeGitHub {
            uri,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// Held by the tests whose verdict rests on measured time (a slower program
/// must fail, a spike must be confirmed away) and by the tests that load
/// the machine (a cargo build): in one test binary they would otherwise
/// run side by side on two cores and measure each other.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}
