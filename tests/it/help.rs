//! Every subcommand's `--help` ends with examples (issue 14: a user learns a
//! command from its help). The list of subcommands is read from the binary's
//! own `--help`, recursively, so a new subcommand without examples fails here.

use assert_cmd::Command;

fn help(path: &[String]) -> String {
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench-gate {} --help exited with {:?}: {}",
        path.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The names listed under "Commands:" in a help text (clap's own `help`
/// subcommand left out).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A command line is indented by two spaces; a wrapped description deeper.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every subcommand path below `path`, depth first.
fn walk(path: Vec<String>, all: &mut Vec<(Vec<String>, String)>) {
    let text = help(&path);
    let children = subcommands(&text);
    if !path.is_empty() {
        all.push((path.clone(), text));
    }
    for child in children {
        let mut p = path.clone();
        p.push(child);
        walk(p, all);
    }
}

#[test]
fn subcommands_are_read_from_the_help_text() {
    let text = "Usage: x\n\nCommands:\n  run    Benchmark a\n         workload\n  merge  Combine\n  help   Print this\n\nOptions:\n  -h\n";
    assert_eq!(subcommands(text), ["run", "merge"]);
    assert!(subcommands("Usage: x\n\nOptions:\n  -h\n").is_empty());
}

#[test]
fn every_subcommand_help_has_examples() {
    let mut all = Vec::new();
    walk(Vec::new(), &mut all);
    let names: Vec<String> = all.iter().map(|(p, _)| p.join(" ")).collect();
    // The walk found the commands (a parser that finds none would pass anything).
    for expected in [
        "generate",
        "run",
        "compare",
        "list",
        "export",
        "merge",
        "history",
        "history append",
        "history chart",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "`{expected}` not found among {names:?}"
        );
    }
    let without: Vec<&String> = all
        .iter()
        .zip(&names)
        .filter(|((_, text), _)| {
            // An "Examples:" heading followed by at least one `bench-gate` line.
            let mut lines = text.lines().skip_while(|l| l.trim_end() != "Examples:");
            lines.next().is_none()
                || !lines
                    .take_while(|l| !l.trim().is_empty())
                    .any(|l| l.trim_start().starts_with("bench-gate "))
        })
        .map(|(_, name)| name)
        .collect();
    assert!(
        without.is_empty(),
        "subcommands whose --help has no Examples: section: {without:?}"
    );
}

/// A reader that stops early (`bench-gate … | head`) ends the program
/// quietly with success, whether the output goes through `print!` or a
/// write of bench-gate's own.
#[cfg(unix)]
#[test]
fn a_closed_pipe_is_success_and_says_nothing() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    // Results with many metrics: far more output than a pipe buffers.
    let metrics: serde_json::Map<String, serde_json::Value> = (0..5000)
        .map(|i| {
            (
                format!("scenario.metric_{i}_ms"),
                serde_json::json!({"value": 1.0 + i as f64, "unit": "ms", "samples": [1.0, 2.0]}),
            )
        })
        .collect();
    let results = dir.path().join("r.json");
    std::fs::write(
        &results,
        serde_json::json!({"schema_version": 1, "tool": "bench-gate", "tool_version": "0.1.0",
            "created_at": "x", "workload": "w", "environment": {}, "scenarios": [], "metrics": metrics})
        .to_string(),
    )
    .unwrap();
    for args in [
        vec!["export", "--format", "bmf", "--results"],
        vec!["list", "--dir"],
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-gate"));
        cmd.args(&args);
        if args[0] == "list" {
            // Many baselines to list.
            let b = dir.path().join("baselines");
            std::fs::create_dir_all(&b).unwrap();
            for v in 0..300 {
                std::fs::write(
                    b.join(format!("v0.{v}.0.yaml")),
                    format!("version: 0.{v}.0\nmetrics:\n  a_ms: 1\n"),
                )
                .unwrap();
            }
            cmd.arg(&b);
        } else {
            cmd.arg(&results);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
