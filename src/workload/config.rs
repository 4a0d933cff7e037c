//! `bench-gate.yml`: a project's own scenarios and workloads.
//!
//! ```yaml
//! default_workload: standard
//! scenarios:
//!   single:
//!     command: ["persona", "generate", "--from", "data/", "--count", "1",
//!               "--output", "{run_dir}/out-{iteration}"]
//!     env: { OLLAMA_BASE_URL: "http://127.0.0.1:11434" }
//!     cwd: .                # relative to this file
//!     iterations: 20
//!     warmup: 2
//!     timeout: 60           # seconds
//!     expect:               # checked after every iteration, untimed
//!       files: {glob: "{run_dir}/out-{iteration}/**/persona.json", count: 1}
//!     verify: "test -s {run_dir}/out-{iteration}/log.txt"   # exit 0 = the run did its job
//!     metrics:
//!       generation.single.latency_p50_ms: wall_ms.p50
//!       memory.single_peak_mb: peak_mb.max
//!       generation.single.api_calls: api_calls.max     # needs a service with usage:
//!       generation.single.calls_per_persona: {of: api_calls.mean, per: 1}
//!     measure: [wall, instructions, allocations]   # counted under Valgrind too
//! workloads:
//!   standard: [single]
//! secrets:                # what the commands bench-gate starts go without
//!   remove: [NPM_TOKEN]   # as well as GITHUB_TOKEN, GH_TOKEN, … (see measure::env)
//!   pass_through: []      # removed by default, given to them on purpose
//! compare:
//!   missing: fail           # a baseline metric absent from the results: fail, warn or ignore
//!   allow_other_workload: false
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use crate::model::{EnvPolicy, Measure, Named, Statistic, DEFAULT_REMOVED};

use super::{
    Checks, CommandSpec, FileCount, MetricSpec, Readiness, Scenario, ServiceSpec, Workload,
    WorkloadError,
};

pub const DEFAULT_FILE: &str = "bench-gate.yml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<u32>,
    #[serde(default)]
    default_workload: Option<String>,
    scenarios: BTreeMap<String, RawScenario>,
    #[serde(default)]
    workloads: BTreeMap<String, RawWorkload>,
    #[serde(default)]
    services: BTreeMap<ServiceKey, RawService>,
    #[serde(default)]
    ab: AbConfig,
    #[serde(default)]
    secrets: RawSecrets,
    #[serde(default)]
    compare: CompareConfig,
    #[serde(default)]
    relevant_paths: Option<Vec<String>>,
}

/// `secrets:` in bench-gate.yml: which variables of bench-gate's own
/// environment the commands it starts (scenarios, services, the A/B setup)
/// go without, besides [`DEFAULT_REMOVED`].
///
/// ```yaml
/// secrets:
///   remove: [NPM_TOKEN, AWS_SECRET_ACCESS_KEY]
///   pass_through: [GH_TOKEN]     # removed by default, given to them on purpose
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    #[serde(default)]
    remove: Vec<RemoveName>,
    #[serde(default)]
    pass_through: Vec<PassName>,
}

impl RawSecrets {
    fn policy(self) -> EnvPolicy {
        EnvPolicy {
            remove: self.remove.into_iter().map(|n| n.0).collect(),
            pass_through: self.pass_through.into_iter().map(|n| n.0).collect(),
        }
    }
}

/// The first of the two readings of a config: `secrets:` alone, which the
/// checks of the second reading need whichever comes first in the file.
#[derive(Deserialize)]
struct SecretsOnly {
    #[serde(default)]
    secrets: RawSecrets,
}

thread_local! {
    /// The `secrets:` section of the config being read, during the second
    /// reading (so that the checks run while serde_yaml knows the position).
    static SECRETS: RefCell<Option<EnvPolicy>> = const { RefCell::new(None) };
}

/// Sets [`SECRETS`] until dropped.
struct SecretsScope;

impl SecretsScope {
    fn set(policy: EnvPolicy) -> SecretsScope {
        SECRETS.with(|s| *s.borrow_mut() = Some(policy));
        SecretsScope
    }
}

impl Drop for SecretsScope {
    fn drop(&mut self) {
        SECRETS.with(|s| *s.borrow_mut() = None);
    }
}

/// The `secrets:` section in force: known in the second reading only.
fn secrets() -> Option<EnvPolicy> {
    SECRETS.with(|s| s.borrow().clone())
}

/// Reads a string scalar and checks it with `check`, so that an error
/// carries the scalar's own line and column.
fn checked_name<'de, D: Deserializer<'de>>(
    d: D,
    check: fn(&str) -> Result<(), String>,
) -> Result<String, D::Error> {
    struct V(fn(&str) -> Result<(), String>);
    impl de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a name")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
            (self.0)(s).map_err(E::custom)?;
            Ok(s.to_string())
        }
    }
    d.deserialize_str(V(check))
}

fn variable_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not an environment variable name (letters, digits, _, - and .)"
        ))
    }
}

/// A name in `secrets.remove`.
#[derive(Debug)]
struct RemoveName(String);

impl<'de> Deserialize<'de> for RemoveName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_name(d, variable_name).map(RemoveName)
    }
}

/// A name in `secrets.pass_through`: one that is removed by default, and
/// not also in `secrets.remove`.
#[derive(Debug)]
struct PassName(String);

impl<'de> Deserialize<'de> for PassName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_name(d, |s| {
            variable_name(s)?;
            let name = std::ffi::OsStr::new(s);
            let Some(policy) = secrets() else {
                return Ok(());
            };
            if crate::model::NEVER_PASSED.contains(&s) {
                Err(format!(
                    "{s} is the job's own credential: bench-gate never gives it to the commands it runs"
                ))
            } else if policy.remove.iter().any(|r| r == s) {
                Err(format!("{s} is in secrets.remove too; keep it in one list"))
            } else if !policy.is_secret(name) {
                Err(format!(
                    "{s} is not removed, so there is nothing to let through; removed by default: {}",
                    DEFAULT_REMOVED.join(", ")
                ))
            } else {
                Ok(())
            }
        })
        .map(PassName)
    }
}

/// A metric name (a key of a scenario's `metrics:`), checked while
/// serde_yaml knows its line and column: results files refuse anything else.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MetricKey(String);

impl<'de> Deserialize<'de> for MetricKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_name(d, |s| {
            if crate::model::valid_metric_name(s) {
                Ok(())
            } else {
                Err(format!(
                    "{s:?} is not allowed as a metric name: letters, digits and _ . - / only, at most {} characters",
                    crate::model::IDENTIFIER_MAX
                ))
            }
        })
        .map(MetricKey)
    }
}

/// A service name (a key of `services:`): it names the service's log file,
/// so no `/` and no leading `.`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ServiceKey(String);

impl<'de> Deserialize<'de> for ServiceKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_name(d, |s| {
            if crate::model::valid_service_name(s) {
                Ok(())
            } else {
                Err(format!(
                    "{s:?} is not allowed as a service name: letters, digits and _ . - only, not starting with ., at most {} characters",
                    crate::model::IDENTIFIER_MAX
                ))
            }
        })
        .map(ServiceKey)
    }
}

/// A variable a scenario or service sets (a key of its `env:`): not one
/// that bench-gate removes, unless `secrets.pass_through` lets it through.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct EnvKey(String);

impl<'de> Deserialize<'de> for EnvKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_name(d, |s| {
            if s.is_empty() || s.contains(['=', '\0']) {
                return Err(format!("'{s}' cannot be an environment variable name"));
            }
            if secrets()
                .unwrap_or_default()
                .removes(std::ffi::OsStr::new(s))
            {
                return Err(format!(
                    "{s} is a secret that bench-gate keeps from the commands it runs; to set it for them on purpose, list it in secrets.pass_through"
                ));
            }
            Ok(())
        })
        .map(EnvKey)
    }
}

/// `compare:` in bench-gate.yml: how `compare`, `report` and `gate` treat
/// results that do not cover the baseline. Command-line flags win.
///
/// ```yaml
/// compare:
///   missing: fail               # fail (default), warn or ignore
///   allow_other_workload: false # compare results of another workload than the baseline's
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    #[serde(default)]
    pub missing: Option<crate::model::MissingPolicy>,
    #[serde(default)]
    pub allow_other_workload: Option<bool>,
}

/// `ab:` in bench-gate.yml: same-runner A/B mode (see the README).
///
/// ```yaml
/// ab:
///   enabled: true          # compare, report and gate measure the base too
///   base: origin/main      # default in `gate`: the pull request's base
///   setup: make build      # run in each tree (sh -c) before measuring
///   gate_on: ab            # ab (default), baseline or both
/// ```
///
/// `ab: false` (or `enabled: false`) turns off the A/B run `gate` makes by
/// default on a pull request; `ab: true` is `enabled: true`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AbConfig {
    /// `None`: not said (on by default in `gate` for a pull request whose
    /// workload can be built in the base tree).
    pub enabled: Option<bool>,
    pub base: Option<String>,
    pub setup: Option<String>,
    pub gate_on: Option<crate::model::GateOn>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct AbFields {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    setup: Option<String>,
    #[serde(default)]
    gate_on: Option<crate::model::GateOn>,
}

impl<'de> Deserialize<'de> for AbConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AbConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false, or a map with enabled, base, setup, gate_on")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<AbConfig, E> {
                Ok(AbConfig {
                    enabled: Some(b),
                    ..Default::default()
                })
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<AbConfig, E> {
                Ok(AbConfig::default())
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, m: M) -> Result<AbConfig, M::Error> {
                let f = AbFields::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
                Ok(AbConfig {
                    enabled: f.enabled,
                    base: f.base,
                    setup: f.setup,
                    gate_on: f.gate_on,
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    command: RawCommand,
    #[serde(default)]
    shell: bool,
    #[serde(default)]
    env: BTreeMap<EnvKey, String>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    ready: Option<RawReady>,
    #[serde(default, deserialize_with = "seconds")]
    start_timeout: Option<Duration>,
    #[serde(default)]
    usage: Option<UsageUrl>,
}

/// `usage:` of a service: an http:// URL, checked where it stands.
#[derive(Debug)]
struct UsageUrl(String);

impl<'de> Deserialize<'de> for UsageUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_name(d, |s| {
            if s.starts_with("http://") && s.len() > "http://".len() && !s.contains(char::is_whitespace) {
                Ok(())
            } else {
                Err(format!(
                    "usage: '{s}' must be an http:// URL such as http://127.0.0.1:11434/_bench_gate/usage"
                ))
            }
        })
        .map(UsageUrl)
    }
}

/// `expect:` of a scenario: built-in checks of what an iteration left.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    files: RawFiles,
}

/// `files: {glob: "...", count: N}`, or with `min:` and/or `max:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawFilesFields")]
struct RawFiles(FileCount);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilesFields {
    glob: String,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    min: Option<u64>,
    #[serde(default)]
    max: Option<u64>,
}

impl TryFrom<RawFilesFields> for RawFiles {
    type Error = String;
    fn try_from(f: RawFilesFields) -> Result<RawFiles, String> {
        if f.glob.trim().is_empty() {
            return Err("files.glob: the pattern is empty".into());
        }
        // The placeholders are filled in per iteration; what is left must
        // be a glob.
        let filled = ["{iteration}", "{run_dir}", "{bench_gate}"]
            .iter()
            .fold(f.glob.clone(), |g, p| g.replace(p, "x"));
        if let Err(e) = file_glob(&filled) {
            return Err(format!(
                "files.glob: {:?} is not a glob: {}",
                f.glob,
                e.kind()
            ));
        }
        let (min, max) = match (f.count, f.min, f.max) {
            (Some(n), None, None) => (Some(n), Some(n)),
            (Some(_), _, _) => return Err("files: give count, or min and/or max, not both".into()),
            (None, None, None) => {
                return Err("files: give count (exactly N files) or min and/or max".into())
            }
            (None, min, max) => (min, max),
        };
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                return Err(format!("files: min {lo} is above max {hi}"));
            }
        }
        Ok(RawFiles(FileCount {
            glob: f.glob,
            min,
            max,
        }))
    }
}

/// `ready: {http: URL}` or `ready: {port: 11434}` (127.0.0.1) or `{port: "host:port"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReady {
    #[serde(default)]
    http: Option<String>,
    #[serde(default)]
    port: Option<RawPort>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPort {
    Number(u16),
    Address(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    command: RawCommand,
    #[serde(default)]
    shell: bool,
    #[serde(default)]
    env: BTreeMap<EnvKey, String>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    iterations: Option<std::num::NonZeroU32>,
    #[serde(default)]
    warmup: Option<u32>,
    #[serde(default, deserialize_with = "seconds")]
    timeout: Option<Duration>,
    #[serde(default)]
    metrics: BTreeMap<MetricKey, MetricExpr>,
    #[serde(default)]
    verify: Option<RawCommand>,
    #[serde(default)]
    expect: Option<RawExpect>,
    /// `measure: [wall, instructions, allocations]`: wall (and the other
    /// timed measures) always; the others are counted under Valgrind.
    #[serde(default)]
    measure: Vec<RawMeasure>,
}

/// A name in a scenario's `measure:` list.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawMeasure {
    Wall,
    Instructions,
    Allocations,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawCommand {
    Line(String),
    Argv(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawWorkload {
    List(Vec<String>),
    Full(FullWorkload),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FullWorkload {
    scenarios: Vec<String>,
    #[serde(default)]
    iterations: Option<u32>,
    #[serde(default)]
    warmup: Option<u32>,
}

/// `measure.statistic`, e.g. `wall_ms.p95`, or per unit of work:
/// `{of: api_calls.mean, per: 10}`, or a throughput:
/// `{of: wall_ms.p50, per_minute: 10}` (10 units of work per run).
#[derive(Debug, Clone)]
struct MetricExpr {
    measure: Measure,
    statistic: Statistic,
    per: Option<f64>,
    per_minute: Option<f64>,
}

/// `measure.statistic` read and checked.
fn metric_expr<E: de::Error>(s: &str) -> Result<MetricExpr, E> {
    let (m, stat) = s.split_once('.').unwrap_or((s, ""));
    let measure = Measure::parse(m).ok_or_else(|| {
        E::custom(format!(
            "unknown measure '{m}' in '{s}'; expected one of {}",
            Measure::ALL.map(|m| m.name()).join(", ")
        ))
    })?;
    let statistic = Statistic::parse(stat).ok_or_else(|| {
        E::custom(format!(
            "unknown statistic '{stat}' in '{s}'; expected one of {}",
            Statistic::VALUES
                .iter()
                .map(|(_, n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok(MetricExpr {
        measure,
        statistic,
        per: None,
        per_minute: None,
    })
}

// Checks happen inside the visitors, while the YAML scalar is being read, so
// that serde_yaml reports the scalar's own line and column.
impl<'de> Deserialize<'de> for MetricExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'a> de::Visitor<'a> for V {
            type Value = MetricExpr;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a metric expression such as wall_ms.p50, or {of: api_calls.mean, per: 10}",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MetricExpr, E> {
                metric_expr(s)
            }
            fn visit_map<A: de::MapAccess<'a>>(self, mut map: A) -> Result<MetricExpr, A::Error> {
                let (mut of, mut per, mut per_minute) = (None, None, None);
                let units = |n: f64, key: &str| {
                    if n.is_finite() && n > 0.0 && n < 1e12 {
                        Ok(n)
                    } else {
                        Err(de::Error::custom(format!(
                            "{key}: {n} must be a positive number (the units of work one run does)"
                        )))
                    }
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "of" => {
                            let s: String = map.next_value()?;
                            of = Some(metric_expr::<A::Error>(&s)?);
                        }
                        "per" => per = Some(units(map.next_value()?, "per")?),
                        "per_minute" => per_minute = Some(units(map.next_value()?, "per_minute")?),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["of", "per", "per_minute"],
                            ));
                        }
                    }
                }
                let mut e = of.ok_or_else(|| de::Error::missing_field("of"))?;
                match (per, per_minute) {
                    (Some(_), Some(_)) | (None, None) => return Err(de::Error::custom(
                        "give one of per (a value per unit of work) or per_minute (a throughput)",
                    )),
                    (_, Some(_)) if e.measure.unit() != "ms" => {
                        return Err(de::Error::custom(format!(
                            "per_minute needs a time measure (wall_ms, cpu_ms, …), not {}",
                            e.measure.name()
                        )))
                    }
                    _ => {}
                }
                e.per = per;
                e.per_minute = per_minute;
                Ok(e)
            }
        }
        d.deserialize_any(V)
    }
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a positive number of seconds")
        }
        fn visit_f64<E: de::Error>(self, s: f64) -> Result<Duration, E> {
            if s.is_finite() && s > 0.0 && s < 1e9 {
                Ok(Duration::from_secs_f64(s))
            } else {
                Err(E::custom("timeout must be a positive number of seconds"))
            }
        }
        fn visit_u64<E: de::Error>(self, s: u64) -> Result<Duration, E> {
            self.visit_f64(s as f64)
        }
        fn visit_i64<E: de::Error>(self, s: i64) -> Result<Duration, E> {
            self.visit_f64(s as f64)
        }
    }
    d.deserialize_any(V).map(Some)
}

/// A file pattern of `expect.files` (after its placeholders are filled):
/// `*`, `?`, `[…]` and `{a,b}` within one path component, `**` across
/// components (the `globset` crate's syntax).
pub fn file_glob(g: &str) -> Result<globset::GlobMatcher, globset::Error> {
    Ok(globset::GlobBuilder::new(g)
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

/// One `relevant_paths` glob: `*` and `?` stay within a folder, `**`
/// crosses folders, `{a,b}` and `[ab]` as usual.
pub fn relevant_glob(g: &str) -> Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(g).literal_separator(true).build()
}

/// The `relevant_paths` globs as one set.
pub fn relevant_set(globs: &[String]) -> Result<globset::GlobSet, globset::Error> {
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        b.add(relevant_glob(g)?);
    }
    b.build()
}

/// The `relevant_paths` globs, written relative to the config's folder,
/// made repository-relative: `folder` is that folder inside the repository
/// (`sub/`, or empty at the top). Leading `./` and `../` are taken off
/// against `folder`; a glob that climbs out of the repository is kept as
/// written (it matches nothing, and [`unmatched_globs`] says so).
pub fn scoped_relevant(globs: &[String], folder: &str) -> Vec<String> {
    globs
        .iter()
        .map(|g| {
            let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
            let mut rest = g.as_str();
            loop {
                if let Some(r) = rest.strip_prefix("./") {
                    rest = r;
                } else if let Some(r) = rest.strip_prefix("../") {
                    if parts.pop().is_none() {
                        return g.clone();
                    }
                    rest = r;
                } else {
                    break;
                }
            }
            parts.push(rest);
            parts.join("/")
        })
        .collect()
}

/// The globs that match none of `files` (the checkout's, repository-
/// relative): each is a mistake in the config, or a path not there yet.
/// Globs that do not compile count as unmatched.
pub fn unmatched_globs<'a>(globs: &'a [String], files: &[String]) -> Vec<&'a str> {
    globs
        .iter()
        .filter(|g| match relevant_glob(g) {
            Ok(glob) => {
                let m = glob.compile_matcher();
                !files.iter().any(|f| m.is_match(f.as_str()))
            }
            Err(_) => true,
        })
        .map(String::as_str)
        .collect()
}

/// The counted measures of a `measure:` list, each once, in order.
fn counted(list: &[RawMeasure]) -> Vec<crate::model::Counted> {
    use crate::model::Counted;
    let mut out = Vec::new();
    for m in list {
        let c = match m {
            RawMeasure::Wall => continue,
            RawMeasure::Instructions => Counted::Instructions,
            RawMeasure::Allocations => Counted::Allocations,
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// A workload as the config defines it: scenario names and optional overrides.
#[derive(Debug, Clone)]
struct WorkloadDef {
    scenarios: Vec<String>,
    iterations: Option<u32>,
    warmup: Option<u32>,
}

/// A loaded config: scenarios with defaults applied, and named workloads.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub default_workload: String,
    scenarios: BTreeMap<String, Scenario>,
    workloads: BTreeMap<String, WorkloadDef>,
    services: Vec<ServiceSpec>,
    pub ab: AbConfig,
    /// `secrets:`: what the commands it starts go without.
    pub env_policy: EnvPolicy,
    pub compare: CompareConfig,
    /// `relevant_paths:` globs (repository-relative) of the files that can
    /// change the benchmarks' numbers; `None`: every file can.
    pub relevant_paths: Option<Vec<String>>,
}

/// A scenario's or service's command as written, made into a `CommandSpec`:
/// the argument list (through `sh -c` with `shell`), and `cwd` relative to
/// the config file's folder `base`, and the config's `secrets:`. `field`
/// names it in the error.
fn command_spec(
    field: &str,
    command: RawCommand,
    shell: bool,
    env: BTreeMap<EnvKey, String>,
    cwd: Option<PathBuf>,
    base: &Path,
    env_policy: &EnvPolicy,
) -> Result<CommandSpec, String> {
    let argv: Vec<String> = match command {
        RawCommand::Line(line) if shell => vec!["sh".into(), "-c".into(), line],
        RawCommand::Line(line) => line.split_whitespace().map(str::to_string).collect(),
        RawCommand::Argv(argv) if shell => vec!["sh".into(), "-c".into(), argv.join(" ")],
        RawCommand::Argv(argv) => argv,
    };
    if argv.is_empty() || argv[0].trim().is_empty() {
        return Err(format!("{field}.command: the command is empty"));
    }
    let cwd = match cwd {
        Some(c) if c.is_relative() => Some(base.join(c)),
        Some(c) => Some(c),
        None if base.as_os_str().is_empty() => None,
        None => Some(base.to_path_buf()),
    };
    Ok(CommandSpec {
        argv,
        env: env.into_iter().map(|(k, v)| (k.0, v)).collect(),
        cwd,
        env_policy: env_policy.clone(),
    })
}

impl Config {
    /// Files and folders the config's commands name by a relative path
    /// (arguments, words of a shell line, working directories): the data and
    /// fixtures the benchmark's verdict rests on. A word counts when it
    /// names something that exists, or looks like a path (a `/` or a file
    /// extension), so that deleting a named file still counts as changing
    /// it. A program found on PATH is not a path.
    pub fn named_paths(&self) -> Vec<PathBuf> {
        let base = self.path.parent().unwrap_or(Path::new(""));
        let commands = self
            .scenarios
            .values()
            .map(|s| &s.command)
            .chain(self.services.iter().map(|s| &s.command));
        let mut out = std::collections::BTreeSet::new();
        for c in commands {
            let dir = c.cwd.clone().unwrap_or_else(|| base.to_path_buf());
            if let Some(cwd) = &c.cwd {
                if cwd.is_relative() && cwd.exists() {
                    out.insert(cwd.clone());
                }
            }
            let words = c
                .argv
                .iter()
                .flat_map(|a| a.split_whitespace())
                .map(|w| w.trim_matches(|ch| matches!(ch, '"' | '\'' | ';' | '(' | ')')));
            for w in words {
                let Some(w) = w.split_once('=').map_or(Some(w), |(_, v)| Some(v)) else {
                    continue;
                };
                if w.is_empty() || w.starts_with('/') || w.starts_with('-') || w.contains('{') {
                    continue;
                }
                let p = dir.join(w);
                let looks_like_a_path = w.contains('/')
                    || std::path::Path::new(w)
                        .extension()
                        .is_some_and(|e| e.to_string_lossy().chars().all(char::is_alphanumeric));
                if (p.exists() && (w.contains('/') || p.is_file())) || looks_like_a_path {
                    out.insert(p);
                }
            }
        }
        out.into_iter().collect()
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::fsutil::read_capped_string(path, crate::fsutil::MAX_CONFIG_BYTES)
            .map_err(|e| ConfigError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let limit = crate::parse_error::MAX_YAML_FLOW_DEPTH;
        if let Some((line, column)) = crate::parse_error::yaml_too_deep(text, limit) {
            return Err(ConfigError::Syntax {
                path: shown,
                line,
                column,
                message: format!("nested deeper than the limit of {limit} levels"),
            });
        }
        if let Some(d) = crate::parse_error::duplicate_key(text) {
            return Err(ConfigError::Syntax {
                path: shown,
                line: d.line,
                column: d.column,
                message: d.to_string(),
            });
        }
        // A config with errors in `secrets:` fails the second reading too.
        let scope = SecretsScope::set(
            serde_yaml::from_str::<SecretsOnly>(text)
                .map(|s| s.secrets.policy())
                .unwrap_or_default(),
        );
        let raw: RawConfig =
            serde_yaml::from_str(text).map_err(|e| match crate::parse_error::yaml(&e) {
                (message, Some((line, column))) => ConfigError::Syntax {
                    path: shown.clone(),
                    line,
                    column,
                    message,
                },
                (message, None) => ConfigError::Invalid {
                    path: shown.clone(),
                    message,
                },
            })?;
        drop(scope);
        let env_policy = raw.secrets.policy();
        let invalid = |message: String| ConfigError::Invalid {
            path: shown.clone(),
            message,
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut scenarios = BTreeMap::new();
        // Names reach results files, which refuse anything else when read
        // back (they may come from a fork): say so here, with the field.
        let identifier = |field: String, name: &str, check: fn(&str) -> bool| {
            if check(name) {
                Ok(())
            } else {
                Err(invalid(format!(
                    "{field}: {name:?} is not allowed as a name: letters, digits and _ . - / only"
                )))
            }
        };
        for (name, s) in raw.scenarios {
            identifier(
                format!("scenarios.{name}"),
                &name,
                crate::model::valid_identifier,
            )?;
            let command = command_spec(
                &format!("scenarios.{name}"),
                s.command,
                s.shell,
                s.env,
                s.cwd,
                &base,
                &env_policy,
            )
            .map_err(invalid)?;
            let verify = match s.verify {
                None => None,
                Some(RawCommand::Line(line)) if line.trim().is_empty() => {
                    return Err(invalid(format!(
                        "scenarios.{name}.verify: the command is empty"
                    )))
                }
                Some(RawCommand::Line(line)) => Some(vec!["sh".into(), "-c".into(), line]),
                Some(RawCommand::Argv(argv))
                    if argv.first().is_none_or(|a| a.trim().is_empty()) =>
                {
                    return Err(invalid(format!(
                        "scenarios.{name}.verify: the command is empty"
                    )))
                }
                Some(RawCommand::Argv(argv)) => Some(argv),
            };
            let checks = Checks {
                verify,
                files: s.expect.map(|e| e.files.0),
            };
            let metrics: Vec<MetricSpec> = if s.metrics.is_empty() {
                vec![
                    MetricSpec {
                        name: format!("{name}.latency_p50_ms"),
                        measure: Measure::WallMs,
                        statistic: Statistic::P50,
                        per: None,
                        per_minute: None,
                    },
                    MetricSpec {
                        name: format!("{name}.latency_p95_ms"),
                        measure: Measure::WallMs,
                        statistic: Statistic::P95,
                        per: None,
                        per_minute: None,
                    },
                    MetricSpec {
                        name: format!("{name}.peak_mb"),
                        measure: Measure::PeakMb,
                        statistic: Statistic::Max,
                        per: None,
                        per_minute: None,
                    },
                ]
            } else {
                s.metrics
                    .into_iter()
                    .map(|(MetricKey(metric), e)| MetricSpec {
                        name: metric,
                        measure: e.measure,
                        statistic: e.statistic,
                        per: e.per,
                        per_minute: e.per_minute,
                    })
                    .collect()
            };
            // The default names grow the scenario's name past the limit.
            for m in &metrics {
                identifier(
                    format!("scenarios.{name}: metric {}", m.name),
                    &m.name,
                    crate::model::valid_metric_name,
                )?;
            }
            scenarios.insert(
                name.clone(),
                Scenario {
                    name,
                    command,
                    iterations: s.iterations.map_or(10, |n| n.get()),
                    warmup: s.warmup.unwrap_or(1),
                    timeout: s.timeout.unwrap_or(Duration::from_secs(300)),
                    metrics,
                    checks,
                    usage: Vec::new(),
                    counted: counted(&s.measure),
                },
            );
        }
        if scenarios.is_empty() {
            return Err(invalid("scenarios: at least one scenario is needed".into()));
        }
        let mut services = Vec::new();
        for (ServiceKey(name), sv) in raw.services {
            let command = command_spec(
                &format!("services.{name}"),
                sv.command,
                sv.shell,
                sv.env,
                sv.cwd,
                &base,
                &env_policy,
            )
            .map_err(invalid)?;
            let ready = match sv.ready {
                None => Readiness::None,
                Some(RawReady {
                    http: Some(url),
                    port: None,
                }) => {
                    if !url.starts_with("http://") {
                        return Err(invalid(format!(
                            "services.{name}.ready.http: '{url}' must be an http:// URL"
                        )));
                    }
                    Readiness::Http(url)
                }
                Some(RawReady {
                    http: None,
                    port: Some(RawPort::Number(p)),
                }) => Readiness::Port(format!("127.0.0.1:{p}")),
                Some(RawReady {
                    http: None,
                    port: Some(RawPort::Address(a)),
                }) => Readiness::Port(a),
                Some(_) => {
                    return Err(invalid(format!(
                        "services.{name}.ready: give exactly one of http or port"
                    )))
                }
            };
            services.push(ServiceSpec {
                name,
                command,
                ready,
                start_timeout: sv.start_timeout.unwrap_or(Duration::from_secs(30)),
                usage: sv.usage.map(|u| u.0),
            });
        }
        // Usage measures come from the services' `usage:` endpoints.
        let usage: Vec<String> = services.iter().filter_map(|s| s.usage.clone()).collect();
        for (name, sc) in scenarios.iter_mut() {
            if usage.is_empty() {
                if let Some(m) = sc.metrics.iter().find(|m| m.measure.is_usage()) {
                    let message = format!(
                        "scenarios.{name}.metrics.{}: {} is counted by a service's usage endpoint, and no service declares one (services.NAME.usage: http://127.0.0.1:PORT/_bench_gate/usage)",
                        m.name,
                        m.measure.name()
                    );
                    return Err(match line_of(text, &m.name) {
                        Some(line) => ConfigError::Syntax {
                            path: shown.clone(),
                            line,
                            column: 1,
                            message,
                        },
                        None => invalid(message),
                    });
                }
            }
            sc.usage = usage.clone();
        }
        let mut workloads = BTreeMap::new();
        for (name, w) in raw.workloads {
            identifier(
                format!("workloads.{name}"),
                &name,
                crate::model::valid_workload_name,
            )?;
            let (list, iterations, warmup) = match w {
                RawWorkload::List(l) => (l, None, None),
                RawWorkload::Full(f) => (f.scenarios, f.iterations, f.warmup),
            };
            for s in &list {
                if !scenarios.contains_key(s) {
                    return Err(invalid(format!(
                        "workloads.{name}: unknown scenario '{s}'; defined: {}",
                        scenarios.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            if iterations == Some(0) {
                return Err(invalid(format!(
                    "workloads.{name}.iterations: must be at least 1"
                )));
            }
            workloads.insert(
                name,
                WorkloadDef {
                    scenarios: list,
                    iterations,
                    warmup,
                },
            );
        }
        if workloads.is_empty() {
            workloads.insert(
                "standard".into(),
                WorkloadDef {
                    scenarios: scenarios.keys().cloned().collect(),
                    iterations: None,
                    warmup: None,
                },
            );
        }
        let default_workload = raw.default_workload.unwrap_or_else(|| {
            if workloads.contains_key("standard") {
                "standard".into()
            } else {
                workloads.keys().next().cloned().unwrap_or_default()
            }
        });
        if !workloads.contains_key(&default_workload) {
            return Err(invalid(format!(
                "default_workload: unknown workload '{default_workload}'"
            )));
        }
        if let Some(globs) = &raw.relevant_paths {
            if globs.is_empty() {
                return Err(invalid(
                    "relevant_paths: give at least one glob, or leave it out (then every path counts)"
                        .into(),
                ));
            }
            for (i, g) in globs.iter().enumerate() {
                relevant_glob(g).map_err(|e| {
                    invalid(format!("relevant_paths[{i}]: {g:?} is not a glob: {e}"))
                })?;
            }
        }
        Ok(Config {
            path: path.to_path_buf(),
            default_workload,
            scenarios,
            workloads,
            services,
            ab: raw.ab,
            env_policy,
            compare: raw.compare,
            relevant_paths: raw.relevant_paths,
        })
    }

    pub fn workload_names(&self) -> Vec<String> {
        self.workloads.keys().cloned().collect()
    }

    pub fn workload(&self, name: &str) -> Result<Workload, WorkloadError> {
        let def = self
            .workloads
            .get(name)
            .ok_or_else(|| WorkloadError::UnknownWorkload {
                name: name.to_string(),
                available: format!(
                    "{} (from {})",
                    self.workload_names().join(", "),
                    self.path.display()
                ),
            })?;
        let scenarios = def
            .scenarios
            .iter()
            .map(|s| {
                let mut sc = self.scenarios[s].clone();
                if let Some(n) = def.iterations {
                    sc.iterations = n;
                }
                if let Some(w) = def.warmup {
                    sc.warmup = w;
                }
                sc
            })
            .collect();
        Ok(Workload {
            name: name.to_string(),
            scenarios,
            services: self.services.clone(),
            shard: None,
        })
    }
}

/// The 1-based line on which `key:` first stands as a key in `text`.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches(['"', '\'']);
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start_matches(['"', '\'']).starts_with(':'))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("cfg/bench-gate.yml"), text)
    }

    #[test]
    fn relevant_globs_are_scoped_to_the_config_folder() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            scoped_relevant(&g(&["src/**", "Cargo.lock"]), ""),
            g(&["src/**", "Cargo.lock"])
        );
        assert_eq!(
            scoped_relevant(&g(&["src/**", "./Cargo.*"]), "sub/"),
            g(&["sub/src/**", "sub/Cargo.*"])
        );
        assert_eq!(
            scoped_relevant(&g(&["../shared/**", "../../x"]), "a/b/"),
            g(&["a/shared/**", "x"])
        );
        // Out of the repository: kept as written (it matches nothing).
        assert_eq!(scoped_relevant(&g(&["../x/**"]), ""), g(&["../x/**"]));
        let files = g(&["sub/src/lib.rs", "README.md"]);
        assert_eq!(
            unmatched_globs(&g(&["sub/src/**", "src/**", "*.md"]), &files),
            vec!["src/**"]
        );
        assert!(unmatched_globs(&g(&["**"]), &[]).len() == 1);
    }

    #[test]
    fn relevant_paths_are_globs_checked_at_load() {
        let base = "scenarios:\n  a:\n    command: [x]\n";
        assert_eq!(parse(base).unwrap().relevant_paths, None);
        let c = parse(&format!(
            "{base}relevant_paths: [\"src/**\", \"Cargo.*\"]\n"
        ))
        .unwrap();
        let globs = c.relevant_paths.unwrap();
        let set = relevant_set(&globs).unwrap();
        assert!(set.is_match("src/a/b.rs") && set.is_match("Cargo.lock"));
        assert!(!set.is_match("docs/src/x.md") && !set.is_match("sub/Cargo.toml"));
        let err = parse(&format!("{base}relevant_paths: [\"src/**\", \"a[\"]\n")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cfg/bench-gate.yml: relevant_paths[1]: \"a[\" is not a glob"),
            "{err}"
        );
        let err = parse(&format!("{base}relevant_paths: []\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("relevant_paths: give at least one glob"),
            "{err}"
        );
    }

    #[test]
    fn full_example() {
        let c = parse(
            "scenarios:\n  single:\n    command: [\"persona\", \"generate\", \"--count\", \"1\"]\n    env: {A: b}\n    iterations: 5\n    timeout: 2.5\n    metrics:\n      generation.single.latency_p50_ms: wall_ms.p50\n      memory.single_peak_mb: peak_mb.max\n  sh:\n    command: echo hi | cat\n    shell: true\nworkloads:\n  quick:\n    scenarios: [single]\n    iterations: 2\n  standard: [single, sh]\n",
        )
        .unwrap();
        assert_eq!(c.default_workload, "standard");
        let q = c.workload("quick").unwrap();
        assert_eq!(q.scenarios.len(), 1);
        let s = &q.scenarios[0];
        assert_eq!(s.iterations, 2);
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(s.command.cwd.as_deref(), Some(Path::new("cfg")));
        assert_eq!(s.metrics[0].name, "generation.single.latency_p50_ms");
        let std = c.workload("standard").unwrap();
        assert_eq!(std.scenarios[1].command.argv, ["sh", "-c", "echo hi | cat"]);
        // Default metrics for a scenario without any.
        assert_eq!(std.scenarios[1].metrics[0].name, "sh.latency_p50_ms");
    }

    #[test]
    fn measure_lists_counted_measures_once_and_refuses_unknown_names() {
        use crate::model::Counted;
        let c = parse("scenarios:\n  a:\n    command: [x]\n    measure: [wall, allocations, instructions, allocations]\n  b:\n    command: [y]\n").unwrap();
        let w = c.workload("standard").unwrap();
        assert_eq!(
            w.scenarios[0].counted,
            [Counted::Allocations, Counted::Instructions]
        );
        assert!(w.scenarios[1].counted.is_empty());
        let err = parse("scenarios:\n  a:\n    command: [x]\n    measure: [cycles]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":4:") && err.contains("cycles"), "{err}");
    }

    #[test]
    fn the_compare_section() {
        let c = parse("scenarios:\n  a:\n    command: [x]\ncompare:\n  missing: warn\n  allow_other_workload: true\n").unwrap();
        assert_eq!(
            c.compare,
            CompareConfig {
                missing: Some(crate::model::MissingPolicy::Warn),
                allow_other_workload: Some(true),
            }
        );
        let c = parse("scenarios:\n  a:\n    command: [x]\n").unwrap();
        assert_eq!(c.compare, CompareConfig::default());
    }

    #[test]
    fn wrong_type_names_file_line_and_column() {
        let err = parse("scenarios:\n  a:\n    command: [x]\n    iterations: many\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("cfg/bench-gate.yml:4:17: scenarios.a.iterations: invalid type"),
            "{msg}"
        );
    }

    #[test]
    fn semantic_errors_have_positions_too() {
        let err = parse("scenarios:\n  a:\n    command: [x]\n    iterations: 0\n").unwrap_err();
        assert!(
            err.to_string().starts_with("cfg/bench-gate.yml:4:"),
            "{err}"
        );
        assert!(err.to_string().contains("expected a nonzero u32"), "{err}");
        let err = parse("scenarios:\n  a:\n    command: [x]\n    metrics:\n      m: wall.p50\n")
            .unwrap_err();
        assert!(
            err.to_string().starts_with("cfg/bench-gate.yml:5:"),
            "{err}"
        );
        assert!(err.to_string().contains("unknown measure 'wall'"), "{err}");
        let err = parse("scenarios:\n  a:\n    command: [x]\n    timeout: 0\n").unwrap_err();
        assert!(
            err.to_string().contains("timeout must be a positive"),
            "{err}"
        );
        let err = parse("scenarios:\n  a:\n    comand: [x]\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `comand`"), "{err}");
        let err = parse("scenarios:\n  a:\n    command: []\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cfg/bench-gate.yml: scenarios.a.command: the command is empty"
        );
        let err = parse("scenarios:\n  a:\n    command: [x]\nworkloads:\n  w: [b]\n").unwrap_err();
        let err_compare =
            parse("scenarios:\n  a:\n    command: [x]\ncompare:\n  missing: sometimes\n")
                .unwrap_err();
        assert!(
            err_compare.to_string().starts_with(
                "cfg/bench-gate.yml:5:12: compare.missing: unknown variant `sometimes`"
            ),
            "{err_compare}"
        );
        let err_compare =
            parse("scenarios:\n  a:\n    command: [x]\ncompare:\n  missng: warn\n").unwrap_err();
        assert!(
            err_compare
                .to_string()
                .starts_with("cfg/bench-gate.yml:5:3:")
                && err_compare.to_string().contains("unknown field `missng`"),
            "{err_compare}"
        );
        assert!(
            err.to_string()
                .contains("workloads.w: unknown scenario 'b'"),
            "{err}"
        );
    }

    #[test]
    fn secrets_lists_reach_every_command() {
        let c = parse("secrets:\n  remove: [NPM_TOKEN]\n  pass_through: [GH_TOKEN]\nservices:\n  s:\n    command: [x]\n    env: {GH_TOKEN: t}\nscenarios:\n  a:\n    command: [x]\n    env: {A: b}\n").unwrap();
        let want = EnvPolicy {
            remove: vec!["NPM_TOKEN".into()],
            pass_through: vec!["GH_TOKEN".into()],
        };
        assert_eq!(c.env_policy, want);
        let w = c.workload("standard").unwrap();
        assert_eq!(w.scenarios[0].command.env_policy, want);
        assert_eq!(w.services[0].command.env_policy, want);
        assert_eq!(w.services[0].command.env["GH_TOKEN"], "t");
        // Without the section, the defaults alone.
        let c = parse("scenarios:\n  a:\n    command: [x]\n").unwrap();
        assert_eq!(c.env_policy, EnvPolicy::default());
    }

    /// Each bad `secrets:` use: the error's start (file:line:col and field)
    /// and what it says.
    #[test]
    fn secrets_errors_name_the_entry_and_its_position() {
        let cases = [
            // Wherever `secrets:` stands in the file, the key's own position.
            (
                "scenarios:\n  a:\n    command: [x]\n    env:\n      GITHUB_TOKEN: x\nsecrets:\n  remove: [NPM_TOKEN]\n",
                "cfg/bench-gate.yml:5:7: scenarios.a.env",
                "GITHUB_TOKEN is a secret that bench-gate keeps from the commands it runs; to set it for them on purpose, list it in secrets.pass_through",
            ),
            (
                "services:\n  s:\n    command: [x]\n    env: {NPM_TOKEN: x}\nscenarios:\n  a:\n    command: [x]\nsecrets:\n  remove: [NPM_TOKEN]\n",
                "cfg/bench-gate.yml:4:11: services.s.env",
                "NPM_TOKEN is a secret",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    env: {\"A=B\": x}\n",
                "cfg/bench-gate.yml:4:11: scenarios.a.env",
                "'A=B' cannot be an environment variable name",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\nsecrets:\n  remove: [OK, \"NO TOKEN\"]\n",
                "cfg/bench-gate.yml:5:16: secrets.remove[1]",
                "'NO TOKEN' is not an environment variable name",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\nsecrets:\n  pass_through:\n    - GITHUB_TOKN\n",
                "cfg/bench-gate.yml:6:7: secrets.pass_through[0]",
                "GITHUB_TOKN is not removed, so there is nothing to let through",
            ),
            (
                "secrets:\n  pass_through: [NPM_TOKEN]\n  remove: [NPM_TOKEN]\nscenarios:\n  a:\n    command: [x]\n",
                "cfg/bench-gate.yml:2:18: secrets.pass_through[0]",
                "NPM_TOKEN is in secrets.remove too",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\nsecrets:\n  keep: [A]\n",
                "cfg/bench-gate.yml:5:3: secrets",
                "unknown field `keep`",
            ),
        ];
        for (text, start, says) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(start), "{err}");
            assert!(err.contains(says), "{err}");
        }
        // Let through on purpose, it may be set.
        parse("secrets:\n  pass_through: [GH_TOKEN]\nscenarios:\n  a:\n    command: [x]\n    env: {GH_TOKEN: x}\n").unwrap();
        // The job's own token, never.
        let err =
            parse("secrets:\n  pass_through: [GITHUB_TOKEN]\nscenarios:\n  a:\n    command: [x]\n")
                .unwrap_err()
                .to_string();
        assert!(
            err.starts_with("cfg/bench-gate.yml:2:18: secrets.pass_through[0]")
                && err.contains("GITHUB_TOKEN is the job's own credential"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let err =
            parse("scenarios:\n  a:\n    command: [x]\n    iterations: 50\n    iterations: 1\n")
                .unwrap_err()
                .to_string();
        assert_eq!(
            err,
            "cfg/bench-gate.yml:5:5: duplicate key `scenarios.a.iterations` (first given on line 4); each key may appear once"
        );
        let err = parse("scenarios:\n  a:\n    command: [x]\n  a:\n    command: [y]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "cfg/bench-gate.yml:4:3: duplicate key `scenarios.a` (first given on line 2)"
            ),
            "{err}"
        );
    }

    #[test]
    fn names_that_results_could_not_hold_are_refused_here() {
        for (yaml, msg) in [
            (
                "scenarios:\n  \"a b\":\n    command: [x]\n",
                "cfg/bench-gate.yml: scenarios.a b: \"a b\" is not allowed as a name",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    metrics:\n      \"@me\": wall_ms.p50\n",
                "cfg/bench-gate.yml:5:7: scenarios.a.metrics: \"@me\" is not allowed as a metric name",
            ),
            (
                "services:\n  ../../x:\n    command: [x]\nscenarios:\n  a:\n    command: [x]\n",
                "cfg/bench-gate.yml:2:3: services: \"../../x\" is not allowed as a service name",
            ),
            (
                "services:\n  .hidden:\n    command: [x]\nscenarios:\n  a:\n    command: [x]\n",
                "cfg/bench-gate.yml:2:3: services: \".hidden\" is not allowed as a service name",
            ),
            (
                &format!("scenarios:\n  {}:\n    command: [x]\n", "s".repeat(195)),
                "cfg/bench-gate.yml: scenarios.sssss",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\nworkloads:\n  \"## w\": [a]\n",
                "cfg/bench-gate.yml: workloads.## w: \"## w\" is not allowed",
            ),
        ] {
            let err = parse(yaml).unwrap_err().to_string();
            assert!(err.starts_with(msg), "{err}");
        }
        parse("scenarios:\n  a.b-c/d_e:\n    command: [x]\nworkloads:\n  import:x: [a.b-c/d_e]\n")
            .unwrap();
    }
}

#[cfg(test)]
mod checks_and_usage {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("cfg/bench-gate.yml"), text)
    }

    const SERVICE: &str =
        "services:\n  llm:\n    command: [x]\n    usage: http://127.0.0.1:9/_bench_gate/usage\n";

    #[test]
    fn verify_expect_usage_and_per_unit_metrics_load() {
        let c = parse(&format!("{SERVICE}scenarios:\n  gen:\n    command: [x]\n    verify: test -d {{run_dir}}/out-{{iteration}}\n    expect:\n      files: {{glob: \"{{run_dir}}/out-{{iteration}}/**/persona.json\", count: 10}}\n    metrics:\n      gen.api_calls: api_calls.max\n      gen.api_calls_per_persona: {{of: api_calls.mean, per: 10}}\n      gen.personas_per_minute: {{of: wall_ms.p50, per_minute: 10}}\n  other:\n    command: [y]\n    verify: [test, -s, out]\n    expect:\n      files: {{glob: \"*.txt\", min: 1}}\n")).unwrap();
        let w = c.workload("standard").unwrap();
        let gen = w.scenarios.iter().find(|s| s.name == "gen").unwrap();
        assert_eq!(
            gen.checks.verify.as_deref().unwrap(),
            ["sh", "-c", "test -d {run_dir}/out-{iteration}"]
        );
        let files = gen.checks.files.as_ref().unwrap();
        assert_eq!(files.glob, "{run_dir}/out-{iteration}/**/persona.json");
        assert_eq!((files.min, files.max), (Some(10), Some(10)));
        assert_eq!(gen.usage, ["http://127.0.0.1:9/_bench_gate/usage"]);
        assert_eq!(gen.metrics[0].measure, Measure::ApiCalls);
        assert_eq!(gen.metrics[0].per, None);
        assert_eq!(gen.metrics[1].name, "gen.api_calls_per_persona");
        assert_eq!(gen.metrics[1].statistic, Statistic::Mean);
        assert_eq!(gen.metrics[1].per, Some(10.0));
        assert_eq!(gen.metrics[2].name, "gen.personas_per_minute");
        assert_eq!(
            (gen.metrics[2].per, gen.metrics[2].per_minute),
            (None, Some(10.0))
        );
        let other = w.scenarios.iter().find(|s| s.name == "other").unwrap();
        assert_eq!(
            other.checks.verify.as_deref().unwrap(),
            ["test", "-s", "out"]
        );
        let files = other.checks.files.as_ref().unwrap();
        assert_eq!((files.min, files.max), (Some(1), None));
        assert_eq!(
            w.services[0].usage.as_deref(),
            Some("http://127.0.0.1:9/_bench_gate/usage")
        );
        // Without checks and usage, nothing to do after an iteration.
        let c = parse("scenarios:\n  a:\n    command: [x]\n").unwrap();
        let w = c.workload("standard").unwrap();
        assert!(w.scenarios[0].checks.is_empty() && w.scenarios[0].usage.is_empty());
    }

    /// Each bad check or usage: where (file:line) and what it says.
    #[test]
    fn bad_checks_and_usage_name_file_and_line() {
        let cases = [
            (
                "scenarios:\n  a:\n    command: [x]\n    metrics:\n      a.calls: api_calls.max\n".to_string(),
                "cfg/bench-gate.yml:5:1: scenarios.a.metrics.a.calls: api_calls is counted by a service's usage endpoint, and no service declares one",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    expect:\n      files: {glob: \"*.json\", count: 2, min: 1}\n".into(),
                "cfg/bench-gate.yml:5:",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    expect:\n      files: {glob: \"*.json\"}\n".into(),
                "cfg/bench-gate.yml:5:",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    expect:\n      files: {glob: \"*.json\", min: 3, max: 1}\n".into(),
                "cfg/bench-gate.yml:5:",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    expect:\n      files: {glob: \"{run_dir}/a[b\", count: 1}\n".into(),
                "cfg/bench-gate.yml:5:7: scenarios.a.expect: files.glob: \"{run_dir}/a[b\" is not a glob: unclosed character class",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    expect:\n      file: {glob: \"*.json\", count: 1}\n".into(),
                "cfg/bench-gate.yml:5:7: scenarios.a.expect: unknown field `file`",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    verify: \"  \"\n".into(),
                "cfg/bench-gate.yml: scenarios.a.verify: the command is empty",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    metrics:\n      m: {of: wall_ms.p50, per: 0}\n".into(),
                "cfg/bench-gate.yml:5:",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    metrics:\n      m: {of: wall_ms.p50, by: 2}\n".into(),
                "cfg/bench-gate.yml:5:",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    metrics:\n      m: {of: wall_ms.p50, per: 2, per_minute: 2}\n".into(),
                "cfg/bench-gate.yml:5:",
            ),
            (
                "scenarios:\n  a:\n    command: [x]\n    metrics:\n      m: {of: peak_mb.max, per_minute: 2}\n".into(),
                "cfg/bench-gate.yml:5:",
            ),
            (
                "services:\n  s:\n    command: [x]\n    usage: localhost:9/usage\nscenarios:\n  a:\n    command: [x]\n".into(),
                "cfg/bench-gate.yml:4:12: services.s.usage: usage: 'localhost:9/usage' must be an http:// URL",
            ),
        ];
        let says = [
            "",
            "give count, or min and/or max, not both",
            "give count (exactly N files) or min and/or max",
            "min 3 is above max 1",
            "",
            "",
            "",
            "per: 0 must be a positive number",
            "unknown field `by`",
            "give one of per (a value per unit of work) or per_minute (a throughput)",
            "per_minute needs a time measure (wall_ms, cpu_ms, …), not peak_mb",
            "",
        ];
        for ((text, start), says) in cases.iter().zip(says) {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(start), "{err}");
            assert!(err.contains(says), "{err}");
        }
    }
}
