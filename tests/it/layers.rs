//! The layering of `src/` (the table in `src/lib.rs`) holds: every
//! `crate::` path in a module names a module of a lower layer, and the
//! modules' graph has no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `module → layer`, from the ```text block of src/lib.rs's docs.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim_start_matches("//!").trim().strip_prefix("layer ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let layer: usize = words.next().unwrap().parse().unwrap();
        for m in words {
            assert!(out.insert(m.to_string(), layer).is_none(), "{m} twice");
        }
    }
    out
}

/// Source text without comments (line and block) and string literals, so
/// that only code counts.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"' {
            // A string (raw strings of this crate hold no `crate::` paths
            // that matter; an ordinary one may, in messages).
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal such as '"' or '\''.
            let end = b[i + 1..]
                .iter()
                .position(|c| *c == b'\'')
                .map_or(b.len(), |p| i + 2 + p);
            i = end;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// The top-level modules a source text names through `crate::`, including
/// grouped imports (`use crate::{a, b::c};`).
fn named_modules(src: &str) -> BTreeSet<String> {
    let code = code_only(src);
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let before = rest[..i].chars().last();
        rest = after;
        // `bench_gate::crate` never; `$crate` is a macro's.
        if matches!(before, Some(c) if c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    out.insert(name);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// `module → modules it names`, for every file under `src/` (the binary's
/// `main.rs` and `lib.rs` stand above the table).
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir(src) {
        let rel = entry.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "main" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        let named = named_modules(&text);
        out.entry(module.clone())
            .or_default()
            .extend(named.into_iter().filter(|m| *m != module));
    }
    out
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Every edge the table does not allow, and every module it does not list.
fn violations(
    layers: &BTreeMap<String, usize>,
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut bad = Vec::new();
    for (from, tos) in edges {
        let Some(&lf) = layers.get(from) else {
            bad.push(format!("module {from} is not in the layer table"));
            continue;
        };
        for to in tos {
            match layers.get(to) {
                None => bad.push(format!(
                    "{from} names {to}, which is not in the layer table"
                )),
                Some(&lt) if lt >= lf => bad.push(format!(
                    "{from} (layer {lf}) uses {to} (layer {lt}): only lower layers may be used"
                )),
                _ => {}
            }
        }
    }
    bad
}

/// A cycle in the graph, if there is one (as its modules in order).
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|p| p == n).unwrap();
                let mut c = path[start..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if let Some(c) = visit(n, edges, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn every_module_uses_only_lower_layers_and_nothing_cycles() {
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).unwrap();
    let table = layers(&lib);
    assert!(table.len() > 10, "no layer table in src/lib.rs: {table:?}");
    // Every module declared in lib.rs is in the table, and the other way round.
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    let listed: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(
        declared, listed,
        "src/lib.rs: modules and the layer table differ"
    );
    let e = edges(&Path::new(ROOT).join("src"));
    let bad = violations(&table, &e);
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
    assert_eq!(cycle(&e), None);
}

#[test]
fn the_checker_sees_upward_uses_grouped_imports_and_cycles() {
    let table = layers("//! layer 0  stats\n//! layer 1  model\n//! layer 2  report\n");
    let src = |s: &str| named_modules(s);
    let mut e = BTreeMap::new();
    e.insert(
        "model".to_string(),
        src("use crate::{stats, report::view};"),
    );
    e.insert(
        "stats".to_string(),
        src("// crate::model in a comment\nlet s = \"crate::model\";"),
    );
    e.insert("report".to_string(), src("fn f() { crate::model::X; }"));
    let bad = violations(&table, &e);
    assert_eq!(
        bad,
        vec!["model (layer 1) uses report (layer 2): only lower layers may be used".to_string()]
    );
    assert_eq!(
        cycle(&e),
        Some(vec!["model".into(), "report".into(), "model".into()])
    );
    e.insert("model".to_string(), src("use crate::stats;"));
    assert!(violations(&table, &e).is_empty());
    assert_eq!(cycle(&e), None);
}
