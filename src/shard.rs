//! Spreading a workload over N matrix jobs (`run --shard K/N`) and merging
//! their results back into one (`merge`).
//!
//! Assignment is deterministic: with the durations of a previous results
//! file, scenarios are placed longest first on the least-loaded shard (LPT,
//! ties to the lower shard); without, they go round-robin in name order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::model::{Results, ShardInfo};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub total: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not K/N (e.g. 2/3)"))?;
        let index: usize = k
            .trim()
            .parse()
            .map_err(|_| format!("'{k}' in '{s}' is not a number"))?;
        let total: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("'{n}' in '{s}' is not a number"))?;
        if total == 0 || index == 0 || index > total {
            return Err(format!("shard '{s}' must have 1 <= K <= N"));
        }
        Ok(Shard { index, total })
    }
}

/// Expected seconds per scenario from a previous results file: the mean
/// wall time times the iterations and warm-up runs.
pub fn durations(previous: &Results) -> BTreeMap<String, f64> {
    previous
        .scenarios
        .iter()
        .filter_map(|s| {
            let mean = s.summaries.get("wall_ms")?.mean;
            Some((
                s.name.clone(),
                mean * f64::from(s.iterations + s.warmup) / 1000.0,
            ))
        })
        .collect()
}

/// The scenarios of `names` that shard `k` runs.
pub fn assign(
    names: &[String],
    shard: Shard,
    durations: Option<&BTreeMap<String, f64>>,
) -> Vec<String> {
    let mut sorted: Vec<String> = names.to_vec();
    sorted.sort();
    sorted.dedup();
    let mine: BTreeSet<String> = match durations {
        Some(d) if !d.is_empty() => {
            let known: Vec<f64> = sorted.iter().filter_map(|n| d.get(n).copied()).collect();
            let fallback = if known.is_empty() {
                1.0
            } else {
                known.iter().sum::<f64>() / known.len() as f64
            };
            let mut by_cost: Vec<(f64, String)> = sorted
                .iter()
                .map(|n| (d.get(n).copied().unwrap_or(fallback), n.clone()))
                .collect();
            by_cost.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let mut load = vec![0.0f64; shard.total];
            let mut out = BTreeSet::new();
            for (cost, name) in by_cost {
                let k = (0..shard.total)
                    .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
                    .unwrap_or(0);
                load[k] += cost;
                if k + 1 == shard.index {
                    out.insert(name);
                }
            }
            out
        }
        _ => sorted
            .iter()
            .enumerate()
            .filter(|(i, _)| i % shard.total + 1 == shard.index)
            .map(|(_, n)| n.clone())
            .collect(),
    };
    // Keep the workload's own order.
    names
        .iter()
        .filter(|n| mine.contains(*n))
        .cloned()
        .collect()
}

/// Combines shard results into one, refusing overlaps, gaps and mixtures.
pub fn merge(parts: Vec<(PathBuf, Results)>) -> Result<Results> {
    let (first_path, first) = parts.first().context("no shard results to merge")?;
    let info = |p: &PathBuf, r: &Results| -> Result<ShardInfo> {
        r.shard.clone().with_context(|| {
            format!(
                "{}: not shard results (run it with `bench-gate run --shard K/N`)",
                p.display()
            )
        })
    };
    let first_info = info(first_path, first)?;
    let mut seen_index: BTreeMap<usize, PathBuf> = BTreeMap::new();
    let mut owner: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut merged = first.clone();
    merged.scenarios.clear();
    merged.metrics.clear();
    merged.shard = None;
    merged.shards.clear();
    merged.skipped.clear();
    for (path, r) in &parts {
        let i = info(path, r)?;
        check_same_ab(first_path, first, path, r)?;
        if r.workload != first.workload {
            anyhow::bail!(
                "{}: workload '{}' does not match '{}' of {}",
                path.display(),
                r.workload,
                first.workload,
                first_path.display()
            );
        }
        if i.total != first_info.total || i.all_scenarios != first_info.all_scenarios {
            anyhow::bail!(
                "{}: shard {}/{} of a different split than {} ({}/{})",
                path.display(),
                i.index,
                i.total,
                first_path.display(),
                first_info.index,
                first_info.total
            );
        }
        if let Some(other) = seen_index.insert(i.index, path.clone()) {
            anyhow::bail!(
                "shard {}/{} is given twice: {} and {}",
                i.index,
                i.total,
                other.display(),
                path.display()
            );
        }
        for s in &r.scenarios {
            if let Some(other) = owner.insert(s.name.clone(), path.clone()) {
                anyhow::bail!(
                    "scenario '{}' is in both {} and {}",
                    s.name,
                    other.display(),
                    path.display()
                );
            }
        }
        for (k, m) in &r.metrics {
            if merged.metrics.insert(k.clone(), m.clone()).is_some() {
                anyhow::bail!(
                    "metric '{k}' appears in more than one shard ({} among them)",
                    path.display()
                );
            }
        }
        merged.scenarios.extend(r.scenarios.iter().cloned());
        if let (Some(m), Some(ab)) = (merged.ab.as_mut(), &r.ab) {
            if !std::ptr::eq(r, first) {
                m.base.scenarios.extend(ab.base.scenarios.iter().cloned());
                m.base
                    .metrics
                    .extend(ab.base.metrics.iter().map(|(k, v)| (k.clone(), v.clone())));
                m.base
                    .skipped
                    .extend(ab.base.skipped.iter().map(|(k, v)| (k.clone(), v.clone())));
                m.skipped.extend(ab.skipped.iter().cloned());
                m.base_config_metrics =
                    match (m.base_config_metrics.take(), &ab.base_config_metrics) {
                        (Some(mut a), Some(b)) => {
                            a.extend(b.iter().cloned());
                            a.sort();
                            a.dedup();
                            Some(a)
                        }
                        (a, b) => a.or_else(|| b.clone()),
                    };
            }
        }
        merged
            .skipped
            .extend(r.skipped.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut kept = i.clone();
        kept.environment = Some(r.environment.clone());
        merged.shards.push(kept);
    }
    let missing_shards: Vec<String> = (1..=first_info.total)
        .filter(|k| !seen_index.contains_key(k))
        .map(|k| format!("{k}/{}", first_info.total))
        .collect();
    if !missing_shards.is_empty() {
        anyhow::bail!("shard {} missing", missing_shards.join(", "));
    }
    let missing: Vec<&String> = first_info
        .all_scenarios
        .iter()
        .filter(|s| !owner.contains_key(*s))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "scenarios missing from every shard: {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let order: BTreeMap<&String, usize> = first_info
        .all_scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (s, i))
        .collect();
    merged
        .scenarios
        .sort_by_key(|s| order.get(&s.name).copied().unwrap_or(usize::MAX));
    if let Some(ab) = merged.ab.as_mut() {
        ab.base.shard = None;
        ab.base
            .scenarios
            .sort_by_key(|s| order.get(&s.name).copied().unwrap_or(usize::MAX));
    }
    merged.shards.sort_by_key(|s| s.index);
    merged.created_at = crate::model::now_rfc3339();
    Ok(merged)
}

/// A/B shards merge only with A/B shards of the same base and head
/// (each shard measured its own scenarios' pairs on its own runner; what
/// they compare must be one pair of commits).
fn check_same_ab(first_path: &Path, first: &Results, path: &Path, r: &Results) -> Result<()> {
    match (&first.ab, &r.ab) {
        (None, None) => Ok(()),
        (Some(_), None) | (None, Some(_)) => {
            let (with, without) = if r.ab.is_some() {
                (path, first_path)
            } else {
                (first_path, path)
            };
            anyhow::bail!(
                "{} holds an A/B run and {} does not: run every shard in A/B mode, or none",
                with.display(),
                without.display()
            )
        }
        (Some(a), Some(b)) => {
            let what = |x: &crate::model::AbRun| {
                format!(
                    "base {} and head {}",
                    x.base_dir.as_deref().unwrap_or(&x.base_commit),
                    x.head_commit
                )
            };
            if a.base_commit != b.base_commit
                || a.head_commit != b.head_commit
                || a.base_dir != b.base_dir
            {
                anyhow::bail!(
                    "{} compares {}, but {} compares {}: A/B shards must compare the same commits",
                    path.display(),
                    what(b),
                    first_path.display(),
                    what(a)
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parse() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, total: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn every_scenario_exactly_once_by_count() {
        let all = names(&["e", "a", "d", "b", "c"]);
        let mut seen = Vec::new();
        for k in 1..=3 {
            let part = assign(&all, Shard { index: k, total: 3 }, None);
            assert!(part.len() <= 2 && !part.is_empty(), "{part:?}");
            seen.extend(part);
        }
        seen.sort();
        assert_eq!(seen, names(&["a", "b", "c", "d", "e"]));
        assert_eq!(
            assign(&all, Shard { index: 1, total: 3 }, None),
            names(&["a", "d"]),
            "workload order kept"
        );
    }

    #[test]
    fn balanced_by_duration() {
        let all = names(&["big", "m1", "m2", "s1", "s2", "s3"]);
        let d: BTreeMap<String, f64> = [
            ("big", 10.0),
            ("m1", 5.0),
            ("m2", 5.0),
            ("s1", 1.0),
            ("s2", 1.0),
            ("s3", 1.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let a = assign(&all, Shard { index: 1, total: 2 }, Some(&d));
        let b = assign(&all, Shard { index: 2, total: 2 }, Some(&d));
        let cost = |p: &[String]| p.iter().map(|n| d[n]).sum::<f64>();
        // big→1; m1→2; m2→2 (5 < 10); s1→1 (tie, lower); s2→2; s3→1 (tie).
        assert_eq!(a, names(&["big", "s1", "s3"]));
        assert_eq!(b, names(&["m1", "m2", "s2"]));
        assert_eq!((cost(&a), cost(&b)), (12.0, 11.0));
    }
}
