//! `bench-gate serve`: a local, deterministic stand-in for an LLM provider.
//! It answers persona-generation prompts with personas from the offline
//! synthesiser, so the answers are valid and reflect the prompt's research
//! data and requested count, with a configurable delay standing in for the
//! provider's latency. OpenAI-compatible (`/v1/chat/completions`,
//! `/v1/models`) and Ollama-compatible (`/api/chat`, `/api/tags`).
//! Every request is counted (`GET /_bench_gate/usage`: provider calls,
//! estimated tokens, 404s) and logged with `--log`. With `--record DIR
//! --upstream URL` it forwards to a real provider and stores the answers;
//! with `--replay DIR` it answers from them.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::persona::{from_prompt, synth};

/// The largest request body accepted: 8 MiB.
pub const MAX_REQUEST_BYTES: usize = 8 << 20;
/// The largest upstream answer recorded (and stored answer replayed): 32 MiB.
pub const MAX_ANSWER_BYTES: u64 = 32 << 20;

/// Where answers come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// The offline synthesiser (the default).
    Synthesise,
    /// Forward to `upstream` and store each answer in `dir`.
    Record { dir: PathBuf, upstream: String },
    /// Answer from the answers stored in `dir`.
    Replay { dir: PathBuf },
}

impl Mode {
    /// From `--record DIR --upstream URL` or `--replay DIR` (clap makes them exclusive).
    pub fn from_args(
        record: Option<PathBuf>,
        upstream: Option<String>,
        replay: Option<PathBuf>,
    ) -> Mode {
        match (record, upstream, replay) {
            (Some(dir), Some(upstream), _) => Mode::Record { dir, upstream },
            (_, _, Some(dir)) => Mode::Replay { dir },
            _ => Mode::Synthesise,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: SocketAddr,
    pub allow_remote: bool,
    pub model: String,
    pub delay_ms: u64,
    pub jitter_ms: u64,
    /// Milliseconds more per completion token of the answer.
    pub per_token_ms: u64,
    pub seed: u64,
    pub max_seconds: Option<u64>,
    pub log: Option<PathBuf>,
    pub mode: Mode,
}

/// Cumulative counts since the server started, as `GET /_bench_gate/usage` reports them.
#[derive(Default)]
struct Usage {
    requests: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    not_found: AtomicU64,
}

struct AppState {
    opts: ServeOptions,
    rng: Mutex<ChaCha8Rng>,
    log: Option<Mutex<std::fs::File>>,
    started: Instant,
    usage: Usage,
    http: reqwest::Client,
}

/// What a handler adds to the request's log line.
#[derive(Clone)]
struct LogExtra(Value);

/// The prompt and completion tokens of an answered request.
#[derive(Clone, Copy)]
struct Tokens(u64, u64);

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    role: String,
    #[serde(default)]
    content: Value,
}

#[derive(Debug, Deserialize)]
struct ChatRequest {
    #[serde(default)]
    model: Option<String>,
    messages: Vec<Message>,
    #[serde(default)]
    stream: Option<bool>,
}

/// The text of a message: a string, or OpenAI's list of `{type, text}` parts.
fn content_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Value::Null => None,
        _ => None,
    }
}

/// Parses a chat request; the error says what is wrong with it.
fn parse_request(body: &[u8]) -> Result<(ChatRequest, String), String> {
    let req: ChatRequest =
        serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))?;
    if req.messages.is_empty() {
        return Err("'messages' must hold at least one message".into());
    }
    let mut prompt = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        if m.role.is_empty() {
            return Err(format!("messages[{i}].role is missing"));
        }
        match content_text(&m.content) {
            Some(t) => {
                if m.role != "assistant" {
                    prompt.push(t)
                }
            }
            None => return Err(format!("messages[{i}].content must be a string")),
        }
    }
    Ok((req, prompt.join("\n\n")))
}

/// The answer to a prompt: personas from its research data, in the
/// shape of its JSON example (or `{"personas": […]}`), inside
/// `<output></output>` when the prompt asks for that.
fn answer(prompt: &str, seed: u64) -> Result<(String, usize), String> {
    let reading = from_prompt::read(prompt);
    if reading.data.statements.is_empty() {
        return Err("the prompt holds no research data to build personas from".into());
    }
    let opts = synth::SynthOptions {
        count: reading.count,
        seed,
        complexity: synth::Complexity::Moderate,
        detail_level: synth::DetailLevel::Standard,
        include_reasoning: prompt.contains("\"reasoning\""),
    };
    let personas = synth::synthesise(&reading.data, &opts);
    Ok((from_prompt::answer_text(&reading, &personas), reading.count))
}

/// The token estimate used throughout: one token per four characters,
/// rounded up (OpenAI's rule of thumb for English text; no tokenizer).
pub fn tokens(s: &str) -> u64 {
    (s.chars().count() as u64).div_ceil(4)
}

fn with<R: IntoResponse>(r: R, extra: Value, t: Option<Tokens>) -> Response {
    let mut r = r.into_response();
    r.extensions_mut().insert(LogExtra(extra));
    if let Some(t) = t {
        r.extensions_mut().insert(t);
    }
    r
}

impl AppState {
    /// Waits `--delay-ms`, plus up to `--jitter-ms`, plus `--per-token-ms`
    /// for each completion token.
    async fn delay(&self, completion_tokens: u64) {
        let extra = if self.opts.jitter_ms > 0 {
            self.rng
                .lock()
                .map(|mut r| r.random_range(0..=self.opts.jitter_ms))
                .unwrap_or(0)
        } else {
            0
        };
        let total =
            self.opts.delay_ms + extra + self.opts.per_token_ms.saturating_mul(completion_tokens);
        if total > 0 {
            tokio::time::sleep(Duration::from_millis(total)).await;
        }
    }

    fn model<'a>(&'a self, asked: &'a Option<String>) -> &'a str {
        asked
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.opts.model)
    }
}

fn openai_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}})),
    )
        .into_response()
}

fn ollama_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

async fn chat_completions(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let t = Instant::now();
    let (req, prompt) = match parse_request(&body) {
        Ok(x) => x,
        Err(e) => {
            return with(
                openai_error(StatusCode::BAD_REQUEST, &e),
                json!({"error": e}),
                None,
            )
        }
    };
    if req.stream == Some(true) {
        let e = "streaming is not supported by bench-gate serve; send \"stream\": false";
        return with(
            openai_error(StatusCode::BAD_REQUEST, e),
            json!({"error": e}),
            None,
        );
    }
    let (content, count) = match answer(&prompt, st.opts.seed) {
        Ok(x) => x,
        Err(e) => {
            return with(
                openai_error(StatusCode::BAD_REQUEST, &e),
                json!({"error": e}),
                None,
            )
        }
    };
    let (pt, ct) = (tokens(&prompt), tokens(&content));
    st.delay(ct).await;
    let model = st.model(&req.model).to_string();
    let body = Json(json!({
        "id": format!("chatcmpl-bench-gate-{}", st.started.elapsed().as_nanos()),
        "object": "chat.completion",
        "created": chrono::Utc::now().timestamp(),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
    }));
    with(
        body,
        json!({"model": model, "personas": count, "prompt_bytes": prompt.len(),
               "prompt_tokens": pt, "completion_tokens": ct, "answer_ms": t.elapsed().as_secs_f64() * 1000.0}),
        Some(Tokens(pt, ct)),
    )
}

async fn ollama_chat(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let t = Instant::now();
    let (req, prompt) = match parse_request(&body) {
        Ok(x) => x,
        Err(e) => {
            return with(
                ollama_error(StatusCode::BAD_REQUEST, &e),
                json!({"error": e}),
                None,
            )
        }
    };
    let (content, count) = match answer(&prompt, st.opts.seed) {
        Ok(x) => x,
        Err(e) => {
            return with(
                ollama_error(StatusCode::BAD_REQUEST, &e),
                json!({"error": e}),
                None,
            )
        }
    };
    let (pt, ct) = (tokens(&prompt), tokens(&content));
    st.delay(ct).await;
    let model = st.model(&req.model).to_string();
    let elapsed = t.elapsed();
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let done = json!({
        "model": model,
        "created_at": created_at,
        "message": {"role": "assistant", "content": if req.stream == Some(false) { content.clone() } else { String::new() }},
        "done": true,
        "done_reason": "stop",
        "total_duration": elapsed.as_nanos() as u64,
        "prompt_eval_count": pt,
        "eval_count": ct,
    });
    let extra = json!({"model": model, "personas": count, "prompt_bytes": prompt.len(),
                       "prompt_tokens": pt, "completion_tokens": ct, "answer_ms": elapsed.as_secs_f64() * 1000.0});
    if req.stream == Some(false) {
        return with(Json(done), extra, Some(Tokens(pt, ct)));
    }
    // Ollama streams by default: newline-delimited JSON, the content first.
    let first = json!({"model": model, "created_at": created_at,
                       "message": {"role": "assistant", "content": content}, "done": false});
    with(
        (
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            format!("{first}\n{done}\n"),
        ),
        extra,
        Some(Tokens(pt, ct)),
    )
}

async fn models(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(
        json!({"object": "list", "data": [{"id": st.opts.model, "object": "model", "created": 0, "owned_by": "bench-gate"}]}),
    )
}

async fn tags(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"models": [{
        "name": st.opts.model, "model": st.opts.model,
        "modified_at": "2026-01-01T00:00:00Z", "size": 0,
        "digest": "0000000000000000000000000000000000000000000000000000000000000000",
        "details": {"format": "bench-gate", "family": "bench-gate", "parameter_size": "0", "quantization_level": "none"},
    }]}))
}

async fn health(State(st): State<Arc<AppState>>) -> Json<Value> {
    Json(
        json!({"status": "ok", "model": st.opts.model, "uptime_s": st.started.elapsed().as_secs_f64()}),
    )
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": {"message": "no such endpoint on bench-gate serve", "type": "invalid_request_error"}}))).into_response()
}

async fn usage(State(st): State<Arc<AppState>>) -> Json<Value> {
    let u = &st.usage;
    Json(json!({
        "requests": u.requests.load(Ordering::SeqCst),
        "prompt_tokens": u.prompt_tokens.load(Ordering::SeqCst),
        "completion_tokens": u.completion_tokens.load(Ordering::SeqCst),
        "not_found": u.not_found.load(Ordering::SeqCst),
    }))
}

/// Counts and logs every request: one JSON line with the time, method,
/// path, status and duration, plus what the handler added.
async fn account(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let t = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    let u = &st.usage;
    if status == StatusCode::NOT_FOUND {
        u.not_found.fetch_add(1, Ordering::SeqCst);
    }
    let tokens = resp.extensions().get::<Tokens>().copied();
    if method == Method::POST && status.is_success() {
        u.requests.fetch_add(1, Ordering::SeqCst);
        if let Some(Tokens(p, c)) = tokens {
            u.prompt_tokens.fetch_add(p, Ordering::SeqCst);
            u.completion_tokens.fetch_add(c, Ordering::SeqCst);
        }
    }
    if let Some(f) = &st.log {
        let mut entry = json!({
            "time": crate::model::now_rfc3339(),
            "method": method.as_str(),
            "path": path,
            "status": status.as_u16(),
            "ms": t.elapsed().as_secs_f64() * 1000.0,
        });
        if let (Some(LogExtra(Value::Object(extra))), Value::Object(e)) =
            (resp.extensions().get::<LogExtra>(), &mut entry)
        {
            for (k, v) in extra {
                e.insert(k.clone(), v.clone());
            }
        }
        if let Ok(mut f) = f.lock() {
            let _ = writeln!(f, "{entry}");
            let _ = f.flush();
        }
    }
    resp
}

pub fn router(opts: ServeOptions) -> Result<Router> {
    let log = match &opts.log {
        Some(p) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("{}: cannot open the request log", p.display()))?,
        )),
        None => None,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .context("cannot set up the HTTP client")?;
    let mode = opts.mode.clone();
    let state = Arc::new(AppState {
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        opts,
        log,
        started: Instant::now(),
        usage: Usage::default(),
        http,
    });
    let base = Router::new()
        .route("/health", get(health))
        .route("/_bench_gate/usage", get(usage));
    let app = match mode {
        Mode::Synthesise => base
            .route("/v1/models", get(models))
            .route("/v1/chat/completions", post(chat_completions))
            .route("/api/tags", get(tags))
            .route("/api/chat", post(ollama_chat))
            .route(
                "/api/version",
                get(|| async { Json(json!({"version": "0.0.0-bench-gate"})) }),
            )
            .fallback(not_found),
        Mode::Record { .. } | Mode::Replay { .. } => base.fallback(record_or_replay),
    };
    Ok(app
        .layer(middleware::from_fn_with_state(state.clone(), account))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state))
}

// ---- record and replay ----

/// The request's key: SHA-256 of the canonical JSON (keys sorted, no
/// spaces) of `{"method", "path", "body"}`, where `path` includes the query
/// and `body` is the parsed JSON body (its text when it is not JSON, null
/// when empty). Headers are not part of it.
pub fn request_hash(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let body_value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice::<Value>(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    };
    // serde_json's maps are sorted by key, so this is canonical.
    let canonical =
        json!({"method": method, "path": path_and_query, "body": body_value}).to_string();
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value that stands for a credential taken out of a query string.
const REDACTED: &str = "REDACTED";

/// `path_and_query` with the value of every credential-looking query
/// parameter (`key`, `api_key`/`api-key`/`apikey`, `token`, `access_token`,
/// `auth`, `password`, `secret`, `signature`, `sig`, and any name ending in
/// `_key`, `_token`, `_secret`, `_password` or `_signature`; case-
/// insensitive, percent-encoded names decoded) replaced by `REDACTED`. A
/// path without such a parameter is returned unchanged (its hash too).
pub fn redact_query(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            if is_credential_name(name) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// Whether a query parameter's name (as sent) looks like a credential's.
fn is_credential_name(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut name = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    name.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => name.push(b'%'),
            },
            b'+' => name.push(b' '),
            b => name.push(b),
        }
        i += 1;
    }
    let name = String::from_utf8_lossy(&name)
        .trim()
        .to_ascii_lowercase()
        .replace('-', "_");
    const NAMES: [&str; 11] = [
        "key",
        "api_key",
        "apikey",
        "token",
        "access_token",
        "auth",
        "password",
        "secret",
        "signature",
        "sig",
        "x_api_key",
    ];
    NAMES.contains(&name.as_str())
        || ["_key", "_token", "_secret", "_password", "_signature"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// Prompt and completion tokens of a provider's answer: its own counts
/// (OpenAI `usage`, Ollama `prompt_eval_count`/`eval_count`, the last
/// line of an NDJSON stream) when present, else the estimate.
fn answer_tokens(request: &[u8], answer: &[u8]) -> Tokens {
    let text = String::from_utf8_lossy(answer);
    let last = text
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .or_else(|| serde_json::from_str::<Value>(&text).ok())
        .unwrap_or(Value::Null);
    let counted = |a: &Value, b: &Value| Some(Tokens(a.as_u64()?, b.as_u64()?));
    if let Some(t) = counted(
        &last["usage"]["prompt_tokens"],
        &last["usage"]["completion_tokens"],
    )
    .or_else(|| counted(&last["prompt_eval_count"], &last["eval_count"]))
    {
        return t;
    }
    let prompt = parse_request(request).map(|(_, p)| p).unwrap_or_default();
    let content: String = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            v["choices"][0]["message"]["content"]
                .as_str()
                .or_else(|| v["message"]["content"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    Tokens(tokens(&prompt), tokens(&content))
}

/// One stored answer.
#[derive(serde::Serialize, Deserialize)]
struct Stored {
    /// The request as hashed (method, path, body): never its headers.
    request: Value,
    status: u16,
    content_type: String,
    body: String,
}

async fn record_or_replay(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    // The upstream gets the query as sent; the hash, the store and the log
    // see it with credential values taken out.
    let (upstream_path, path) = (path.clone(), redact_query(&path));
    let hash = request_hash(method.as_str(), &path, &body);
    match &st.opts.mode {
        Mode::Replay { dir } => {
            let file = dir.join(format!("{hash}.json"));
            let stored = crate::fsutil::read_capped(&file, MAX_ANSWER_BYTES)
                .ok()
                .and_then(|b| serde_json::from_slice::<Stored>(&b).ok());
            let Some(stored) = stored else {
                let msg = format!(
                    "no recorded answer for this request (hash {hash}) in {}",
                    dir.display()
                );
                return with(
                    (
                        StatusCode::NOT_FOUND,
                        Json(
                            json!({"error": {"message": msg, "type": "not_recorded", "hash": hash}}),
                        ),
                    ),
                    json!({"hash": hash, "error": "not recorded"}),
                    None,
                );
            };
            let t = answer_tokens(&body, stored.body.as_bytes());
            if method == Method::POST {
                st.delay(t.1).await;
            }
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            with(
                (
                    status,
                    [(header::CONTENT_TYPE, stored.content_type)],
                    stored.body,
                ),
                json!({"hash": hash, "replayed": true, "prompt_tokens": t.0, "completion_tokens": t.1}),
                Some(t),
            )
        }
        Mode::Record { dir, upstream } => {
            let url = format!("{}{upstream_path}", upstream.trim_end_matches('/'));
            let mut req = st.http.request(method.clone(), &url).body(body.clone());
            // The client's credentials go to the provider, never to the store or log.
            for name in [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT] {
                if let Some(v) = headers.get(&name) {
                    req = req.header(name, v);
                }
            }
            if let Some(v) = headers.get("x-api-key") {
                req = req.header("x-api-key", v);
            }
            let upstream_error = |e: String| {
                with(
                    (
                        StatusCode::BAD_GATEWAY,
                        Json(json!({"error": {"message": e, "type": "upstream_error"}})),
                    ),
                    json!({"hash": hash, "error": e}),
                    None,
                )
            };
            let mut resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    return upstream_error(format!(
                        "the upstream provider did not answer: {}",
                        e.without_url()
                    ))
                }
            };
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_string();
            let mut answer = Vec::new();
            loop {
                match resp.chunk().await {
                    Ok(Some(c)) => {
                        answer.extend_from_slice(&c);
                        if answer.len() as u64 > MAX_ANSWER_BYTES {
                            return upstream_error(format!(
                                "the upstream answer is larger than the limit of {} MiB",
                                MAX_ANSWER_BYTES >> 20
                            ));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        return upstream_error(format!(
                            "reading the upstream answer failed: {}",
                            e.without_url()
                        ))
                    }
                }
            }
            let text = String::from_utf8_lossy(&answer).into_owned();
            let mut extra = json!({"hash": hash, "upstream_status": status});
            if (200..300).contains(&status) {
                let stored = Stored {
                    request: json!({"method": method.as_str(), "path": path,
                                    "body": serde_json::from_slice::<Value>(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))}),
                    status,
                    content_type: content_type.clone(),
                    body: text.clone(),
                };
                let bytes = serde_json::to_vec_pretty(&stored).unwrap_or_default();
                if let Err(e) =
                    crate::fsutil::write_atomic(&dir.join(format!("{hash}.json")), &bytes)
                {
                    return upstream_error(format!("cannot store the answer: {e:#}"));
                }
                extra["recorded"] = json!(true);
            }
            let t = answer_tokens(&body, &answer);
            extra["prompt_tokens"] = json!(t.0);
            extra["completion_tokens"] = json!(t.1);
            with(
                (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                    [(header::CONTENT_TYPE, content_type)],
                    Body::from(answer),
                ),
                extra,
                Some(t),
            )
        }
        Mode::Synthesise => not_found().await,
    }
}

/// The URL without its user name and password, for printing.
fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}

/// Runs the server until `--max-seconds` pass or Ctrl-C/SIGTERM arrives.
pub fn run(opts: ServeOptions) -> Result<u8> {
    if !opts.bind.ip().is_loopback() && !opts.allow_remote {
        anyhow::bail!(
            "refusing to listen on {} (not a loopback address); pass --allow-remote to serve other machines",
            opts.bind
        );
    }
    match &opts.mode {
        Mode::Record { upstream, .. } => {
            let u = reqwest::Url::parse(upstream).map_err(|e| {
                anyhow::anyhow!(
                    "--upstream {}: not a URL: {e}",
                    without_credentials(upstream)
                )
            })?;
            if !matches!(u.scheme(), "http" | "https") {
                anyhow::bail!(
                    "--upstream: expected an http:// or https:// URL, got {}:",
                    u.scheme()
                );
            }
        }
        Mode::Replay { dir } if !dir.is_dir() => {
            anyhow::bail!(
                "--replay {}: no such folder of recorded answers",
                dir.display()
            );
        }
        _ => {}
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.bind)
            .await
            .with_context(|| format!("cannot listen on {}", opts.bind))?;
        let addr = listener.local_addr()?;
        let max = opts.max_seconds;
        let source = match &opts.mode {
            Mode::Synthesise => format!("model {}", opts.model),
            Mode::Record { dir, upstream } => format!(
                "recording {} into {}",
                without_credentials(upstream),
                dir.display()
            ),
            Mode::Replay { dir } => format!("replaying {}", dir.display()),
        };
        println!(
            "bench-gate serve: listening on http://{addr} ({source}, delay {} ms, jitter {} ms, {} ms per token, pid {})",
            opts.delay_ms,
            opts.jitter_ms,
            opts.per_token_ms,
            std::process::id()
        );
        let _ = std::io::stdout().flush();
        let app = router(opts)?;
        let stop = async move {
            let max_wait = async {
                match max {
                    Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(unix)]
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let term = std::future::pending::<()>();
            tokio::select! {
                _ = max_wait => eprintln!("bench-gate serve: --max-seconds reached, stopping"),
                _ = tokio::signal::ctrl_c() => eprintln!("bench-gate serve: interrupted, stopping"),
                _ = term => eprintln!("bench-gate serve: terminated, stopping"),
            }
        };
        axum::serve(listener, app).with_graceful_shutdown(stop).await?;
        anyhow::Ok(0u8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_requests_say_why() {
        assert!(parse_request(b"{")
            .unwrap_err()
            .starts_with("invalid request body"));
        assert!(parse_request(b"{\"model\":\"m\"}")
            .unwrap_err()
            .contains("missing field `messages`"));
        assert_eq!(
            parse_request(br#"{"messages": []}"#).unwrap_err(),
            "'messages' must hold at least one message"
        );
        assert_eq!(
            parse_request(br#"{"messages": [{"role":"user","content":5}]}"#).unwrap_err(),
            "messages[0].content must be a string"
        );
        let (_, p) = parse_request(br#"{"messages": [{"role":"system","content":"A"},{"role":"user","content":[{"type":"text","text":"B"}]}]}"#).unwrap();
        assert_eq!(p, "A\n\nB");
    }

    #[test]
    fn answers_hold_the_requested_personas() {
        let (content, n) = answer("Generate 3 personas.\nP1: I want faster builds every day\nP2: Slow tests are frustrating\nP3: I usually run tests at night", 42).unwrap();
        assert_eq!(n, 3);
        let personas = crate::persona::parse::parse(&content, 3).unwrap();
        assert_eq!(personas.len(), 3);
        assert!(answer("hi", 1).is_err());
    }

    #[test]
    fn credentials_in_the_query_are_redacted() {
        assert_eq!(redact_query("/v1/chat/completions"), "/v1/chat/completions");
        assert_eq!(redact_query("/x?model=m&n=2"), "/x?model=m&n=2");
        assert_eq!(
            redact_query("/v1/m:generate?key=AIza123&alt=sse"),
            "/v1/m:generate?key=REDACTED&alt=sse"
        );
        for name in [
            "KEY",
            "api-key",
            "Api_Key",
            "apikey",
            "token",
            "access_token",
            "auth",
            "password",
            "secret",
            "signature",
            "sig",
            "client_secret",
            "k%65y",
            "x-api-key",
        ] {
            assert_eq!(
                redact_query(&format!("/p?a=1&{name}=s3cret")),
                format!("/p?a=1&{name}=REDACTED"),
                "{name}"
            );
        }
        // A name alone, and names that only look alike, are left.
        assert_eq!(redact_query("/p?token"), "/p?token=REDACTED");
        assert_eq!(
            redact_query("/p?keys=1&monkey=2&%zz=3"),
            "/p?keys=1&monkey=2&%zz=3"
        );
        // The hash is over the redacted form: another key, the same answer.
        assert_eq!(
            request_hash("POST", &redact_query("/p?key=a"), b"{}"),
            request_hash("POST", &redact_query("/p?key=b"), b"{}")
        );
    }

    #[test]
    fn request_hashes_ignore_key_order_and_whitespace_but_not_content() {
        let a = request_hash(
            "POST",
            "/api/chat",
            br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#,
        );
        let b = request_hash(
            "POST",
            "/api/chat",
            br#"{ "messages": [{"content": "x", "role": "user"}], "model": "m" }"#,
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            request_hash(
                "POST",
                "/v1/chat/completions",
                br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#
            )
        );
        assert_ne!(
            a,
            request_hash(
                "POST",
                "/api/chat",
                br#"{"model":"m","messages":[{"role":"user","content":"y"}]}"#
            )
        );
        assert_ne!(
            request_hash("GET", "/api/tags", b""),
            request_hash("POST", "/api/tags", b"")
        );
    }

    #[test]
    fn tokens_are_characters_over_four_and_provider_counts_win() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("abcd"), 1);
        assert_eq!(tokens("abcde"), 2);
        assert_eq!(tokens("éééé"), 1, "characters, not bytes");
        let req = br#"{"messages":[{"role":"user","content":"12345678"}]}"#;
        let Tokens(p, c) = answer_tokens(
            req,
            br#"{"usage":{"prompt_tokens":7,"completion_tokens":9}}"#,
        );
        assert_eq!((p, c), (7, 9));
        let Tokens(p, c) = answer_tokens(req, b"{\"message\":{\"content\":\"ab\"},\"done\":false}\n{\"done\":true,\"prompt_eval_count\":3,\"eval_count\":4}\n");
        assert_eq!((p, c), (3, 4));
        let Tokens(p, c) =
            answer_tokens(req, br#"{"choices":[{"message":{"content":"abcdefgh1"}}]}"#);
        assert_eq!((p, c), (2, 3));
    }

    #[test]
    fn printed_upstream_urls_lose_their_credentials() {
        assert_eq!(
            without_credentials("https://user:sk-secret@api.example.com/v1"),
            "https://api.example.com/v1"
        );
    }
}
