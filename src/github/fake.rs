//! An in-memory GitHub for the flow's unit tests: the calls of
//! [`GitHubApi`] on plain state, each one recorded, and a probe that notes
//! whether a file existed when each call was made (the sinks' order).
//! `tests/support` has the HTTP fake for the end-to-end tests.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::api::{
    self, ApiError, CheckOutput, Comment, CreatedCheck, GitHubApi, LabelEvent, PullInfo, User,
};
use super::context::Context;
use super::gate::{GateOptions, LabelEvents, OverrideScope};
use crate::compare::gate::Role;
use crate::model::Results;

pub const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
pub const BOT: &str = "github-actions[bot]";
const DESIGN: &str = include_str!("../../tests/fixtures/persona-v1.12.0.yaml");

#[derive(Debug, Clone, PartialEq)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: String,
    pub summary: String,
    pub started_at: String,
}

#[derive(Debug)]
pub struct State {
    pub head_sha: String,
    pub labels: Vec<String>,
    /// The pull request's files, or the HTTP status listing them answers.
    pub files: Result<Vec<String>, u16>,
    /// GitHub's count of them (`changed_files`); by default the list's length.
    pub changed_files: Option<u64>,
    pub comments: Vec<Comment>,
    pub permissions: BTreeMap<String, String>,
    pub timeline: Vec<LabelEvent>,
    /// When each commit's first check suite was created (its push); by
    /// default [`HEAD`]'s, before any seeded comment.
    pub pushed: BTreeMap<String, String>,
    /// `GET /user`; `None` answers 403 "Resource not accessible by
    /// integration", as for an installation token.
    pub user: Option<String>,
    /// When set, `GET /user` answers 403 with this message instead (a rate
    /// limit, say).
    pub user_error: Option<String>,
    /// Who the token's comments are by; for an App (`slug[bot]`), its
    /// check runs name the App `slug`.
    pub bot_login: String,
    pub check_runs: Vec<CheckRun>,
    /// How many of the next check-run completions answer 502.
    pub fail_completions: usize,
    /// Every call, by the trait method's name.
    pub calls: Vec<String>,
    /// When set, each call notes whether this file existed then.
    pub probe: Option<PathBuf>,
    pub probed: Vec<(String, bool)>,
    next_id: u64,
}

impl Default for State {
    fn default() -> State {
        State {
            head_sha: HEAD.into(),
            labels: Vec::new(),
            files: Ok(vec!["src/lib.rs".into()]),
            changed_files: None,
            comments: Vec::new(),
            permissions: BTreeMap::new(),
            timeline: Vec::new(),
            pushed: BTreeMap::from([(HEAD.to_string(), "2026-11-27T09:00:00Z".to_string())]),
            user: None,
            user_error: None,
            bot_login: BOT.into(),
            fail_completions: 0,
            check_runs: Vec::new(),
            calls: Vec::new(),
            probe: None,
            probed: Vec::new(),
            next_id: 100,
        }
    }
}

#[derive(Default)]
pub struct FakeGitHub(pub RefCell<State>);

/// An error answer of GitHub's.
fn answer(status: u16, path: &str, message: &str) -> ApiError {
    ApiError::Status {
        method: "GET".into(),
        path: path.into(),
        status,
        message: message.into(),
    }
}

impl FakeGitHub {
    /// Records the call (and the probe); returns the state to work on.
    fn call(&self, name: &str) -> std::cell::RefMut<'_, State> {
        let mut s = self.0.borrow_mut();
        s.calls.push(name.to_string());
        if let Some(p) = s.probe.clone() {
            s.probed.push((name.to_string(), p.exists()));
        }
        s
    }
    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.0.borrow_mut())
    }
    pub fn calls(&self) -> Vec<String> {
        self.0.borrow().calls.clone()
    }
    /// Adds a comment as if someone (or an earlier run) had posted it.
    pub fn seed_comment(&self, body: &str, user: &str) -> u64 {
        let mut s = self.0.borrow_mut();
        s.next_id += 1;
        let id = s.next_id;
        s.comments.push(Comment {
            id,
            body: Some(body.to_string()),
            html_url: format!("https://github.com/o/r/pull/2#issuecomment-{id}"),
            created_at: format!("2026-11-27T10:00:{:02}Z", id % 60),
            updated_at: String::new(),
            user: Some(User {
                login: user.to_string(),
            }),
        });
        id
    }
}

impl GitHubApi for FakeGitHub {
    fn pull(&self, _number: u64) -> Result<PullInfo, ApiError> {
        let s = self.call("pull");
        Ok(PullInfo {
            head_sha: s.head_sha.clone(),
            head_ref: "changes".into(),
            head_repo: "Codertocat/Hello-World".into(),
            labels: s.labels.clone(),
            changed_files: s
                .changed_files
                .unwrap_or_else(|| s.files.as_ref().map_or(0, |f| f.len() as u64)),
        })
    }
    /// As GitHub's client does: the list, then the pull request's count.
    fn pull_files(&self, number: u64) -> Result<Vec<String>, ApiError> {
        let files = self
            .call("pull_files")
            .files
            .clone()
            .map_err(|code| answer(code, "/files", "fake"))?;
        api::whole_file_list("/files", files.len(), self.pull(number)?.changed_files)?;
        Ok(files)
    }
    fn comments(&self, _number: u64) -> Result<Vec<Comment>, ApiError> {
        Ok(self.call("comments").comments.clone())
    }
    fn create_comment(&self, _number: u64, body: &str) -> Result<Comment, ApiError> {
        let me = self.call("create_comment").bot_login.clone();
        let id = self.seed_comment(body, &me);
        Ok(self
            .0
            .borrow()
            .comments
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .unwrap())
    }
    fn update_comment(&self, id: u64, body: &str) -> Result<Comment, ApiError> {
        let mut s = self.call("update_comment");
        let c = s
            .comments
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| answer(404, "/comments", "fake"))?;
        c.body = Some(body.to_string());
        Ok(c.clone())
    }
    fn delete_comment(&self, id: u64) -> Result<(), ApiError> {
        self.call("delete_comment").comments.retain(|c| c.id != id);
        Ok(())
    }
    fn permission(&self, user: &str) -> Result<String, ApiError> {
        let s = self.call("permission");
        Ok(s.permissions
            .get(user)
            .cloned()
            .unwrap_or_else(|| "read".into()))
    }
    fn label_events(&self, _number: u64) -> Result<Vec<LabelEvent>, ApiError> {
        Ok(self.call("label_events").timeline.clone())
    }
    fn commit_first_seen(&self, sha: &str) -> Result<Option<String>, ApiError> {
        Ok(self.call("commit_first_seen").pushed.get(sha).cloned())
    }
    fn user(&self) -> Result<String, ApiError> {
        let s = self.call("user");
        match (&s.user_error, &s.user) {
            (Some(message), _) => Err(answer(403, "/user", message)),
            (None, Some(login)) => Ok(login.clone()),
            // An installation token cannot read it.
            (None, None) => Err(answer(
                403,
                "/user",
                "Resource not accessible by integration",
            )),
        }
    }
    fn remove_label(&self, _number: u64, label: &str) -> Result<(), ApiError> {
        self.call("remove_label").labels.retain(|l| l != label);
        Ok(())
    }
    fn create_check_run(
        &self,
        name: &str,
        head_sha: &str,
        started_at: &str,
    ) -> Result<CreatedCheck, ApiError> {
        let mut s = self.call("create_check_run");
        s.next_id += 1;
        let id = s.next_id;
        s.check_runs.push(CheckRun {
            id,
            name: name.into(),
            head_sha: head_sha.into(),
            status: "in_progress".into(),
            conclusion: None,
            title: String::new(),
            summary: String::new(),
            started_at: started_at.into(),
        });
        let app = s.bot_login.trim_end_matches("[bot]").to_string();
        Ok(CreatedCheck { id, app: Some(app) })
    }
    fn complete_check_run(
        &self,
        id: u64,
        conclusion: &str,
        _at: &str,
        out: &CheckOutput,
    ) -> Result<(), ApiError> {
        let mut s = self.call("complete_check_run");
        if s.fail_completions > 0 {
            s.fail_completions -= 1;
            return Err(answer(502, "/check-runs", "fake"));
        }
        let run = s
            .check_runs
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or_else(|| answer(404, "/check-runs", "fake"))?;
        run.status = "completed".into();
        run.conclusion = Some(conclusion.into());
        run.title = out.title.into();
        run.summary = out.summary.into();
        Ok(())
    }
}

/// A checkout: the design's baseline in `baselines/`, and where the gate
/// writes its files.
pub struct Checkout {
    pub dir: tempfile::TempDir,
}

impl Checkout {
    pub fn new() -> Checkout {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("baselines")).unwrap();
        std::fs::write(dir.path().join("baselines/v1.12.0.yaml"), DESIGN).unwrap();
        Checkout { dir }
    }
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    /// The options `bench-gate gate` has by default, in this checkout.
    pub fn options(&self) -> GateOptions {
        GateOptions {
            check_name: "bench-gate".into(),
            override_label: "performance-override".into(),
            override_permission: Role::Maintain,
            comment: true,
            fail_on_regression: true,
            fail_on_warning: false,
            results_out: self.path("results.json"),
            report_out: self.path("report.md"),
            baseline: "latest".into(),
            baselines_dir: self.path("baselines"),
            flags: Default::default(),
            workload: "standard".into(),
            results_given: true,
            history_url: None,
            gate_login: None,
            override_scope: OverrideScope::Commit,
            label_events: LabelEvents::Reuse,
            protected: vec!["baselines".into(), ".github/workflows".into()],
            relevant_paths: None,
            history_branch: None,
            history_keep: 100,
        }
    }
    /// The context of one of GitHub's example payloads (or of an edited
    /// one, by its absolute path), with the step summary and outputs in
    /// this checkout.
    pub fn context(&self, event: &str, payload: &str) -> Context {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/events")
            .join(payload);
        let (path, summary, output) = (
            path.display().to_string(),
            self.path("summary.md").display().to_string(),
            self.path("output.txt").display().to_string(),
        );
        let env = [
            ("GITHUB_EVENT_NAME", event),
            ("GITHUB_EVENT_PATH", path.as_str()),
            ("GITHUB_REPOSITORY", "Codertocat/Hello-World"),
            ("GITHUB_TOKEN", "ghs_unit_test"),
            ("GITHUB_STEP_SUMMARY", summary.as_str()),
            ("GITHUB_OUTPUT", output.as_str()),
            ("GITHUB_RUN_ID", "42"),
        ];
        Context::from_env(&env, None).unwrap()
    }
    /// One of GitHub's example payloads with `edit` applied, written into
    /// the checkout; its absolute path, for [`Checkout::context`].
    pub fn payload(&self, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/events")
            .join(name);
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
        edit(&mut v);
        let path = self.path(&format!("edited-{name}"));
        std::fs::write(&path, v.to_string()).unwrap();
        path.display().to_string()
    }
    /// The `GITHUB_OUTPUT` file, as name → value.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.path("output.txt")).unwrap_or_default();
        let mut out = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let (name, delim) = line.split_once("<<").expect("heredoc output");
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
            out.insert(name.to_string(), value.join("\n"));
        }
        out
    }
}

/// Results with `single_p50` for generation.single.latency_p50_ms (the
/// baseline has 1500; 1890 is +26 %, a failure) and the rest as the baseline.
pub fn results(single_p50: f64) -> Results {
    let b = crate::baseline::Baseline::parse("b", DESIGN).unwrap();
    let metrics: serde_json::Map<String, serde_json::Value> = b
        .metrics
        .iter()
        .map(|(k, m)| {
            let v = if k == "generation.single.latency_p50_ms" {
                single_p50
            } else {
                m.value
            };
            let unit = if k.ends_with("_mb") { "MB" } else { "ms" };
            (
                k.clone(),
                serde_json::json!({"value": v, "unit": unit, "samples": vec![v; 30]}),
            )
        })
        .collect();
    let r = serde_json::json!({
        "schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
        "created_at": "2026-11-27T10:00:00Z", "workload": "standard",
        "environment": {"platform": "linux-x86_64"}, "scenarios": [], "metrics": metrics,
    });
    Results::parse("results.json", &r.to_string()).unwrap()
}
