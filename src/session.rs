//! A benchmarking session: the workload resolved from the config or the
//! built-in scenarios, in A/B mode the two trees and their setup, every
//! scenario measured (in pairs in A/B mode), and confirmation runs. Its
//! value is a [`Results`]; what the results mean is decided later, in
//! `compare`.

use anyhow::{Context, Result};

use crate::baseline::Baseline;

/// Which workload to benchmark and how: the command line's options, as
/// plain values (the CLI translates its flags into this).
#[derive(Debug, Clone, Default)]
pub struct WorkloadArgs {
    pub workload: Option<String>,
    pub config: Option<std::path::PathBuf>,
    pub iterations: Option<u32>,
    pub warmup: Option<u32>,
    pub only: Vec<String>,
    pub quiet: bool,
    pub shard: Option<crate::shard::Shard>,
    pub shard_durations: Option<std::path::PathBuf>,
    /// Counted under Valgrind in every scenario, besides what each asks for
    /// (`--measure`).
    pub measures: Vec<model::Counted>,
}

/// Same-runner A/B mode as asked for: a revision, a prepared base tree, a
/// setup command, or none.
#[derive(Debug, Clone, Default)]
pub struct AbArgs {
    pub ab: Option<String>,
    pub ab_dir: Option<std::path::PathBuf>,
    pub ab_setup: Option<String>,
    pub no_ab: bool,
}
use crate::compare::{self, Comparison, ThresholdFlags};
use crate::measure::ab::{PairFailed, Side};
use crate::measure::trees::{BaseSource, PrCommits, Trees};
use crate::measure::{self, progress, runner};
use crate::model::GateOn;
use crate::model::{self, Results};
use crate::workload::{self, builtin, config::Config, Overrides, Workload};

/// The config file in use: `--config`, or `./bench-gate.yml` when it exists.
fn config_path(args: &WorkloadArgs) -> Option<std::path::PathBuf> {
    args.config.clone().or_else(|| {
        let p = std::path::PathBuf::from(workload::config::DEFAULT_FILE);
        p.is_file().then_some(p)
    })
}

/// The nearest `bench-gate.yml` in a folder above `dir`, up to the git
/// repository's top folder (none outside a repository).
fn config_above(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let mut nearest = None;
    for (i, d) in dir.ancestors().enumerate() {
        let candidate = d.join(workload::config::DEFAULT_FILE);
        if i > 0 && nearest.is_none() && candidate.is_file() {
            nearest = Some(candidate);
        }
        if d.join(".git").exists() {
            return nearest;
        }
    }
    None
}

/// One line on stderr: which config and workload are benchmarked, and why.
fn announce_choice(args: &WorkloadArgs, workload: &Workload) {
    let which = match &args.workload {
        Some(_) => "--workload",
        None => "the default",
    };
    let line = match (&args.config, config_path(args)) {
        (Some(p), _) => format!(
            "config {} (--config), workload '{}' ({which})",
            p.display(),
            workload.name
        ),
        (None, Some(p)) => format!(
            "config {} (found in this folder), workload '{}' ({which})",
            p.display(),
            workload.name
        ),
        (None, None) => {
            let above = std::env::current_dir()
                .ok()
                .and_then(|d| config_above(&d))
                .map(|p| {
                    format!(
                        "; {} is not used (it is in a parent folder): pass --config {} to benchmark it",
                        p.display(),
                        p.display()
                    )
                })
                .unwrap_or_default();
            format!(
                "no {} in this folder and no --config: benchmarking bench-gate's built-in workload '{}' ({which}){above}",
                workload::config::DEFAULT_FILE,
                workload.name
            )
        }
    };
    crate::report::messages::note(line);
}

/// The config's `compare:` section (empty without a config).
pub fn compare_config(args: &WorkloadArgs) -> Result<workload::config::CompareConfig> {
    Ok(match config_path(args) {
        Some(p) => Config::load(&p)?.compare,
        None => Default::default(),
    })
}

/// Resolves `--config`/`bench-gate.yml` and `--workload` into a checked workload.
pub fn resolve_workload(args: &WorkloadArgs) -> Result<Workload> {
    resolve_workload_in(args, None)
}

/// As [`resolve_workload`]; in A/B mode, for one of the two trees: the
/// head's config is used in both (the same commands on both sides), with
/// its folder, and so every relative `cwd`, moved into that tree; the
/// built-in workload runs that tree's `target/release/bench-gate`.
fn resolve_workload_in(args: &WorkloadArgs, tree: Option<(&Trees, Side)>) -> Result<Workload> {
    let workload = match config_path(args) {
        Some(path) => {
            let config = match tree {
                None => Config::load(&path)?,
                Some((t, side)) => {
                    let head_path = t.in_head(&path)?;
                    let text = crate::fsutil::read_capped_string(
                        &head_path,
                        crate::fsutil::MAX_CONFIG_BYTES,
                    )
                    .with_context(|| format!("{}: cannot read config", head_path.display()))?;
                    let at = match side {
                        Side::A => t.in_base(&path)?,
                        Side::B => head_path,
                    };
                    Config::parse(&at, &text)?
                }
            };
            let name = args
                .workload
                .clone()
                .unwrap_or_else(|| config.default_workload.clone());
            config.workload(&name)?
        }
        None => {
            let exe = match tree {
                None => std::env::current_exe()?,
                Some((t, Side::A)) => t.base.join(BUILTIN_AB_EXE),
                Some((t, Side::B)) => t.head.join(BUILTIN_AB_EXE),
            };
            builtin::workload(args.workload.as_deref().unwrap_or("standard"), &exe)?
        }
    };
    let mut workload = workload.select(&args.only)?;
    // Scenarios (and their checks) know the absolute path of their tree.
    let dir = match tree {
        Some((t, Side::A)) => t.base.clone(),
        Some((t, Side::B)) => t.head.clone(),
        None if workload.scenarios.is_empty() => std::path::PathBuf::new(),
        None => measure::trees::current_tree(&workload.scenarios[0].command.env_policy)?,
    };
    if !dir.as_os_str().is_empty() {
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        for s in &mut workload.scenarios {
            s.command
                .env
                .entry("BENCH_GATE_TREE_DIR".into())
                .or_insert_with(|| dir.display().to_string());
        }
    }
    for s in &mut workload.scenarios {
        for c in &args.measures {
            if !s.counted.contains(c) {
                s.counted.push(*c);
            }
        }
    }
    if let Some(shard) = args.shard {
        let durations = match &args.shard_durations {
            Some(p) => Some(crate::shard::durations(&Results::load(p)?)),
            None => None,
        };
        select_shard(&mut workload, shard, durations.as_ref());
    }
    workload.apply_counts_and_check(&Overrides {
        iterations: args.iterations,
        warmup: args.warmup,
        only: Vec::new(),
        skip_checks: matches!(tree, Some((_, Side::A))),
    })?;
    Ok(workload)
}

/// Keeps this shard's share of the scenarios (`--shard K/N`), balanced by
/// expected durations when given, and records which share it is.
fn select_shard(
    workload: &mut Workload,
    shard: crate::shard::Shard,
    durations: Option<&std::collections::BTreeMap<String, f64>>,
) {
    let all = workload.scenario_names();
    let mine = crate::shard::assign(&all, shard, durations);
    workload.scenarios.retain(|s| mine.contains(&s.name));
    workload.shard = Some(crate::model::ShardInfo {
        index: shard.index,
        total: shard.total,
        scenarios: mine,
        all_scenarios: all,
        environment: None,
    });
}

/// In A/B mode the built-in workload runs each tree's own build.
const BUILTIN_AB_EXE: &str = "target/release/bench-gate";
/// ... made by this setup, unless `--ab-setup` says otherwise.
const BUILTIN_AB_SETUP: &str = "cargo build --release --locked --bin bench-gate";

/// An A/B run to do: where the base comes from and how each tree is set up.
#[derive(Debug, Clone, PartialEq)]
pub struct AbPlan {
    pub source: BaseSource,
    pub setup: Option<String>,
    /// Environment for the setup (`{tree}` is the tree's folder).
    pub setup_env: Vec<(&'static str, String)>,
    /// What git and the setup go without (the config's `secrets:`).
    pub env_policy: crate::model::EnvPolicy,
    /// The built-in workload's base build is kept here between runs, in a
    /// folder named by the base commit (`BENCH_GATE_AB_BUILD_CACHE`, set by
    /// the action, which caches it keyed by the base commit).
    pub build_cache: Option<std::path::PathBuf>,
}

/// Where the action asks the built-in workload's base build to be kept.
pub const BUILD_CACHE_VAR: &str = "BENCH_GATE_AB_BUILD_CACHE";

/// Where `pr-base` points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrBase<'a> {
    /// Not in `gate`: `pr-base` means nothing.
    NotGate,
    /// In `gate`: the pull request's commits, if the event has them.
    Gate(Option<&'a PrCommits>),
}

/// A/B mode for `compare`, `report` and `gate`, and which view decides.
/// Results read from a file (`--results`) hold their own A/B run, if any.
pub fn ab_plan(
    workload: &WorkloadArgs,
    ab: &AbArgs,
    results_given: bool,
    gate_on: Option<GateOn>,
    pr_base: PrBase,
) -> Result<(Option<AbPlan>, GateOn)> {
    let ab = if results_given {
        &AbArgs {
            no_ab: true,
            ..Default::default()
        }
    } else {
        ab
    };
    ab_plan_for(workload, ab, gate_on, pr_base)
}

/// A/B mode from the flags and the config's `ab:` section (flags win), and
/// which view decides.
pub fn ab_plan_for(
    w: &WorkloadArgs,
    ab: &AbArgs,
    gate_on: Option<GateOn>,
    pr_base: PrBase,
) -> Result<(Option<AbPlan>, GateOn)> {
    let config = match config_path(w) {
        Some(p) => Some(Config::load(&p)?),
        None => None,
    };
    let cab = config.as_ref().map(|c| c.ab.clone()).unwrap_or_default();
    let gate_on = gate_on.or(cab.gate_on).unwrap_or_default();
    if ab.no_ab {
        return Ok((None, gate_on));
    }
    let builtin = config.is_none();
    // On by default for a pull request whose workload can be built in the
    // base tree: the built-in one, or one with a setup command.
    let buildable = builtin || ab.ab_setup.is_some() || cab.setup.is_some();
    let by_default = cab.enabled.is_none()
        && ab.ab.is_none()
        && matches!(pr_base, PrBase::Gate(Some(_)))
        && buildable;
    let by_default = by_default
        && {
            let in_git = std::process::Command::new("git")
                .args(["rev-parse", "--is-inside-work-tree"])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success());
            if !in_git {
                eprintln!("A/B mode: not inside a git repository, so the pull request's base cannot be checked out; comparing with the baseline only");
            }
            in_git
        };
    if by_default {
        eprintln!("A/B mode: on by default for a pull request (the base commit is measured side by side on this runner; `ab: false` turns it off)");
    }
    let source = if let Some(d) = &ab.ab_dir {
        BaseSource::Dir(d.clone())
    } else if let Some(rev) = ab.ab.clone().or_else(|| {
        (cab.enabled == Some(true) || by_default)
            .then(|| cab.base.clone().unwrap_or_else(|| "pr-base".into()))
    }) {
        if rev != "pr-base" {
            BaseSource::Git(rev)
        } else {
            match pr_base {
                PrBase::Gate(Some(pr)) => BaseSource::PullRequest(pr.clone()),
                PrBase::Gate(None) => {
                    eprintln!("A/B mode: this event has no pull request base; comparing with the baseline only");
                    return Ok((None, gate_on));
                }
                PrBase::NotGate => anyhow::bail!(
                    "A/B base `pr-base` is the pull request's base, known only to `gate` on a pull_request event; name a revision instead, e.g. --ab origin/main"
                ),
            }
        }
    } else {
        return Ok((None, gate_on));
    };
    let setup = ab
        .ab_setup
        .clone()
        .or(cab.setup)
        .or_else(|| builtin.then(|| BUILTIN_AB_SETUP.to_string()));
    let build_cache = (builtin && setup.as_deref() == Some(BUILTIN_AB_SETUP))
        .then(|| std::env::var_os(BUILD_CACHE_VAR))
        .flatten()
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let setup_env = if builtin {
        // Each tree builds into its own target folder.
        vec![("CARGO_TARGET_DIR", "{tree}/target".to_string())]
    } else {
        Vec::new()
    };
    Ok((
        Some(AbPlan {
            source,
            setup,
            setup_env,
            env_policy: config.map(|c| c.env_policy).unwrap_or_default(),
            build_cache,
        }),
        gate_on,
    ))
}

/// Runs the setup in both trees; with a build cache (the built-in
/// workload), the base's build is taken from the cache when it holds one
/// for this base commit, and put there after a build otherwise.
fn set_up_trees(trees: &Trees, plan: &AbPlan, setup: &str) -> Result<()> {
    let cached = plan
        .build_cache
        .as_ref()
        .filter(|_| crate::measure::trees::is_sha(&trees.base_commit))
        .map(|c| c.join(&trees.base_commit).join("bench-gate"));
    let built = trees.base.join(BUILTIN_AB_EXE);
    let restored = cached.as_ref().is_some_and(|c| restore_build(c, &built));
    if restored {
        eprintln!(
            "A/B mode: the base commit's build was restored from the cache ({})",
            cached.as_deref().unwrap_or(&built).display()
        );
    } else {
        trees.setup_one(true, setup, &plan.setup_env)?;
        if let Some(c) = &cached {
            // Before the head's setup runs anything of the pull request's.
            if let Err(e) = save_build(&built, c) {
                eprintln!("warning: A/B mode: the base build was not cached: {e:#}");
            }
        }
    }
    trees.setup_one(false, setup, &plan.setup_env)
}

/// Copies a cached base build into the base tree, if it runs.
fn restore_build(cached: &std::path::Path, to: &std::path::Path) -> bool {
    if !cached.is_file() {
        return false;
    }
    let copied = to
        .parent()
        .map(std::fs::create_dir_all)
        .unwrap_or(Ok(()))
        .and_then(|_| std::fs::copy(cached, to));
    copied.is_ok()
        && std::process::Command::new(to)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// Copies the base build into the cache folder (atomically).
fn save_build(built: &std::path::Path, cached: &std::path::Path) -> Result<()> {
    let bytes = std::fs::read(built).with_context(|| format!("{}", built.display()))?;
    if let Some(dir) = cached.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    crate::fsutil::write_atomic(cached, &bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(cached, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Kill the iteration in flight on Ctrl-C or SIGTERM, so nothing outlives us
/// (the temporary folders are the interrupt handler's own to remove).
fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::mem::forget(crate::interrupt::on_interrupt(|| {
            measure::kill_active();
            measure::trees::remove_all();
            crate::fsutil::abandon_writes();
            measure::programs::remove_all();
            eprintln!("interrupted; nothing was written");
        }));
    });
}

/// Kills what the session's commands left running outside their process
/// groups, when dropped.
struct Sweep;

impl Drop for Sweep {
    fn drop(&mut self) {
        measure::reaper::kill_descendants(true);
    }
}

/// Benchmarks a workload: every scenario, in order, stopping at the first failure.
pub fn benchmark(args: &WorkloadArgs) -> Result<Results> {
    benchmark_confirmed(args, None, None)
}

/// What a confirmation re-run compares against, and how often it re-measures.
pub struct Confirm<'a> {
    pub baseline: &'a Baseline,
    pub baseline_file: String,
    pub flags: ThresholdFlags,
    pub rounds: u32,
}

/// The scenarios of an A/B run's base tree, and what became of each.
struct BaseSide {
    trees: Trees,
    workload: Workload,
    /// Per head scenario: its base run, or why there is none.
    runs: Vec<std::result::Result<measure::runner::ScenarioRun, String>>,
    /// What the base tree's own config defines (see [`base_config`]).
    config: BaseConfig,
}

/// The metrics the base tree's own bench-gate.yml defines, or why it could
/// not be read; both `None` when the base has no config.
#[derive(Debug, Default)]
struct BaseConfig {
    metrics: Option<Vec<String>>,
    error: Option<String>,
}

/// Reads the base tree's own bench-gate.yml (the same path as the head's),
/// for the metrics it defines for `workload` (or, when it has no workload of
/// that name, for its default one), restricted to `--only`. Both trees are
/// measured with the head's config, so without this a change that drops or
/// renames the scenario that regressed would pass. A config that does not
/// parse is treated as absent, and the error is kept to be reported.
fn base_config(args: &WorkloadArgs, trees: &Trees, workload: &str) -> BaseConfig {
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| workload::config::DEFAULT_FILE.into());
    let fail = |why: String| {
        let why: String = why
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(500)
            .collect();
        eprintln!("warning: A/B: the base commit's {why}; metrics it defines are not checked");
        BaseConfig {
            metrics: None,
            error: Some(why),
        }
    };
    let at = match trees.in_base(&path) {
        Ok(p) => p,
        Err(e) => return fail(format!("{}: {e:#}", path.display())),
    };
    let text = match crate::fsutil::read_capped_string(&at, crate::fsutil::MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BaseConfig::default(),
        Err(e) => return fail(format!("{}: cannot read: {e}", path.display())),
    };
    let config = match Config::parse(&path, &text) {
        Ok(c) => c,
        Err(e) => return fail(format!("{e} (does not parse; treated as no base config)")),
    };
    let name = if config.workload_names().iter().any(|n| n == workload) {
        workload.to_string()
    } else {
        config.default_workload.clone()
    };
    let Ok(w) = config.workload(&name) else {
        return BaseConfig::default();
    };
    let mut metrics: Vec<String> = w
        .scenarios
        .iter()
        .filter(|s| args.only.is_empty() || args.only.contains(&s.name))
        .flat_map(|s| s.metrics.iter().map(|m| m.name.clone()))
        .filter(|m| model::valid_metric_name(m))
        .collect();
    metrics.sort();
    metrics.dedup();
    BaseConfig {
        metrics: Some(metrics),
        error: None,
    }
}

impl BaseSide {
    fn results(&self, env: &model::Environment) -> model::AbRun {
        let mut workload = self.workload.clone();
        let mut runs = Vec::new();
        let mut skipped = Vec::new();
        let mut kept = Vec::new();
        for (s, r) in self.workload.scenarios.iter().zip(&self.runs) {
            match r {
                Ok(run) => {
                    kept.push(s.clone());
                    runs.push(run.clone());
                }
                Err(reason) => skipped.push(model::AbSkipped {
                    scenario: s.name.clone(),
                    reason: reason.clone(),
                }),
            }
        }
        workload.scenarios = kept;
        model::AbRun {
            requested: model::free_text(&self.trees.requested, model::TEXT_MAX),
            base_commit: self.trees.base_commit.clone(),
            head_commit: self.trees.head_commit.clone(),
            order: "ABBA".into(),
            base_dir: self
                .trees
                .base_dir
                .as_deref()
                .map(|d| model::free_text(d, model::TEXT_MAX)),
            base_how: self
                .trees
                .base_how
                .as_deref()
                .map(|d| model::free_text(d, model::TEXT_MAX)),
            base: Box::new(measure::build::results(&workload, &runs, env.clone())),
            skipped,
            base_config_metrics: self.config.metrics.clone(),
            base_config_error: self.config.error.clone(),
        }
    }
}

/// A scenario failed after others were measured: the error, with the
/// results of those others (marked incomplete) for `run --output` to keep.
/// It reads as the error alone, with the same causes.
#[derive(Debug)]
pub struct Partial {
    pub results: Box<Results>,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Partial {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Makes both sides of an A/B run start alike (see
/// [`measure::programs`]): the built-in workload runs fresh copies of each
/// tree's build, a config's files inside each tree are dropped from the page
/// cache, and a private copy of bench-gate measures both sides.
fn even_out(
    args: &WorkloadArgs,
    base: &mut BaseSide,
    head: &mut Workload,
) -> Result<(
    measure::programs::PrivateHelper,
    Option<measure::programs::Staged>,
)> {
    let staged = if config_path(args).is_none() {
        Some(measure::programs::stage(&mut base.workload, head)?)
    } else {
        measure::programs::evict_tree_files(&base.workload, &base.trees.base);
        measure::programs::evict_tree_files(head, &base.trees.head);
        None
    };
    let helper = measure::programs::PrivateHelper::start()
        .context("A/B mode: cannot copy bench-gate to a private measuring helper")?;
    Ok((helper, staged))
}

/// Measures scenario `i`: alone, or in pairs with the base tree's copy.
/// A scenario that cannot run on the base is measured on the head alone.
fn measure_scenario(
    i: usize,
    s: &workload::Scenario,
    base: Option<&mut BaseSide>,
    progress: &mut dyn progress::Progress,
) -> Result<measure::runner::ScenarioRun> {
    let Some(base) = base.filter(|b| b.runs.get(i).is_none_or(|r| r.is_ok())) else {
        return Ok(runner::run_scenario(s, progress)?);
    };
    match measure::ab::run_pairs(&base.workload.scenarios[i], s, progress) {
        Ok((a, b)) => {
            match base.runs.get_mut(i) {
                Some(Ok(run)) => {
                    run.samples.extend(a.samples);
                    run.warmup_samples.extend(a.warmup_samples);
                    run.overhead_ms.extend(a.overhead_ms);
                }
                _ => base.runs.push(Ok(a)),
            }
            Ok(b)
        }
        Err(PairFailed {
            side: Side::B,
            failed,
        }) => Err(failed.into()),
        Err(PairFailed {
            side: Side::A,
            failed,
        }) => {
            let reason = failed.to_string();
            eprintln!(
                "A/B: scenario '{}' could not run on the base commit, so it is measured on the head alone: {reason}",
                s.name
            );
            // Kept in the results: one line of text that reads back.
            let reason =
                model::free_text(reason.lines().next().unwrap_or_default(), model::TEXT_MAX);
            match base.runs.get_mut(i) {
                Some(r) => *r = Err(reason),
                None => base.runs.push(Err(reason)),
            }
            Ok(runner::run_scenario(s, progress)?)
        }
    }
}

/// Counts scenario `i` under Valgrind when it asks for it: in the head, and
/// in the base tree too in A/B mode (where a failure on the base only
/// skips the base's counts, as a scenario that cannot run there is).
fn count_scenario(
    i: usize,
    s: &workload::Scenario,
    run: &mut measure::runner::ScenarioRun,
    base: Option<&mut BaseSide>,
) -> Result<()> {
    if s.counted.is_empty() {
        return Ok(());
    }
    run.counts = measure::valgrind::count(s)?;
    let Some(base) = base else {
        return Ok(());
    };
    let (Some(bs), Some(Ok(brun))) = (base.workload.scenarios.get(i), base.runs.get_mut(i)) else {
        return Ok(());
    };
    brun.counts = match measure::valgrind::count(bs) {
        Ok(c) => c,
        Err(e) => {
            let reason = model::free_text(
                &format!("failed under Valgrind on the base: {}", e.why),
                model::TEXT_MAX,
            );
            eprintln!("A/B: scenario '{}' {reason}", s.name);
            let mut c = measure::valgrind::Counts::default();
            for kind in &bs.counted {
                for (name, _) in measure::valgrind::metric_names(&bs.name, *kind) {
                    c.skipped.push((
                        name,
                        model::Skipped {
                            reason: reason.clone(),
                            warning: true,
                        },
                    ));
                }
            }
            c
        }
    };
    Ok(())
}

/// (scenario, metric) of every metric failing in the views that decide
/// (side by side, the baseline, or both), whose measure `keep` accepts.
fn failing_in_deciding_views(
    c: &Comparison,
    r: &Results,
    keep: impl Fn(Option<&str>) -> bool,
) -> Vec<(String, String)> {
    let views: Vec<&Comparison> = match (&c.side_by_side, c.gate_on) {
        (Some(s), Some(GateOn::Ab)) => vec![s],
        (Some(s), Some(GateOn::Both)) => vec![c, s.as_ref()],
        _ => vec![c],
    };
    views
        .into_iter()
        .flat_map(|v| v.metrics.iter())
        .filter(|m| m.status == compare::Status::Failure)
        .filter_map(|m| Some((r.metrics.get(&m.name)?, m.name.clone())))
        .filter(|(x, _)| keep(x.measure.as_deref()))
        .filter_map(|(x, name)| Some((x.scenario.clone()?, name)))
        .collect()
}

/// Why it got slower: for each scenario with a failing instruction metric
/// (in the view that decides), one run under callgrind in both trees and
/// the functions whose counts changed most, with a differential flame
/// graph; without a base tree (or when the scenario could not run there),
/// the head's hottest functions. A callgrind failure is a warning: the
/// verdict stands without the explanation.
fn explain(
    workload: &Workload,
    base: Option<&BaseSide>,
    r: &Results,
    cf: &Confirm,
) -> Vec<model::Why> {
    let c = compare::compare(cf.baseline, &cf.baseline_file, r, cf.flags);
    let mut failing = failing_in_deciding_views(&c, r, |m| m == Some("instructions"));
    failing.sort();
    failing.dedup_by(|a, b| a.0 == b.0);
    let mut out = Vec::new();
    for (scenario, metric) in failing {
        let Some(i) = workload.scenarios.iter().position(|s| s.name == scenario) else {
            continue;
        };
        let head_s = &workload.scenarios[i];
        let base_s = base.and_then(|b| match b.runs.get(i) {
            Some(Ok(_)) => b.workload.scenarios.get(i),
            _ => None,
        });
        let roots: Vec<&std::path::Path> = match base {
            Some(b) => vec![b.trees.head.as_path(), b.trees.base.as_path()],
            None => Vec::new(),
        };
        eprintln!(
            "why: {metric} failed; running scenario '{scenario}' once under callgrind{} (part of this job's time)",
            if base_s.is_some() { " in both trees" } else { "" }
        );
        let warn = |e: &dyn std::fmt::Display| {
            crate::report::messages::warning(format!(
                "why: scenario '{scenario}': no function list: {e}"
            ))
        };
        let (after, mut seconds) = match measure::callgrind::profile(head_s, &roots) {
            Ok(p) => p,
            Err(e) => {
                warn(&e);
                continue;
            }
        };
        let before = match base_s.map(|s| measure::callgrind::profile(s, &roots)) {
            None => None,
            Some(Ok((p, s))) => {
                seconds += s;
                Some(p)
            }
            Some(Err(e)) => {
                warn(&e);
                None
            }
        };
        let after_folded = measure::callgrind::folded(&after);
        let before_folded = before.as_ref().map(measure::callgrind::folded);
        let title = match before {
            Some(_) => format!("{scenario}: instructions, base → head"),
            None => format!("{scenario}: instructions (head)"),
        };
        let svg =
            match crate::report::why::flamegraph(&title, before_folded.as_deref(), &after_folded) {
                Ok(svg) => Some(svg),
                Err(e) => {
                    warn(&e);
                    None
                }
            };
        let (kind, functions) = match &before {
            Some(b) => (
                model::WhyKind::Changed,
                measure::callgrind::changed(b, &after),
            ),
            None => (model::WhyKind::Hottest, measure::callgrind::hottest(&after)),
        };
        eprintln!(
            "why: scenario '{scenario}': callgrind took {seconds:.1} s; {}",
            functions
                .first()
                .map_or("no function changed".into(), |f| format!(
                    "first: {}",
                    f.name
                ))
        );
        out.push(model::Why {
            scenario,
            metric,
            kind,
            base_total: before.as_ref().map(|b| b.total),
            head_total: after.total,
            functions,
            flamegraph: None,
            flamegraph_svg: svg,
            seconds,
        });
    }
    out
}

/// Benchmarks a workload, with the base commit side by side when `ab` is
/// given; with `confirm`, every scenario with a metric above its failure
/// threshold (in the view that decides) is measured `rounds` more times, in
/// pairs in A/B mode, while the services still run, and the results hold all
/// the samples.
pub fn benchmark_confirmed(
    args: &WorkloadArgs,
    ab: Option<&AbPlan>,
    confirm: Option<Confirm>,
) -> Result<Results> {
    install_interrupt_handler();
    // Dropped last: whatever escaped its process group (a `setsid` daemon)
    // is killed when the session ends, however it ends (Linux).
    let _sweep = Sweep;
    // A/B: both trees are ready (checked out, set up) before anything is measured.
    let mut base = match ab {
        None => None,
        Some(plan) => {
            let trees = measure::trees::prepare(&plan.source, &plan.env_policy)?;
            match &trees.base_dir {
                Some(dir) => eprintln!(
                    "A/B mode: base tree {dir} (commit {}), head tree {} (commit {})",
                    trees.base_commit,
                    trees.head.display(),
                    trees.head_commit
                ),
                None => eprintln!(
                    "A/B mode: base {} (merge base of {} and HEAD) checked out in {}; head {} in {}",
                    trees.base_commit,
                    trees.requested,
                    trees.base.display(),
                    trees.head_commit,
                    trees.head.display()
                ),
            }
            if trees.base_commit == trees.head_commit && trees.base_commit != "unknown" {
                crate::report::messages::warning(format!(
                    "A/B mode: the base resolves to the head's own commit ({}), so this is an A/A run: both sides run the same code, and any difference is noise (or the head tree's uncommitted changes)",
                    trees.head_commit
                ));
            }
            if let Some(setup) = &plan.setup {
                set_up_trees(&trees, plan, setup)?;
            }
            let workload = resolve_workload_in(args, Some((&trees, Side::A)))?;
            Some(BaseSide {
                trees,
                workload,
                runs: Vec::new(),
                config: BaseConfig::default(),
            })
        }
    };
    let mut workload = match &base {
        Some(b) => resolve_workload_in(args, Some((&b.trees, Side::B)))?,
        None => resolve_workload(args)?,
    };
    // Kept until the last measurement: the private helper and the copies.
    let mut even = None;
    if let Some(b) = base.as_mut() {
        b.config = base_config(args, &b.trees, &workload.name);
        even = Some(even_out(args, b, &mut workload)?);
    }
    if !args.quiet {
        announce_choice(args, &workload);
    }
    // Stopped when dropped: after the last scenario, or after a failing one.
    let _services = measure::services::Services::start(&workload.services)?;
    let mut progress = progress::for_stderr(args.quiet);
    let mut runs = Vec::new();
    let env = measure::build::fingerprint();
    let assemble = |runs: &[measure::runner::ScenarioRun], base: &Option<BaseSide>| {
        let mut r = measure::build::results(&workload, runs, env.clone());
        r.ab = base.as_ref().map(|b| b.results(&env));
        if let Some((_, Some(staged))) = &even {
            staged.restore_commands(&mut r);
        }
        r
    };
    for (i, s) in workload.scenarios.iter().enumerate() {
        let measured = measure_scenario(i, s, base.as_mut(), progress.as_mut())
            .and_then(|mut run| count_scenario(i, s, &mut run, base.as_mut()).map(|()| run));
        match measured {
            Ok(run) => runs.push(run),
            // What was measured before the failure is kept (marked
            // incomplete); an interrupt keeps nothing.
            Err(e) if !runs.is_empty() && !crate::interrupt::interrupted() => {
                let mut results = assemble(&runs, &base);
                results.incomplete = Some(model::Incomplete {
                    scenario: s.name.clone(),
                    error: model::free_text(&crate::report::messages::chain(&e), model::TEXT_MAX),
                });
                return Err(Partial {
                    results: Box::new(results),
                    error: e,
                }
                .into());
            }
            Err(e) => return Err(e),
        }
    }
    let mut first = assemble(&runs, &base);
    if let Some(cf) = &confirm {
        first.why = explain(&workload, base.as_ref(), &first, cf);
    }
    let Some(cf) = confirm.filter(|c| c.rounds > 0) else {
        return Ok(first);
    };
    let failing = |r: &Results| -> Vec<(String, String)> {
        let c = compare::compare(cf.baseline, &cf.baseline_file, r, cf.flags);
        // A count under Valgrind is the same when measured again.
        let mut out = failing_in_deciding_views(&c, r, |m| {
            !matches!(m, Some("instructions" | "allocations"))
        });
        out.sort();
        out.dedup();
        out
    };
    let before = failing(&first);
    if before.is_empty() {
        return Ok(first);
    }
    let mut confirmed = Vec::new();
    for (i, s) in workload.scenarios.iter().enumerate() {
        let metrics: Vec<String> = before
            .iter()
            .filter(|(sc, _)| sc == &s.name)
            .map(|(_, m)| m.clone())
            .collect();
        if metrics.is_empty() {
            continue;
        }
        eprintln!(
            "confirming: {} above the failure threshold; measuring scenario '{}' {} more time(s)",
            metrics.join(", "),
            s.name,
            cf.rounds
        );
        for _ in 0..cf.rounds {
            let more = measure_scenario(i, s, base.as_mut(), progress.as_mut())?;
            runs[i].samples.extend(more.samples);
            runs[i].warmup_samples.extend(more.warmup_samples);
            runs[i].overhead_ms.extend(more.overhead_ms);
        }
        confirmed.push((s.name.clone(), metrics));
    }
    let mut results = assemble(&runs, &base);
    // Counts are not measured again: what explained them still does.
    results.why = first.why;
    let after = failing(&results);
    results.confirmations = confirmed
        .into_iter()
        .map(|(scenario, failing_before)| model::Confirmation {
            failing_after: after
                .iter()
                .filter(|(sc, _)| *sc == scenario)
                .map(|(_, m)| m.clone())
                .collect(),
            scenario,
            rounds: cf.rounds,
            failing_before,
        })
        .collect();
    for c in &results.confirmations {
        eprintln!("confirmation: {}", crate::report::confirmation_log(c));
    }
    Ok(results)
}

/// What `calibrate` measured: the workload run as both sides of A/A pairs.
pub struct Calibrated {
    /// The first side of every pair, and the second: one program, so any
    /// difference between them is noise.
    pub a: Results,
    pub b: Results,
    /// Rounds of `iterations` pairs per scenario.
    pub rounds: u32,
    pub elapsed: std::time::Duration,
}

/// Measures the workload in A/A pairs (each scenario against itself, ABBA
/// order, as A/B mode measures) in rounds of its iterations, until another
/// round would not fit in `max_time` (at least one round). Counts under
/// Valgrind are not taken: they are deterministic.
pub fn calibrate(args: &WorkloadArgs, max_time: std::time::Duration) -> Result<Calibrated> {
    install_interrupt_handler();
    let _sweep = Sweep;
    let workload = resolve_workload(args)?;
    if !args.quiet {
        announce_choice(args, &workload);
    }
    let _services = measure::services::Services::start(&workload.services)?;
    let mut progress = progress::for_stderr(args.quiet);
    let started = std::time::Instant::now();
    let mut runs_a = vec![measure::runner::ScenarioRun::default(); workload.scenarios.len()];
    let mut runs_b = runs_a.clone();
    let mut rounds = 0u32;
    loop {
        let round_started = std::time::Instant::now();
        for (i, s) in workload.scenarios.iter().enumerate() {
            // Warm-up pairs in the first round only.
            let mut s = s.clone();
            if rounds > 0 {
                s.warmup = 0;
            }
            let (a, b) = measure::ab::run_pairs(&s, &s, progress.as_mut())
                .map_err(|e| anyhow::Error::from(e.failed))?;
            for (run, more) in [(&mut runs_a[i], a), (&mut runs_b[i], b)] {
                run.samples.extend(more.samples);
                run.overhead_ms.extend(more.overhead_ms);
            }
        }
        rounds += 1;
        let round = round_started.elapsed();
        let elapsed = started.elapsed();
        if !args.quiet {
            crate::report::messages::note(format_args!(
                "calibrate: round {rounds} took {:.1} s ({:.0} s of {:.0} s used)",
                round.as_secs_f64(),
                elapsed.as_secs_f64(),
                max_time.as_secs_f64()
            ));
        }
        if elapsed + round > max_time {
            break;
        }
    }
    let env = measure::build::fingerprint();
    Ok(Calibrated {
        a: measure::build::results(&workload, &runs_a, env.clone()),
        b: measure::build::results(&workload, &runs_b, env),
        rounds,
        elapsed: started.elapsed(),
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A cached base build goes back into the base tree only when it runs;
    /// a missing or broken one means building again.
    #[test]
    fn a_cached_base_build_is_restored_only_when_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let built = dir.path().join("base/target/release/bench-gate");
        std::fs::create_dir_all(built.parent().unwrap()).unwrap();
        std::fs::write(&built, "#!/bin/sh\n[ \"$1\" = --version ]\n").unwrap();
        let cached = dir
            .path()
            .join("cache")
            .join("a".repeat(40))
            .join("bench-gate");
        save_build(&built, &cached).unwrap();
        let into = dir.path().join("other/target/release/bench-gate");
        assert!(restore_build(&cached, &into));
        assert_eq!(
            std::fs::read(&into).unwrap(),
            std::fs::read(&built).unwrap()
        );
        assert!(!restore_build(
            &dir.path().join("cache/none/bench-gate"),
            &into
        ));
        std::fs::write(&cached, "#!/bin/sh\nexit 1\n").unwrap();
        assert!(!restore_build(
            &cached,
            &dir.path().join("third/bench-gate")
        ));
    }
}
