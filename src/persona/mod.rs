//! The persona generator: load research data → render a prompt → ask a
//! provider → parse and validate → write personas. Each step is a function of
//! the previous step's value, so the benchmark and `serve` reuse them.

pub mod data;
pub mod from_prompt;
pub mod model;
pub mod parse;
pub mod prompt;
pub mod provider;
pub mod render;
pub mod synth;
pub mod text;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::fsutil;
use data::Dataset;
use model::Persona;
use provider::{Provider, Request};
use synth::SynthOptions;

/// Loads `--from` paths, or the embedded sample when there are none.
pub fn load_data(from: &[PathBuf]) -> Result<Dataset> {
    let inputs = if from.is_empty() {
        data::embedded_sample()
    } else {
        data::read_inputs(from)?
    };
    Ok(data::load(&inputs)?)
}

/// Renders the embedded prompt template, or the file given with `--template`.
pub fn render_prompt(
    template: Option<&Path>,
    data: &Dataset,
    options: &SynthOptions,
) -> Result<String> {
    match template {
        Some(path) => {
            let text = crate::fsutil::read_capped_string(path, crate::fsutil::MAX_CONFIG_BYTES)
                .with_context(|| format!("{}: cannot read template", path.display()))?;
            Ok(prompt::render(
                &path.display().to_string(),
                &text,
                data,
                options,
            )?)
        }
        None => Ok(prompt::render(
            "prompt.j2 (embedded)",
            prompt::DEFAULT_TEMPLATE,
            data,
            options,
        )?),
    }
}

/// Asks the provider and parses its answer; a malformed answer is asked for
/// once more when the provider is not deterministic. Returns the personas and
/// the number of attempts.
pub fn ask(provider: &dyn Provider, request: &Request) -> Result<(Vec<Persona>, u32)> {
    let attempts = if provider.retries_malformed() { 2 } else { 1 };
    let mut last = None;
    for attempt in 1..=attempts {
        let answer = provider.complete(request)?;
        match parse::parse(&answer, request.options.count) {
            Ok(personas) => return Ok((personas, attempt)),
            Err(e) => last = Some(e),
        }
    }
    let e = last.expect("at least one attempt");
    anyhow::bail!(
        "{} provider (model {}) gave malformed output {}: {e}",
        provider.name(),
        provider.model(),
        if attempts > 1 { "twice" } else { "" }
    )
}

#[derive(Debug, Serialize, Default)]
pub struct Timings {
    pub load_ms: f64,
    pub prompt_ms: f64,
    pub provider_ms: f64,
    pub write_ms: f64,
}

/// `metadata.json`: how the personas were made.
#[derive(Debug, Serialize)]
pub struct Metadata {
    pub bench_gate_version: &'static str,
    pub provider: String,
    pub model: String,
    pub seed: u64,
    pub options: SynthOptions,
    pub input_files: Vec<String>,
    pub participants: usize,
    pub statements: usize,
    pub personas: usize,
    pub attempts: u32,
    pub timings: Timings,
}

/// A whole generation, without writing anything.
pub struct Generation {
    pub personas: Vec<Persona>,
    pub metadata: Metadata,
}

pub fn generate(
    from: &[PathBuf],
    template: Option<&Path>,
    options: &SynthOptions,
    provider: &dyn Provider,
) -> Result<Generation> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let data = load_data(from)?;
    let load_ms = ms(t);
    let t = Instant::now();
    let prompt = render_prompt(template, &data, options)?;
    let prompt_ms = ms(t);
    let t = Instant::now();
    let (personas, attempts) = ask(
        provider,
        &Request {
            prompt: &prompt,
            data: &data,
            options,
        },
    )?;
    let provider_ms = ms(t);
    Ok(Generation {
        metadata: Metadata {
            bench_gate_version: env!("CARGO_PKG_VERSION"),
            provider: provider.name().to_string(),
            model: provider.model(),
            seed: options.seed,
            options: options.clone(),
            input_files: data.files.clone(),
            participants: data.participant_count(),
            statements: data.statements.len(),
            personas: personas.len(),
            attempts,
            timings: Timings {
                load_ms,
                prompt_ms,
                provider_ms,
                write_ms: 0.0,
            },
        },
        personas,
    })
}

/// `{"personas": [...]}`, pretty-printed with a final newline.
pub fn to_json(personas: &[Persona]) -> String {
    #[derive(Serialize)]
    struct Envelope<'a> {
        personas: &'a [Persona],
    }
    let mut s =
        serde_json::to_string_pretty(&Envelope { personas }).expect("personas always serialise");
    s.push('\n');
    s
}

pub fn to_markdown(personas: &[Persona]) -> String {
    personas
        .iter()
        .map(render::markdown)
        .collect::<Vec<_>>()
        .join("\n---\n\n")
}

/// Writes `personas/NN/persona.json`, `personas/NN/persona.md` and
/// `metadata.json` into `dir`, all or nothing.
pub fn write_output(dir: &Path, force: bool, generation: &mut Generation) -> Result<()> {
    let t = Instant::now();
    let personas = &generation.personas;
    let metadata = &mut generation.metadata;
    fsutil::write_dir_atomic(dir, force, |tmp| {
        for (i, p) in personas.iter().enumerate() {
            let sub = tmp.join("personas").join(format!("{:02}", i + 1));
            std::fs::create_dir_all(&sub)?;
            let mut json = serde_json::to_string_pretty(p)?;
            json.push('\n');
            std::fs::write(sub.join("persona.json"), json)?;
            std::fs::write(sub.join("persona.md"), render::markdown(p))?;
        }
        metadata.timings.write_ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut meta = serde_json::to_string_pretty(&*metadata)?;
        meta.push('\n');
        std::fs::write(tmp.join("metadata.json"), meta)?;
        Ok(())
    })
}
