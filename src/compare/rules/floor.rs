//! Absolute floors: a peak-memory or startup metric whose change is smaller
//! than the floor (`--floor-mb`, `--floor-ms`) never warns or fails,
//! whatever the percentage: +75 % of a 1.2 ms start-up is 0.9 ms of noise.

use super::{MetricDecision, RuleContext};
use crate::compare::{MetricKind, Status};

/// Changes smaller than these never warn or fail for peak-memory and
/// startup metrics: below them, percentages of tiny values are noise.
pub const FLOOR_MS: f64 = 1.0;
pub const FLOOR_MB: f64 = 1.0;

/// A change in the metric's unit, converted to ms or MB for the floors.
pub fn absolute_change(unit: &str, delta: f64) -> Option<(f64, &'static str)> {
    let d = delta.abs();
    Some(match unit {
        "ms" => (d, "ms"),
        "s" => (d * 1000.0, "ms"),
        "us" => (d / 1000.0, "ms"),
        "ns" => (d / 1e6, "ms"),
        "MB" => (d, "MB"),
        "bytes" => (d / 1048576.0, "MB"),
        _ => return None,
    })
}

pub fn apply(m: &mut MetricDecision, ctx: &RuleContext) {
    let Some((b, c)) = m.both() else {
        return;
    };
    if !matches!(m.status, Status::Failure | Status::Warning)
        || !matches!(m.kind, MetricKind::Memory | MetricKind::Startup)
    {
        return;
    }
    let floor = |u| {
        if u == "ms" {
            ctx.flags.floor_ms
        } else {
            ctx.flags.floor_mb
        }
    };
    let delta = m
        .change_pct
        .map_or(c.value - b.value, |p| b.value * p / 100.0);
    if let Some((d, u)) = absolute_change(&m.unit, delta) {
        if d < floor(u) {
            m.status = Status::Pass;
            m.note = Some(format!(
                "a change of {d:.3} {u} is below the absolute floor of {} {u}",
                floor(u)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::MetricDecision;
    use super::*;
    use crate::compare::ThresholdFlags;

    #[test]
    fn units_convert_to_ms_or_mb() {
        assert_eq!(absolute_change("s", -0.002), Some((2.0, "ms")));
        assert_eq!(absolute_change("us", 500.0), Some((0.5, "ms")));
        assert_eq!(absolute_change("ns", 3e6), Some((3.0, "ms")));
        assert_eq!(absolute_change("bytes", 2097152.0), Some((2.0, "MB")));
        assert_eq!(absolute_change("ops/s", 1.0), None);
    }

    /// `name` at `b` → `c`, already a `status` with `change` %.
    fn after<'a>(
        name: &'a str,
        b: &'a crate::baseline::BaselineMetric,
        c: &'a crate::model::Metric,
        status: Status,
        change: Option<f64>,
    ) -> MetricDecision<'a> {
        let mut m = MetricDecision::new(
            name,
            Some(b),
            None,
            Some(c),
            None,
            ThresholdFlags::default(),
        );
        (m.status, m.change_pct) = (status, change);
        m
    }

    #[test]
    fn a_tiny_absolute_change_passes_memory_and_startup_only() {
        let (b, c) = (&baseline_metric(1.2), &metric(2.1, None, &[]));
        // Startup, +75 % but 0.9 ms: passes, and says why.
        let mut m = after("startup.cli_cold_ms", b, c, Status::Failure, Some(75.0));
        apply(&mut m, &ctx());
        assert_eq!(m.status, Status::Pass);
        assert_eq!(
            m.note.unwrap(),
            "a change of 0.900 ms is below the absolute floor of 1 ms"
        );
        // The change decides the delta when there is one (a paired estimate).
        let mut m = after("startup.cli_cold_ms", b, c, Status::Warning, Some(200.0));
        apply(&mut m, &ctx());
        assert_eq!(m.status, Status::Warning, "2.4 ms is above the floor");
        // Latency has no floor; a pass has nothing to lower.
        let mut m = after("latency.x_ms", b, c, Status::Failure, Some(75.0));
        apply(&mut m, &ctx());
        assert_eq!(m.status, Status::Failure);
        let mut m = after("startup.cli_cold_ms", b, c, Status::Improved, Some(-75.0));
        apply(&mut m, &ctx());
        assert_eq!((m.status, m.note), (Status::Improved, None));
        // A lower floor lets it count.
        let mut low = ctx();
        low.flags.floor_ms = 0.5;
        let mut m = after("startup.cli_cold_ms", b, c, Status::Failure, Some(75.0));
        apply(&mut m, &low);
        assert_eq!(m.status, Status::Failure);
        // Memory uses the MB floor, and without a change (baseline 0) the values.
        let zero = &baseline_metric(0.0);
        let mb = &crate::model::Metric {
            unit: "MB".into(),
            ..metric(0.5, None, &[])
        };
        let mut m = after("memory.peak_mb", zero, mb, Status::Warning, None);
        apply(&mut m, &ctx());
        assert_eq!(m.status, Status::Pass);
        assert!(m.note.unwrap().ends_with("floor of 1 MB"));
    }
}
