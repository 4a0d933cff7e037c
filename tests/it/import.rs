//! `bench-gate import` on real output of the real tools (made by
//! scripts/fixtures/refresh-import-fixtures.sh) and on hand-checked files, and
//! `export` back out. Expected values are recomputed here from the files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(p)
}

fn import(format: &str, files: &[PathBuf]) -> Value {
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .args(["import", "--format", format])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn hyperfine_times_memory_and_names() {
    let src = json(&fixture("hyperfine.json"));
    let r = import("hyperfine", &[fixture("hyperfine.json")]);
    assert_eq!(r["workload"], "import:hyperfine");
    let m = &r["metrics"];
    let first = &src["results"][0];
    let times: Vec<f64> = first["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap() * 1000.0)
        .collect();
    let p50 = &m["hyperfine.python_startup.latency_p50_ms"];
    assert!(close(p50["value"].as_f64().unwrap(), median(times.clone())));
    assert_eq!(p50["samples"].as_array().unwrap().len(), times.len());
    assert_eq!(p50["unit"], "ms");
    let mem: Vec<f64> = first["memory_usage_byte"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_f64().unwrap() / 1048576.0)
        .collect();
    assert!(close(
        m["hyperfine.python_startup.peak_mb"]["value"]
            .as_f64()
            .unwrap(),
        mem.iter().copied().fold(0.0, f64::max)
    ));
    assert!(m.get("hyperfine.true.latency_mean_ms").is_some());
    // Debian's older hyperfine has no memory field: no peak metric, no error.
    let old = import("hyperfine", &[fixture("hyperfine-1.15.json")]);
    assert!(old["metrics"]
        .get("hyperfine.sleep_0_01.latency_p50_ms")
        .is_some());
    assert!(old["metrics"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.ends_with("peak_mb")));
}

#[test]
fn hyperfine_failed_runs_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let mut v = json(&fixture("hyperfine.json"));
    v["results"][1]["exit_codes"][3] = 1.into();
    let p = d.path().join("h.json");
    std::fs::write(&p, v.to_string()).unwrap();
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .args(["import", "--format", "hyperfine"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`true` failed in 1 of 12 runs"));
}

#[test]
fn criterion_median_and_per_iteration_samples() {
    let r = import("criterion", &[fixture("criterion")]);
    let m = &r["metrics"];
    for id in ["fibonacci/fib_15", "fibonacci/fib_20", "sum_1000"] {
        let dir = fixture(&format!("criterion/{id}/new"));
        let est = json(&dir.join("estimates.json"));
        let sample = json(&dir.join("sample.json"));
        let metric = &m[format!("criterion.{id}.median_ns")];
        assert!(
            close(
                metric["value"].as_f64().unwrap(),
                est["median"]["point_estimate"].as_f64().unwrap()
            ),
            "{id}"
        );
        let want: Vec<f64> = sample["iters"]
            .as_array()
            .unwrap()
            .iter()
            .zip(sample["times"].as_array().unwrap())
            .map(|(i, t)| t.as_f64().unwrap() / i.as_f64().unwrap())
            .collect();
        let got: Vec<f64> = metric["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len());
        assert!(got.iter().zip(&want).all(|(a, b)| close(*a, *b)));
        assert_eq!(metric["unit"], "ns");
    }
    // One estimates.json names its benchmark from benchmark.json beside it.
    let one = import(
        "criterion",
        &[fixture("criterion/sum_1000/new/estimates.json")],
    );
    assert!(one["metrics"].get("criterion.sum_1000.median_ns").is_some());
}

#[test]
fn pytest_benchmark_seconds_to_ms_with_raw_data() {
    let src = json(&fixture("pytest-benchmark.json"));
    let r = import("pytest-benchmark", &[fixture("pytest-benchmark.json")]);
    for b in src["benchmarks"].as_array().unwrap() {
        let name = b["name"].as_str().unwrap();
        let m = &r["metrics"][format!("pytest.{name}.median_ms")];
        assert!(close(
            m["value"].as_f64().unwrap(),
            b["stats"]["median"].as_f64().unwrap() * 1000.0
        ));
        assert_eq!(
            m["samples"].as_array().unwrap().len(),
            b["stats"]["data"].as_array().unwrap().len()
        );
        let ops = &r["metrics"][format!("pytest.{name}.ops")];
        assert_eq!(ops["direction"], "higher");
    }
    assert_eq!(
        r["environment"]["python_version"],
        src["machine_info"]["python_version"]
    );
}

#[test]
fn google_benchmark_repetitions_and_aggregates() {
    let src = json(&fixture("google-benchmark.json"));
    let r = import("google-benchmark", &[fixture("google-benchmark.json")]);
    let benches = src["benchmarks"].as_array().unwrap();
    for run in ["BM_StringCopy/64", "BM_StringCopy/4096", "BM_Sort"] {
        let reps: Vec<f64> = benches
            .iter()
            .filter(|b| b["run_name"] == run && b["run_type"] == "iteration")
            .map(|b| b["real_time"].as_f64().unwrap())
            .collect();
        let agg = benches
            .iter()
            .find(|b| b["run_name"] == run && b["aggregate_name"] == "median")
            .unwrap()["real_time"]
            .as_f64()
            .unwrap();
        let m = &r["metrics"][format!("gbench.{run}.real_time_ns")];
        assert!(close(m["value"].as_f64().unwrap(), agg), "{run}");
        assert_eq!(m["samples"].as_array().unwrap().len(), reps.len());
        assert_eq!(reps.len(), 3);
        assert!(r["metrics"]
            .get(format!("gbench.{run}.cpu_time_ns"))
            .is_some());
    }
    // mean/stddev/cv aggregates are not metrics of their own.
    assert!(r["metrics"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.contains("_mean") && !k.contains("_cv")));
}

#[test]
fn hand_checked_formats() {
    // go test -bench: medians of three runs, worked out by hand.
    let r = import("go-bench", &[fixture("go-bench.txt")]);
    let v = |k: &str| r["metrics"][k]["value"].as_f64().unwrap();
    assert_eq!(v("go.Parse.ns_per_op"), 22870.0);
    assert_eq!(v("go.Parse.bytes_per_op"), 4096.0);
    assert_eq!(v("go.Parse.allocs_per_op"), 12.0);
    assert_eq!(v("go.Render/small.ns_per_op"), 1043.0);
    assert_eq!(
        r["metrics"]["go.Render/small.ns_per_op"]["samples"],
        serde_json::json!([1043.0, 1057.0, 1021.0])
    );
    assert_eq!(r["environment"]["cpu_model"], "AMD EPYC 7B13");

    let r = import("bmf", &[fixture("bmf.json")]);
    assert_eq!(
        r["metrics"]["bmf.persona_generate_single.latency"]["value"],
        3050000.0
    );
    assert_eq!(
        r["metrics"]["bmf.persona_generate_single.latency"]["unit"],
        "ns"
    );
    assert_eq!(
        r["metrics"]["bmf.persona_generate_batch_10.throughput"]["direction"],
        "higher"
    );
    assert_eq!(
        r["metrics"]["bmf.persona_binary.file-size"]["unit"],
        "bytes"
    );

    let r = import(
        "custom-smaller-is-better",
        &[fixture("custom-smaller-is-better.json")],
    );
    let m = &r["metrics"]["gab.My_Custom_Smaller_Is_Better_Benchmark_-_CPU_Load"];
    assert_eq!(
        (
            m["value"].as_f64(),
            m["unit"].as_str(),
            m["direction"].as_str()
        ),
        (Some(50.0), Some("Percent"), Some("lower"))
    );
    let r = import(
        "custom-bigger-is-better",
        &[fixture("custom-bigger-is-better.json")],
    );
    assert_eq!(
        r["metrics"]["gab.My_Custom_Bigger_Is_Better_Benchmark_-_Throughput"]["direction"],
        "higher"
    );
}

#[test]
fn wrong_or_empty_files_are_clear_errors_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let cases: Vec<(&str, PathBuf, String)> = vec![
        (
            "hyperfine",
            fixture("pytest-benchmark.json"),
            "pytest-benchmark.json: not hyperfine --export-json output (no `results` array)".into(),
        ),
        (
            "pytest-benchmark",
            fixture("hyperfine.json"),
            "hyperfine.json: not pytest-benchmark --benchmark-json output (no `benchmarks` array)"
                .into(),
        ),
        (
            "google-benchmark",
            empty.clone(),
            "empty.json: the file is empty".into(),
        ),
        (
            "go-bench",
            fixture("bmf.json"),
            "bmf.json: not `go test -bench` output".into(),
        ),
        (
            "bmf",
            fixture("custom-smaller-is-better.json"),
            "not Bencher Metric Format JSON (the top level is not an object)".into(),
        ),
        (
            "custom-smaller-is-better",
            fixture("bmf.json"),
            "not github-action-benchmark custom JSON (the top level is not an array)".into(),
        ),
        (
            "criterion",
            d.path().to_path_buf(),
            "no criterion results (no */new/estimates.json under it)".into(),
        ),
        (
            "hyperfine",
            d.path().join("missing.json"),
            "missing.json: no such file or directory".into(),
        ),
    ];
    for (format, file, want) in cases {
        let out = Command::cargo_bin("bench-gate")
            .unwrap()
            .args(["import", "--format", format])
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{format} {}: {err}",
            file.display()
        );
        assert!(err.contains(&want), "{format}: expected {want:?} in {err}");
    }
}

#[test]
fn imported_results_gate_like_any_other_and_export_back() {
    let d = tempfile::tempdir().unwrap();
    let results = d.path().join("r.json");
    Command::cargo_bin("bench-gate")
        .unwrap()
        .args(["import", "--format", "google-benchmark"])
        .arg(fixture("google-benchmark.json"))
        .arg("--output")
        .arg(&results)
        .assert()
        .success();
    Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(d.path())
        .args([
            "capture",
            "--from",
            "r.json",
            "--output",
            "baselines/v1.0.0.yaml",
        ])
        .assert()
        .success();
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .current_dir(d.path())
        .args(["compare", "--results", "r.json", "--format", "json"])
        .output()
        .unwrap();
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["verdict"], "pass");
    assert_eq!(c["counts"]["pass"], 6);

    let bmf: Value = serde_json::from_slice(
        &Command::cargo_bin("bench-gate")
            .unwrap()
            .args(["export", "--format", "bmf", "--results"])
            .arg(&results)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let r = json(&results);
    let m = &r["metrics"]["gbench.BM_Sort.real_time_ns"];
    assert_eq!(
        bmf["gbench.BM_Sort.real_time_ns"]["latency"]["value"],
        m["value"]
    );
    let min = m["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .fold(f64::MAX, f64::min);
    assert_eq!(
        bmf["gbench.BM_Sort.real_time_ns"]["latency"]["lower_value"]
            .as_f64()
            .unwrap(),
        min
    );
    // And BMF imports back to the same values.
    let bmf_file = d.path().join("bmf.json");
    std::fs::write(&bmf_file, bmf.to_string()).unwrap();
    let back = import("bmf", &[bmf_file]);
    assert_eq!(
        back["metrics"]["bmf.gbench_BM_Sort_real_time_ns.latency"]["value"],
        m["value"]
    );

    let gab: Value = serde_json::from_slice(
        &Command::cargo_bin("bench-gate")
            .unwrap()
            .args(["export", "--format", "github-action-benchmark", "--results"])
            .arg(&results)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let entries = gab.as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert!(entries
        .iter()
        .all(|e| e["unit"] == "ns" && e["range"].as_str().unwrap().starts_with("± ")));
}

/// Written files honour the umask (they were 0600 whatever it was).
#[test]
fn written_files_honour_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("bench-gate");
    for (mask, want) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let out = d.path().join(format!("r{mask}.json"));
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {mask} && exec \"$0\" import --format hyperfine \"$1\" --output \"$2\""
            ))
            .arg(&bin)
            .arg(fixture("hyperfine.json"))
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, want, "umask {mask}");
    }
}

/// Readers that no longer guess: a collision of two benchmarks on one
/// metric name (naming both), an unknown unit, a negative or zero time, and
/// an import with no metric are each exit 3 naming the file and benchmark.
#[test]
fn strict_imports_refuse_collisions_units_bad_times_and_nothing() {
    let d = tempfile::tempdir().unwrap();
    let hyperfine = |times: &[(&str, f64)]| {
        let results: Vec<Value> = times
            .iter()
            .map(
                |(c, t)| serde_json::json!({"command": c, "mean": t, "median": t, "times": [t, t]}),
            )
            .collect();
        serde_json::json!({ "results": results }).to_string()
    };
    let gbench = |unit: &str, t: f64| {
        serde_json::json!({"benchmarks": [{"name": "BM_A", "run_name": "BM_A", "run_type": "iteration",
            "real_time": t, "cpu_time": t, "time_unit": unit}]})
        .to_string()
    };
    let cases: Vec<(&str, &str, String, String)> = vec![
        (
            "hyperfine",
            "collide.json",
            hyperfine(&[("sleep 1", 1.0), ("sleep_1", 0.1)]),
            "collide.json: benchmarks `sleep 1` and `sleep_1` both map to the metric name hyperfine.sleep_1.latency_p50_ms".into(),
        ),
        (
            "hyperfine",
            "negative.json",
            hyperfine(&[("a", -0.5)]),
            "negative.json: benchmark `a`: a value is negative (-500 ms)".into(),
        ),
        (
            "hyperfine",
            "zero.json",
            hyperfine(&[("a", 0.0)]),
            "zero.json: benchmark `a`: a time of 0 ms, which no run measures".into(),
        ),
        (
            "google-benchmark",
            "unit.json",
            gbench("ps", 5.0),
            "unit.json: benchmark `BM_A`: unknown time_unit \"ps\" (known: ns, us, ms, s)".into(),
        ),
        (
            "google-benchmark",
            "gzero.json",
            gbench("ns", 0.0),
            "gzero.json: benchmark `BM_A`: a time of 0 ns".into(),
        ),
        (
            "google-benchmark",
            "notime.json",
            serde_json::json!({"benchmarks": [{"name": "BM_A", "run_type": "iteration", "time_unit": "ns"}]}).to_string(),
            "notime.json: no metric imported".into(),
        ),
        (
            "go-bench",
            "go.txt",
            "BenchmarkA-8  100  5 ns/op\nBenchmarkA-4  100  9 ns/op\n".into(),
            "go.txt: benchmarks `BenchmarkA-8` and `BenchmarkA-4` both map to the metric name go.A.ns_per_op".into(),
        ),
        (
            "go-bench",
            "goneg.txt",
            "BenchmarkA-8  100  -5 ns/op\n".into(),
            "goneg.txt: benchmark `BenchmarkA-8`: a value is negative (-5 ns)".into(),
        ),
        (
            "custom-smaller-is-better",
            "gab.json",
            r#"[{"name": "a b", "unit": "ms", "value": 1}, {"name": "a_b", "unit": "ms", "value": 2}]"#.into(),
            "gab.json: benchmarks `a b` and `a_b` both map to the metric name gab.a_b".into(),
        ),
    ];
    for (format, name, text, want) in cases {
        let p = d.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = Command::cargo_bin("bench-gate")
            .unwrap()
            .args(["import", "--format", format])
            .arg(&p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {err}");
        assert!(err.contains(&want), "{name}: expected {want:?} in {err}");
    }
    // The same benchmark in two files is a collision too, naming both files.
    let a = d.path().join("one.json");
    let b = d.path().join("two.json");
    std::fs::write(&a, hyperfine(&[("x", 1.0)])).unwrap();
    std::fs::write(&b, hyperfine(&[("x", 2.0)])).unwrap();
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .args(["import", "--format", "hyperfine"])
        .args([&a, &b])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("two.json: benchmarks `x` (in ") && err.contains("one.json) and `x`"),
        "{err}"
    );
}

/// The new run's count of `event` in an iai-callgrind summary: `Left`, or
/// the first of `Both` (new, old).
fn iai_new(summary: &Value, event: &str) -> f64 {
    let m = &summary["profiles"][0]["summaries"]["total"]["summary"]["Callgrind"][event]["metrics"];
    let v = if m.get("Left").is_some() {
        &m["Left"]
    } else {
        &m["Both"][0]
    };
    v["Int"].as_f64().unwrap()
}

#[test]
fn iai_callgrind_summaries_import_the_new_runs_counts() {
    // Made by scripts/fixtures/refresh-iai-callgrind-fixtures.sh: `short`
    // ran twice with different work (new and old counts), `long` the same.
    let r = import("iai-callgrind", &[fixture("iai-callgrind")]);
    let short = json(&fixture("iai-callgrind/short/summary.json"));
    let long = json(&fixture("iai-callgrind/long/summary.json"));
    let both = &short["profiles"][0]["summaries"]["total"]["summary"]["Callgrind"]["Ir"]["metrics"]
        ["Both"];
    assert_ne!(both[0], both[1], "the fixture's short case changed");
    for (id, s) in [("short", &short), ("long", &long)] {
        let m = &r["metrics"][format!("iai.tiny/fib/bench_fibonacci/{id}.instructions")];
        assert_eq!(m["value"].as_f64().unwrap(), iai_new(s, "Ir"), "{r}");
        assert_eq!(m["unit"], "instructions");
        assert_eq!(m["direction"], "lower");
        let c = &r["metrics"][format!("iai.tiny/fib/bench_fibonacci/{id}.estimated_cycles")];
        assert_eq!(c["value"].as_f64().unwrap(), iai_new(s, "EstimatedCycles"));
    }
    // Hit counts and rates are not imported (higher is better, or a ratio).
    let names: Vec<&String> = r["metrics"].as_object().unwrap().keys().collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("hits") || n.contains("Rate")),
        "{names:?}"
    );
    assert_eq!(names.len(), 20, "{names:?}");
}

#[test]
fn an_iai_callgrind_summary_of_another_schema_version_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let mut s = json(&fixture("iai-callgrind/short/summary.json"));
    for (version, says) in [
        (Value::from("5"), "iai-callgrind summary schema version 5 is not supported: this bench-gate reads version 6"),
        (Value::from("7"), "schema version 7 is not supported"),
        (Value::Null, "it has no `version`"),
    ] {
        s["version"] = version;
        let p = d.path().join("summary.json");
        std::fs::write(&p, s.to_string()).unwrap();
        let out = Command::cargo_bin("bench-gate")
            .unwrap()
            .args(["import", "--format", "iai-callgrind"])
            .arg(&p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains(says) && err.contains("summary.json"), "{err}");
    }
    let out = Command::cargo_bin("bench-gate")
        .unwrap()
        .args(["import", "--format", "iai-callgrind"])
        .arg(d.path().join("none"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}
