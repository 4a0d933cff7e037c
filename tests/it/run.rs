//! `bench-gate run`: the measuring instrument. Workloads, config scenarios,
//! failures, timeouts, memory isolation and every bad input.
#![cfg(target_os = "linux")] // /proc, wait4 in KiB, process groups, prism via node

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn bg() -> Command {
    Command::cargo_bin("bench-gate").unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn builtin_quick_workload_writes_the_results_schema() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("results.json");
    bg().args([
        "run",
        "--workload",
        "quick",
        "--iterations",
        "3",
        "--warmup",
        "1",
        "--output",
    ])
    .arg(&out)
    .assert()
    .success()
    .stdout(predicate::str::contains("cli_startup").and(predicate::str::contains("mean ± sd")))
    // Not a terminal: plain progress lines, no control characters.
    .stderr(
        predicate::str::contains("[single] 1 warm-up run(s), then 3 measured iteration(s)")
            .and(predicate::str::contains("\u{1b}").not()),
    );
    let r = read_json(&out);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["workload"], "quick");
    let metrics = r["metrics"].as_object().unwrap();
    for name in [
        "generation.single.latency_p50_ms",
        "generation.single.latency_p95_ms",
        "generation.single.latency_p99_ms",
        "generation.batch_10.latency_p50_ms",
        "generation.batch_10.latency_p95_ms",
        "memory.single_peak_mb",
        "memory.batch_10_peak_mb",
        "startup.cli_cold_ms",
    ] {
        let m = &metrics[name];
        assert_eq!(m["samples"].as_array().unwrap().len(), 3, "{name}");
        assert!(m["value"].as_f64().unwrap() > 0.0, "{name}");
    }
    let single = &r["scenarios"][0];
    assert_eq!(single["samples"].as_array().unwrap().len(), 3);
    assert_eq!(single["warmup_samples"].as_array().unwrap().len(), 1);
    let wall = &single["summaries"]["wall_ms"];
    for k in [
        "n", "min", "max", "mean", "stddev", "p50", "p95", "p99", "mad", "cv", "outliers",
    ] {
        assert!(wall.get(k).is_some(), "summary lacks {k}");
    }
    // P50 of the samples is the metric value.
    let mut xs: Vec<f64> = single["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["wall_ms"].as_f64().unwrap())
        .collect();
    xs.sort_by(f64::total_cmp);
    assert_eq!(
        metrics["generation.single.latency_p50_ms"]["value"]
            .as_f64()
            .unwrap(),
        xs[1]
    );
    for k in [
        "os",
        "arch",
        "cpu_model",
        "cpu_cores",
        "memory_gb",
        "kernel",
        "bench_gate_version",
    ] {
        assert!(r["environment"].get(k).is_some(), "environment lacks {k}");
    }
}

fn config(dir: &Path, text: &str) -> std::path::PathBuf {
    let p = dir.join("bench-gate.yml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn config_scenarios_report_their_metric_names() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let cfg = config(
        d.path(),
        "scenarios:\n  noop:\n    command: [\"true\"]\n    iterations: 4\n    warmup: 0\n    metrics:\n      app.noop.latency_p50_ms: wall_ms.p50\n      app.noop.peak_mb: peak_mb.max\n  shell:\n    command: \"echo {iteration} > {run_dir}/out-{iteration}.txt && test -s {run_dir}/out-{iteration}.txt\"\n    shell: true\n    iterations: 3\nworkloads:\n  standard: [noop, shell]\n",
    );
    let out = d.path().join("r.json");
    bg().args(["run", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    let r = read_json(&out);
    let names: Vec<&String> = r["metrics"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "app.noop.latency_p50_ms",
            "app.noop.peak_mb",
            "shell.latency_p50_ms",
            "shell.latency_p95_ms",
            "shell.peak_mb"
        ]
    );
    assert_eq!(r["scenarios"][1]["samples"].as_array().unwrap().len(), 3);
}

#[test]
fn only_selects_scenarios() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r.json");
    bg().args([
        "run",
        "-q",
        "--workload",
        "quick",
        "--only",
        "cli_startup",
        "--iterations",
        "2",
        "--output",
    ])
    .arg(&out)
    .assert()
    .success();
    let r = read_json(&out);
    assert_eq!(r["scenarios"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["metrics"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["startup.cli_cold_ms"]
    );
}

#[test]
fn bad_inputs_exit_3_and_write_nothing() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r.json");
    let cfg = |name: &str, text: &str| {
        let p = d.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let cases: Vec<(Vec<String>, String)> = vec![
        (vec!["--workload".into(), "huge".into()], "unknown workload 'huge'; available: quick, standard, full, batch".into()),
        (vec!["--workload".into(), "quick".into(), "--only".into(), "nope".into()], "unknown scenario 'nope' in workload 'quick'".into()),
        (vec!["--iterations".into(), "0".into()], "0 is not in 1..".into()),
        (vec!["--iterations".into(), "-2".into()], "unexpected argument '-2'".into()),
        (vec!["--config".into(), cfg("missing-cmd.yml", "scenarios:\n  a:\n    command: [\"definitely-not-a-command-xyz\"]\n")], "scenario 'a': command 'definitely-not-a-command-xyz' not found on PATH".into()),
        (vec!["--config".into(), cfg("empty-cmd.yml", "scenarios:\n  a:\n    command: \"\"\n")], "scenarios.a.command: the command is empty".into()),
        (vec!["--config".into(), cfg("types.yml", "scenarios:\n  a:\n    command: [\"true\"]\n    iterations: lots\n")], "types.yml:4:17: scenarios.a.iterations: invalid type: string \"lots\"".into()),
        (vec!["--config".into(), cfg("zero.yml", "scenarios:\n  a:\n    command: [\"true\"]\n    iterations: 0\n")], "zero.yml:4:17: scenarios.a.iterations: invalid value: integer `0`".into()),
        (vec!["--config".into(), cfg("neg.yml", "scenarios:\n  a:\n    command: [\"true\"]\n    iterations: -5\n")], "neg.yml:4:17: scenarios.a.iterations: invalid type: integer `-5`, expected a nonzero u32".into()),
        (vec!["--config".into(), cfg("timeout.yml", "scenarios:\n  a:\n    command: [\"true\"]\n    timeout: 0\n")], "timeout.yml:4:14: scenarios.a.timeout: timeout must be a positive number of seconds".into()),
        (vec!["--config".into(), cfg("svc.yml", "services:\n  ../../escaped:\n    command: [\"true\"]\nscenarios:\n  a:\n    command: [\"true\"]\n")], "svc.yml:2:3: services: \"../../escaped\" is not allowed as a service name".into()),
        (vec!["--config".into(), cfg("metric.yml", "scenarios:\n  a:\n    command: [\"true\"]\n    metrics:\n      \"a b\": wall_ms.p50\n")], "metric.yml:5:7: scenarios.a.metrics: \"a b\" is not allowed as a metric name".into()),
        (vec!["--config".into(), cfg("dup.yml", "scenarios:\n  a:\n    command: [\"true\"]\n    iterations: 50\n    iterations: 1\n")], "dup.yml:5:5: duplicate key `scenarios.a.iterations` (first given on line 4)".into()),
        (vec!["--config".into(), d.path().join("absent.yml").display().to_string()], "absent.yml: cannot read".into()),
        (vec!["--config".into(), cfg("deep.yml", &format!("scenarios:\n  a: {}\n", "[".repeat(200_000)))], "deep.yml:2:134: nested deeper than the limit of 128 levels".into()),
    ];
    for (args, expected) in cases {
        let o = bg()
            .arg("run")
            .args(&args)
            .arg("--output")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains(&expected),
            "{args:?}: expected {expected:?} in {err}"
        );
        assert!(!out.exists(), "{args:?} wrote results");
    }
}

#[test]
fn a_crashing_command_fails_the_scenario_with_its_stderr() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let cfg = config(
        d.path(),
        "scenarios:\n  crash:\n    command: \"echo starting >&2; echo 'boom: disk on fire' >&2; exit 7\"\n    shell: true\n    iterations: 3\n    warmup: 0\n",
    );
    let out = d.path().join("r.json");
    bg().args(["run", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("scenario 'crash' failed on iteration 1")
                .and(predicate::str::contains("exited with status 7"))
                .and(predicate::str::contains("| boom: disk on fire")),
        );
    assert!(!out.exists());
}

#[test]
fn a_signal_fails_the_scenario() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let cfg = config(
        d.path(),
        "scenarios:\n  killed:\n    command: \"kill -SEGV $$\"\n    shell: true\n    warmup: 0\n",
    );
    bg().args(["run", "--config"])
        .arg(&cfg)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("was killed by signal 11"));
}

fn processes_with(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(marker) {
                pids.push(pid);
            }
        }
    }
    pids
}

#[test]
fn a_hanging_command_times_out_and_leaves_no_process_behind() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    // A background child and a foreground one, both far longer than the timeout.
    let cfg = config(
        d.path(),
        "scenarios:\n  hang:\n    command: \"sleep 61.25 & sleep 61.5\"\n    shell: true\n    timeout: 1\n    warmup: 0\n",
    );
    let started = std::time::Instant::now();
    bg().args(["run", "--config"])
        .arg(&cfg)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "timed out after 1.0 s and was killed",
        ));
    assert!(started.elapsed() < Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        processes_with("61.25"),
        Vec::<u32>::new(),
        "background sleep survived"
    );
    assert_eq!(
        processes_with("61.5"),
        Vec::<u32>::new(),
        "foreground sleep survived"
    );
}

#[test]
fn background_processes_of_a_successful_command_are_killed_too() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let cfg = config(
        d.path(),
        "scenarios:\n  leaky:\n    command: \"sleep 62.75 >/dev/null 2>&1 & true\"\n    shell: true\n    iterations: 1\n    warmup: 0\n",
    );
    bg().args(["run", "--config"]).arg(&cfg).assert().success();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(processes_with("62.75"), Vec::<u32>::new());
}

/// Reaps `pid` with wait4 and returns its ru_maxrss in KiB.
fn wait4_maxrss(pid: i32) -> i64 {
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    usage.ru_maxrss
}

/// The gate holds 150 MB; `true` measured through the helper still reports
/// its own few MB. The control shows the inheritance the helper avoids.
#[test]
#[allow(clippy::zombie_processes)] // reaped by wait4_maxrss
fn peak_memory_is_the_childs_own_even_when_the_gate_is_large() {
    let ballast: Vec<u8> = vec![1u8; 150 << 20];
    // Touch every page so it is resident.
    let sum: u64 = ballast.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    assert_eq!(sum, (150u64 << 20) / 4096);

    // Control: spawned directly from this large process, `true` reports ≥ 100 MB.
    let child = std::process::Command::new("true").spawn().unwrap();
    let direct_kib = wait4_maxrss(child.id() as i32);
    assert!(
        direct_kib > 100 * 1024,
        "control: direct spawn reported only {direct_kib} KiB"
    );

    bench_gate::measure::set_helper(env!("CARGO_BIN_EXE_bench-gate"));
    let inv = bench_gate::measure::Invocation {
        program: "true".into(),
        args: vec![],
        env: vec![],
        env_policy: Default::default(),
        cwd: None,
        timeout: Duration::from_secs(10),
    };
    let m = bench_gate::measure::measure_once(&inv).unwrap();
    assert!(
        m.sample.peak_mb() < 10.0,
        "true reported {} MB",
        m.sample.peak_mb()
    );
    assert!(m.sample.peak_rss_kib > 0);
    drop(ballast);
}

/// A spike (the first three of five runs slow) fails on its own; the default
/// confirmation run measures the scenario again and, deciding on all ten
/// samples, passes, and says so.
#[test]
fn a_confirmation_run_turns_a_single_spike_into_a_pass() {
    let _serial = crate::support::serial();
    let setup = || {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("bench-gate.yml"),
            "scenarios:\n  spiky:\n    command: \"n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; if [ $n -le 3 ]; then sleep 1; else sleep 0.1; fi\"\n    shell: true\n    iterations: 5\n    warmup: 0\n    metrics:\n      spiky.latency_p50_ms: wall_ms.p50\n",
        )
        .unwrap();
        std::fs::create_dir(d.path().join("baselines")).unwrap();
        std::fs::write(
            d.path().join("baselines/v1.0.0.yaml"),
            "version: '1.0.0'\nmetrics:\n  spiky:\n    latency_p50_ms: 110\n",
        )
        .unwrap();
        d
    };
    let compare = |d: &Path, extra: &[&str]| {
        bg().current_dir(d)
            .args([
                "compare",
                "-q",
                "--fail-on-regression",
                "--warn-threshold",
                "150",
                "--fail-threshold",
                "200",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let d = setup();
    let out = compare(d.path(), &["--confirm", "0"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "without confirmation the spike fails"
    );
    let d = setup();
    let out = compare(d.path(), &["--save-results", "r.json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("confirming: spiky.latency_p50_ms above the failure threshold; measuring scenario 'spiky' 1 more time(s)"), "{err}");
    assert!(
        err.contains("no longer failing (the first measurement was a spike)"),
        "{err}"
    );
    let r = read_json(&d.path().join("r.json"));
    assert_eq!(
        r["scenarios"][0]["samples"].as_array().unwrap().len(),
        10,
        "decided on all samples"
    );
    assert_eq!(
        r["confirmations"][0]["failing_before"],
        serde_json::json!(["spiky.latency_p50_ms"])
    );
    assert_eq!(
        r["confirmations"][0]["failing_after"],
        serde_json::json!([])
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("count"))
            .unwrap()
            .trim(),
        "10"
    );
}

/// A command printing 200 MB to stderr: the gate keeps only the tail of it,
/// so its own peak RSS (and its helper's) stays far below the output's size.
/// Measured by bench-gate itself: an outer run measures the inner one
/// (through its helper, so the peak is the inner run's own and not this
/// test process's, which a direct child would inherit).
#[test]
fn a_command_printing_200_mb_to_stderr_costs_the_gate_little_memory() {
    let _serial = crate::support::serial();
    let d = tempfile::tempdir().unwrap();
    let inner_dir = d.path().join("inner");
    std::fs::create_dir(&inner_dir).unwrap();
    let inner = config(
        &inner_dir,
        "scenarios:\n  loud:\n    command: \"head -c 200000000 /dev/zero | tr '\\\\0' x >&2\"\n    shell: true\n    iterations: 1\n    warmup: 0\n    timeout: 300\n",
    );
    let inner_out = d.path().join("inner.json");
    let outer = config(
        d.path(),
        &format!(
            "scenarios:\n  gate:\n    command: [{:?}, \"run\", \"--quiet\", \"--config\", {:?}, \"--output\", {:?}]\n    iterations: 1\n    warmup: 0\n    timeout: 300\n    metrics:\n      gate.peak_mb: peak_mb.max\n",
            env!("CARGO_BIN_EXE_bench-gate"),
            inner.display().to_string(),
            inner_out.display().to_string()
        ),
    );
    let out = d.path().join("outer.json");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_bench-gate"))
        .args(["run", "--quiet", "--config"])
        .arg(&outer)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success() && inner_out.exists(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let peak_mb = r["metrics"]["gate.peak_mb"]["value"].as_f64().unwrap();
    assert!(peak_mb < 64.0, "peak RSS {peak_mb} MB");
}

/// `verify:` runs after every iteration, untimed; a failure is an error
/// naming the scenario, the iteration and the check, with its stderr.
#[test]
fn a_failing_verify_is_an_error_naming_the_iteration_and_the_check() {
    let d = tempfile::tempdir().unwrap();
    // Warm-up run 1 and iteration 1 are {iteration} 1 and 2; iteration 2 is 3.
    let cfg = config(
        d.path(),
        "scenarios:\n  gen:\n    command: \"echo {iteration} > {run_dir}/n-{iteration}\"\n    shell: true\n    iterations: 4\n    warmup: 1\n    verify: \"test {iteration} -lt 3 || { echo \\\"wrote $(cat {run_dir}/n-{iteration}), expected more\\\" >&2; exit 1; }\"\n",
    );
    let out = d.path().join("r.json");
    bg().args(["run", "-q", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("scenario 'gen' failed on iteration 2")
                .and(predicate::str::contains("ran, but the check verify `sh -c"))
                .and(predicate::str::contains("failed: exited with status 1"))
                .and(predicate::str::contains("last lines of the check's stderr"))
                .and(predicate::str::contains("| wrote 3, expected more")),
        );
    assert!(!out.exists());
}

/// `expect:` counts the files a glob matches, warm-up runs included; a
/// run that passes its checks is measured as usual.
#[test]
fn expect_counts_files_and_checks_warm_up_runs_too() {
    let d = tempfile::tempdir().unwrap();
    let scenario = |count: u32| {
        format!("scenarios:\n  gen:\n    command: \"mkdir -p {{run_dir}}/out-{{iteration}}/a && touch {{run_dir}}/out-{{iteration}}/a/p.json {{run_dir}}/out-{{iteration}}/p.json\"\n    shell: true\n    iterations: 2\n    warmup: 1\n    expect:\n      files: {{glob: \"{{run_dir}}/out-{{iteration}}/**/p.json\", count: {count}}}\n")
    };
    let cfg = config(d.path(), &scenario(3));
    let out = d.path().join("r.json");
    bg().args(["run", "-q", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("scenario 'gen' failed on warm-up run 1")
                .and(predicate::str::contains(
                    "ran, but the check expect.files failed: 2 file(s) match",
                ))
                .and(predicate::str::contains("/out-1/**/p.json', expected 3")),
        );
    assert!(!out.exists());
    let cfg = config(d.path(), &scenario(2));
    bg().args(["run", "-q", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    let r = read_json(&out);
    assert_eq!(r["scenarios"][0]["samples"].as_array().unwrap().len(), 2);
}

/// A usage endpoint that does not answer its counters stops the run before
/// anything is measured, naming the endpoint.
#[test]
fn a_usage_endpoint_that_does_not_count_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let port = crate::support::free_port();
    let stand_in = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/persona-mimic/stand_in.py"
    );
    let python = serde_json::to_string(&crate::support::python3()).unwrap();
    let cfg = config(
        d.path(),
        &format!("services:\n  llm:\n    command: [{python}, \"{stand_in}\", \"{port}\"]\n    ready: {{http: \"http://127.0.0.1:{port}/health\"}}\n    usage: \"http://127.0.0.1:{port}/no-such-path\"\nscenarios:\n  a:\n    command: [\"true\"]\n    iterations: 2\n    metrics:\n      a.calls: api_calls.max\n"),
    );
    let out = d.path().join("r.json");
    bg().args(["run", "-q", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "scenario 'a' failed on warm-up run 1: `true` could not be started: the usage endpoint http://127.0.0.1:{port}/no-such-path answered 404"
        )));
    assert!(!out.exists());
}
