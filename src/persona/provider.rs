//! Providers answer a rendered prompt with text that should hold personas as
//! JSON inside `<output></output>`. Parsing and validation happen afterwards,
//! in the same way for every provider.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::data::Dataset;
use super::synth::{synthesise, SynthOptions};

pub struct Request<'a> {
    pub prompt: &'a str,
    pub data: &'a Dataset,
    pub options: &'a SynthOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} did not answer within {seconds} s (raise --timeout if the model is slow)")]
    Timeout { url: String, seconds: u64 },
    #[error("{url} answered HTTP {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url} sent an answer that is not a chat completion: {reason}")]
    BadResponse { url: String, reason: String },
}

pub trait Provider {
    /// `offline` or `openai`, as recorded in metadata.json.
    fn name(&self) -> &'static str;
    fn model(&self) -> String;
    /// Whether a malformed answer is worth asking for again (not for a
    /// deterministic provider, which would answer the same).
    fn retries_malformed(&self) -> bool;
    fn complete(&self, request: &Request) -> Result<String, ProviderError>;
}

/// The built-in synthesiser, answering exactly as a model is asked to.
pub struct Offline;

pub const OFFLINE_MODEL: &str = "offline-synth-1";

impl Provider for Offline {
    fn name(&self) -> &'static str {
        "offline"
    }
    fn model(&self) -> String {
        OFFLINE_MODEL.to_string()
    }
    fn retries_malformed(&self) -> bool {
        false
    }
    fn complete(&self, request: &Request) -> Result<String, ProviderError> {
        let personas = synthesise(request.data, request.options);
        Ok(format!(
            "<output>\n{}</output>\n",
            super::to_json(&personas)
        ))
    }
}

/// Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
/// llama.cpp, `bench-gate serve`).
pub struct OpenAi {
    pub base_url: String,
    pub model: String,
    /// Sent as a bearer token; never printed.
    pub api_key: Option<String>,
    pub timeout: Duration,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}
#[derive(Deserialize)]
struct Choice {
    message: Message,
}
#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

impl OpenAi {
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

/// The `error.message` of an OpenAI-shaped error body, or the start of the body.
fn error_message(body: &str) -> String {
    let parsed: Option<String> = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str().map(str::to_string))
        });
    let text = parsed.unwrap_or_else(|| body.trim().to_string());
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    if short.is_empty() {
        "(empty body)".into()
    } else {
        short
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }
    fn model(&self) -> String {
        self.model.clone()
    }
    fn retries_malformed(&self) -> bool {
        true
    }
    fn complete(&self, request: &Request) -> Result<String, ProviderError> {
        let url = self.endpoint();
        let client = reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("bench-gate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let mut req = client.post(&url).json(&json!({
            "model": self.model,
            "messages": [{"role": "user", "content": request.prompt}],
            "temperature": 0.2,
            "seed": request.options.seed,
        }));
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                ProviderError::Timeout {
                    url: url.clone(),
                    seconds: self.timeout.as_secs().max(1),
                }
            } else {
                // The error's own text would repeat the URL; its source says why.
                let reason = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string());
                ProviderError::Unreachable {
                    url: url.clone(),
                    reason,
                }
            }
        };
        let response = req.send().map_err(classify)?;
        let status = response.status();
        let body = response.text().map_err(classify)?;
        if !status.is_success() {
            return Err(ProviderError::Status {
                url,
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        let completion: Completion =
            serde_json::from_str(&body).map_err(|e| ProviderError::BadResponse {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        completion
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or(ProviderError::BadResponse {
                url,
                reason: "no choices[0].message.content".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_prefers_openai_shape() {
        assert_eq!(
            error_message(r#"{"error":{"message":"model not found","type":"x"}}"#),
            "model not found"
        );
        assert_eq!(error_message(r#"{"error":"boom"}"#), "boom");
        assert_eq!(error_message("  "), "(empty body)");
        assert_eq!(error_message(&"x".repeat(400)).chars().count(), 301);
    }
}
