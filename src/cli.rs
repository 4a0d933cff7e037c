//! Command-line definitions (clap derive). Parsing only: no behaviour here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::compare::gate::Role;
use crate::model::Named;
use crate::persona::synth::{Complexity, DetailLevel};

/// A value parser for a domain enum named by [`Named`]: the command line
/// lists its values with their help, the domain stays free of clap.
fn named<T: Named>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        T::VALUES
            .iter()
            .map(|(_, name, help)| PossibleValue::new(*name).help(*help)),
    )
    .map(|s| T::parse(&s).expect("clap checked the value"))
}

#[derive(Parser, Debug)]
#[command(
    name = "bench-gate",
    version,
    about = "A performance regression gate for pull requests, with a built-in persona-generation workload",
    long_about = "bench-gate benchmarks a workload (its own persona generator, or your project's commands), \
compares the figures with a baseline committed to the repository, and reports regressions: \
on the terminal, as Markdown, or as a pull-request comment and check run on GitHub.",
    after_help = crate::model::Exit::help(),
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
  bench-gate run --config bench-gate.yml --workload standard
  bench-gate run --ab origin/main --output results.json    # the base measured side by side")]
    Run(RunArgs),
    /// Save results as a new baseline file (benchmarking first unless --from is given).
    #[command(
        after_help = "\
Examples:
  bench-gate capture --output baselines/v1.13.0.yaml
  bench-gate capture --from results.json --output baselines/v1.13.0.yaml --baseline-version 1.13.0
  bench-gate capture --output baselines/v1.13.0.yaml --force    # replace an existing file",
        disable_version_flag = true
    )]
    Capture(CaptureArgs),
    /// Compare results with a baseline and print the regression table.
    #[command(after_help = "\
Examples:
  bench-gate compare                                   # benchmark, compare with the latest baseline
  bench-gate compare --results results.json --baseline baselines/v1.12.0.yaml
  bench-gate compare --fail-on-regression --format markdown   # CI: exit 2 on a failure
  bench-gate compare --warn-threshold 5 --fail-threshold 15
  bench-gate compare --ab origin/main                  # A/B: main's merge base, same machine, ABBA
  bench-gate compare --ab origin/main --ab-setup 'pip install -e .' --gate-on both")]
    Compare(CompareArgs),
    /// Write a comparison report as Markdown, JSON or self-contained HTML.
    #[command(after_help = "\
Examples:
  bench-gate report --results results.json --format html --output report.html
  bench-gate report --results results.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"")]
    Report(ReportArgs),
    /// List the baselines in the baselines folder.
    #[command(after_help = "\
Examples:
  bench-gate list                                  # name, version, capture time, size
  bench-gate list --verbose                        # also workload, metric count, thresholds, CPU
  bench-gate list --dir perf/baselines")]
    List(ListArgs),
    /// Delete old baselines: keep the N highest versions, or remove one by name.
    #[command(after_help = "\
Examples:
  bench-gate clean --keep 3
  bench-gate clean --name v1.9.0.yaml")]
    Clean(CleanArgs),
    /// One metric (or all) across every baseline, in version order.
    #[command(after_help = "\
Examples:
  bench-gate trends
  bench-gate trends --metric generation.single.latency_p50_ms
  bench-gate trends --format json")]
    Trends(TrendsArgs),
    /// The GitHub gate: benchmark, compare, comment on the pull request, set a check run.
    #[command(after_help = "\
It reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL,
GITHUB_TOKEN, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT. Outside GitHub (no event) it
prints the comment it would post and exits with the compare exit code.

Examples:
  bench-gate gate                                        # in a workflow, via the action
  bench-gate gate --results results.json                 # publish results made earlier
  bench-gate gate --check-name perf-linux --override-label perf-ok
  bench-gate gate --ab pr-base                           # A/B against the pull request's base")]
    Gate(GateArgs),
    /// A local, deterministic LLM stand-in (OpenAI- and Ollama-compatible) answering persona prompts.
    #[command(after_help = "\
Examples:
  bench-gate serve                                       # http://127.0.0.1:11434, like Ollama
  bench-gate serve --bind 127.0.0.1:8080 --delay-ms 800 --jitter-ms 200 --seed 7
  bench-gate serve --bind 127.0.0.1:0 --max-seconds 600 --log requests.jsonl
  bench-gate serve --record answers/ --upstream http://127.0.0.1:11434 --bind 127.0.0.1:8080
  bench-gate serve --replay answers/ --per-token-ms 20
Endpoints: POST /v1/chat/completions, GET /v1/models, POST /api/chat, GET /api/tags, GET /health, GET /_bench_gate/usage")]
    Serve(ServeArgs),
    /// Turn another harness's output into bench-gate results.
    #[command(after_help = "\
Examples:
  bench-gate import --format hyperfine bench.json --output results.json
  bench-gate import --format criterion target/criterion --output results.json
  bench-gate import --format pytest-benchmark .benchmarks.json --output results.json
  bench-gate import --format go-bench bench.txt --output results.json")]
    Import(ImportArgs),
    /// Write results in another tool's format (Bencher BMF, github-action-benchmark).
    #[command(after_help = "\
Examples:
  bench-gate export --format bmf --results results.json --output bmf.json
  bench-gate export --format github-action-benchmark --results results.json --output gab.json
  bench-gate export --format custom-bigger-is-better --results results.json   # to stdout")]
    Export(ExportArgs),
    /// Combine the results of `run --shard K/N` jobs into one results file.
    #[command(after_help = "\
Examples:
  bench-gate merge shard-1.json shard-2.json shard-3.json --output results.json
  bench-gate merge shards/*.json --output results.json     # refuses overlapping or missing shards")]
    Merge(MergeArgs),
    /// Measure this machine's noise (A/A pairs) and propose per-metric thresholds.
    #[command(after_help = "\
Runs every scenario of the workload against itself in A/A pairs (ABBA order,
as A/B mode measures), in rounds, until another round would not fit in
--max-time. Per metric it prints the noise (the standard deviation of the
pairs' log-ratios), the smallest change the pairs detect at 1 % false alarms
with 90 % power, and proposed thresholds: failure = max(5 %, that change),
warning = failure / 2, both rounded up (docs/commands.md has the formula).

Examples:
  bench-gate calibrate                                   # built-in workload, up to 5 minutes
  bench-gate calibrate --config bench-gate.yml --max-time 2m
  bench-gate calibrate --write baselines/v1.13.0.yaml    # set the thresholds in a baseline
  bench-gate calibrate --only single --iterations 20 --max-time 90s --format json")]
    Calibrate(CalibrateArgs),
    /// Keep a record of results over time and chart each metric's trend.
    #[command(
        subcommand,
        after_help = "\
Examples:
  bench-gate history append --results results.json --keep 500
  bench-gate history chart --output trends.html"
    )]
    History(HistoryCommand),
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
    #[arg(long, value_parser = named::<Complexity>(), default_value = "moderate")]
    pub complexity: Complexity,
    #[arg(long, value_parser = named::<DetailLevel>(), default_value = "standard")]
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
pub struct WorkloadFlags {
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
    /// Run only share K of N (for N matrix jobs; `merge` combines them).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
    /// A previous results file: balance the shards by its scenario durations.
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub shard_durations: Option<PathBuf>,
    /// Also count, under Valgrind, in every scenario: instructions (cachegrind)
    /// and/or allocations (DHAT), comma-separated or repeated. `wall` (always
    /// measured) is accepted.
    #[arg(long, value_name = "MEASURE", value_delimiter = ',', value_parser = ["wall", "instructions", "allocations"])]
    pub measure: Vec<String>,
}

/// Same-runner A/B mode: the base commit measured alternately with the head.
#[derive(Args, Debug, Clone, Default)]
pub struct AbFlags {
    /// A/B mode: also measure the merge base of REV and HEAD, checked out in a
    /// temporary git worktree, alternately with the working tree (ABBA order).
    /// In `gate` (and `run --shard` on a pull_request event), `pr-base` is
    /// the pull request's base commit. With `--shard`, each shard measures
    /// its own scenarios' pairs; `merge` combines them.
    #[arg(long, value_name = "REV")]
    pub ab: Option<String>,
    /// A/B mode against a base tree you prepared (e.g. a second checkout).
    #[arg(long, value_name = "DIR", conflicts_with = "ab")]
    pub ab_dir: Option<PathBuf>,
    /// Run in each tree before measuring (through `sh -c`). Default: `ab.setup`
    /// in the config; for the built-in workload, a release build of bench-gate.
    #[arg(long, value_name = "COMMAND")]
    pub ab_setup: Option<String>,
    /// No A/B run, even when the config enables it.
    #[arg(long, conflicts_with_all = ["ab", "ab_dir"])]
    pub no_ab: bool,
}

impl WorkloadFlags {
    /// The flags as the session's plain plan.
    pub fn plan(&self) -> crate::session::WorkloadArgs {
        crate::session::WorkloadArgs {
            workload: self.workload.clone(),
            config: self.config.clone(),
            iterations: self.iterations,
            warmup: self.warmup,
            only: self.only.clone(),
            quiet: self.quiet,
            shard: self.shard,
            shard_durations: self.shard_durations.clone(),
            measures: self
                .measure
                .iter()
                .filter_map(|m| <crate::model::Counted as crate::model::Named>::parse(m))
                .collect(),
        }
    }
}

impl AbFlags {
    /// The flags as the session's plain request.
    pub fn request(&self) -> crate::session::AbArgs {
        crate::session::AbArgs {
            ab: self.ab.clone(),
            ab_dir: self.ab_dir.clone(),
            ab_setup: self.ab_setup.clone(),
            no_ab: self.no_ab,
        }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub workload: WorkloadFlags,
    #[command(flatten)]
    pub ab: AbFlags,
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

fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("'{s}' is not a number of percent"))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("'{s}' must be a non-negative number of percent"))
    }
}

/// Where the baseline and the results come from, and threshold overrides.
#[derive(Args, Debug)]
pub struct CompareInputs {
    /// Baseline file, a version in --baselines-dir (`v1.11.0` or `1.11.0`), or
    /// `latest`: the highest semantic version there.
    #[arg(
        long,
        short = 'b',
        default_value = "latest",
        value_name = "FILE|VERSION|latest"
    )]
    pub baseline: String,
    /// Folder holding the baselines.
    #[arg(long, default_value = "baselines", value_name = "DIR")]
    pub baselines_dir: PathBuf,
    /// Results file from `run --output`; without it the workload is benchmarked first.
    #[arg(long, short = 'r', value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Warning threshold in percent, for every metric (overrides the baseline's).
    #[arg(long, value_parser = percent, value_name = "PERCENT")]
    pub warn_threshold: Option<f64>,
    /// Failure threshold in percent, for every metric (overrides the baseline's).
    #[arg(long, value_parser = percent, value_name = "PERCENT")]
    pub fail_threshold: Option<f64>,
    /// When the baseline was measured on another machine (CPU, cores, memory, OS, kernel,
    /// runner image, bench-gate version): `warn` counts failures as warnings, `strict` keeps them.
    #[arg(long, value_parser = named::<crate::compare::EnvPolicy>(), default_value = "warn")]
    pub env_mismatch: crate::compare::EnvPolicy,
    /// `interval` (default): a failure needs the 95 % bootstrap interval above the failure
    /// threshold; straddling it is an "inconclusive" warning. `threshold`: the point
    /// estimate alone decides. Metrics without raw samples on both sides use `threshold`.
    #[arg(long, value_parser = named::<crate::compare::DecisionRule>(), default_value = "interval")]
    pub decision: crate::compare::DecisionRule,
    /// When a metric fails, measure its scenario this many more times and decide on all
    /// the samples (0: decide on the first measurement).
    #[arg(long, default_value_t = 1, value_name = "ROUNDS")]
    pub confirm: u32,
    /// Startup-time changes smaller than this many ms never warn or fail (memory
    /// changes: --floor-mb).
    #[arg(long, default_value_t = crate::compare::FLOOR_MS, value_name = "MS")]
    pub floor_ms: f64,
    /// Peak-memory changes smaller than this many MB (MiB) never warn or fail.
    #[arg(long, default_value_t = crate::compare::FLOOR_MB, value_name = "MB")]
    pub floor_mb: f64,
    /// In A/B mode, which view decides: the change against the base commit
    /// (ab, the default), against the committed baseline, or both.
    #[arg(long, value_parser = named::<crate::model::GateOn>(), value_name = "VIEW")]
    pub gate_on: Option<crate::model::GateOn>,
    /// What a baseline metric absent from the results counts as: `fail` (the default),
    /// `warn` or `ignore`. Default: `compare.missing` in the config, else `fail`.
    #[arg(long, value_parser = named::<crate::model::MissingPolicy>(), value_name = "POLICY")]
    pub missing: Option<crate::model::MissingPolicy>,
    /// Compare results of another workload than the one the baseline was captured
    /// from (refused by default, exit 3).
    #[arg(long)]
    pub allow_other_workload: bool,
    #[command(flatten)]
    pub workload: WorkloadFlags,
    #[command(flatten)]
    pub ab: AbFlags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    Table,
    Markdown,
    Json,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub inputs: CompareInputs,
    #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
    /// Exit 2 when a metric fails (otherwise failures are reported and exit 0).
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Exit 1 when a metric is above its warning threshold (2 on a failure).
    #[arg(long)]
    pub fail_on_warning: bool,
    /// For CI: the exit code is the result, 0 pass, 1 warnings, 2 a failure
    /// (3 an error, as always): --fail-on-regression and --fail-on-warning.
    #[arg(long)]
    pub ci: bool,
    /// Also save the results that were compared (when benchmarking here).
    #[arg(long, value_name = "FILE")]
    pub save_results: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Json,
    Html,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub inputs: CompareInputs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CaptureArgs {
    /// The baseline file to write, e.g. baselines/v1.13.0.yaml.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Results file to capture instead of benchmarking now.
    #[arg(long = "from", value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Version recorded in the file. Default: from the file name (v1.13.0.yaml → 1.13.0).
    /// (`--version VERSION` is still accepted here, as before.)
    #[arg(long = "baseline-version", alias = "version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub workload: WorkloadFlags,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(long, default_value = "baselines", value_name = "DIR")]
    pub dir: PathBuf,
    /// Also show workload, metric count, thresholds and environment.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["keep", "name"])))]
pub struct CleanArgs {
    #[arg(long, default_value = "baselines", value_name = "DIR")]
    pub dir: PathBuf,
    /// Keep the N highest versions and delete the rest.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Delete this one baseline (a file name in --dir).
    #[arg(long)]
    pub name: Option<String>,
    /// Show what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TrendsFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct TrendsArgs {
    #[arg(long, default_value = "baselines", value_name = "DIR")]
    pub dir: PathBuf,
    /// The metric to follow (dotted name). Default: every metric.
    #[arg(long, short = 'm')]
    pub metric: Option<String>,
    #[arg(long, value_enum, default_value_t = TrendsFormat::Table)]
    pub format: TrendsFormat,
}

fn boolean(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" | "" => Ok(false),
        other => Err(format!("'{other}' is not true or false")),
    }
}

#[derive(Args, Debug)]
pub struct GateArgs {
    #[command(flatten)]
    pub inputs: CompareInputs,
    /// Token for the GitHub API (default: $GITHUB_TOKEN). Never printed.
    #[arg(long, env = "BENCH_GATE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Check-run name; also tells apart the comments of several gates on one PR.
    #[arg(long, default_value = "bench-gate")]
    pub check_name: String,
    /// Label with which a maintainer overrides a failure.
    #[arg(long, default_value = "performance-override")]
    pub override_label: String,
    /// Least repository permission of whoever applies the override label.
    #[arg(long, value_parser = named::<Role>(), default_value = "maintain")]
    pub override_permission: Role,
    /// Post (and update) the pull-request comment.
    #[arg(long, default_value = "true", value_parser = boolean, action = clap::ArgAction::Set)]
    pub comment: bool,
    /// Exit 2 on a failure-level regression (release tags always do).
    #[arg(long, default_value = "true", value_parser = boolean, action = clap::ArgAction::Set)]
    pub fail_on_regression: bool,
    /// Exit 1 on a warning-level regression.
    #[arg(long, default_value = "false", value_parser = boolean, action = clap::ArgAction::Set)]
    pub fail_on_warning: bool,
    /// Where to write the results file (also the `results-path` output).
    #[arg(long, default_value = "bench-gate-results.json", value_name = "FILE")]
    pub results_out: PathBuf,
    /// Where to write the Markdown report (also the `report-path` output).
    #[arg(long, default_value = "bench-gate-report.md", value_name = "FILE")]
    pub report_out: PathBuf,
    /// A page with the metrics' history charts, linked from the comment.
    #[arg(long, value_name = "URL")]
    pub history_url: Option<String>,
    /// On pushes to the default branch: keep main's results on this branch
    /// (per workload and runner fingerprint), look for step changes, and
    /// open or update the issue "Performance change on main". Needs
    /// `contents: write` and `issues: write`.
    #[arg(long, value_name = "BRANCH")]
    pub history_branch: Option<String>,
    /// Runs of main kept per workload and runner fingerprint.
    #[arg(long, default_value_t = 100, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub history_keep: u64,
    /// The login the token posts comments as, when `GET /user` cannot tell
    /// (a GitHub App: `my-app[bot]`). Only comments by this login are the gate's.
    #[arg(long, value_name = "LOGIN")]
    pub gate_login: Option<String>,
    /// What the override label covers: the head commit it was applied to
    /// (removed again on a later push), or the whole pull request.
    #[arg(long, value_enum, default_value_t = OverrideScopeArg::Commit)]
    pub override_scope: OverrideScopeArg,
    /// What a label event decides from: the results in the gate's own
    /// comment for the same commit, or a new benchmark.
    #[arg(long, value_enum, default_value_t = LabelEventsArg::Reuse)]
    pub label_events: LabelEventsArg,
    /// Run on `pull_request_target` events, refused by default: they carry a
    /// write token while the benchmark runs the pull request's code.
    #[arg(long)]
    pub allow_pull_request_target: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverrideScopeArg {
    Commit,
    PullRequest,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelEventsArg {
    Reuse,
    Benchmark,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (loopback only unless --allow-remote; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:11434")]
    pub bind: std::net::SocketAddr,
    /// Allow a non-loopback --bind address.
    #[arg(long)]
    pub allow_remote: bool,
    /// Model name served and listed.
    #[arg(long, default_value = "bench-gate-offline")]
    pub model: String,
    /// Milliseconds to wait before each answer (the provider's latency).
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Up to this many more milliseconds, drawn from a generator seeded with --seed.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Milliseconds more per completion token of the answer (tokens estimated as characters / 4).
    #[arg(long, default_value_t = 0)]
    pub per_token_ms: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Forward every request to --upstream and store each answer in DIR, keyed by a hash of the request.
    #[arg(
        long,
        value_name = "DIR",
        requires = "upstream",
        conflicts_with = "replay"
    )]
    pub record: Option<PathBuf>,
    /// The real provider to record from (OpenAI-compatible or Ollama), e.g. http://127.0.0.1:11434.
    #[arg(long, value_name = "URL", requires = "record")]
    pub upstream: Option<String>,
    /// Answer from the answers recorded in DIR (404 naming the request hash when one is missing).
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
    /// Stop after this many seconds (so a forgotten server never lingers).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_seconds: Option<u64>,
    /// Append one JSON line per request to this file.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long, value_parser = named::<crate::import::ImportFormat>())]
    pub format: crate::import::ImportFormat,
    /// The harness's output files (criterion: target/criterion or an estimates.json).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the results here (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_parser = named::<crate::export::ExportFormat>())]
    pub format: crate::export::ExportFormat,
    #[arg(long, short = 'r', value_name = "FILE")]
    pub results: PathBuf,
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A duration: seconds (`90`, `90s`), minutes (`5m`) or hours (`1h`).
fn calibrate_budget(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let (num, scale) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. 90s, 5m)"))?;
    let secs = v * scale;
    if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 {
        Ok(std::time::Duration::from_secs_f64(secs))
    } else {
        Err(format!("'{s}' must be more than 0 and at most 24 hours"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CalibrateFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub workload: WorkloadFlags,
    /// Time budget: rounds of pairs continue while another fits (at least one runs).
    #[arg(long, default_value = "5m", value_parser = calibrate_budget, value_name = "DURATION")]
    pub max_time: std::time::Duration,
    /// Store the proposed thresholds as per-metric thresholds in this baseline
    /// file: merged into it when it exists (its values are kept), else a new
    /// baseline of the values measured here.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Version recorded in a new --write file. Default: from the file name, else `calibrated`.
    #[arg(long, value_name = "VERSION", requires = "write")]
    pub baseline_version: Option<String>,
    #[arg(long, value_enum, default_value_t = CalibrateFormat::Table)]
    pub format: CalibrateFormat,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// Append a results file to the history (JSON Lines).
    #[command(after_help = "\
Examples:
  bench-gate history append --results results.json     # to bench-gate-history.jsonl
  bench-gate history append --results results.json --file bench-gate-history.jsonl --keep 500
  bench-gate history append --results results.json --commit \"$(git rev-parse HEAD)\" --ref main")]
    Append {
        #[arg(long, short = 'r', value_name = "FILE")]
        results: PathBuf,
        #[arg(long, default_value = "bench-gate-history.jsonl", value_name = "FILE")]
        file: PathBuf,
        /// Commit the results belong to (default: $GITHUB_SHA).
        #[arg(long, env = "GITHUB_SHA")]
        commit: Option<String>,
        /// Branch or tag (default: $GITHUB_REF_NAME).
        #[arg(long = "ref", env = "GITHUB_REF_NAME")]
        git_ref: Option<String>,
        /// Keep only the last N entries.
        #[arg(long)]
        keep: Option<usize>,
    },
    /// Draw every metric's trend as SVG (or HTML when --output ends in .html).
    #[command(after_help = "\
Examples:
  bench-gate history chart --output trends.html        # every metric, one page
  bench-gate history chart --file bench-gate-history.jsonl --output trends.svg
  bench-gate history chart --output p50.svg --metric generation.single.latency_p50_ms")]
    Chart {
        #[arg(long, default_value = "bench-gate-history.jsonl", value_name = "FILE")]
        file: PathBuf,
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
        #[arg(long, short = 'm')]
        metric: Option<String>,
    },
}
