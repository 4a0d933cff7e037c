//! The units table: how a value in its unit is shown to people. Metric
//! units are `ms`, `MB` (MiB: 1 MB = 1024 KiB here), and whatever an
//! imported harness names (`ns`, `ops/s`, `bytes`, …), shown as given.

/// Human time: ms below a second, seconds above.
pub fn fmt_ms(ms: f64) -> String {
    if ms.abs() >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms.abs() >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms.abs() >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// A value in its unit, made readable.
pub fn fmt_value(value: f64, unit: &str) -> String {
    match unit {
        "ms" => fmt_ms(value),
        "MB" => format!("{value:.1} MB"),
        "" => format!("{value}"),
        u => {
            if value.fract() == 0.0 && value.abs() < 1e15 {
                format!("{value:.0} {u}")
            } else {
                format!("{value:.3} {u}")
            }
        }
    }
}
