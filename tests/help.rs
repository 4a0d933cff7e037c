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
