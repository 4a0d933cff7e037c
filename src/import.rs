//! Results from other benchmark harnesses, as bench-gate results with raw
//! samples where the format has them, so `compare`, `capture` and `gate`
//! work unchanged. Each format's mapping of names, units and directions is
//! documented in the README ("Importing results").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::model::Direction;
use crate::model::{self, Environment, Metric, Results};
use crate::stats;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// hyperfine --export-json
    Hyperfine,
    /// criterion.rs: target/criterion (or any new/estimates.json under it)
    Criterion,
    /// pytest-benchmark --benchmark-json
    PytestBenchmark,
    /// Google Benchmark --benchmark_format=json (repetitions and aggregates)
    GoogleBenchmark,
    /// `go test -bench` text output
    GoBench,
    /// Bencher Metric Format JSON
    Bmf,
    /// github-action-benchmark customSmallerIsBetter JSON
    CustomSmallerIsBetter,
    /// github-action-benchmark customBiggerIsBetter JSON
    CustomBiggerIsBetter,
    /// Valgrind cachegrind or callgrind out files
    Cachegrind,
    /// iai-callgrind (gungraun's former name) `summary.json` files, schema 6
    IaiCallgrind,
}

impl crate::model::Named for ImportFormat {
    const VALUES: &'static [(Self, &'static str, &'static str)] = &[
        (
            ImportFormat::Hyperfine,
            "hyperfine",
            "hyperfine --export-json",
        ),
        (
            ImportFormat::Criterion,
            "criterion",
            "criterion.rs: target/criterion (or any new/estimates.json under it)",
        ),
        (
            ImportFormat::PytestBenchmark,
            "pytest-benchmark",
            "pytest-benchmark --benchmark-json",
        ),
        (
            ImportFormat::GoogleBenchmark,
            "google-benchmark",
            "Google Benchmark --benchmark_format=json (repetitions and aggregates)",
        ),
        (
            ImportFormat::GoBench,
            "go-bench",
            "`go test -bench` text output",
        ),
        (ImportFormat::Bmf, "bmf", "Bencher Metric Format JSON"),
        (
            ImportFormat::CustomSmallerIsBetter,
            "custom-smaller-is-better",
            "github-action-benchmark customSmallerIsBetter JSON",
        ),
        (
            ImportFormat::CustomBiggerIsBetter,
            "custom-bigger-is-better",
            "github-action-benchmark customBiggerIsBetter JSON",
        ),
        (
            ImportFormat::Cachegrind,
            "cachegrind",
            "Valgrind cachegrind or callgrind out files (cachegrind.out.PID, callgrind.out.PID)",
        ),
        (
            ImportFormat::IaiCallgrind,
            "iai-callgrind",
            "iai-callgrind summary.json files (--save-summary=json; schema version 6, iai-callgrind 0.16), or a folder holding them (target/iai)",
        ),
    ];
}

impl ImportFormat {
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Hyperfine => "hyperfine",
            ImportFormat::Criterion => "criterion",
            ImportFormat::PytestBenchmark => "pytest-benchmark",
            ImportFormat::GoogleBenchmark => "google-benchmark",
            ImportFormat::GoBench => "go-bench",
            ImportFormat::Bmf => "bmf",
            ImportFormat::CustomSmallerIsBetter => "custom-smaller-is-better",
            ImportFormat::CustomBiggerIsBetter => "custom-bigger-is-better",
            ImportFormat::Cachegrind => "cachegrind",
            ImportFormat::IaiCallgrind => "iai-callgrind",
        }
    }
}

/// A benchmark name made into one segment of a metric name: letters,
/// digits, `_`, `-` and `/` (criterion's groups) kept, anything else `_`.
pub fn slug(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches(|c| c == '_' || c == '/').to_string();
    if s.is_empty() {
        "unnamed".into()
    } else {
        s
    }
}

fn metric(
    value: f64,
    unit: &str,
    direction: Direction,
    statistic: &str,
    samples: Vec<f64>,
) -> Metric {
    Metric {
        value,
        unit: unit.to_string(),
        direction,
        scenario: None,
        measure: None,
        statistic: Some(statistic.to_string()),
        samples,
    }
}

/// The metrics imported so far, each with the file and benchmark it came
/// from, so that a second benchmark mapping to the same name is refused
/// naming both rather than silently replacing the first.
#[derive(Default)]
struct Out {
    metrics: BTreeMap<String, (Metric, String, String)>,
}

impl Out {
    fn new() -> Out {
        Out::default()
    }

    /// Adds `name` from benchmark `bench` of `path`: refused when another
    /// benchmark already gave that name, or when a value is negative, not a
    /// number, or a zero time (which no run measures).
    fn insert(&mut self, path: &Path, bench: &str, name: String, m: Metric) -> Result<()> {
        let file = path.display().to_string();
        let values = || std::iter::once(m.value).chain(m.samples.iter().copied());
        if values().any(|x| !x.is_finite()) {
            anyhow::bail!("{file}: benchmark `{bench}`: a value is not a finite number");
        }
        if let Some(x) = values().find(|x| *x < 0.0) {
            anyhow::bail!(
                "{file}: benchmark `{bench}`: a value is negative ({x} {})",
                m.unit
            );
        }
        if model::NEVER_ZERO_UNITS.contains(&m.unit.as_str()) && values().any(|x| x == 0.0) {
            anyhow::bail!(
                "{file}: benchmark `{bench}`: a time of 0 {}, which no run measures",
                m.unit
            );
        }
        if let Some((_, first_file, first)) = self.metrics.get(&name) {
            let whence = if *first_file == file {
                String::new()
            } else {
                format!(" (in {first_file})")
            };
            anyhow::bail!(
                "{file}: benchmarks `{first}`{whence} and `{bench}` both map to the metric name {name}; rename one of them"
            );
        }
        self.metrics.insert(name, (m, file, bench.to_string()));
        Ok(())
    }
}

fn read_json(path: &Path, what: &str) -> Result<Value> {
    let text = crate::fsutil::read_capped_string(path, crate::fsutil::MAX_DATA_BYTES)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    if text.trim().is_empty() {
        anyhow::bail!("{}: the file is empty (expected {what})", path.display());
    }
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not {what}: {}",
            path.display(),
            e.line(),
            e.column(),
            e.to_string().split(" at line ").next().unwrap_or_default()
        )
    })
}

fn wrong(path: &Path, what: &str, why: &str) -> anyhow::Error {
    anyhow::anyhow!("{}: not {what} ({why})", path.display())
}

/// The non-empty array `v[key]`, or an error saying the file is not `what`
/// or holds no benchmarks.
fn benchmarks<'a>(v: &'a Value, key: &str, path: &Path, what: &str) -> Result<&'a Vec<Value>> {
    let items = v[key]
        .as_array()
        .ok_or_else(|| wrong(path, what, &format!("no `{key}` array")))?;
    if items.is_empty() {
        anyhow::bail!("{}: holds no benchmarks", path.display());
    }
    Ok(items)
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// hyperfine: `hyperfine.<command or name>.latency_p50_ms` (median of
/// `times`, samples in ms), `.latency_mean_ms`, and `.peak_mb` (max of
/// `memory_usage_byte`, hyperfine ≥ 1.17). Runs with a non-zero exit code
/// (kept with `-i`) make the import fail: they are not valid samples.
fn hyperfine(path: &Path, out: &mut Out) -> Result<()> {
    const WHAT: &str = "hyperfine --export-json output";
    let v = read_json(path, WHAT)?;
    let results = benchmarks(&v, "results", path, WHAT)?;
    for r in results {
        let command = r["command"]
            .as_str()
            .ok_or_else(|| wrong(path, WHAT, "a result has no `command`"))?;
        let name = slug(command);
        let times: Vec<f64> = r["times"]
            .as_array()
            .map(|t| t.iter().filter_map(f).map(|x| x * 1000.0).collect())
            .unwrap_or_default();
        if let Some(codes) = r["exit_codes"].as_array() {
            let failed = codes
                .iter()
                .filter(|c| c.as_i64().is_some_and(|c| c != 0))
                .count();
            if failed > 0 {
                anyhow::bail!(
                    "{}: `{command}` failed in {failed} of {} runs; failed runs are not samples",
                    path.display(),
                    codes.len()
                );
            }
        }
        let (median, mean) = if times.is_empty() {
            (
                f(&r["median"]).map(|x| x * 1000.0),
                f(&r["mean"]).map(|x| x * 1000.0),
            )
        } else {
            (
                stats::median(&times),
                Some(times.iter().sum::<f64>() / times.len() as f64),
            )
        };
        let median =
            median.ok_or_else(|| wrong(path, WHAT, "a result has neither `times` nor `median`"))?;
        out.insert(
            path,
            command,
            format!("hyperfine.{name}.latency_p50_ms"),
            metric(median, "ms", Direction::Lower, "p50", times.clone()),
        )?;
        if let Some(mean) = mean {
            out.insert(
                path,
                command,
                format!("hyperfine.{name}.latency_mean_ms"),
                metric(mean, "ms", Direction::Lower, "mean", times),
            )?;
        }
        if let Some(mem) = r["memory_usage_byte"].as_array() {
            let mb: Vec<f64> = mem
                .iter()
                .filter_map(f)
                .map(|b| b / 1024.0 / 1024.0)
                .collect();
            if let Some(max) = mb.iter().copied().reduce(f64::max) {
                out.insert(
                    path,
                    command,
                    format!("hyperfine.{name}.peak_mb"),
                    metric(max, "MB", Direction::Lower, "max", mb),
                )?;
            }
        }
    }
    Ok(())
}

/// `path` itself, or, for a folder, the files under it that `wanted`
/// accepts, in file-name order.
fn files_in(path: &Path, wanted: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    walkdir::WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| wanted(p))
        .collect()
}

/// criterion: for each `<id>/new/estimates.json`,
/// `criterion.<full_id>.median_ns` (the median's point estimate) and
/// `.mean_ns`; samples are sample.json's per-iteration times (times/iters).
fn criterion(path: &Path, out: &mut Out) -> Result<()> {
    let files = files_in(path, |p| p.ends_with("new/estimates.json"));
    if files.is_empty() {
        anyhow::bail!(
            "{}: no criterion results (no */new/estimates.json under it)",
            path.display()
        );
    }
    for est_path in files {
        const WHAT: &str = "criterion estimates.json";
        let est = read_json(&est_path, WHAT)?;
        let median = f(&est["median"]["point_estimate"])
            .ok_or_else(|| wrong(&est_path, WHAT, "no median.point_estimate"))?;
        let dir = est_path.parent().unwrap_or(Path::new("."));
        let id = crate::fsutil::read_capped_string(
            &dir.join("benchmark.json"),
            crate::fsutil::MAX_DATA_BYTES,
        )
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|b| b["full_id"].as_str().map(str::to_string))
        .unwrap_or_else(|| {
            // target/criterion/<group>/<function>/new/estimates.json
            let parts: Vec<String> = dir
                .iter()
                .rev()
                .skip(1)
                .take(2)
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            parts.into_iter().rev().collect::<Vec<_>>().join("/")
        });
        let samples: Vec<f64> = crate::fsutil::read_capped_string(
            &dir.join("sample.json"),
            crate::fsutil::MAX_DATA_BYTES,
        )
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map(|s| {
            let iters = s["iters"].as_array().cloned().unwrap_or_default();
            let times = s["times"].as_array().cloned().unwrap_or_default();
            iters
                .iter()
                .zip(&times)
                .filter_map(|(i, t)| Some(f(t)? / f(i)?.max(1.0)))
                .collect()
        })
        .unwrap_or_default();
        let name = slug(&id);
        out.insert(
            &est_path,
            &id,
            format!("criterion.{name}.median_ns"),
            metric(median, "ns", Direction::Lower, "p50", samples.clone()),
        )?;
        if let Some(mean) = f(&est["mean"]["point_estimate"]) {
            out.insert(
                &est_path,
                &id,
                format!("criterion.{name}.mean_ns"),
                metric(mean, "ns", Direction::Lower, "mean", samples),
            )?;
        }
    }
    Ok(())
}

/// pytest-benchmark: `pytest.<name>.median_ms` and `.mean_ms` from `stats`
/// (seconds in the file), samples from `stats.data` when saved
/// (`--benchmark-save-data`); `.ops` (operations per second) is higher-is-better.
fn pytest_benchmark(path: &Path, out: &mut Out, env: &mut Environment) -> Result<()> {
    const WHAT: &str = "pytest-benchmark --benchmark-json output";
    let v = read_json(path, WHAT)?;
    let benches = benchmarks(&v, "benchmarks", path, WHAT)?;
    if let Some(m) = v["machine_info"].as_object() {
        for (k, key) in [
            ("machine", "arch"),
            ("system", "os"),
            ("python_version", "python_version"),
            ("node", "host"),
        ] {
            if let Some(s) = m.get(k).and_then(Value::as_str) {
                if key != "host" {
                    env.insert(key.into(), s.into());
                }
            }
        }
        if let Some(cpu) = m.get("cpu").and_then(|c| c["brand_raw"].as_str()) {
            env.insert("cpu_model".into(), cpu.into());
        }
    }
    for b in benches {
        let raw = b["name"]
            .as_str()
            .ok_or_else(|| wrong(path, WHAT, "a benchmark has no name"))?;
        let name = slug(raw);
        let s = &b["stats"];
        let samples: Vec<f64> = s["data"]
            .as_array()
            .map(|d| d.iter().filter_map(f).map(|x| x * 1000.0).collect())
            .unwrap_or_default();
        let median = f(&s["median"])
            .ok_or_else(|| wrong(path, WHAT, "a benchmark has no stats.median"))?
            * 1000.0;
        out.insert(
            path,
            raw,
            format!("pytest.{name}.median_ms"),
            metric(median, "ms", Direction::Lower, "p50", samples.clone()),
        )?;
        if let Some(mean) = f(&s["mean"]) {
            out.insert(
                path,
                raw,
                format!("pytest.{name}.mean_ms"),
                metric(mean * 1000.0, "ms", Direction::Lower, "mean", samples),
            )?;
        }
        if let Some(ops) = f(&s["ops"]) {
            out.insert(
                path,
                raw,
                format!("pytest.{name}.ops"),
                metric(ops, "ops/s", Direction::Higher, "mean", Vec::new()),
            )?;
        }
    }
    Ok(())
}

fn to_ns(value: f64, unit: &str) -> Option<f64> {
    Some(
        value
            * match unit {
                "ns" => 1.0,
                "us" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                _ => return None,
            },
    )
}

/// Google Benchmark: per `run_name`, `gbench.<run_name>.real_time_ns` and
/// `.cpu_time_ns` (converted from `time_unit`): with repetitions the median
/// aggregate (or the median of the repetitions) and every repetition as a
/// sample; without, the single run. Other aggregates (mean, stddev, cv) are
/// not imported: they are recomputed from the samples.
fn google_benchmark(path: &Path, out: &mut Out, env: &mut Environment) -> Result<()> {
    const WHAT: &str = "Google Benchmark --benchmark_format=json output";
    let v = read_json(path, WHAT)?;
    let benches = benchmarks(&v, "benchmarks", path, WHAT)?;
    if let Some(c) = v["context"].as_object() {
        if let Some(n) = c.get("num_cpus").and_then(Value::as_u64) {
            env.insert("cpu_cores".into(), n.to_string());
        }
        if let Some(mhz) = c.get("mhz_per_cpu").and_then(Value::as_u64) {
            env.insert("cpu_mhz".into(), mhz.to_string());
        }
    }
    struct Acc {
        real: Vec<f64>,
        cpu: Vec<f64>,
        median_real: Option<f64>,
        median_cpu: Option<f64>,
    }
    let mut order: Vec<String> = Vec::new();
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for b in benches {
        let run = b["run_name"]
            .as_str()
            .or_else(|| b["name"].as_str())
            .ok_or_else(|| wrong(path, WHAT, "a benchmark has no name"))?;
        if b["error_occurred"].as_bool() == Some(true) {
            anyhow::bail!(
                "{}: benchmark `{run}` reported an error: {}",
                path.display(),
                b["error_message"].as_str().unwrap_or("?")
            );
        }
        let unit = b["time_unit"].as_str().unwrap_or("ns");
        if to_ns(1.0, unit).is_none() {
            anyhow::bail!(
                "{}: benchmark `{run}`: unknown time_unit {unit:?} (known: ns, us, ms, s)",
                path.display()
            );
        }
        let real = f(&b["real_time"]).and_then(|x| to_ns(x, unit));
        let cpu = f(&b["cpu_time"]).and_then(|x| to_ns(x, unit));
        let e = acc.entry(run.to_string()).or_insert_with(|| {
            order.push(run.to_string());
            Acc {
                real: vec![],
                cpu: vec![],
                median_real: None,
                median_cpu: None,
            }
        });
        match b["run_type"].as_str() {
            Some("aggregate") => {
                if b["aggregate_name"].as_str() == Some("median") {
                    e.median_real = real;
                    e.median_cpu = cpu;
                }
            }
            _ => {
                e.real.extend(real);
                e.cpu.extend(cpu);
            }
        }
    }
    for run in order {
        let a = &acc[&run];
        let name = slug(&run);
        for (what, samples, agg) in [
            ("real_time_ns", &a.real, a.median_real),
            ("cpu_time_ns", &a.cpu, a.median_cpu),
        ] {
            if let Some(value) = agg.or_else(|| stats::median(samples)) {
                out.insert(
                    path,
                    &run,
                    format!("gbench.{name}.{what}"),
                    metric(value, "ns", Direction::Lower, "p50", samples.clone()),
                )?;
            }
        }
    }
    Ok(())
}

/// `go test -bench` output: `BenchmarkX-8  N  T ns/op  B B/op  A allocs/op`;
/// each line (one per `-count` run) is a sample of `go.<X>.ns_per_op`,
/// `.bytes_per_op` and `.allocs_per_op`; the value is their median. The
/// `-8` GOMAXPROCS suffix is dropped from the name.
fn go_bench(path: &Path, out: &mut Out, env: &mut Environment) -> Result<()> {
    let text = crate::fsutil::read_capped_string(path, crate::fsutil::MAX_DATA_BYTES)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    // Per metric: the benchmark's name as written (`BenchmarkX-8`) and its samples.
    let mut series: BTreeMap<(String, &'static str), (String, Vec<f64>)> = BTreeMap::new();
    let mut lines = 0;
    for line in text.lines() {
        if let Some(cpu) = line.strip_prefix("cpu: ") {
            env.insert("cpu_model".into(), cpu.trim().into());
        }
        if let Some(os) = line.strip_prefix("goos: ") {
            env.insert("os".into(), os.trim().into());
        }
        if let Some(arch) = line.strip_prefix("goarch: ") {
            env.insert("arch".into(), arch.trim().into());
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4
            || !fields[0].starts_with("Benchmark")
            || fields[1].parse::<u64>().is_err()
        {
            continue;
        }
        lines += 1;
        let name = fields[0].trim_start_matches("Benchmark");
        let name = match name.rsplit_once('-') {
            Some((n, procs)) if procs.parse::<u32>().is_ok() => n,
            _ => name,
        };
        for pair in fields[2..].chunks(2) {
            if let [value, unit] = pair {
                let key = match *unit {
                    "ns/op" => "ns_per_op",
                    "B/op" => "bytes_per_op",
                    "allocs/op" => "allocs_per_op",
                    _ => continue,
                };
                if let Ok(v) = value.parse::<f64>() {
                    let (raw, samples) = series
                        .entry((slug(name), key))
                        .or_insert_with(|| (fields[0].to_string(), Vec::new()));
                    if raw != fields[0] {
                        anyhow::bail!(
                            "{}: benchmarks `{raw}` and `{}` both map to the metric name go.{}.{key}; rename one of them",
                            path.display(),
                            fields[0],
                            slug(name)
                        );
                    }
                    samples.push(v);
                }
            }
        }
    }
    if lines == 0 {
        anyhow::bail!(
            "{}: not `go test -bench` output (no `BenchmarkName  N  T ns/op` lines)",
            path.display()
        );
    }
    for ((name, key), (raw, samples)) in series {
        let unit = match key {
            "ns_per_op" => "ns",
            "bytes_per_op" => "bytes",
            _ => "count",
        };
        let value = stats::median(&samples).unwrap_or(0.0);
        out.insert(
            path,
            &raw,
            format!("go.{name}.{key}"),
            metric(value, unit, Direction::Lower, "p50", samples),
        )?;
    }
    Ok(())
}

/// Bencher Metric Format: `{benchmark: {measure: {value, lower_value?,
/// upper_value?}}}` → `bmf.<benchmark>.<measure>`. Bencher's built-in
/// measures set unit and direction: `latency` (ns, lower), `throughput`
/// (operations/s, higher), `file-size` (bytes, lower); others are lower-is-better
/// with no unit. No raw samples in this format.
fn bmf(path: &Path, out: &mut Out) -> Result<()> {
    const WHAT: &str = "Bencher Metric Format JSON";
    let v = read_json(path, WHAT)?;
    let benches = v
        .as_object()
        .ok_or_else(|| wrong(path, WHAT, "the top level is not an object"))?;
    if benches.is_empty() {
        anyhow::bail!("{}: holds no benchmarks", path.display());
    }
    for (bench, measures) in benches {
        let measures = measures.as_object().ok_or_else(|| {
            wrong(
                path,
                WHAT,
                &format!("`{bench}` is not an object of measures"),
            )
        })?;
        for (measure, m) in measures {
            let value = f(&m["value"]).ok_or_else(|| {
                wrong(
                    path,
                    WHAT,
                    &format!("`{bench}.{measure}` has no numeric value"),
                )
            })?;
            let (unit, dir) = match measure.as_str() {
                "latency" => ("ns", Direction::Lower),
                "throughput" => ("ops/s", Direction::Higher),
                "file-size" => ("bytes", Direction::Lower),
                _ => ("", Direction::Lower),
            };
            out.insert(
                path,
                &format!("{bench}.{measure}"),
                format!("bmf.{}.{}", slug(bench), slug(measure)),
                metric(value, unit, dir, "value", Vec::new()),
            )?;
        }
    }
    Ok(())
}

/// github-action-benchmark's custom JSON: `[{name, unit, value, range?,
/// extra?}]` → `gab.<name>`, lower- or higher-is-better by the format's name.
fn custom(path: &Path, out: &mut Out, direction: Direction) -> Result<()> {
    const WHAT: &str = "github-action-benchmark custom JSON";
    let v = read_json(path, WHAT)?;
    let items = v
        .as_array()
        .ok_or_else(|| wrong(path, WHAT, "the top level is not an array"))?;
    if items.is_empty() {
        anyhow::bail!("{}: holds no benchmarks", path.display());
    }
    for it in items {
        let name = it["name"]
            .as_str()
            .ok_or_else(|| wrong(path, WHAT, "an entry has no name"))?;
        let value = f(&it["value"])
            .ok_or_else(|| wrong(path, WHAT, &format!("`{name}` has no numeric value")))?;
        let unit: String = it["unit"]
            .as_str()
            .unwrap_or("")
            .chars()
            .filter(|c| model::unit_char(*c))
            .take(model::UNIT_MAX)
            .collect();
        out.insert(
            path,
            name,
            format!("gab.{}", slug(name)),
            metric(value, &unit, direction, "value", Vec::new()),
        )?;
    }
    Ok(())
}

/// Every event's total in a cachegrind/callgrind out file, by event name.
pub fn event_totals(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut events: Option<Vec<&str>> = None;
    let mut totals: Option<Vec<f64>> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("events:") {
            events = Some(rest.split_whitespace().collect());
        } else if let Some(rest) = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
        {
            let v: Result<Vec<u64>, _> = rest.split_whitespace().map(str::parse::<u64>).collect();
            let v = v.map_err(|_| format!("line {}: the totals are not counts", i + 1))?;
            totals = Some(v.into_iter().map(|x| x as f64).collect());
        }
    }
    let events = events.ok_or("no `events:` line (not a cachegrind or callgrind out file)")?;
    let totals = totals.ok_or("no `summary:` or `totals:` line")?;
    if totals.len() > events.len() {
        return Err(format!(
            "the totals have {} columns but there are {} events",
            totals.len(),
            events.len()
        ));
    }
    // Trailing zero columns may be left out.
    Ok(events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.to_string(), totals.get(i).copied().unwrap_or(0.0)))
        .collect())
}

/// Valgrind cachegrind or callgrind out files: per file (one process),
/// `cachegrind.<program and arguments>.instructions` (the `Ir` total, unit
/// `instructions`) and `.<event>` for every other event it counted (cache
/// and branch simulation; unit `events`), named after its `cmd:` line with
/// the program's folder left out (the file's name without one).
fn cachegrind(path: &Path, out: &mut Out) -> Result<()> {
    let what = "a cachegrind or callgrind out file";
    let text = crate::fsutil::read_capped_string(path, crate::fsutil::MAX_DATA_BYTES)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    if text.trim().is_empty() {
        anyhow::bail!("{}: the file is empty (expected {what})", path.display());
    }
    let totals = event_totals(&text).map_err(|why| wrong(path, what, &why))?;
    let cmd = text
        .lines()
        .find_map(|l| l.strip_prefix("cmd:"))
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let bench = match cmd {
        Some(c) => {
            let (program, args) = c.split_once(' ').unwrap_or((c, ""));
            let program = program.rsplit('/').next().unwrap_or(program);
            format!("{program} {args}").trim().to_string()
        }
        None => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let base = format!("cachegrind.{}", slug(&bench).replace('/', "_"));
    for (event, total) in totals {
        let (name, unit) = if event == "Ir" {
            (format!("{base}.instructions"), "instructions")
        } else {
            (format!("{base}.{}", slug(&event)), "events")
        };
        out.insert(
            path,
            &bench,
            name,
            metric(total, unit, Direction::Lower, "total", Vec::new()),
        )?;
    }
    Ok(())
}

/// The iai-callgrind summary schema this reader knows (iai-callgrind 0.16).
pub const IAI_SCHEMA: &str = "6";

/// The callgrind events imported from an iai-callgrind summary (counts,
/// lower is better; hit counts and rates are left out), with their metric
/// suffix and unit.
const IAI_EVENTS: &[(&str, &str, &str)] = &[
    ("Ir", "instructions", "instructions"),
    ("EstimatedCycles", "estimated_cycles", "events"),
    ("Dr", "Dr", "events"),
    ("Dw", "Dw", "events"),
    ("I1mr", "I1mr", "events"),
    ("D1mr", "D1mr", "events"),
    ("D1mw", "D1mw", "events"),
    ("ILmr", "ILmr", "events"),
    ("DLmr", "DLmr", "events"),
    ("DLmw", "DLmw", "events"),
];

/// iai-callgrind's `summary.json` (`--save-summary=json`), or a folder
/// (`target/iai`) searched for them: per benchmark,
/// `iai.<module/path>/<id>.instructions` and the other counts of
/// [`IAI_EVENTS`], from the Callgrind profile's total, the new run's value
/// (`Left`, or the first of `Both`; an old value alone is not imported).
/// Another schema version is refused: each has changed the structure.
fn iai_callgrind(path: &Path, out: &mut Out) -> Result<()> {
    const WHAT: &str = "an iai-callgrind summary.json";
    let files = files_in(path, |p| p.file_name().is_some_and(|n| n == "summary.json"));
    if files.is_empty() {
        anyhow::bail!(
            "{}: holds no summary.json (run the benchmarks with --save-summary=json)",
            path.display()
        );
    }
    for file in files {
        let v = read_json(&file, WHAT)?;
        let version = match &v["version"] {
            Value::String(s) => s.clone(),
            Value::Null => return Err(wrong(&file, WHAT, "it has no `version`")),
            other => other.to_string(),
        };
        if version != IAI_SCHEMA {
            anyhow::bail!(
                "{}: iai-callgrind summary schema version {} is not supported: this bench-gate reads version {IAI_SCHEMA} (iai-callgrind 0.16); each version changed the file's structure, so another is not guessed at",
                file.display(),
                model::free_text(&version, 40)
            );
        }
        let module = v["module_path"]
            .as_str()
            .ok_or_else(|| wrong(&file, WHAT, "it has no `module_path`"))?;
        let bench = match v["id"].as_str() {
            Some(id) => format!("{module} {id}"),
            None => module.to_string(),
        };
        let base = match v["id"].as_str() {
            Some(id) => format!("iai.{}/{}", slug(&module.replace("::", "/")), slug(id)),
            None => format!("iai.{}", slug(&module.replace("::", "/"))),
        };
        let profiles = v["profiles"]
            .as_array()
            .ok_or_else(|| wrong(&file, WHAT, "it has no `profiles` array"))?;
        let total = profiles
            .iter()
            .find(|p| p["tool"] == "Callgrind")
            .map(|p| &p["summaries"]["total"]["summary"]["Callgrind"])
            .filter(|t| t.is_object())
            .ok_or_else(|| {
                wrong(
                    &file,
                    WHAT,
                    "no Callgrind profile with `summaries.total.summary.Callgrind`",
                )
            })?;
        let mut found = false;
        for (event, suffix, unit) in IAI_EVENTS {
            let m = &total[*event]["metrics"];
            let new = match (m.get("Left"), m.get("Both")) {
                (Some(x), _) => x,
                (None, Some(Value::Array(both))) if !both.is_empty() => &both[0],
                _ => continue,
            };
            let Some(value) = new.get("Int").and_then(Value::as_u64) else {
                return Err(wrong(
                    &file,
                    WHAT,
                    &format!("`{event}` of `{bench}` is not a count"),
                ));
            };
            found = true;
            out.insert(
                &file,
                &bench,
                format!("{base}.{suffix}"),
                metric(value as f64, unit, Direction::Lower, "total", Vec::new()),
            )?;
        }
        if !found {
            return Err(wrong(
                &file,
                WHAT,
                &format!("`{bench}` holds no new counts"),
            ));
        }
    }
    Ok(())
}

/// Imports every file into one results value.
pub fn import(format: ImportFormat, files: &[PathBuf]) -> Result<Results> {
    if files.is_empty() {
        anyhow::bail!("no input files");
    }
    let mut metrics = Out::new();
    let mut env = Environment::new();
    for path in files {
        if !path.exists() {
            anyhow::bail!("{}: no such file or directory", path.display());
        }
        match format {
            ImportFormat::Hyperfine => hyperfine(path, &mut metrics)?,
            ImportFormat::Criterion => criterion(path, &mut metrics)?,
            ImportFormat::PytestBenchmark => pytest_benchmark(path, &mut metrics, &mut env)?,
            ImportFormat::GoogleBenchmark => google_benchmark(path, &mut metrics, &mut env)?,
            ImportFormat::GoBench => go_bench(path, &mut metrics, &mut env)?,
            ImportFormat::Bmf => bmf(path, &mut metrics)?,
            ImportFormat::CustomSmallerIsBetter => custom(path, &mut metrics, Direction::Lower)?,
            ImportFormat::CustomBiggerIsBetter => custom(path, &mut metrics, Direction::Higher)?,
            ImportFormat::Cachegrind => cachegrind(path, &mut metrics)?,
            ImportFormat::IaiCallgrind => iai_callgrind(path, &mut metrics)?,
        }
    }
    if metrics.metrics.is_empty() {
        let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "{}: no metric imported (no benchmark with a usable time or value)",
            names.join(", ")
        );
    }
    for (k, (_, file, bench)) in &metrics.metrics {
        if !model::valid_metric_name(k) {
            anyhow::bail!(
                "{file}: benchmark `{bench}`: metric name {k:?} is not usable (letters, digits and _ . - / only, at most {} characters)",
                model::IDENTIFIER_MAX
            );
        }
    }
    let metrics: BTreeMap<String, Metric> = metrics
        .metrics
        .into_iter()
        .map(|(k, (m, _, _))| (k, m))
        .collect();
    env.insert("imported_from".into(), format.name().into());
    env.insert(
        "bench_gate_version".into(),
        env!("CARGO_PKG_VERSION").into(),
    );
    Ok(Results {
        schema_version: model::SCHEMA_VERSION,
        tool: "bench-gate".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created_at: model::now_rfc3339(),
        workload: format!("import:{}", format.name()),
        // Free text from another tool: made to read back (see `free_text`).
        environment: env
            .into_iter()
            .map(|(k, v)| (k, model::free_text(&v, model::TEXT_MAX)))
            .collect(),
        scenarios: Vec::new(),
        metrics,
        github: None,
        shard: None,
        shards: Vec::new(),
        confirmations: Vec::new(),
        ab: None,
        skipped: Default::default(),
        incomplete: None,
        why: Vec::new(),
    })
}
