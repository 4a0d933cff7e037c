//! The history of main: on a push to the default branch (with
//! `--history-branch`), each run's results are appended to a JSON Lines
//! file per workload and environment fingerprint on a data branch (the
//! Contents API; the last `--history-keep` commits kept), each metric's
//! series is searched for a step ([`crate::stats::changepoint`]), and the
//! run is compared with the committed baseline. A step not reported before,
//! or a metric newly beyond the warning threshold, opens or updates ONE
//! issue "Performance change on main", found by its hidden marker and its
//! author (the gate); nobody else's issue is ever trusted or touched.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::api::{ApiError, GitHubApi, Issue};
use super::gate::GateOptions;
use crate::compare::{Comparison, Status};
use crate::history::{self, Entry};
use crate::model::{Direction, Results};
use crate::report::escape;
use crate::stats::changepoint::{self, Step, AFTER, WINDOW};

pub const TITLE: &str = "Performance change on main";
pub const MARKER: &str = "<!-- bench-gate:main-change -->";
const STATE_OPEN: &str = "<!-- bench-gate:main-state ";
const STATE_CLOSE: &str = " -->";
/// Values of each metric shown in the issue's series table.
const SHOWN: usize = 20;
/// GitHub's limit on an issue body is 65,536 characters.
const BODY_LIMIT: usize = 60_000;

/// What the issue has reported, kept in it (hidden): a step or a drift is
/// reported once. Each key (`metric@commit`, a metric) is kept as its
/// [`tag`], so that the record stays small whatever the names' length.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Reported {
    /// `metric@commit` of each step (its tag).
    steps: BTreeSet<String>,
    /// Metrics beyond the warning threshold from the baseline (their tags).
    drift: BTreeSet<String>,
}

/// A step in one metric's series, at a commit.
struct Found {
    metric: String,
    step: Step,
    commit: String,
    worse: bool,
    /// Found on this push or the one before: the step's `k` runs end
    /// at the newest run, or one before it (the best of a run of adjacent
    /// positions can move by one).
    fresh: bool,
}

/// A record key's tag: the first 16 hex digits of its SHA-256.
fn tag(key: &str) -> String {
    let hash = Sha256::digest(key.as_bytes());
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn is_tag(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Found {
    fn key(&self) -> String {
        format!("{}@{}", self.metric, self.commit)
    }
}

/// Whether `e`'s value of `m`'s metric is beyond `m`'s warning threshold
/// from the baseline.
fn beyond_warning(m: &crate::compare::MetricComparison, e: &Entry) -> bool {
    let (Some(base), Some(v)) = (m.baseline, e.metrics.get(&m.name)) else {
        return false;
    };
    if base == 0.0 {
        return false;
    }
    let worse_pct = match m.direction {
        Direction::Lower => (v / base - 1.0) * 100.0,
        Direction::Higher => (1.0 - v / base) * 100.0,
    };
    worse_pct >= m.thresholds.warning
}

/// The environment fingerprint's short id: SHA-256 of its keys' values.
pub fn fingerprint(results: &Results) -> (String, String) {
    let keys = crate::compare::rules::environment::FINGERPRINT_KEYS;
    let mut text = String::new();
    for k in keys {
        if let Some(v) = results.environment.get(*k) {
            let _ = writeln!(text, "{k}={v}");
        }
    }
    let hash = Sha256::digest(text.as_bytes());
    let id: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    (id, text.trim_end().replace('\n', ", "))
}

/// The data branch's file for these results. The workload's folder name
/// is injective and safe: letters, digits, `_` and `-` are kept, `.` too
/// except at the start, every other byte (and `~`) becomes `~XX` (hex), so
/// distinct workloads get distinct files and no segment is empty or `..`.
pub fn data_path(results: &Results) -> String {
    let mut folder = String::new();
    for (i, b) in results.workload.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') || (b == b'.' && i > 0) {
            folder.push(b as char);
        } else {
            let _ = write!(folder, "~{b:02X}");
        }
    }
    if folder.is_empty() {
        folder.push('~');
    }
    format!(
        "bench-gate/history/{folder}/{}.jsonl",
        fingerprint(results).0
    )
}

/// Records this push's results and reports a change; the log's lines.
pub fn record(
    api: &dyn GitHubApi,
    opts: &GateOptions,
    branch: &str,
    head: &str,
    results: &Results,
    compared: Option<&Comparison>,
    web: Option<&str>,
) -> Result<Vec<String>> {
    let mut log = Vec::new();
    let path = data_path(results);
    let (entries, at) = append(api, opts, branch, head, results, &path, &mut log)?;
    log.push(format!(
        "bench-gate: main's history: {} run(s) in {path} on branch {}",
        entries.len(),
        escape::log(branch)
    ));
    if at + 1 != entries.len() {
        log.push(format!(
            "bench-gate: main's history: a re-run of {}, an older commit: its run replaced in place, nothing reported",
            escape::log(&abbrev(head))
        ));
        return Ok(log);
    }
    let directions: BTreeMap<&str, Direction> = results
        .metrics
        .iter()
        .map(|(k, m)| (k.as_str(), m.direction))
        .collect();
    let min_rel = |metric: &str| {
        compared
            .and_then(|c| c.metrics.iter().find(|m| m.name == metric))
            .map_or(0.0, |m| m.thresholds.warning / 100.0)
    };
    let found = steps(&entries, &directions, &min_rel);
    let drift: Vec<&crate::compare::MetricComparison> = compared
        .map(|c| {
            c.metrics
                .iter()
                .filter(|m| matches!(m.status, Status::Failure | Status::Warning))
                .collect()
        })
        .unwrap_or_default();
    // What this push can report: a step found on this push (or moved by
    // it to the next commit), a metric that crossed the warning threshold
    // on it. Older ones were reported then (or their issue was closed).
    let fresh: BTreeSet<String> = found
        .iter()
        .filter(|f| f.fresh)
        .map(|f| tag(&f.key()))
        .collect();
    let previous = entries.len().checked_sub(2).map(|i| &entries[i]);
    let crossed: BTreeSet<String> = drift
        .iter()
        .filter(|m| !previous.is_some_and(|p| beyond_warning(m, p)))
        .map(|m| tag(&m.name))
        .collect();
    if fresh.is_empty() && crossed.is_empty() {
        log.push(format!(
            "bench-gate: main's history: no new step change ({} in the series), no metric newly beyond the warning threshold ({} beyond it)",
            found.len(),
            drift.len()
        ));
        return Ok(log);
    }
    let me = identify(api, opts)?;
    let issues = api.open_issues().context("reading the open issues")?;
    let ours = issues
        .into_iter()
        .filter(|i| i.author() == Some(me.as_str()))
        .find(|i| i.body.as_deref().is_some_and(|b| b.contains(MARKER)));
    let before = ours
        .as_ref()
        .and_then(|i| decode(i.body.as_deref().unwrap_or_default()))
        .unwrap_or_default();
    if fresh.is_subset(&before.steps) && crossed.is_subset(&before.drift) {
        log.push("bench-gate: main's history: the change is reported already".into());
        return Ok(log);
    }
    let mut now = before.clone();
    now.steps.extend(found.iter().map(|f| tag(&f.key())));
    now.drift.extend(drift.iter().map(|m| tag(&m.name)));
    let pulls: BTreeMap<String, String> = found
        .iter()
        .map(|f| (f.commit.clone(), pull_of(api, &f.commit)))
        .collect();
    let shown = shown(&found, &drift);
    let chart = web.and_then(|web| match chart(api, branch, &path, &entries, &shown, head) {
        Ok((svg_path, commit)) => escape::md_url(&format!(
            "{web}/raw/{}/{svg_path}",
            commit.as_deref().unwrap_or(branch)
        )),
        Err(e) => {
            log.push(format!(
                "::warning title=bench-gate::main's history: the chart could not be written ({}); the issue shows the table only",
                escape::command_data(&escape::log(&format!("{e:#}")))
            ));
            None
        }
    });
    let body = body(&Body {
        chart: chart.as_deref(),
        shown: &shown,
        state: &now,
        found: &found,
        drift: &drift,
        entries: &entries,
        pulls: &pulls,
        results,
        compared,
        head,
    });
    let (issue, done): (Issue, &str) = match ours {
        Some(i) => (api.update_issue(i.number, &body)?, "updated"),
        None => (api.create_issue(TITLE, &body)?, "opened"),
    };
    log.push(format!(
        "bench-gate: main's history: {done} {}",
        escape::log(&issue.html_url)
    ));
    Ok(log)
}

/// Whether `e` is a line of this series: a 40-hex commit, this workload
/// (and fingerprint, when the line names one), valid metric names and
/// finite values. Why not, when it is not.
fn foreign(e: &Entry, workload: &str, fp: &str) -> Option<String> {
    let commit_ok = e
        .commit
        .as_deref()
        .is_some_and(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    if !commit_ok {
        return Some("its commit is not a 40-hex SHA".into());
    }
    if e.workload != workload {
        return Some(format!("it is workload {}", escape::log(&e.workload)));
    }
    if e.fingerprint.as_deref().is_some_and(|f| f != fp) {
        return Some("it is another runner fingerprint".into());
    }
    if !e
        .metrics
        .iter()
        .all(|(k, v)| crate::model::valid_metric_name(k) && v.is_finite())
    {
        return Some("a metric name or value is not valid".into());
    }
    None
}

/// This series' entries in `text`: a line that is not an entry, or not
/// one of this series ([`foreign`]), is left out with a warning naming it
/// (and is not written back).
fn parse_series(
    text: &str,
    name: &str,
    workload: &str,
    fp: &str,
    log: &mut Vec<String>,
) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let why = match serde_json::from_str::<Entry>(l) {
            Ok(e) => match foreign(&e, workload, fp) {
                None => {
                    out.push(e);
                    continue;
                }
                Some(why) => why,
            },
            Err(_) => "not a history entry".into(),
        };
        log.push(format!(
            "::warning title=bench-gate::main's history: {}:{}: line ignored and dropped ({})",
            escape::command_data(&escape::log(name)),
            i + 1,
            escape::command_data(&why)
        ));
    }
    out
}

/// The most a history file may hold, in bytes: the Contents API returns a
/// file's content only up to 1 MB.
pub const FILE_BUDGET: usize = 900_000;

/// Appends the run to the data branch's file (creating the branch from
/// `head` the first time), keeping the last `--history-keep` runs and at
/// most [`FILE_BUDGET`] bytes; a run of the same commit again (a re-run)
/// replaces its entry in place. Returns the entries and where this run's is.
fn append(
    api: &dyn GitHubApi,
    opts: &GateOptions,
    branch: &str,
    head: &str,
    results: &Results,
    path: &str,
    log: &mut Vec<String>,
) -> Result<(Vec<Entry>, usize)> {
    let fp = fingerprint(results).0;
    let mut entry = history::entry(results, Some(head.to_string()), None);
    entry.fingerprint = Some(fp.clone());
    let mut tried_branch = false;
    for attempt in 0..3 {
        let file = api
            .read_file(branch, path)
            .with_context(|| format!("reading {path} on branch {branch}"))?;
        let mut notes = Vec::new();
        let mut entries = match &file {
            Some(f) if f.content.trim().is_empty() => anyhow::bail!(
                "reading {path} on branch {branch}: the file exists but GitHub returned no content (never taken as an empty history)"
            ),
            Some(f) => parse_series(
                &f.content,
                &format!("{branch}:{path}"),
                &results.workload,
                &fp,
                &mut notes,
            ),
            None => Vec::new(),
        };
        let mut at = match entries
            .iter()
            .position(|e| e.commit.as_deref() == Some(head))
        {
            Some(i) => {
                entries[i] = entry.clone();
                i
            }
            None => {
                entries.push(entry.clone());
                entries.len() - 1
            }
        };
        // A metric's unit is kept on the newest line that has it only (the
        // chart takes the newest): a line per run stays small.
        if let Some((newest, older)) = entries.split_last_mut() {
            for e in older {
                e.units.retain(|k, _| !newest.units.contains_key(k));
            }
        }
        let drop = entries.len().saturating_sub(opts.history_keep.max(1));
        let mut text = history::to_text(&entries[drop..]);
        let mut dropped = 0;
        while text.len() > FILE_BUDGET && entries.len() - drop - dropped > 1 {
            dropped += 1;
            text = history::to_text(&entries[drop + dropped..]);
        }
        if text.len() > FILE_BUDGET {
            anyhow::bail!(
                "{path}: one run is {} bytes, more than a history file may hold ({FILE_BUDGET})",
                text.len()
            );
        }
        if dropped > 0 {
            notes.push(format!(
                "bench-gate: main's history: {dropped} oldest run(s) dropped to keep {path} under {FILE_BUDGET} bytes"
            ));
        }
        entries.drain(..drop + dropped);
        if at < drop + dropped {
            anyhow::bail!("{path}: this run's line fell out of the file");
        }
        at -= drop + dropped;
        let message = format!(
            "bench-gate: results of {} ({})",
            abbrev(head),
            results.workload
        );
        match api.write_file(
            branch,
            path,
            &text,
            file.as_ref().map(|f| f.sha.as_str()),
            &message,
        ) {
            Ok(_) => {
                log.extend(notes);
                return Ok((entries, at));
            }
            // No such branch yet: created at this commit, once.
            Err(e) if file.is_none() && !tried_branch && matches!(e.status(), Some(404 | 422)) => {
                tried_branch = true;
                api.create_branch(branch, head)
                    .with_context(|| format!("creating the data branch {branch}"))?;
            }
            // Written meanwhile by another run: read again.
            Err(e) if matches!(e.status(), Some(409)) && attempt < 2 => {}
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("writing {path} on branch {branch}"))
                )
            }
        }
    }
    anyhow::bail!("writing {path} on branch {branch}: it changed under every attempt")
}

/// The steps of every metric's series, where each metric's floor is its
/// warning threshold.
fn steps(
    entries: &[Entry],
    directions: &BTreeMap<&str, Direction>,
    min_rel: &dyn Fn(&str) -> f64,
) -> Vec<Found> {
    let names: BTreeSet<&String> = entries.iter().flat_map(|e| e.metrics.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        // The runs that measured it, in order.
        let runs: Vec<(&Entry, f64)> = entries
            .iter()
            .filter_map(|e| e.metrics.get(name).map(|v| (e, *v)))
            .collect();
        let series: Vec<f64> = runs.iter().map(|(_, v)| *v).collect();
        for step in changepoint::changes(&series, WINDOW, AFTER, min_rel(name)) {
            let Some(commit) = runs[step.index].0.commit.clone() else {
                continue;
            };
            let up = step.after > step.before;
            let worse = match directions.get(name.as_str()).copied().unwrap_or_default() {
                Direction::Lower => up,
                Direction::Higher => !up,
            };
            out.push(Found {
                metric: name.clone(),
                fresh: step.index + AFTER + 1 >= series.len(),
                step,
                commit,
                worse,
            });
        }
    }
    out
}

/// Who the gate is: `--gate-login`, else `GET /user`, else (an
/// installation token, which cannot read it: there is no check run on a
/// push to tell its App) `github-actions[bot]`, `GITHUB_TOKEN`'s login; a
/// GitHub App's token needs `--gate-login`.
fn identify(api: &dyn GitHubApi, opts: &GateOptions) -> Result<String> {
    if let Some(l) = &opts.gate_login {
        return Ok(l.clone());
    }
    match api.user() {
        Ok(l) => Ok(l),
        Err(e) if e.status() == Some(403) => Ok("github-actions[bot]".into()),
        Err(e) => Err(anyhow::Error::new(e).context("asking GitHub who the gate is")),
    }
}

/// "#12 (title)" for the first pull request the commit belongs to.
fn pull_of(api: &dyn GitHubApi, sha: &str) -> String {
    match api.commit_pulls(sha) {
        Ok(p) => match p.first() {
            Some((n, title)) => format!("#{n} ({})", escape::md_text(title)),
            None => "none (pushed directly)".into(),
        },
        Err(e) => format!("unknown ({})", escape::md_text(&short_error(&e))),
    }
}

fn short_error(e: &ApiError) -> String {
    match e.status() {
        Some(s) => format!("HTTP {s}"),
        None => "no answer".into(),
    }
}

fn decode(body: &str) -> Option<Reported> {
    let start = body.find(STATE_OPEN)? + STATE_OPEN.len();
    let end = start + body[start..].find(STATE_CLOSE)?;
    use base64::Engine as _;
    let json = base64::engine::general_purpose::STANDARD
        .decode(body[start..end].trim())
        .ok()?;
    let r: Reported = serde_json::from_slice(&json).ok()?;
    // An older record kept the keys themselves: their tags.
    let norm = |set: BTreeSet<String>| -> BTreeSet<String> {
        set.into_iter()
            .map(|k| if is_tag(&k) { k } else { tag(&k) })
            .collect()
    };
    Some(Reported {
        steps: norm(r.steps),
        drift: norm(r.drift),
    })
}

fn encode(r: &Reported) -> String {
    use base64::Engine as _;
    let json = serde_json::to_vec(r).expect("the record serialises");
    format!(
        "{STATE_OPEN}{}{STATE_CLOSE}",
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

/// The metrics the issue shows: those with a step or drifting.
fn shown(found: &[Found], drift: &[&crate::compare::MetricComparison]) -> Vec<String> {
    let mut shown: Vec<String> = found.iter().map(|f| f.metric.clone()).collect();
    shown.extend(drift.iter().map(|m| m.name.clone()));
    shown.sort();
    shown.dedup();
    shown
}

/// The shown metrics' series as an SVG chart next to the data file (an
/// issue cannot hold an inline SVG: GitHub strips it); its path, and the
/// commit that wrote it.
fn chart(
    api: &dyn GitHubApi,
    branch: &str,
    data: &str,
    entries: &[Entry],
    shown: &[String],
    head: &str,
) -> Result<(String, Option<String>)> {
    let path = format!("{}.svg", data.trim_end_matches(".jsonl"));
    let only: Vec<Entry> = entries
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.metrics.retain(|k, _| shown.contains(k));
            e
        })
        .collect();
    let svg = crate::report::history::svg(&only, None);
    let sha = api.read_file(branch, &path)?.map(|f| f.sha);
    let commit = api.write_file(
        branch,
        &path,
        &svg,
        sha.as_deref(),
        &format!("bench-gate: chart at {}", abbrev(head)),
    )?;
    Ok((path, commit))
}

struct Body<'a> {
    /// The chart's URL, when it was written.
    chart: Option<&'a str>,
    shown: &'a [String],
    state: &'a Reported,
    found: &'a [Found],
    drift: &'a [&'a crate::compare::MetricComparison],
    entries: &'a [Entry],
    pulls: &'a BTreeMap<String, String>,
    results: &'a Results,
    compared: Option<&'a Comparison>,
    head: &'a str,
}

/// The first 7 characters of a commit (char-safe: never a byte index
/// into text that may not be a SHA).
fn abbrev(sha: &str) -> String {
    sha.chars().take(7).collect()
}

fn short(sha: &str) -> String {
    escape::md_code_cell(&abbrev(sha))
}

fn pct(x: f64) -> String {
    format!("{:+.1} %", x * 100.0)
}

fn body(b: &Body) -> String {
    let (fp, fp_text) = fingerprint(b.results);
    // The marker and the record come first and are never cut.
    let head = format!("{MARKER}\n{}\n", encode(b.state));
    let mut s = format!("## {TITLE}\n\n");
    let _ = writeln!(
        s,
        "Workload {}, runner fingerprint {} ({}); latest push {}.\n",
        escape::md_code(&b.results.workload),
        escape::md_code(&fp),
        escape::md_text(if fp_text.is_empty() {
            "no fingerprint keys"
        } else {
            &fp_text
        }),
        escape::md_code(&abbrev(b.head)),
    );
    if !b.found.is_empty() {
        let _ = writeln!(
            s,
            "### Step changes\n\n| metric | first commit | pull request | before (median of {WINDOW}) | after (median of {AFTER}) | change |\n|---|---|---|---:|---:|---:|"
        );
        for f in b.found {
            let _ = writeln!(
                s,
                "| {} {} | {} | {} | {:.4} | {:.4} | {} |",
                if f.worse { "🔺" } else { "🟢" },
                escape::md_code_cell(&f.metric),
                short(&f.commit),
                b.pulls.get(&f.commit).map_or("", String::as_str),
                f.step.before,
                f.step.after,
                pct(f.step.relative()),
            );
        }
        s.push('\n');
    }
    if !b.drift.is_empty() {
        let version = b.compared.map_or("?", |c| c.baseline_version.as_str());
        let _ = writeln!(
            s,
            "### Drift from the committed baseline {}\n\n| metric | baseline | main now | change | warning at |\n|---|---:|---:|---:|---:|",
            escape::md_code(version)
        );
        for m in b.drift {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.1} % |",
                escape::md_code_cell(&m.name),
                m.baseline.map_or("–".into(), |v| format!("{v:.4}")),
                m.current.map_or("–".into(), |v| format!("{v:.4}")),
                m.change_pct.map_or("–".into(), |v| format!("{v:+.1} %")),
                m.thresholds.warning,
            );
        }
        s.push('\n');
    }
    // The series: the chart (an image on the data branch, shown where the
    // reader can fetch it) and the same numbers as a table, which shows
    // everywhere (a private repository's raw files need a login).
    let shown: Vec<&str> = b.shown.iter().map(String::as_str).collect();
    let step_commits: BTreeSet<(&str, &str)> = b
        .found
        .iter()
        .map(|f| (f.metric.as_str(), f.commit.as_str()))
        .collect();
    if let Some(url) = b.chart {
        let _ = writeln!(
            s,
            "### Chart\n\n![main's series of the metrics above]({url})\n"
        );
    }
    let last = &b.entries[b.entries.len().saturating_sub(SHOWN)..];
    let _ = writeln!(
        s,
        "### Series (the last {} runs on main; ▶ marks the first commit of a step)\n\n| commit | {} |\n|---|{}",
        last.len(),
        shown
            .iter()
            .map(|m| escape::md_code_cell(m))
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(shown.len())
    );
    for e in last {
        let commit = e.commit.as_deref().unwrap_or("?");
        let cells: Vec<String> = shown
            .iter()
            .map(|m| {
                let mark = if step_commits.contains(&(*m, commit)) {
                    "▶ "
                } else {
                    ""
                };
                e.metrics
                    .get(*m)
                    .map_or("–".into(), |v| format!("{mark}{v:.4}"))
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", short(commit), cells.join(" | "));
    }
    s.push('\n');
    let _ = writeln!(
        s,
        "_Rule: a step starts where the {AFTER} runs from a commit all lie beyond the {WINDOW} runs before it, and their medians differ by at least the metric's warning threshold; on a steady series it fires by chance with probability {:.2} % per push (docs/sharding-and-history.md)._\n",
        changepoint::false_alarm_rate(WINDOW, AFTER) * 100.0
    );
    s.push_str(&proposal(b));
    let room = BODY_LIMIT.saturating_sub(head.len());
    if s.len() > room {
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n\n_(cut to fit GitHub's limit)_\n");
    }
    head + &s
}

/// A refreshed baseline from main's latest results: the command, and the
/// file's content (without the raw samples, which the command records).
fn proposal(b: &Body) -> String {
    let version = b
        .compared
        .and_then(|c| semver::Version::parse(c.baseline_version.trim_start_matches('v')).ok())
        .map(|mut v| {
            v.patch += 1;
            v.pre = semver::Prerelease::EMPTY;
            v.to_string()
        })
        .unwrap_or_else(|| format!("0.0.0-main.{}", abbrev(b.head)));
    let mut baseline = crate::baseline::Baseline::from_results(b.results, version.clone());
    baseline.samples.clear();
    let yaml = baseline.to_yaml();
    format!(
        "### A refreshed baseline\n\nIf the change is intended, capture main's results as the new baseline, on this runner, and commit it in a pull request (the gate opens none: a pull request opened with `GITHUB_TOKEN` runs no workflows, and needs a repository setting to be allowed):\n\n{}\n\n<details><summary><code>baselines/v{}.yaml</code> from the latest push (raw samples left out; the command records them)</summary>\n\n{}\n\n</details>\n",
        escape::md_block(&format!(
            "git checkout {}\nbench-gate capture --output baselines/v{version}.yaml --baseline-version {version}",
            escape::plain(b.head)
        )),
        escape::html(&version),
        escape::md_block(&yaml)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(values: &[f64]) -> Vec<Entry> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Entry {
                time: "t".into(),
                commit: Some(format!("{i:040x}")),
                git_ref: None,
                workload: "w".into(),
                fingerprint: None,
                metrics: [("a_ms".to_string(), *v)].into_iter().collect(),
                units: BTreeMap::new(),
            })
            .collect()
    }

    /// A step is fresh on the push that brings its third run and the next
    /// one, then no longer; a higher-is-better metric going down is worse.
    #[test]
    fn a_step_is_fresh_for_two_pushes_and_knows_worse() {
        let mut values = vec![10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3, 10.1, 9.9, 10.0];
        values.extend([12.0, 12.1, 11.9, 12.2, 12.0]);
        let lower: BTreeMap<&str, Direction> = [("a_ms", Direction::Lower)].into();
        let floor = |_: &str| 0.1;
        let fresh: Vec<bool> = (13..=15)
            .map(|n| {
                let found = steps(&entries(&values[..n]), &lower, &floor);
                assert_eq!(found.len(), 1);
                assert_eq!(found[0].commit, format!("{:040x}", 10));
                assert!(found[0].worse);
                found[0].fresh
            })
            .collect();
        assert_eq!(fresh, [true, true, false]);
        let higher: BTreeMap<&str, Direction> = [("a_ms", Direction::Higher)].into();
        assert!(!steps(&entries(&values), &higher, &floor)[0].worse);
        // Below the floor (the warning threshold): none.
        assert!(steps(&entries(&values), &lower, &|_: &str| 0.25).is_empty());
    }

    #[test]
    fn the_data_path_cannot_leave_its_folder() {
        let mut r: Results =
            serde_json::from_str(r#"{"schema_version":1,"tool":"bench-gate","tool_version":"0","created_at":"x","workload":"../a b","environment":{"cpu_model":"X"},"scenarios":[],"metrics":{}}"#)
                .unwrap();
        let p = data_path(&r);
        assert!(
            p.starts_with("bench-gate/history/~2E.~2Fa~20b/") && p.ends_with(".jsonl"),
            "{p}"
        );
        // Another machine, another file.
        r.environment.insert("cpu_model".into(), "Y".into());
        assert_ne!(data_path(&r), p);
    }

    #[test]
    fn the_record_round_trips_and_a_foreign_one_is_none() {
        let mut r = Reported::default();
        r.steps.insert(tag("a@b"));
        assert_eq!(decode(&format!("x\n{}\ny", encode(&r))), Some(r.clone()));
        // An older record, with the keys themselves: read as their tags.
        let mut old = Reported::default();
        old.steps.insert("a@b".into());
        assert_eq!(decode(&encode(&old)), Some(r));
        assert_eq!(decode("<!-- bench-gate:main-state !!! -->"), None);
    }
}
