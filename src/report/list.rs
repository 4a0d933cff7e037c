//! `bench-gate list`: the baselines in a folder, newest version first.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::escape::log_text;
use crate::baseline::Baseline;

/// One baseline file as found: its name and size, and what it holds or why
/// it could not be read.
pub struct Listed {
    pub name: String,
    pub size: u64,
    pub baseline: Result<Baseline, String>,
}

/// A byte count made readable: `512 B`, `1.5 KiB`.
fn size(bytes: u64) -> String {
    if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The table, with the workload, metric count, thresholds, platform and
/// CPU too when `verbose`; safe to print to a workflow's log.
pub fn table(found: &[Listed], verbose: bool) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec!["name", "version", "captured", "size"];
    if verbose {
        header.extend(["workload", "metrics", "thresholds", "platform", "cpu"]);
    }
    t.set_header(header);
    for f in found {
        match &f.baseline {
            Ok(b) => {
                let mut row = vec![
                    f.name.clone(),
                    b.version.clone(),
                    b.captured_at.clone(),
                    size(f.size),
                ];
                if verbose {
                    row.extend([
                        b.workload.clone().unwrap_or_default(),
                        b.metrics.len().to_string(),
                        b.thresholds
                            .map(|t| format!("{}% / {}%", t.warning, t.failure))
                            .unwrap_or_else(|| "defaults".into()),
                        b.environment.get("platform").cloned().unwrap_or_default(),
                        b.environment.get("cpu_model").cloned().unwrap_or_default(),
                    ]);
                }
                t.add_row(row);
            }
            Err(e) => {
                t.add_row(vec![
                    f.name.clone(),
                    "(unreadable)".into(),
                    e.clone(),
                    size(f.size),
                ]);
            }
        }
    }
    log_text(&t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_unreadable_files_are_shown_and_data_cannot_run_a_command() {
        let b = Baseline {
            version: "1.2.0".into(),
            captured_at: "##[error]forged".into(),
            ..Baseline::default()
        };
        let text = table(
            &[
                Listed {
                    name: "v1.2.0.yaml".into(),
                    size: 1536,
                    baseline: Ok(b),
                },
                Listed {
                    name: "v1.1.0.yaml".into(),
                    size: 12,
                    baseline: Err("v1.1.0.yaml: not YAML".into()),
                },
            ],
            false,
        );
        assert!(text.contains("1.5 KiB"), "{text}");
        assert!(text.contains("12 B"), "{text}");
        assert!(text.contains("(unreadable)"), "{text}");
        assert!(!text.contains("workload"), "{text}");
        assert!(!text.contains("##["), "{text}");
        assert!(text.contains("forged"), "{text}");
    }
}
