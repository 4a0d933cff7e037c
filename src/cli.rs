//! Command-line definitions (clap derive). Parsing only: no behaviour here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::persona::synth::{Complexity, DetailLevel};

const EXIT_CODES: &str = "\
Exit codes:
  0  success; every metric passed (or regressions were only reported)
  1  a warning-level regression, with --fail-on-warning
  2  a failure-level regression, with --fail-on-regression
  3  bad input: the benchmark, a file or an option could not be run or read";

#[derive(Parser, Debug)]
#[command(
    name = "bench-gate",
    version,
    about = "A performance regression gate for pull requests, with a built-in persona-generation workload",
    long_about = "bench-gate benchmarks a workload (its own persona generator, or your project's commands), \
compares the figures with a baseline committed to the repository, and reports regressions: \
on the terminal, as Markdown, or as a pull-request comment and check run on GitHub.",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate user personas from research data (the built-in workload).
    #[command(after_help = "\
Examples:
  bench-gate generate                                  # embedded sample data, 1 persona, JSON on stdout
  bench-gate generate --from interviews/ --count 4 --output personas-out
  bench-gate generate --from notes.md --format markdown
  bench-gate generate --dry-run                        # show the prompt and its size, ask nothing
  bench-gate generate --provider openai --base-url http://127.0.0.1:11434/v1 --model llama3.2")]
    Generate(GenerateArgs),
    /// Benchmark a workload and print (or save) the results.
    #[command(after_help = "\
Examples:
  bench-gate run                                  # built-in 'standard' workload
  bench-gate run --workload quick --output results.json
  bench-gate run --only single --iterations 50
  bench-gate run --config bench-gate.yml --workload standard")]
    Run(RunArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProviderKind {
    /// Built-in deterministic synthesiser; no network.
    Offline,
    /// Any OpenAI-compatible chat-completions endpoint.
    Openai,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PersonaFormat {
    Json,
    Markdown,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Research data: a CSV, JSON, YAML, Markdown or text file, or a folder read
    /// recursively in sorted order. Repeatable. Default: the embedded sample dataset.
    #[arg(long = "from", value_name = "PATH")]
    pub from: Vec<PathBuf>,
    /// Number of personas (1 to 100).
    #[arg(long, short = 'n', default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub count: u16,
    /// Seed for the offline provider (and sent to others): same data and seed, same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = Complexity::Moderate)]
    pub complexity: Complexity,
    #[arg(long, value_enum, default_value_t = DetailLevel::Standard)]
    pub detail_level: DetailLevel,
    /// Ask for a `reasoning` field explaining how each persona was built.
    #[arg(long)]
    pub include_reasoning: bool,
    /// A minijinja prompt template replacing the embedded one.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ProviderKind::Offline)]
    pub provider: ProviderKind,
    /// Base URL of the OpenAI-compatible API (provider openai).
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub base_url: String,
    /// Model name (provider openai).
    #[arg(long, default_value = "gpt-4o-mini")]
    pub model: String,
    /// Environment variable holding the API key (provider openai; optional for local servers).
    #[arg(long, default_value = "OPENAI_API_KEY", value_name = "VAR")]
    pub api_key_env: String,
    /// Seconds to wait for the provider's answer.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Write personas/NN/persona.{json,md} and metadata.json into this folder.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace a non-empty --output folder.
    #[arg(long)]
    pub force: bool,
    /// Format on stdout when there is no --output.
    #[arg(long, value_enum, default_value_t = PersonaFormat::Json)]
    pub format: PersonaFormat,
    /// Print the rendered prompt and an input-size estimate, then stop.
    #[arg(long)]
    pub dry_run: bool,
}

/// Which workload to benchmark and how; shared by every command that measures.
#[derive(Args, Debug, Clone)]
pub struct WorkloadArgs {
    /// Workload: quick, standard, full or batch (built in), or one defined in the config.
    #[arg(long, short = 'w')]
    pub workload: Option<String>,
    /// Benchmark config with the project's own scenarios. Default: ./bench-gate.yml if it
    /// exists, else the built-in persona-generation workloads.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Measured iterations per scenario (overrides the workload's).
    #[arg(long, short = 'i', value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: Option<u32>,
    /// Warm-up runs per scenario (overrides the workload's).
    #[arg(long)]
    pub warmup: Option<u32>,
    /// Run only this scenario (repeatable).
    #[arg(long, value_name = "SCENARIO")]
    pub only: Vec<String>,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Write the results (raw samples, summaries, metrics, environment) as JSON.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = RunFormat::Table)]
    pub format: RunFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    Table,
    Json,
}
