//! Why it got slower: a scenario run once under callgrind (children traced,
//! through the same invocation as the counted runs), its out files parsed
//! into per-function instruction counts (self and inclusive) and call edges,
//! and from those the functions whose counts changed most between two
//! trees, and folded stacks for a flame graph.
//!
//! Callgrind's format (<https://valgrind.org/docs/manual/cl-format.html>):
//! `fn=`, `fl=`, `fi=`/`fe=` (inlined files), `cfn=`/`cfl=`/`cfi=` (the
//! callee of the next `calls=`), names compressed as `(id) name` on first
//! use and `(id)` after; cost lines are positions then costs; the cost line
//! after `calls=` is the call's inclusive cost, which counts towards the
//! caller's inclusive cost but not its self cost.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use super::valgrind::{self, CountFailed};
use crate::model::{free_text, Counted, FunctionCost, TEXT_MAX};
use crate::workload::Scenario;

/// How many functions a table lists.
pub const TOP: usize = 10;

/// One function's instructions and where it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Func {
    pub file: Option<String>,
    pub line: Option<u64>,
    pub self_ir: f64,
    /// Self plus what its calls cost (calls to itself not counted twice).
    pub inclusive: f64,
}

/// A run's profile: functions by name, and caller → callee inclusive costs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub total: f64,
    pub functions: BTreeMap<String, Func>,
    pub calls: BTreeMap<(String, String), f64>,
}

impl Profile {
    /// Adds another process's profile (children are traced).
    pub fn merge(&mut self, other: Profile) {
        self.total += other.total;
        for (name, f) in other.functions {
            let e = self.functions.entry(name).or_default();
            e.self_ir += f.self_ir;
            e.inclusive += f.inclusive;
            if e.file.is_none() {
                e.file = f.file;
                e.line = f.line;
            }
        }
        for (k, v) in other.calls {
            *self.calls.entry(k).or_default() += v;
        }
    }

    /// File names relative to the first of `roots` they are under (the
    /// trees), so that both sides name a file alike.
    pub fn relative_to(&mut self, roots: &[&Path]) {
        for f in self.functions.values_mut() {
            if let Some(file) = &f.file {
                let p = Path::new(file);
                if let Some(rel) = roots.iter().find_map(|r| p.strip_prefix(r).ok()) {
                    f.file = Some(rel.display().to_string());
                }
            }
        }
    }
}

/// Names compressed as `(id) name` / `(id)`, per kind (files, functions,
/// objects). For functions (`unique`), a second function of a name already
/// taken in this file (glibc has two `(below main)`) is named `name'2`, as
/// callgrind_annotate tells them apart: merged, each would count the other.
#[derive(Default)]
struct Names {
    ids: HashMap<String, String>,
    unique: bool,
    taken: HashMap<String, usize>,
}

impl Names {
    fn resolve(&mut self, v: &str, line: usize) -> Result<String, String> {
        let v = v.trim();
        let Some(rest) = v.strip_prefix('(') else {
            return Ok(v.to_string());
        };
        let Some((id, name)) = rest
            .split_once(')')
            .filter(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        else {
            // Not compressed: a name that starts with '('.
            return Ok(v.to_string());
        };
        let name = name.trim();
        if name.is_empty() {
            self.ids
                .get(id)
                .cloned()
                .ok_or_else(|| format!("line {line}: name id ({id}) used before it is defined"))
        } else if let Some(known) = self.ids.get(id) {
            // Defined again: the first definition holds.
            Ok(known.clone())
        } else {
            let mut name = name.to_string();
            if self.unique {
                let n = self.taken.entry(name.clone()).or_default();
                *n += 1;
                if *n > 1 {
                    name = format!("{name}'{n}");
                }
            }
            self.ids.insert(id.to_string(), name.clone());
            Ok(name)
        }
    }
}

/// Parses one callgrind out file.
pub fn parse(text: &str) -> Result<Profile, String> {
    let mut p = Profile::default();
    let mut files = Names::default();
    let mut fns = Names {
        unique: true,
        ..Names::default()
    };
    let mut objs = Names::default();
    let mut ir_col: Option<usize> = None;
    let mut line_col = Some(0usize);
    let mut last_pos: Vec<i64> = vec![0; 1];
    let mut file: Option<String> = None; // fl=
    let mut cur_file: Option<String> = None; // fi=/fe= or fl=
    let mut cur_fn: Option<String> = None;
    let mut callee: Option<String> = None;
    let mut in_call = false;
    let mut totals: Option<f64> = None;
    let mut summed = 0.0;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let first = l.as_bytes()[0];
        if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'*') {
            let Some(ir) = ir_col else {
                return Err(format!("line {n}: a cost line before `events:`"));
            };
            let mut fields = l.split_whitespace();
            let mut pos_line = None;
            for (k, last) in last_pos.iter_mut().enumerate() {
                let Some(f) = fields.next() else {
                    return Err(format!("line {n}: fewer positions than `positions:` names"));
                };
                let v = match f.as_bytes()[0] {
                    b'*' => *last,
                    b'+' => last.saturating_add(parse_num(&f[1..], n)?),
                    b'-' => last.saturating_sub(parse_num(&f[1..], n)?),
                    _ => parse_num(f, n)?,
                };
                *last = v;
                if Some(k) == line_col {
                    pos_line = Some(v);
                }
            }
            let cost = match fields.nth(ir) {
                Some(c) => parse_num(c, n)?,
                None => 0,
            };
            if cost < 0 {
                return Err(format!("line {n}: a negative cost"));
            }
            let cost = cost as f64;
            let Some(name) = cur_fn.clone() else {
                return Err(format!("line {n}: a cost line before any `fn=`"));
            };
            let f = p.functions.entry(name.clone()).or_default();
            if in_call {
                in_call = false;
                let to = callee.take().unwrap_or_default();
                if to != name {
                    f.inclusive += cost;
                    *p.calls.entry((name, to)).or_default() += cost;
                }
            } else {
                f.self_ir += cost;
                f.inclusive += cost;
                summed += cost;
                if cur_file.is_some() && cur_file == f.file {
                    if let Some(l) = pos_line.filter(|l| *l > 0) {
                        let l = l as u64;
                        f.line = Some(f.line.map_or(l, |x| x.min(l)));
                    }
                }
            }
            continue;
        }
        let Some((key, value)) = l.split_once(['=', ':']) else {
            return Err(format!("line {n}: not a callgrind line: {l:?}"));
        };
        if in_call && key != "calls" {
            // Only a cost line may follow `calls=`.
            return Err(format!("line {n}: `calls=` is not followed by a cost line"));
        }
        match key {
            "events" => {
                let events: Vec<&str> = value.split_whitespace().collect();
                ir_col = Some(
                    events
                        .iter()
                        .position(|e| *e == "Ir")
                        .ok_or_else(|| format!("line {n}: `events:` holds no Ir"))?,
                );
            }
            "positions" => {
                let names: Vec<&str> = value.split_whitespace().collect();
                line_col = names.iter().position(|x| *x == "line");
                last_pos = vec![0; names.len().max(1)];
            }
            "totals" | "summary" => {
                if let Some(ir) = ir_col {
                    if let Some(v) = value.split_whitespace().nth(ir) {
                        totals = Some(parse_num(v, n)? as f64);
                    }
                }
            }
            "fl" => {
                let f = files.resolve(value, n)?;
                file = Some(f.clone());
                cur_file = Some(f);
            }
            "fi" | "fe" => cur_file = Some(files.resolve(value, n)?),
            "fn" => {
                let name = fns.resolve(value, n)?;
                let f = p.functions.entry(name.clone()).or_default();
                if f.file.is_none() {
                    f.file = file.clone().filter(|x| x != "???");
                }
                cur_file = file.clone();
                cur_fn = Some(name);
            }
            "cfn" => callee = Some(fns.resolve(value, n)?),
            "cfl" | "cfi" => {
                files.resolve(value, n)?;
            }
            "ob" | "cob" => {
                objs.resolve(value, n)?;
            }
            "calls" => {
                if callee.is_none() {
                    return Err(format!("line {n}: `calls=` without a `cfn=` before it"));
                }
                in_call = true;
            }
            _ => {} // version, creator, pid, cmd, part, desc, thread, jump, jcnd, …
        }
    }
    if ir_col.is_none() {
        return Err("no `events:` line".into());
    }
    p.total = totals.unwrap_or(summed);
    Ok(p)
}

fn parse_num(s: &str, line: usize) -> Result<i64, String> {
    let v = if let Some(h) = s.strip_prefix("0x") {
        i64::from_str_radix(h, 16)
    } else {
        s.parse()
    };
    v.map_err(|_| format!("line {line}: {s:?} is not a number"))
}

/// The ten functions whose self counts changed most (then inclusive),
/// with both sides' counts; functions whose counts changed by under
/// 0.001 % of the total are left out.
pub fn changed(before: &Profile, after: &Profile) -> Vec<FunctionCost> {
    let zero = Func::default();
    let noise = before.total.max(after.total) * MIN_SHARE * 10.0;
    let mut rows: Vec<FunctionCost> = before
        .functions
        .keys()
        .chain(after.functions.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|name| {
            let b = before.functions.get(name).unwrap_or(&zero);
            let a = after.functions.get(name).unwrap_or(&zero);
            let (file, line) = match &a.file {
                Some(_) => (a.file.clone(), a.line),
                None => (b.file.clone(), b.line),
            };
            FunctionCost {
                name: free_text(name, TEXT_MAX),
                file: file.map(|f| free_text(&f, TEXT_MAX)),
                line,
                before_self: Some(b.self_ir),
                before_inclusive: Some(b.inclusive),
                after_self: a.self_ir,
                after_inclusive: a.inclusive,
            }
        })
        .filter(|r| r.self_change().abs() > noise || r.inclusive_change().abs() > noise)
        .collect();
    rows.sort_by(|x, y| {
        y.self_change()
            .abs()
            .total_cmp(&x.self_change().abs())
            .then(
                y.inclusive_change()
                    .abs()
                    .total_cmp(&x.inclusive_change().abs()),
            )
            .then(x.name.cmp(&y.name))
    });
    rows.truncate(TOP);
    rows
}

/// The ten functions with the largest self counts.
pub fn hottest(p: &Profile) -> Vec<FunctionCost> {
    let mut rows: Vec<FunctionCost> = p
        .functions
        .iter()
        .filter(|(_, f)| f.self_ir > 0.0)
        .map(|(name, f)| FunctionCost {
            name: free_text(name, TEXT_MAX),
            file: f.file.as_deref().map(|f| free_text(f, TEXT_MAX)),
            line: f.line,
            before_self: None,
            before_inclusive: None,
            after_self: f.self_ir,
            after_inclusive: f.inclusive,
        })
        .collect();
    rows.sort_by(|x, y| {
        y.after_self
            .total_cmp(&x.after_self)
            .then(x.name.cmp(&y.name))
    });
    rows.truncate(TOP);
    rows
}

/// Changes and branches smaller than this share of the total are left out
/// (a PLT stub at another address in each build: 3 instructions).
const MIN_SHARE: f64 = 1e-6;

/// The deepest stack a folded profile follows.
const MAX_DEPTH: usize = 64;

/// Folded stacks (`a;b;c count`) for a flame graph. Callgrind records
/// caller → callee edges, not whole stacks: each edge's cost is spread over
/// the callee's own cost and calls in proportion (as gprof2dot does), from
/// the functions nothing calls; a cycle ends the stack, and branches under
/// a millionth of the total are dropped.
pub fn folded(p: &Profile) -> String {
    let mut out_edges: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
    let mut called: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for ((from, to), cost) in &p.calls {
        out_edges.entry(from).or_default().push((to, *cost));
        called.insert(to);
    }
    let min = p.total.max(1.0) * MIN_SHARE;
    let mut stacks: BTreeMap<String, f64> = BTreeMap::new();
    let mut stack: Vec<&str> = Vec::new();
    #[allow(clippy::too_many_arguments)]
    fn walk<'a>(
        p: &'a Profile,
        edges: &HashMap<&'a str, Vec<(&'a str, f64)>>,
        name: &'a str,
        amount: f64,
        min: f64,
        stack: &mut Vec<&'a str>,
        stacks: &mut BTreeMap<String, f64>,
    ) {
        let Some(f) = p.functions.get(name) else {
            return;
        };
        if f.inclusive <= 0.0 {
            return;
        }
        let scale = amount / f.inclusive;
        stack.push(name);
        if f.self_ir * scale >= min {
            *stacks.entry(stack.join(";")).or_default() += f.self_ir * scale;
        }
        if stack.len() < MAX_DEPTH {
            for (to, cost) in edges.get(name).into_iter().flatten() {
                let share = cost * scale;
                if share >= min && !stack.contains(to) {
                    walk(p, edges, to, share, min, stack, stacks);
                }
            }
        }
        stack.pop();
    }
    for (name, f) in &p.functions {
        if !called.contains(name.as_str()) {
            walk(
                p,
                &out_edges,
                name,
                f.inclusive,
                min,
                &mut stack,
                &mut stacks,
            );
        }
    }
    let mut text = String::new();
    for (s, v) in stacks {
        let v = v.round() as u64;
        if v > 0 {
            // Folded lines are split at the last space: names keep theirs.
            text.push_str(&s.replace('\n', " "));
            text.push(' ');
            text.push_str(&v.to_string());
            text.push('\n');
        }
    }
    text
}

/// Runs `s` once under callgrind and parses every process's out file.
/// Returns the profile and the seconds it took.
pub fn profile(s: &Scenario, roots: &[&Path]) -> Result<(Profile, f64), Box<CountFailed>> {
    let fail = |why: String| {
        Box::new(CountFailed {
            scenario: s.name.clone(),
            tool: "callgrind",
            command: super::runner::display_command(&s.command.argv),
            why,
            stderr_tail: String::new(),
            log_tail: String::new(),
        })
    };
    let started = Instant::now();
    let valgrind = valgrind::find(s).map_err(fail)?;
    let run_dir = tempfile::Builder::new()
        .prefix("bench-gate-run-")
        .tempdir()
        .map_err(|e| {
            fail(format!(
                "could not run: cannot create a temporary folder: {e}"
            ))
        })?;
    let dir = tempfile::Builder::new()
        .prefix("bench-gate-callgrind-")
        .tempdir()
        .map_err(|e| {
            fail(format!(
                "could not run: cannot create a temporary folder: {e}"
            ))
        })?;
    let args = valgrind::tool_args(
        &["--tool=callgrind", "--compress-pos=no"],
        "--callgrind-out-file=",
        dir.path(),
    );
    let inv = valgrind::under_tool(s, args, Counted::Instructions, &valgrind, run_dir.path());
    valgrind::run_invocation(s, "callgrind", &inv, dir.path())?;
    let mut total = Profile::default();
    for f in valgrind::out_files(dir.path()).map_err(|e| fail(format!("ran, but {e}")))? {
        let text = crate::fsutil::read_capped_string(&f, crate::fsutil::MAX_DATA_BYTES)
            .map_err(|e| fail(format!("ran, but {}: cannot read: {e}", f.display())))?;
        total.merge(parse(&text).map_err(|e| fail(format!("ran, but {}: {e}", f.display())))?);
    }
    total.relative_to(roots);
    Ok((total, started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 42
cmd:  ./prog
positions: line
events: Ir
summary: 1000

ob=(1) /tmp/prog
fl=(1) /src/prog.c
fn=(1) main
10 5
cfn=(2) slow
calls=1 20
11 900
cfn=(3) fast
calls=2 30
12 90
fn=(2)
20 800
21 100
fn=(3) fast
30 90
cfn=(3)
calls=1 30
31 40
fl=(2) /usr/lib/libc.so
fn=(4) (below main)
0 5
fn=(5) (below main)
0 1
cfn=(4)
calls=1 0
0 5
";

    #[test]
    fn self_and_inclusive_costs_come_from_cost_and_call_lines() {
        let p = parse(OUT).unwrap();
        assert_eq!(p.total, 1000.0);
        let f = |n: &str| p.functions[n].clone();
        assert_eq!(f("main").self_ir, 5.0);
        assert_eq!(f("main").inclusive, 995.0);
        assert_eq!(f("main").file.as_deref(), Some("/src/prog.c"));
        assert_eq!(f("main").line, Some(10));
        assert_eq!(f("slow").self_ir, 900.0);
        assert_eq!(f("slow").inclusive, 900.0);
        assert_eq!(f("slow").line, Some(20));
        // A call to itself is not counted twice.
        assert_eq!(f("fast").self_ir, 90.0);
        assert_eq!(f("fast").inclusive, 90.0);
        assert_eq!(f("(below main)").file.as_deref(), Some("/usr/lib/libc.so"));
        assert_eq!(p.calls[&("main".into(), "slow".into())], 900.0);
        // Two functions of one name are told apart, not counted twice.
        assert_eq!(f("(below main)'2").inclusive, 6.0);
        assert_eq!(f("(below main)").inclusive, 5.0);
    }

    #[test]
    fn bad_files_are_errors_naming_the_line() {
        assert!(parse("events: Ir\nfn=(1)\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse("fn=main\n1 2\n")
            .unwrap_err()
            .contains("before `events:`"));
        assert!(parse("events: Ir\nfn=a\ncfn=b\ncalls=1 2\nfn=c\n")
            .unwrap_err()
            .contains("line 5"));
        assert!(parse("events: Ir\nfn=a\n1 x\n")
            .unwrap_err()
            .contains("line 3"));
        assert!(parse("version: 1\n").unwrap_err().contains("events"));
    }

    #[test]
    fn relative_positions_and_more_positions_are_read() {
        let t =
            "positions: instr line\nevents: Dr Ir\nfl=f.c\nfn=g\n0x10 7 1 3\n+4 +2 0 4\n* -1 0 5\n";
        let p = parse(t).unwrap();
        assert_eq!(p.functions["g"].self_ir, 12.0);
        assert_eq!(p.functions["g"].line, Some(7));
    }

    #[test]
    fn the_function_made_slower_heads_the_changed_list() {
        let before = parse(OUT).unwrap();
        let after = parse(
            &OUT.replace("11 900", "11 1800")
                .replace("20 800", "20 1700"),
        )
        .unwrap();
        let rows = changed(&before, &after);
        assert_eq!(rows[0].name, "slow");
        assert_eq!(rows[0].before_self, Some(900.0));
        assert_eq!(rows[0].after_self, 1800.0);
        assert_eq!(rows[1].name, "main");
        assert_eq!(rows[1].inclusive_change(), 900.0);
        assert!(rows.iter().all(|r| r.name != "fast"), "unchanged: left out");
        assert_eq!(hottest(&after)[0].name, "slow");
        assert_eq!(hottest(&after)[0].before_self, None);
    }

    #[test]
    fn folded_stacks_spread_edges_over_callees() {
        let p = parse(OUT).unwrap();
        let text = folded(&p);
        assert!(text.contains("main;slow 900\n"), "{text}");
        assert!(text.contains("main 5\n"), "{text}");
        assert!(text.contains("main;fast 90\n"), "{text}");
        assert!(text.contains("(below main)'2;(below main) 5\n"), "{text}");
    }
}
