//! The ready setup for the Python Persona project loads, and its scenarios
//! report exactly the metric names of the design's baseline.

use std::collections::BTreeSet;
use std::path::Path;

use bench_gate::baseline::Baseline;
use bench_gate::workload::config::Config;
use bench_gate::workload::Readiness;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/persona-python");

#[test]
fn persona_python_config_matches_the_design_baseline() {
    let config = Config::load(&Path::new(DIR).join("bench-gate.yml")).unwrap();
    let baseline = Baseline::load(&Path::new(DIR).join("baselines/v1.12.0.yaml")).unwrap();
    let want: BTreeSet<String> = baseline.metrics.keys().cloned().collect();
    let standard = config.workload("standard").unwrap();
    let got: BTreeSet<String> = standard
        .scenarios
        .iter()
        .flat_map(|s| s.metrics.iter().map(|m| m.name.clone()))
        .collect();
    assert_eq!(got, want);
    for name in config.workload_names() {
        assert!(
            ["quick", "standard", "full", "batch"].contains(&name.as_str()),
            "{name}"
        );
    }
    // Every generate call names the model (no interactive picker), uses the
    // ollama provider, and writes to a fresh folder per iteration.
    for s in standard
        .scenarios
        .iter()
        .filter(|s| s.name != "cli_startup")
    {
        let argv = s.command.argv.join(" ");
        assert!(argv.contains("--model bench-gate-offline"), "{argv}");
        assert!(argv.contains("--provider ollama"), "{argv}");
        assert!(argv.contains("{iteration}"), "{argv}");
        assert_eq!(s.command.env["OLLAMA_BASE_URL"], "http://127.0.0.1:11434");
        // Checked: as many persona.json files as --count, in this run's folder.
        let count =
            &s.command.argv[s.command.argv.iter().position(|a| a == "--count").unwrap() + 1];
        let output =
            &s.command.argv[s.command.argv.iter().position(|a| a == "--output").unwrap() + 1];
        let files = s
            .checks
            .files
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no expect", s.name));
        assert_eq!(files.glob, format!("{output}/**/persona.json"));
        let n: u64 = count.parse().unwrap();
        assert_eq!((files.min, files.max), (Some(n), Some(n)), "{}", s.name);
        assert!(s
            .metrics
            .iter()
            .any(|m| m.measure == bench_gate::model::Measure::ApiCalls));
    }
    // Each tree runs its own virtual environment; nothing recompiles every run.
    for s in &standard.scenarios {
        assert_eq!(s.command.argv[0], ".venv/bin/persona");
        assert!(!s.command.env.contains_key("PYTHONDONTWRITEBYTECODE"));
    }
    assert_eq!(
        config.ab.setup.as_deref(),
        Some("python -m venv .venv && .venv/bin/pip install -q -e .")
    );
    let service = &standard.services[0];
    assert_eq!(
        service.command.argv[..2],
        ["{bench_gate}".to_string(), "serve".to_string()]
    );
    assert_eq!(
        service.ready,
        Readiness::Http("http://127.0.0.1:11434/api/tags".into())
    );
    assert_eq!(
        service.usage.as_deref(),
        Some("http://127.0.0.1:11434/_bench_gate/usage")
    );
    let vendor =
        std::fs::read_to_string(Path::new(DIR).join(".persona/vendors/bench-gate.yaml")).unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&vendor).unwrap();
    // Persona requires `id` and appends /v1/chat/completions itself.
    assert_eq!(v["id"].as_str(), Some("bench-gate"));
    assert_eq!(v["api_base"].as_str(), Some("http://127.0.0.1:11434"));
    assert_eq!(v["auth_type"].as_str(), Some("none"));
    assert_eq!(v["models"][0].as_str(), Some("bench-gate-offline"));
}
