//! Baseline files: the Persona design's YAML format, with backward-compatible
//! extensions (per-metric thresholds and direction, units, raw samples, a
//! schema version). Loading reports every error with file, line and column.
//!
//! ```yaml
//! metrics:
//!   generation:
//!     single:
//!       latency_p50_ms: 1500            # a plain number, as in the design
//!   throughput:
//!     personas_per_s:                   # an extended leaf: a map with `value`
//!       value: 120
//!       direction: higher               # lower (default) or higher is better
//!       unit: "1/s"
//!       warning: 5                      # per-metric thresholds, percent
//!       failure: 15
//! samples:                              # raw samples, as `capture` writes them
//!   generation.single.latency_p50_ms: [1490.2, 1502.7]
//! ```

pub mod discover;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::model::Direction;

pub const SCHEMA_VERSION: u32 = 1;

/// Warning and failure thresholds, in percent of the baseline value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub warning: f64,
    pub failure: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BaselineMetric {
    pub value: f64,
    pub unit: Option<String>,
    pub direction: Direction,
    pub warning: Option<f64>,
    pub failure: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Baseline {
    pub schema_version: Option<u32>,
    pub version: String,
    pub captured_at: String,
    pub workload: Option<String>,
    pub environment: BTreeMap<String, String>,
    /// Dotted name → metric.
    pub metrics: BTreeMap<String, BaselineMetric>,
    pub thresholds: Option<Thresholds>,
    /// Dotted name → raw samples.
    pub samples: BTreeMap<String, Vec<f64>>,
    /// Keys that were not understood (shown as warnings).
    pub unknown_keys: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read baseline: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    At {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

// ---- the metric tree, read with seeds that know the dotted path ----

enum Node {
    Number(f64),
    Text(String),
    /// A list of numbers (each checked); only valid outside the metric tree.
    List,
    Map(Vec<(String, Node)>),
}

/// Keys of an extended leaf; a map holding `value` is a leaf.
const LEAF_KEYS: &[&str] = &["value", "unit", "direction", "warning", "failure"];

struct NodeSeed<'a> {
    path: &'a str,
}

// serde_yaml puts the key path in front of these messages itself.
fn check_number<E: de::Error>(v: f64) -> Result<f64, E> {
    if !v.is_finite() {
        return Err(E::custom(format!("{v} is not a finite number")));
    }
    if v < 0.0 {
        return Err(E::custom(format!("{v} is negative")));
    }
    Ok(v)
}

fn leaf_key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a number or a map of metrics at {}", self.path)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        check_number(v).map(Node::Number)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        self.visit_f64(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        self.visit_f64(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        match leaf_key(self.path) {
            "unit" | "direction" => Ok(Node::Text(v.to_string())),
            _ => Err(E::custom(format!(
                "expected a number, found the text {v:?}"
            ))),
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Err(E::custom(format!("expected a number, found {v}")))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Err(E::custom("expected a number, found nothing"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        while let Some(n) = seq.next_element_seed(NodeSeed { path: self.path })? {
            if !matches!(n, Node::Number(_)) {
                return Err(de::Error::custom("a list may hold only numbers"));
            }
        }
        Ok(Node::List)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            let node = map.next_value_seed(NodeSeed { path: &path })?;
            out.push((key, node));
        }
        // Checks that need the whole map run here, while serde_yaml still
        // knows where the map is, so the error carries its position.
        if self.path == "metrics" && out.is_empty() {
            return Err(de::Error::custom("the metrics tree is empty"));
        }
        let number = |k: &str| {
            out.iter().find_map(|(key, n)| match n {
                Node::Number(x) if key == k => Some(*x),
                _ => None,
            })
        };
        let is_thresholds = self.path == "thresholds";
        if let (true, Some(w), Some(f)) = (
            number("value").is_some() || is_thresholds,
            number("warning"),
            number("failure"),
        ) {
            if w > f {
                return Err(de::Error::custom(format!(
                    "warning threshold {w}% is above failure threshold {f}%"
                )));
            }
        }
        Ok(Node::Map(out))
    }
}

/// The `metrics:` tree, flattened, with validation that needs a whole leaf.
struct MetricTree {
    metrics: BTreeMap<String, BaselineMetric>,
    unknown: Vec<String>,
}

fn flatten(prefix: &str, entries: Vec<(String, Node)>, out: &mut MetricTree) -> Result<(), String> {
    for (key, node) in entries {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match node {
            Node::Number(v) => {
                out.metrics.insert(
                    path,
                    BaselineMetric {
                        value: v,
                        ..Default::default()
                    },
                );
            }
            Node::Map(inner) if inner.iter().any(|(k, _)| k == "value") => {
                let mut m = BaselineMetric::default();
                for (k, v) in inner {
                    match (k.as_str(), v) {
                        ("value", Node::Number(x)) => m.value = x,
                        ("warning", Node::Number(x)) => m.warning = Some(x),
                        ("failure", Node::Number(x)) => m.failure = Some(x),
                        ("unit", Node::Text(t)) => m.unit = Some(t),
                        ("direction", Node::Text(t)) => {
                            m.direction = match t.as_str() {
                                "lower" | "lower_is_better" => Direction::Lower,
                                "higher" | "higher_is_better" => Direction::Higher,
                                other => {
                                    return Err(format!(
                                "{path}.direction: expected 'lower' or 'higher', found '{other}'"
                            ))
                                }
                            }
                        }
                        (k, _) if LEAF_KEYS.contains(&k) => {
                            return Err(format!("{path}.{k}: wrong type"))
                        }
                        (k, _) => out.unknown.push(format!("metrics.{path}.{k}")),
                    }
                }
                out.metrics.insert(path, m);
            }
            Node::Map(inner) => flatten(&path, inner, out)?,
            Node::List => return Err(format!("{path}: expected a number or a map, found a list")),
            Node::Text(_) => return Err(format!("{path}: expected a number")),
        }
    }
    Ok(())
}

impl<'de> Deserialize<'de> for MetricTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let node = NodeSeed { path: "metrics" }.deserialize(d)?;
        let Node::Map(entries) = node else {
            return Err(de::Error::custom("metrics: expected a map of metrics"));
        };
        let mut tree = MetricTree {
            metrics: BTreeMap::new(),
            unknown: Vec::new(),
        };
        flatten("", entries, &mut tree).map_err(de::Error::custom)?;
        if tree.metrics.is_empty() {
            return Err(de::Error::custom("metrics: the metrics tree is empty"));
        }
        Ok(tree)
    }
}

/// `thresholds: {warning, failure}`, checked inside the visitor for positions.
fn finite_thresholds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Thresholds>, D::Error> {
    let node = NodeSeed { path: "thresholds" }.deserialize(d)?;
    let Node::Map(entries) = node else {
        return Err(de::Error::custom("expected a map with warning and failure"));
    };
    let get = |k: &str| {
        entries.iter().find_map(|(key, n)| match n {
            Node::Number(x) if key == k => Some(*x),
            _ => None,
        })
    };
    match (get("warning"), get("failure")) {
        (Some(warning), Some(failure)) => Ok(Some(Thresholds { warning, failure })),
        _ => Err(de::Error::custom(
            "thresholds needs both warning and failure, in percent",
        )),
    }
}

#[derive(Deserialize)]
struct RawBaseline {
    #[serde(default)]
    schema_version: Option<u32>,
    version: Scalar,
    #[serde(default)]
    captured_at: Option<String>,
    #[serde(default)]
    workload: Option<String>,
    #[serde(default)]
    environment: BTreeMap<String, Scalar>,
    metrics: MetricTree,
    #[serde(default, deserialize_with = "finite_thresholds")]
    thresholds: Option<Thresholds>,
    #[serde(default)]
    samples: BTreeMap<String, Vec<f64>>,
}

/// A YAML scalar of any type, kept as text (`3.12` and `"3.12"` alike).
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        Ok(Scalar(match v {
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::Bool(b) => b.to_string(),
            serde_yaml::Value::Null => String::new(),
            other => serde_yaml::to_string(&other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        }))
    }
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = crate::fsutil::read_capped_string(path, crate::fsutil::MAX_CONFIG_BYTES)
            .map_err(|e| BaselineError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
        Baseline::parse(&path.display().to_string(), &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Baseline, BaselineError> {
        let limit = crate::parse_error::MAX_YAML_FLOW_DEPTH;
        if let Some((line, column)) = crate::parse_error::yaml_too_deep(text, limit) {
            return Err(BaselineError::At {
                path: name.to_string(),
                line,
                column,
                message: format!("nested deeper than the limit of {limit} levels"),
            });
        }
        if let Some(d) = crate::parse_error::duplicate_key(text) {
            return Err(BaselineError::At {
                path: name.to_string(),
                line: d.line,
                column: d.column,
                message: d.to_string(),
            });
        }
        let mut unknown = Vec::new();
        let de = serde_yaml::Deserializer::from_str(text);
        let raw: RawBaseline = serde_ignored::deserialize(de, |p| unknown.push(p.to_string()))
            .map_err(|e| match crate::parse_error::yaml(&e) {
                (message, Some((line, column))) => BaselineError::At {
                    path: name.to_string(),
                    line,
                    column,
                    message,
                },
                (message, None) => BaselineError::Invalid {
                    path: name.to_string(),
                    message,
                },
            })?;
        if let Some(v) = raw.schema_version {
            if v > SCHEMA_VERSION {
                return Err(BaselineError::Invalid {
                    path: name.to_string(),
                    message: format!(
                        "baseline schema version {v} is newer than this bench-gate reads ({SCHEMA_VERSION}); upgrade bench-gate"
                    ),
                });
            }
        }
        for (k, s) in &raw.samples {
            if s.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err(BaselineError::Invalid {
                    path: name.to_string(),
                    message: format!("samples.{k}: every sample must be a non-negative number"),
                });
            }
            if !raw.metrics.metrics.contains_key(k) {
                unknown.push(format!("samples.{k} (no such metric)"));
            }
        }
        unknown.extend(raw.metrics.unknown);
        Ok(Baseline {
            schema_version: raw.schema_version,
            version: raw.version.0,
            captured_at: raw.captured_at.unwrap_or_default(),
            workload: raw.workload,
            environment: raw.environment.into_iter().map(|(k, v)| (k, v.0)).collect(),
            metrics: raw.metrics.metrics,
            thresholds: raw.thresholds,
            samples: raw.samples,
            unknown_keys: unknown,
        })
    }

    /// The YAML that `capture` writes: the design's nested numbers, with
    /// extended leaves only where a metric needs more than a number.
    pub fn to_yaml(&self) -> String {
        use serde_yaml::{Mapping, Value};
        let mut root = Mapping::new();
        root.insert("schema_version".into(), Value::from(SCHEMA_VERSION));
        root.insert("version".into(), Value::from(self.version.clone()));
        root.insert("captured_at".into(), Value::from(self.captured_at.clone()));
        if let Some(w) = &self.workload {
            root.insert("workload".into(), Value::from(w.clone()));
        }
        let mut env = Mapping::new();
        for (k, v) in &self.environment {
            env.insert(k.clone().into(), Value::from(v.clone()));
        }
        root.insert("environment".into(), Value::Mapping(env));
        let mut tree = Mapping::new();
        for (name, m) in &self.metrics {
            let leaf = if m.unit.is_none()
                && m.direction == Direction::Lower
                && m.warning.is_none()
                && m.failure.is_none()
            {
                Value::from(m.value)
            } else {
                let mut l = Mapping::new();
                l.insert("value".into(), Value::from(m.value));
                if let Some(u) = &m.unit {
                    l.insert("unit".into(), Value::from(u.clone()));
                }
                if m.direction == Direction::Higher {
                    l.insert("direction".into(), Value::from("higher"));
                }
                if let Some(w) = m.warning {
                    l.insert("warning".into(), Value::from(w));
                }
                if let Some(f) = m.failure {
                    l.insert("failure".into(), Value::from(f));
                }
                Value::Mapping(l)
            };
            insert_dotted(&mut tree, name, leaf);
        }
        root.insert("metrics".into(), Value::Mapping(tree));
        if let Some(t) = self.thresholds {
            let mut th = Mapping::new();
            th.insert("warning".into(), Value::from(t.warning));
            th.insert("failure".into(), Value::from(t.failure));
            root.insert("thresholds".into(), Value::Mapping(th));
        }
        if !self.samples.is_empty() {
            let mut s = Mapping::new();
            for (k, v) in &self.samples {
                s.insert(
                    k.clone().into(),
                    Value::Sequence(v.iter().map(|x| Value::from(*x)).collect()),
                );
            }
            root.insert("samples".into(), Value::Mapping(s));
        }
        let body = serde_yaml::to_string(&Value::Mapping(root)).expect("YAML serialises");
        format!(
            "# bench-gate baseline, written by `bench-gate capture`. Values are the metrics;\n# `samples` holds the raw measurements they were computed from.\n{body}"
        )
    }

    pub fn save(&self, path: &Path, force: bool) -> Result<()> {
        if path.exists() && !force {
            anyhow::bail!(
                "{}: baseline exists; pass --force to overwrite it",
                path.display()
            );
        }
        crate::fsutil::write_atomic(path, self.to_yaml().as_bytes())
            .with_context(|| format!("{}: cannot write baseline", path.display()))
    }
}

fn insert_dotted(tree: &mut serde_yaml::Mapping, name: &str, leaf: serde_yaml::Value) {
    use serde_yaml::{Mapping, Value};
    match name.split_once('.') {
        None => {
            tree.insert(name.into(), leaf);
        }
        Some((head, rest)) => {
            let key = Value::from(head);
            if !matches!(tree.get(&key), Some(Value::Mapping(_))) {
                tree.insert(key.clone(), Value::Mapping(Mapping::new()));
            }
            if let Some(Value::Mapping(sub)) = tree.get_mut(&key) {
                insert_dotted(sub, rest, leaf);
            }
        }
    }
}

/// Unit from a metric name's suffix, for baselines that do not state one.
pub fn unit_from_name(name: &str) -> &'static str {
    let n = name.to_lowercase();
    if n.ends_with("_ms") {
        "ms"
    } else if n.ends_with("_mb") {
        "MB"
    } else if n.ends_with("_s") || n.ends_with("_seconds") {
        "s"
    } else if n.ends_with("_ns") {
        "ns"
    } else if n.ends_with("_bytes") {
        "bytes"
    } else {
        ""
    }
}

/// The baseline's name in reports when A/B mode runs without one.
pub const NO_BASELINE: &str = "(no baseline yet)";

impl Baseline {
    /// Turns results into a baseline: metric values with units and directions
    /// where the name does not imply them, and every raw sample.
    pub fn from_results(results: &crate::model::Results, version: String) -> Baseline {
        let mut b = Baseline {
            schema_version: Some(crate::baseline::SCHEMA_VERSION),
            version,
            captured_at: crate::model::now_rfc3339(),
            workload: Some(results.workload.clone()),
            environment: results.environment.clone(),
            ..Default::default()
        };
        for (name, m) in &results.metrics {
            let implied = unit_from_name(name);
            b.metrics.insert(
                name.clone(),
                BaselineMetric {
                    value: m.value,
                    unit: (m.unit != implied).then(|| m.unit.clone()),
                    direction: m.direction,
                    warning: None,
                    failure: None,
                },
            );
            if !m.samples.is_empty() {
                b.samples.insert(name.clone(), m.samples.clone());
            }
        }
        b
    }
}

/// Loads a baseline, printing a warning (to stderr) for each key it did not
/// understand.
pub fn load_warning(path: &std::path::Path) -> anyhow::Result<Baseline> {
    let b = Baseline::load(path)?;
    for k in &b.unknown_keys {
        eprintln!(
            "warning: {}: unknown key '{}' ignored",
            path.display(),
            crate::escape::log(k)
        );
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN: &str = include_str!("../../tests/fixtures/persona-v1.12.0.yaml");

    #[test]
    fn the_design_file_loads_unchanged() {
        let b = Baseline::parse("v1.12.0.yaml", DESIGN).unwrap();
        assert_eq!(b.version, "1.12.0");
        assert_eq!(b.environment["python_version"], "3.12");
        assert_eq!(b.metrics.len(), 8);
        assert_eq!(b.metrics["generation.single.latency_p50_ms"].value, 1500.0);
        assert_eq!(b.metrics["memory.batch_10_peak_mb"].value, 1024.0);
        assert_eq!(b.metrics["startup.cli_cold_ms"].value, 500.0);
        assert_eq!(
            b.thresholds,
            Some(Thresholds {
                warning: 10.0,
                failure: 25.0
            })
        );
        assert!(b.unknown_keys.is_empty());
    }

    fn err(text: &str) -> String {
        Baseline::parse("b.yaml", text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_line_and_column() {
        assert_eq!(
            err("version: '1'\nmetrics:\n  a:\n    b: fast\n"),
            "b.yaml:4:8: metrics.a.b: expected a number, found the text \"fast\""
        );
        assert_eq!(
            err("version: '1'\nmetrics:\n  a: -3\n"),
            "b.yaml:3:6: metrics.a: -3 is negative"
        );
        assert_eq!(
            err("version: '1'\nmetrics:\n  a: .nan\n"),
            "b.yaml:3:6: metrics.a: NaN is not a finite number"
        );
        assert_eq!(
            err("version: '1'\nmetrics: {}\n"),
            "b.yaml:2:10: metrics: the metrics tree is empty"
        );
        assert!(err("version: [1\n").starts_with("b.yaml:"));
        assert_eq!(
            err("version: '1'\nmetrics:\n  a: 1\nthresholds:\n  warning: 30\n  failure: 20\n"),
            "b.yaml:5:3: thresholds: warning threshold 30% is above failure threshold 20%"
        );
        assert_eq!(
            err("version: '1'\nmetrics:\n  a:\n    value: 1\n    warning: 9\n    failure: 2\n"),
            "b.yaml:4:5: metrics.a: warning threshold 9% is above failure threshold 2%"
        );
        assert!(err("metrics:\n  a: 1\n").contains("missing field `version`"));
    }

    #[test]
    fn unknown_keys_are_warnings() {
        let b = Baseline::parse(
            "b.yaml",
            "version: '1'\nnotes: hi\nmetrics:\n  a:\n    value: 1\n    colour: 3\n",
        )
        .unwrap();
        assert_eq!(b.unknown_keys, ["notes", "metrics.a.colour"]);
    }

    #[test]
    fn extended_leaves_and_round_trip() {
        let mut b = Baseline::parse(DESIGN_NAME, DESIGN).unwrap();
        b.metrics.insert(
            "throughput.personas_per_s".into(),
            BaselineMetric {
                value: 120.5,
                unit: Some("1/s".into()),
                direction: Direction::Higher,
                warning: Some(5.0),
                failure: Some(15.0),
            },
        );
        b.samples.insert(
            "startup.cli_cold_ms".into(),
            vec![0.1 + 0.2, 499.999, 501.0],
        );
        let text = b.to_yaml();
        let mut again = Baseline::parse("again.yaml", &text).unwrap();
        assert!(again.unknown_keys.is_empty(), "{:?}", again.unknown_keys);
        assert_eq!(again.schema_version, Some(SCHEMA_VERSION));
        again.schema_version = b.schema_version;
        assert_eq!(again, b);
    }

    const DESIGN_NAME: &str = "v1.12.0.yaml";
}
