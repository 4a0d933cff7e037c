//! The action's outputs: the one writer of `GITHUB_OUTPUT`, and the one
//! place that knows the outputs' names and the `result` output's values.
//! `action.yml` declares exactly these (a test below reads it), and
//! `dist/run-gate.sh` writes two of them for a matrix shard, which runs no
//! gate (`result=shard`, `results-path`).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use rand::Rng;

use crate::compare::gate::GateResult;

/// The `result` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultValue {
    /// The gate decided: pass, warn, fail, overridden or no-baseline.
    Decided(GateResult),
    /// The event is not one the gate acts on.
    Skipped,
    /// A `workflow_run`'s pull request has moved on to a newer commit.
    Stale,
    /// A matrix shard measured its share and decided nothing (written by
    /// `dist/run-gate.sh`).
    Shard,
}

impl ResultValue {
    /// Every value, in the order `action.yml` lists them.
    pub const ALL: [ResultValue; 8] = [
        ResultValue::Decided(GateResult::Pass),
        ResultValue::Decided(GateResult::Warn),
        ResultValue::Decided(GateResult::Fail),
        ResultValue::Decided(GateResult::Overridden),
        ResultValue::Decided(GateResult::NoBaseline),
        ResultValue::Skipped,
        ResultValue::Stale,
        ResultValue::Shard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            // A new gate result must be added to ALL as well.
            ResultValue::Decided(
                r @ (GateResult::Pass
                | GateResult::Warn
                | GateResult::Fail
                | GateResult::Overridden
                | GateResult::NoBaseline),
            ) => r.as_str(),
            ResultValue::Skipped => "skipped",
            ResultValue::Stale => "stale",
            ResultValue::Shard => "shard",
        }
    }
}

/// One output of the action.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Result(ResultValue),
    /// Absolute path of the results file (JSON, with raw samples).
    ResultsPath(String),
    /// Absolute path of the Markdown report.
    ReportPath(String),
    CommentUrl(String),
    CheckRunId(u64),
}

impl Output {
    /// Every output's name: what `action.yml` declares.
    pub const NAMES: [&'static str; 5] = [
        "result",
        "results-path",
        "report-path",
        "comment-url",
        "check-run-id",
    ];

    pub fn name(&self) -> &'static str {
        let i = match self {
            Output::Result(_) => 0,
            Output::ResultsPath(_) => 1,
            Output::ReportPath(_) => 2,
            Output::CommentUrl(_) => 3,
            Output::CheckRunId(_) => 4,
        };
        Output::NAMES[i]
    }

    fn value(&self) -> String {
        match self {
            Output::Result(v) => v.as_str().to_string(),
            Output::ResultsPath(s) | Output::ReportPath(s) | Output::CommentUrl(s) => s.clone(),
            Output::CheckRunId(id) => id.to_string(),
        }
    }
}

/// `name<<DELIM`, value, `DELIM` for each output, with a random delimiter
/// that cannot occur in the value.
fn format(outputs: &[Output]) -> String {
    let mut out = String::new();
    for o in outputs {
        let value = o.value();
        let delimiter = loop {
            let d = format!("ghadelimiter_{:016x}", rand::rng().random::<u64>());
            if !value.contains(&d) {
                break d;
            }
        };
        out.push_str(&format!(
            "{}<<{delimiter}\n{value}\n{delimiter}\n",
            o.name()
        ));
    }
    out
}

/// Appends `outputs` to the `GITHUB_OUTPUT` file; nothing without one (or
/// with nothing to write).
pub fn write(file: Option<&Path>, outputs: &[Output]) -> Result<()> {
    let Some(path) = file.filter(|_| !outputs.is_empty()) else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open GITHUB_OUTPUT", path.display()))?;
    f.write_all(format(outputs).as_bytes())
        .with_context(|| format!("{}: cannot write GITHUB_OUTPUT", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn outputs_use_a_random_delimiter() {
        let text = format(&[
            Output::Result(ResultValue::Decided(GateResult::Fail)),
            Output::CommentUrl("a\nb".into()),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("result<<ghadelimiter_"));
        let d = lines[0].split("<<").nth(1).unwrap();
        assert_eq!(lines[1], "fail");
        assert_eq!(lines[2], d);
        assert!(lines[3].starts_with("comment-url<<"));
        assert_eq!(&lines[4..6], ["a", "b"]);
        assert_ne!(
            lines[3].split("<<").nth(1).unwrap(),
            d,
            "each output gets its own delimiter"
        );
    }

    #[test]
    fn writing_appends_and_needs_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        write(None, &[Output::CheckRunId(7)]).unwrap();
        write(Some(&path), &[]).unwrap();
        assert!(!path.exists(), "nothing to write, no file");
        write(Some(&path), &[Output::Result(ResultValue::Stale)]).unwrap();
        write(Some(&path), &[Output::CheckRunId(7)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once("<<").map(|(n, _)| n))
            .collect();
        assert_eq!(names, ["result", "check-run-id"]);
        assert!(
            text.contains("\nstale\n") && text.contains("\n7\n"),
            "{text}"
        );
    }

    /// `KEY=VALUE` pairs that `dist/run-gate.sh` appends to `$GITHUB_OUTPUT`.
    fn script_outputs(script: &str) -> Vec<(String, String)> {
        script
            .lines()
            .filter(|l| l.contains(">> \"$GITHUB_OUTPUT\""))
            .map(|l| {
                let quoted = l.trim().strip_prefix("echo \"").unwrap_or_else(|| {
                    panic!("run-gate.sh writes an output other than with echo: {l}")
                });
                let pair = quoted.split('"').next().unwrap();
                let (k, v) = pair.split_once('=').expect("KEY=VALUE");
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    /// `action.yml` declares exactly the outputs that can be written, and
    /// its `result` output names every value `result` can take.
    #[test]
    fn action_yml_declares_exactly_the_outputs_written() {
        let action: serde_yaml::Value =
            serde_yaml::from_str(include_str!("../../action.yml")).unwrap();
        let declared: BTreeSet<String> = action["outputs"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        let script = script_outputs(include_str!("../../dist/run-gate.sh"));
        assert!(!script.is_empty(), "run-gate.sh writes the shard's outputs");
        let mut written: BTreeSet<String> = Output::NAMES.iter().map(|s| s.to_string()).collect();
        for (k, v) in &script {
            assert!(
                Output::NAMES.contains(&k.as_str()),
                "run-gate.sh writes `{k}`, which is not one of the gate's outputs"
            );
            if k == "result" {
                assert!(
                    ResultValue::ALL.iter().any(|r| r.as_str() == v),
                    "run-gate.sh writes result={v}, which ResultValue does not know"
                );
            }
            written.insert(k.clone());
        }
        assert_eq!(declared, written);
        for o in [
            Output::Result(ResultValue::Skipped),
            Output::ResultsPath(String::new()),
            Output::ReportPath(String::new()),
            Output::CommentUrl(String::new()),
            Output::CheckRunId(0),
        ] {
            assert!(declared.contains(o.name()), "{} is not declared", o.name());
        }
        let described = action["outputs"]["result"]["description"].as_str().unwrap();
        for r in ResultValue::ALL {
            let word = r.as_str();
            let named = described
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|w| w == word);
            assert!(
                named,
                "the result output's description does not name `{word}`: {described}"
            );
        }
    }
}
