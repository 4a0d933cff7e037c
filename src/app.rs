//! Runs a parsed command. Returns the process exit code; errors become exit 3.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::baseline::{discover, Baseline};
use crate::cli::{
    CalibrateArgs, CaptureArgs, CleanArgs, Cli, Command, CompareArgs, CompareFormat, CompareInputs,
    GateArgs, GenerateArgs, HistoryCommand, ListArgs, PersonaFormat, ProviderKind, ReportArgs,
    ReportFormat, RunArgs, RunFormat, TrendsArgs, TrendsFormat,
};
use crate::compare::{self, Comparison, ThresholdFlags};
use crate::model::Results;
use crate::persona::{self, provider, synth::SynthOptions};
use crate::report;
use crate::session::{
    ab_plan, ab_plan_for, benchmark, benchmark_confirmed, Confirm, PrBase, WorkloadArgs,
};

use crate::model::Exit;

/// The exit codes as numbers (see [`Exit`], the one table).
pub const EXIT_OK: u8 = Exit::Ok as u8;
pub const EXIT_WARNING: u8 = Exit::Warning as u8;
pub const EXIT_FAILURE: u8 = Exit::Failure as u8;
pub const EXIT_ERROR: u8 = Exit::Error as u8;

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Generate(args) => generate(args),
        Command::Run(args) => run_cmd(args),
        Command::Capture(args) => capture(args),
        Command::Compare(args) => compare_cmd(args),
        Command::Report(args) => report_cmd(args),
        Command::List(args) => list(args),
        Command::Clean(args) => clean(args),
        Command::Trends(args) => trends(args),
        Command::Gate(args) => gate(args),
        Command::Serve(args) => crate::serve::run(crate::serve::ServeOptions {
            bind: args.bind,
            allow_remote: args.allow_remote,
            model: args.model,
            delay_ms: args.delay_ms,
            jitter_ms: args.jitter_ms,
            per_token_ms: args.per_token_ms,
            seed: args.seed,
            max_seconds: args.max_seconds,
            log: args.log,
            mode: crate::serve::Mode::from_args(args.record, args.upstream, args.replay),
        }),
        Command::Import(args) => {
            let results = crate::import::import(args.format, &args.files)?;
            write_out(args.output.as_deref(), &results.to_json())?;
            eprintln!(
                "imported {} metrics from {} file(s)",
                results.metrics.len(),
                args.files.len()
            );
            Ok(EXIT_OK)
        }
        Command::Export(args) => {
            let results = Results::load(&args.results)?;
            write_out(
                args.output.as_deref(),
                &crate::export::export(&results, args.format),
            )?;
            Ok(EXIT_OK)
        }
        Command::Merge(args) => {
            let parts = args
                .files
                .iter()
                .map(|p| {
                    let r = Results::load(p)?;
                    r.require_complete(&p.display().to_string(), "a merge")?;
                    Ok((p.clone(), r))
                })
                .collect::<Result<Vec<_>>>()?;
            let merged = crate::shard::merge(parts)?;
            crate::fsutil::write_atomic(&args.output, merged.to_json().as_bytes())?;
            eprintln!(
                "merged {} shards: {} scenarios, {} metrics into {}",
                merged.shards.len(),
                merged.scenarios.len(),
                merged.metrics.len(),
                args.output.display()
            );
            Ok(EXIT_OK)
        }
        Command::History(cmd) => history(cmd),
        Command::Calibrate(args) => calibrate(args),
    }
}

/// Writes to a file (atomically) or to stdout.
fn write_out(path: Option<&std::path::Path>, text: &str) -> Result<()> {
    match path {
        Some(p) => {
            crate::fsutil::write_atomic(p, text.as_bytes())?;
            report::messages::wrote(p);
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// `calibrate`: A/A pairs within the time budget, the noise per metric and
/// the thresholds proposed; with `--write`, stored in a baseline file.
fn calibrate(args: CalibrateArgs) -> Result<u8> {
    use crate::compare::calibration;
    // A baseline to merge into must load before anything is measured.
    let existing = match &args.write {
        Some(p) if p.exists() => Some(Baseline::load(p)?),
        _ => None,
    };
    let version = match (&args.write, &args.baseline_version) {
        (_, Some(v)) => v.clone(),
        (Some(p), None) => p
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(discover::parse_version)
            .map_or_else(|| "calibrated".to_string(), |v| v.to_string()),
        (None, None) => String::new(),
    };
    if let (Some(b), Some(p)) = (&existing, &args.write) {
        let name = crate::session::resolve_workload(&args.workload.plan())?.name;
        if let Some(w) = b.workload.as_ref().filter(|w| **w != name) {
            anyhow::bail!(
                "{}: a baseline of workload '{}', but the workload calibrated is '{name}'; write into a baseline of the same workload (or a new file)",
                p.display(),
                report::escape::log(w)
            );
        }
    }
    let cal = crate::session::calibrate(&args.workload.plan(), args.max_time)?;
    let noise: Vec<calibration::Noise> = cal
        .b
        .metrics
        .iter()
        .map(|(name, b)| {
            let a = cal.a.metrics.get(name).map_or(&[][..], |m| &m.samples[..]);
            calibration::assess(name, &b.unit, b.statistic.as_deref(), a, &b.samples)
        })
        .collect();
    if noise.is_empty() {
        anyhow::bail!(
            "calibrate: the workload '{}' reports no metrics",
            cal.b.workload
        );
    }
    let pairs: usize = cal.b.scenarios.iter().map(|s| s.samples.len()).sum();
    eprintln!(
        "calibrate: {} round(s), {pairs} A/A pair(s) over {} scenario(s) in {:.0} s",
        cal.rounds,
        cal.b.scenarios.len(),
        cal.elapsed.as_secs_f64()
    );
    let text = match args.format {
        crate::cli::CalibrateFormat::Table => report::terminal::calibration_table(&noise),
        crate::cli::CalibrateFormat::Json => {
            let mut s = report::escape::json_text(
                &serde_json::to_string_pretty(&noise).expect("calibration serialises"),
            );
            s.push('\n');
            s
        }
    };
    std::io::stdout()
        .lock()
        .write_all(report::escape::log_text(&text).as_bytes())?;
    if let Some(path) = &args.write {
        let measured = Baseline::from_results(&cal.b, version);
        let fresh = existing.is_none();
        let mut baseline = existing.unwrap_or_else(|| Baseline {
            metrics: Default::default(),
            samples: Default::default(),
            ..measured.clone()
        });
        let written = calibration::apply(&mut baseline, &noise, &measured);
        // Checked as it will read back before it replaces anything.
        let yaml = baseline.to_yaml();
        let back = Baseline::parse(&path.display().to_string(), &yaml).with_context(|| {
            format!(
                "{}: the baseline to write does not read back",
                path.display()
            )
        })?;
        for n in &noise {
            let m = back.metrics.get(&n.name);
            if m.and_then(|m| m.failure) != Some(n.proposed.failure)
                || m.and_then(|m| m.warning) != Some(n.proposed.warning)
            {
                anyhow::bail!(
                    "{}: the thresholds of {} would not read back as written; nothing was written",
                    path.display(),
                    n.name
                );
            }
        }
        crate::fsutil::write_atomic(path, yaml.as_bytes())
            .with_context(|| format!("{}: cannot write baseline", path.display()))?;
        report::messages::note(format_args!(
            "wrote {} ({}): thresholds of {} metric(s) set, {} added",
            path.display(),
            if fresh {
                "a new baseline"
            } else {
                "merged into the existing baseline"
            },
            written.updated,
            written.added
        ));
    }
    Ok(EXIT_OK)
}

fn history(cmd: HistoryCommand) -> Result<u8> {
    use crate::history;
    match cmd {
        HistoryCommand::Append {
            results,
            file,
            commit,
            git_ref,
            keep,
        } => {
            let r = Results::load(&results)?;
            let n = history::append(&file, &history::entry(&r, commit, git_ref), keep)?;
            eprintln!("{}: {n} entries", file.display());
        }
        HistoryCommand::Chart {
            file,
            output,
            metric,
        } => {
            let entries = history::load(&file)?;
            if entries.is_empty() {
                anyhow::bail!(
                    "{}: no history yet; add results with `bench-gate history append`",
                    file.display()
                );
            }
            if let Some(m) = &metric {
                if !entries.iter().any(|e| e.metrics.contains_key(m)) {
                    anyhow::bail!("metric '{m}' is not in {}", file.display());
                }
            }
            let html = output
                .extension()
                .is_some_and(|e| e == "html" || e == "htm");
            let text = if html {
                report::history::html(&entries, metric.as_deref())
            } else {
                report::history::svg(&entries, metric.as_deref())
            };
            write_out(Some(&output), &text)?;
        }
    }
    Ok(EXIT_OK)
}

fn gate(args: GateArgs) -> Result<u8> {
    use crate::github::{
        context::{Context, ProcessEnv},
        gate,
    };
    let ctx = Context::from_env(&ProcessEnv, args.token.clone())?;
    ctx.refuse_pull_request_target(args.allow_pull_request_target)?;
    if ctx.event_name == "pull_request_target" {
        report::messages::warning("running on pull_request_target (--allow-pull-request-target): the benchmarked code runs while this job holds a write token");
    }
    let i = &args.inputs;
    let opts = gate::GateOptions {
        check_name: args.check_name.clone(),
        override_label: args.override_label.clone(),
        override_permission: args.override_permission,
        comment: args.comment,
        fail_on_regression: args.fail_on_regression,
        fail_on_warning: args.fail_on_warning,
        results_out: args.results_out.clone(),
        report_out: args.report_out.clone(),
        baseline: i.baseline.clone(),
        baselines_dir: i.baselines_dir.clone(),
        flags: rules(i)?,
        workload: i
            .workload
            .workload
            .clone()
            .unwrap_or_else(|| "standard".into()),
        results_given: i.results.is_some(),
        history_url: args.history_url.clone(),
        gate_login: args.gate_login.clone(),
        override_scope: match args.override_scope {
            crate::cli::OverrideScopeArg::Commit => gate::OverrideScope::Commit,
            crate::cli::OverrideScopeArg::PullRequest => gate::OverrideScope::PullRequest,
        },
        label_events: match args.label_events {
            crate::cli::LabelEventsArg::Reuse => gate::LabelEvents::Reuse,
            crate::cli::LabelEventsArg::Benchmark => gate::LabelEvents::Benchmark,
        },
        protected: protected_paths(i),
        relevant_paths: relevant_paths(i),
        history_branch: args.history_branch.clone().filter(|b| !b.is_empty()),
        history_keep: args.history_keep as usize,
    };
    let pr_base = pr_commits(&ctx);
    let (ab, gate_on) = ab_plan(
        &i.workload.plan(),
        &i.ab.request(),
        i.results.is_some(),
        i.gate_on,
        PrBase::Gate(pr_base.as_ref()),
    )?;
    let mut opts = opts;
    opts.flags.gate_on = gate_on;
    let flags = opts.flags;
    let mut obtain = || match &i.results {
        Some(p) => Results::load(p),
        None => {
            // Confirmation needs something to compare with: the baseline, or
            // in A/B mode the base commit alone; without either, nothing to
            // confirm. A baseline that does not load is an error (the
            // comparison, which loads it again, warns of unknown keys).
            let baseline = match discover::choose(
                &i.baseline,
                &i.baselines_dir,
                ab.is_some(),
                discover::UnknownKeys::Quiet,
            )? {
                discover::Chosen::NoneYet(_) => None,
                chosen => Some(chosen.baseline()?),
            };
            let confirm = baseline.as_ref().map(|(b, p)| Confirm {
                baseline: b,
                baseline_file: p.clone(),
                flags,
                rounds: i.confirm,
            });
            benchmark_confirmed(&i.workload.plan(), ab.as_ref(), confirm)
        }
    };
    gate::run(&ctx, &opts, &mut obtain)
}

/// The commits of the pull request (or merge group) the event is about.
fn pr_commits(ctx: &crate::github::context::Context) -> Option<crate::measure::trees::PrCommits> {
    match &ctx.event {
        crate::github::context::Event::PullRequest(p) => Some(crate::measure::trees::PrCommits {
            base_sha: p.pull_request.base.sha.clone(),
            head_sha: p.pull_request.head.sha.clone(),
            merge_sha: p.pull_request.merge_commit_sha.clone(),
        }),
        // The queue's head commit descends from its base: the merge base
        // with `base_sha` is `base_sha` itself.
        crate::github::context::Event::MergeGroup(m) => Some(crate::measure::trees::PrCommits {
            base_sha: m.merge_group.base_sha.clone(),
            head_sha: m.merge_group.head_sha.clone(),
            merge_sha: None,
        }),
        _ => None,
    }
}

/// The repository's top folder and this folder's path inside it (`sub/`,
/// or empty at the top): from git, else `GITHUB_WORKSPACE`, else here.
fn repository_prefix() -> (std::path::PathBuf, String) {
    let here = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .unwrap_or_else(|_| ".".into());
    let top = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| std::env::var("GITHUB_WORKSPACE").ok())
        .and_then(|t| std::fs::canonicalize(t).ok())
        .filter(|t| here.starts_with(t))
        .unwrap_or_else(|| here.clone());
    let prefix = here
        .strip_prefix(&top)
        .map(|p| {
            let p = p.to_string_lossy().replace('\\', "/");
            if p.is_empty() {
                p
            } else {
                format!("{p}/")
            }
        })
        .unwrap_or_default();
    (top, prefix)
}

/// What a pull request may not change without a maintainer's approval, as
/// repository-relative paths: the workflows, the baselines folder, the
/// config file and every file or folder its commands name.
fn protected_paths(i: &CompareInputs) -> Vec<String> {
    let (top, prefix) = repository_prefix();
    let here = std::env::current_dir().unwrap_or_default();
    // Repository-relative, whether the file exists or not (a pull request
    // may delete it): the nearest existing folder is resolved (through
    // symbolic links), the rest is taken as written.
    let relative = |p: &std::path::Path| -> Option<String> {
        let abs = resolve_path(&here.join(p));
        let rel = abs
            .strip_prefix(&top)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/");
        (!rel.is_empty()).then_some(rel)
    };
    // The whole of .github (workflows, local actions), and an action at the top.
    let mut out = vec![".github".to_string()];
    for action in ["action.yml", "action.yaml"] {
        if top.join(action).is_file() {
            out.push(action.to_string());
        }
    }
    // The baselines folder, however it was given (relative, absolute, `..`).
    let dir = i.baselines_dir.to_string_lossy().replace('\\', "/");
    out.push(relative(&i.baselines_dir).unwrap_or_else(|| {
        format!(
            "{prefix}{}",
            dir.trim_start_matches("./").trim_end_matches('/')
        )
    }));
    let config = i
        .workload
        .config
        .clone()
        .unwrap_or_else(|| crate::workload::config::DEFAULT_FILE.into());
    out.push(relative(&config).unwrap_or_else(|| {
        format!(
            "{prefix}{}",
            config.to_string_lossy().trim_start_matches("./")
        )
    }));
    if config.is_file() {
        // A config that does not load is reported when the workload runs.
        if let Ok(c) = crate::workload::config::Config::load(&config) {
            out.extend(c.named_paths().iter().filter_map(|p| relative(p)));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `relevant_paths:` of the config in the checkout (the pull request's
/// own: safe, since a change to the config is a setup change, which always
/// counts as relevant), made repository-relative: the globs are relative
/// to the config's folder, like every other path in it. A config that does
/// not load sets none: everything is benchmarked, and the workload reports
/// the error. Fail-closed: globs of which none matches a file of the
/// checkout are a wrong config, not a pull request that changes nothing,
/// so they set none either (with a warning naming them).
fn relevant_paths(i: &CompareInputs) -> Option<Vec<String>> {
    use crate::workload::config::{scoped_relevant, unmatched_globs, Config, DEFAULT_FILE};
    let config = i
        .workload
        .config
        .clone()
        .unwrap_or_else(|| DEFAULT_FILE.into());
    if !config.is_file() {
        return None;
    }
    let written = Config::load(&config).ok()?.relevant_paths?;
    let (top, _) = repository_prefix();
    let here = std::env::current_dir().unwrap_or_default();
    let folder = resolve_path(&here.join(&config))
        .parent()
        .and_then(|f| f.strip_prefix(&top).ok())
        .map(|f| f.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let globs = scoped_relevant(&written, &format!("{folder}/"));
    let Some(files) = checkout_files(&top) else {
        report::messages::warning(format!(
            "relevant_paths: the checkout's files could not be listed, so the globs {} cannot be checked; every pull request is benchmarked",
            quoted_list(&globs)
        ));
        return None;
    };
    let unmatched = unmatched_globs(&globs, &files);
    if unmatched.len() == globs.len() {
        report::messages::warning(format!(
            "relevant_paths: no glob matches a file of the checkout ({}; globs are relative to the folder of {}); every pull request is benchmarked until that is fixed",
            quoted_list(&globs),
            config.display()
        ));
        return None;
    }
    if !unmatched.is_empty() {
        report::messages::warning(format!(
            "relevant_paths: {} {} no file of the checkout (globs are relative to the folder of {})",
            quoted_list(&unmatched),
            if unmatched.len() == 1 { "matches" } else { "match" },
            config.display()
        ));
    }
    Some(globs)
}

/// `a`, `b` as text for a message.
fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|g| format!("{:?}", g.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The files of the checkout at `top`, repository-relative: git's list
/// (`git ls-files`), else (not a git checkout) a walk that skips `.git`
/// and `target`; `None` when neither works or the walk passes 200,000
/// entries.
fn checkout_files(top: &std::path::Path) -> Option<Vec<String>> {
    let git = std::process::Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["ls-files", "-z"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(o) = git {
        return Some(
            o.stdout
                .split(|b| *b == 0)
                .filter(|f| !f.is_empty())
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        );
    }
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(top).into_iter().filter_entry(|e| {
        e.depth() == 0 || !matches!(e.file_name().to_str(), Some(".git" | "target"))
    });
    for (n, e) in walk.enumerate() {
        if n > 200_000 {
            return None;
        }
        let e = e.ok()?;
        if e.file_type().is_dir() {
            continue;
        }
        let rel = e.path().strip_prefix(top).ok()?;
        out.push(rel.to_string_lossy().replace('\\', "/"));
    }
    Some(out)
}

/// `path` made absolute and clean: its longest existing prefix resolved by
/// the file system, the rest (which may not exist) by its components.
fn resolve_path(path: &std::path::Path) -> std::path::PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while std::fs::canonicalize(&existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for part in rest.iter().rev() {
        if part == ".." {
            out.pop();
        } else if part != "." {
            out.push(part);
        }
    }
    out
}

/// Reads `--results`, or benchmarks the workload when there is none.
fn obtain_results(results: Option<&std::path::Path>, workload: &WorkloadArgs) -> Result<Results> {
    match results {
        Some(path) => Results::load(path),
        None => benchmark(workload),
    }
}

/// The comparison rules from the command line (and the config's `compare:`
/// section, which flags override), checked.
fn rules(i: &CompareInputs) -> Result<ThresholdFlags> {
    let config = crate::session::compare_config(&i.workload.plan())?;
    if let (Some(w), Some(f)) = (i.warn_threshold, i.fail_threshold) {
        if w > f {
            anyhow::bail!("--warn-threshold {w} is above --fail-threshold {f}");
        }
    }
    for (name, v) in [("--floor-ms", i.floor_ms), ("--floor-mb", i.floor_mb)] {
        if !(v.is_finite() && v >= 0.0) {
            anyhow::bail!("{name} must be a non-negative number");
        }
    }
    Ok(ThresholdFlags {
        warning: i.warn_threshold,
        failure: i.fail_threshold,
        floor_ms: i.floor_ms,
        floor_mb: i.floor_mb,
        env_policy: i.env_mismatch,
        decision: i.decision,
        gate_on: i.gate_on.unwrap_or_default(),
        missing: i.missing.or(config.missing).unwrap_or_default(),
        allow_other_workload: i.allow_other_workload
            || config.allow_other_workload.unwrap_or(false),
    })
}

/// Everything `compare`, `report` and `gate` share: baseline, results, comparison.
pub fn comparison(inputs: &CompareInputs) -> Result<(Comparison, Results)> {
    let mut flags = rules(inputs)?;
    let (ab, gate_on) = ab_plan(
        &inputs.workload.plan(),
        &inputs.ab.request(),
        inputs.results.is_some(),
        inputs.gate_on,
        PrBase::NotGate,
    )?;
    flags.gate_on = gate_on;
    // Saved results that hold an A/B run can be compared on it alone.
    let saved = match &inputs.results {
        Some(p) => {
            let mut r = Results::load(p)?;
            // The flame graphs beside the results, for the HTML report.
            report::why::load_beside(p, &mut r);
            Some(r)
        }
        None => None,
    };
    let saved_ab = saved.as_ref().is_some_and(|r| r.ab.is_some());
    // Read the baseline first: a missing baseline should not cost a benchmark,
    // unless A/B mode will measure what to compare with.
    let chosen = discover::choose(
        &inputs.baseline,
        &inputs.baselines_dir,
        ab.is_some() || saved_ab,
        discover::UnknownKeys::Warn,
    )?;
    if matches!(chosen, discover::Chosen::BaseCommitOnly) {
        eprintln!(
            "no baseline in {} yet: comparing with the base commit only",
            inputs.baselines_dir.display()
        );
    }
    let (baseline, shown) = chosen.baseline()?;
    let results = match saved {
        Some(r) => r,
        None => benchmark_confirmed(
            &inputs.workload.plan(),
            ab.as_ref(),
            Some(Confirm {
                baseline: &baseline,
                baseline_file: shown.clone(),
                flags,
                rounds: inputs.confirm,
            }),
        )?,
    };
    let c = compare::compare_checked(&baseline, &shown, &results, flags)?;
    Ok((c, results))
}

fn compare_cmd(args: CompareArgs) -> Result<u8> {
    let (c, results) = comparison(&args.inputs)?;
    if let Some(path) = &args.save_results {
        // The flame graphs go beside the results, named in them.
        let results = report::why::save_beside(path, &results)?;
        crate::fsutil::write_atomic(path, results.to_json().as_bytes())?;
        report::messages::wrote(path);
    }
    // Benchmarking here already said so; a results file's are news.
    if args.inputs.results.is_some() {
        for conf in &results.confirmations {
            eprintln!("confirmation: {}", report::confirmation_log(conf));
        }
    }
    let text = match args.format {
        CompareFormat::Table => report::terminal::comparison_table(&c),
        CompareFormat::Markdown => report::markdown::verdict_and_table(&c),
        CompareFormat::Json => report::json(&c),
    };
    // The log runs workflow commands: no line of data may be one.
    std::io::stdout()
        .lock()
        .write_all(report::escape::log_text(&text).as_bytes())?;
    Ok(compare::exit_code(
        c.verdict,
        args.fail_on_regression || args.ci,
        args.fail_on_warning || args.ci,
    ))
}

fn report_cmd(args: ReportArgs) -> Result<u8> {
    let (c, _) = comparison(&args.inputs)?;
    let text = match args.format {
        ReportFormat::Markdown => report::markdown::report(&c),
        ReportFormat::Json => report::json(&c),
        ReportFormat::Html => report::html::report(&c),
    };
    match &args.output {
        Some(path) => {
            crate::fsutil::write_atomic(path, text.as_bytes())?;
            report::messages::wrote(path);
        }
        None => std::io::stdout()
            .lock()
            .write_all(report::escape::log_text(&text).as_bytes())?,
    }
    Ok(EXIT_OK)
}

fn capture(args: CaptureArgs) -> Result<u8> {
    if args.output.exists() && !args.force {
        anyhow::bail!(
            "{}: baseline exists; pass --force to overwrite it",
            args.output.display()
        );
    }
    let version = match &args.version {
        Some(v) => v.clone(),
        None => args
            .output
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(discover::parse_version)
            .map(|v| v.to_string())
            .with_context(|| {
                format!(
                    "{}: cannot tell the version from the file name; pass --baseline-version",
                    args.output.display()
                )
            })?,
    };
    let results = obtain_results(args.from.as_deref(), &args.workload.plan())?;
    if let Some(from) = &args.from {
        results.require_complete(&from.display().to_string(), "a baseline")?;
    }
    let baseline = Baseline::from_results(&results, version);
    baseline.save(&args.output, args.force)?;
    eprintln!(
        "wrote {} ({} metrics, version {})",
        args.output.display(),
        baseline.metrics.len(),
        baseline.version
    );
    Ok(EXIT_OK)
}

fn list(args: ListArgs) -> Result<u8> {
    let found = discover::list(&args.dir)?;
    if found.is_empty() {
        eprintln!("{}: no baselines", args.dir.display());
        return Ok(EXIT_OK);
    }
    let listed: Vec<report::list::Listed> = found
        .iter()
        .map(|f| report::list::Listed {
            name: f
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size: std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0),
            baseline: Baseline::load(&f.path).map_err(|e| e.to_string()),
        })
        .collect();
    println!("{}", report::list::table(&listed, args.verbose));
    Ok(EXIT_OK)
}

fn clean(args: CleanArgs) -> Result<u8> {
    let found = discover::list(&args.dir)?;
    let doomed: Vec<std::path::PathBuf> = if let Some(name) = &args.name {
        let path = args.dir.join(name);
        if !found.iter().any(|f| f.path == path) {
            anyhow::bail!("{}: no such baseline", path.display());
        }
        vec![path]
    } else {
        let keep = args.keep.unwrap_or(usize::MAX);
        // Only files named by version take part; others are never deleted by --keep.
        found
            .into_iter()
            .filter(|f| f.version.is_some())
            .skip(keep)
            .map(|f| f.path)
            .collect()
    };
    for p in &doomed {
        if args.dry_run {
            println!("would delete {}", p.display());
        } else {
            std::fs::remove_file(p).with_context(|| format!("{}: cannot delete", p.display()))?;
            println!("deleted {}", p.display());
        }
    }
    if doomed.is_empty() {
        println!("nothing to delete");
    }
    Ok(EXIT_OK)
}

fn trends(args: TrendsArgs) -> Result<u8> {
    let mut found = discover::list(&args.dir)?;
    found.retain(|f| f.version.is_some());
    found.reverse(); // oldest version first
    let baselines = found
        .iter()
        .map(|f| Baseline::load(&f.path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut trends = report::trends::Trends::new(&baselines);
    if let Some(metric) = &args.metric {
        let known = trends.series.keys().cloned().collect::<Vec<_>>().join(", ");
        if !trends.only(metric) {
            anyhow::bail!(
                "metric '{metric}' is in no baseline in {}; known metrics: {known}",
                args.dir.display(),
            );
        }
    }
    if args.format == TrendsFormat::Json {
        println!("{}", trends.json());
        return Ok(EXIT_OK);
    }
    if trends.versions.is_empty() {
        eprintln!("{}: no baselines named by version", args.dir.display());
        return Ok(EXIT_OK);
    }
    match &args.metric {
        Some(metric) => print!("{}", trends.bars(metric)),
        None => println!("{}", trends.table()),
    }
    Ok(EXIT_OK)
}

fn run_cmd(args: RunArgs) -> Result<u8> {
    // A matrix shard of the gate on a pull request: A/B as the gate would
    // run it (`pr-base`, on by default), each shard its own scenarios' pairs.
    let pr = match args.workload.shard {
        Some(_) => {
            use crate::github::context::{Context, ProcessEnv};
            pr_commits(&Context::from_env(&ProcessEnv, None)?)
        }
        None => None,
    };
    let pr_base = match (&args.workload.shard, &pr) {
        (Some(_), Some(p)) => PrBase::Gate(Some(p)),
        _ => PrBase::NotGate,
    };
    let (ab, _) = ab_plan_for(&args.workload.plan(), &args.ab.request(), None, pr_base)?;
    let results = match benchmark_confirmed(&args.workload.plan(), ab.as_ref(), None) {
        Ok(r) => r,
        Err(e) => {
            // A failing scenario: keep what was measured before it.
            if let (Some(path), Some(p)) =
                (&args.output, e.downcast_ref::<crate::session::Partial>())
            {
                crate::fsutil::write_atomic(path, p.results.to_json().as_bytes())?;
                report::messages::note(format_args!(
                    "wrote {} (incomplete: {} scenario(s) measured before '{}' failed; it cannot be a baseline or be compared)",
                    path.display(),
                    p.results.scenarios.len(),
                    p.results.incomplete.as_ref().map(|i| i.scenario.as_str()).unwrap_or_default()
                ));
            }
            return Err(e);
        }
    };
    if let Some(path) = &args.output {
        crate::fsutil::write_atomic(path, results.to_json().as_bytes())?;
        report::messages::wrote(path);
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
