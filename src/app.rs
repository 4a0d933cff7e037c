//! Runs a parsed command. Returns the process exit code; errors become exit 3.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;

use crate::cli::{
    Cli, Command, GenerateArgs, PersonaFormat, ProviderKind, RunArgs, RunFormat, WorkloadArgs,
};
use crate::measure::{self, progress, runner};
use crate::persona::{self, provider, synth::SynthOptions};
use crate::results::{self, Results};
use crate::workload::{self, builtin, config::Config, Overrides, Workload};

/// Every metric passed, or regressions were only reported.
pub const EXIT_OK: u8 = 0;
/// A warning-level regression, with `--fail-on-warning`.
pub const EXIT_WARNING: u8 = 1;
/// A failure-level regression, with `--fail-on-regression`.
pub const EXIT_FAILURE: u8 = 2;
/// Bad input: the benchmark, a file or an option could not be run or read.
pub const EXIT_ERROR: u8 = 3;

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Generate(args) => generate(args),
        Command::Run(args) => run_cmd(args),
    }
}

/// Resolves `--config`/`bench-gate.yml` and `--workload` into a checked workload.
pub fn resolve_workload(args: &WorkloadArgs) -> Result<Workload> {
    let config_path = args.config.clone().or_else(|| {
        let p = std::path::PathBuf::from(workload::config::DEFAULT_FILE);
        p.is_file().then_some(p)
    });
    let workload = match config_path {
        Some(path) => {
            let config = Config::load(&path)?;
            let name = args
                .workload
                .clone()
                .unwrap_or_else(|| config.default_workload.clone());
            config.workload(&name)?
        }
        None => {
            let exe = std::env::current_exe()?;
            builtin::workload(args.workload.as_deref().unwrap_or("standard"), &exe)?
        }
    };
    Ok(workload.adjust(&Overrides {
        iterations: args.iterations,
        warmup: args.warmup,
        only: args.only.clone(),
    })?)
}

/// Kill the iteration in flight on Ctrl-C or SIGTERM, so nothing outlives us.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        measure::kill_active();
        eprintln!("interrupted; nothing was written");
        std::process::exit(130);
    });
}

/// Benchmarks a workload: every scenario, in order, stopping at the first failure.
pub fn benchmark(args: &WorkloadArgs) -> Result<Results> {
    let workload = resolve_workload(args)?;
    install_interrupt_handler();
    let mut progress = progress::for_stderr(args.quiet);
    let mut runs = Vec::new();
    for s in &workload.scenarios {
        runs.push(runner::run_scenario(s, progress.as_mut())?);
    }
    Ok(Results::new(&workload, &runs, results::fingerprint()))
}

fn run_cmd(args: RunArgs) -> Result<u8> {
    let results = benchmark(&args.workload)?;
    if let Some(path) = &args.output {
        results.save(path)?;
        eprintln!("wrote {}", path.display());
    }
    let text = match args.format {
        RunFormat::Table => crate::report::terminal::results_table(&results),
        RunFormat::Json => results.to_json(),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(EXIT_OK)
}

fn generate(args: GenerateArgs) -> Result<u8> {
    let options = SynthOptions {
        count: usize::from(args.count),
        seed: args.seed,
        complexity: args.complexity,
        detail_level: args.detail_level,
        include_reasoning: args.include_reasoning,
    };
    if args.dry_run {
        let data = persona::load_data(&args.from)?;
        let prompt = persona::render_prompt(args.template.as_deref(), &data, &options)?;
        let est = persona::prompt::estimate(&data, &prompt);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{prompt}")?;
        writeln!(
            out,
            "--- dry run: {} file(s), {} participant(s), {} statement(s); prompt {} bytes, {} words, about {} tokens (bytes / 4). Nothing was sent.",
            est.files, est.participants, est.statements, est.prompt_bytes, est.prompt_words, est.estimated_tokens
        )?;
        return Ok(EXIT_OK);
    }
    let provider: Box<dyn provider::Provider> = match args.provider {
        ProviderKind::Offline => Box::new(provider::Offline),
        ProviderKind::Openai => Box::new(provider::OpenAi {
            base_url: args.base_url.clone(),
            model: args.model.clone(),
            api_key: std::env::var(&args.api_key_env)
                .ok()
                .filter(|k| !k.is_empty()),
            timeout: Duration::from_secs(args.timeout),
        }),
    };
    let mut generation = persona::generate(
        &args.from,
        args.template.as_deref(),
        &options,
        provider.as_ref(),
    )?;
    match &args.output {
        Some(dir) => {
            persona::write_output(dir, args.force, &mut generation)?;
            eprintln!(
                "wrote {} persona(s) to {} ({} provider, {} statement(s) from {} file(s))",
                generation.personas.len(),
                dir.display(),
                generation.metadata.provider,
                generation.metadata.statements,
                generation.metadata.input_files.len()
            );
        }
        None => {
            let text = match args.format {
                PersonaFormat::Json => persona::to_json(&generation.personas),
                PersonaFormat::Markdown => persona::to_markdown(&generation.personas),
            };
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
    }
    Ok(EXIT_OK)
}
