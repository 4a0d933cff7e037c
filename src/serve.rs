//! `bench-gate serve`: a local, deterministic stand-in for an LLM provider.
//! It answers persona-generation prompts with personas from the offline
//! synthesiser, so the answers are valid and reflect the prompt's research
//! data and requested count, with a configurable delay standing in for the
//! provider's latency. OpenAI-compatible (`/v1/chat/completions`,
//! `/v1/models`) and Ollama-compatible (`/api/chat`, `/api/tags`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::persona::{from_prompt, synth};

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: SocketAddr,
    pub allow_remote: bool,
    pub model: String,
    pub delay_ms: u64,
    pub jitter_ms: u64,
    pub seed: u64,
    pub max_seconds: Option<u64>,
    pub log: Option<PathBuf>,
}

struct AppState {
    opts: ServeOptions,
    rng: Mutex<ChaCha8Rng>,
    log: Option<Mutex<std::fs::File>>,
    started: Instant,
}

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

fn tokens(s: &str) -> usize {
    s.len().div_ceil(4)
}

impl AppState {
    async fn delay(&self) {
        let extra = if self.opts.jitter_ms > 0 {
            self.rng
                .lock()
                .map(|mut r| r.random_range(0..=self.opts.jitter_ms))
                .unwrap_or(0)
        } else {
            0
        };
        let total = self.opts.delay_ms + extra;
        if total > 0 {
            tokio::time::sleep(Duration::from_millis(total)).await;
        }
    }

    fn log(&self, mut entry: Value) {
        if let Some(f) = &self.log {
            entry["time"] = json!(crate::model::now_rfc3339());
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{entry}");
                let _ = f.flush();
            }
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
            st.log(json!({"path": "/v1/chat/completions", "status": 400, "error": e}));
            return openai_error(StatusCode::BAD_REQUEST, &e);
        }
    };
    if req.stream == Some(true) {
        let e = "streaming is not supported by bench-gate serve; send \"stream\": false";
        st.log(json!({"path": "/v1/chat/completions", "status": 400, "error": e}));
        return openai_error(StatusCode::BAD_REQUEST, e);
    }
    let (content, count) = match answer(&prompt, st.opts.seed) {
        Ok(x) => x,
        Err(e) => {
            st.log(json!({"path": "/v1/chat/completions", "status": 400, "error": e}));
            return openai_error(StatusCode::BAD_REQUEST, &e);
        }
    };
    st.delay().await;
    let model = st.model(&req.model).to_string();
    let (pt, ct) = (tokens(&prompt), tokens(&content));
    st.log(
        json!({"path": "/v1/chat/completions", "status": 200, "model": model, "personas": count,
                  "prompt_bytes": prompt.len(), "ms": t.elapsed().as_secs_f64() * 1000.0}),
    );
    Json(json!({
        "id": format!("chatcmpl-bench-gate-{}", st.started.elapsed().as_nanos()),
        "object": "chat.completion",
        "created": chrono::Utc::now().timestamp(),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
    }))
    .into_response()
}

async fn ollama_chat(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let t = Instant::now();
    let (req, prompt) = match parse_request(&body) {
        Ok(x) => x,
        Err(e) => {
            st.log(json!({"path": "/api/chat", "status": 400, "error": e}));
            return ollama_error(StatusCode::BAD_REQUEST, &e);
        }
    };
    let (content, count) = match answer(&prompt, st.opts.seed) {
        Ok(x) => x,
        Err(e) => {
            st.log(json!({"path": "/api/chat", "status": 400, "error": e}));
            return ollama_error(StatusCode::BAD_REQUEST, &e);
        }
    };
    st.delay().await;
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
        "prompt_eval_count": tokens(&prompt),
        "eval_count": tokens(&content),
    });
    st.log(
        json!({"path": "/api/chat", "status": 200, "model": model, "personas": count,
                  "prompt_bytes": prompt.len(), "ms": elapsed.as_secs_f64() * 1000.0}),
    );
    if req.stream == Some(false) {
        return Json(done).into_response();
    }
    // Ollama streams by default: newline-delimited JSON, the content first.
    let first = json!({"model": model, "created_at": created_at,
                       "message": {"role": "assistant", "content": content}, "done": false});
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        format!("{first}\n{done}\n"),
    )
        .into_response()
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
    let state = Arc::new(AppState {
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        opts,
        log,
        started: Instant::now(),
    });
    Ok(Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/api/tags", get(tags))
        .route("/api/chat", post(ollama_chat))
        .route(
            "/api/version",
            get(|| async { Json(json!({"version": "0.0.0-bench-gate"})) }),
        )
        .fallback(not_found)
        .with_state(state))
}

/// Runs the server until `--max-seconds` pass or Ctrl-C/SIGTERM arrives.
pub fn run(opts: ServeOptions) -> Result<u8> {
    if !opts.bind.ip().is_loopback() && !opts.allow_remote {
        anyhow::bail!(
            "refusing to listen on {} (not a loopback address); pass --allow-remote to serve other machines",
            opts.bind
        );
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
        println!(
            "bench-gate serve: listening on http://{addr} (model {}, delay {} ms, jitter {} ms, pid {})",
            opts.model,
            opts.delay_ms,
            opts.jitter_ms,
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
}
