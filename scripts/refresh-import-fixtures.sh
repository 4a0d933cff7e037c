#!/usr/bin/env bash
# Produces tests/fixtures/import/ again with the real tools: hyperfine
# (Debian's 1.15, and 1.20 from crates.io for memory_usage_byte), Google
# Benchmark (Debian libbenchmark-dev), pytest-benchmark (PyPI) and criterion
# (crates.io). Needs those installed; the tests only read the files.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/import
src=$out/sources
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

/usr/bin/hyperfine -N -r 12 -w 2 --export-json "$out/hyperfine-1.15.json" 'sleep 0.01' 'true' >/dev/null
"${HYPERFINE:-hyperfine}" -N -r 12 -w 2 --export-json "$out/hyperfine.json" --command-name "python startup" 'python3 -c pass' 'true' >/dev/null

g++ -O2 "$src/google_benchmark.cc" -o "$work/gb" -lbenchmark -lpthread
"$work/gb" --benchmark_format=json --benchmark_repetitions=3 --benchmark_min_time=0.02 > "$out/google-benchmark.json"

cp "$src/pytest_benchmark_test.py" "$work/test_bench.py"
(cd "$work" && python3 -m pytest -q -p no:cacheprovider --benchmark-json="$OLDPWD/$out/pytest-benchmark.json" \
  --benchmark-min-rounds=8 --benchmark-max-time=0.05 test_bench.py)

mkdir -p "$work/crit/src" "$work/crit/benches"
cat > "$work/crit/Cargo.toml" <<'TOML'
[package]
name = "crit-fixture"
version = "0.1.0"
edition = "2021"
[dev-dependencies]
criterion = "0.5"
[[bench]]
name = "parse"
harness = false
TOML
: > "$work/crit/src/lib.rs"
cp "$src/criterion_parse.rs" "$work/crit/benches/parse.rs"
(cd "$work/crit" && cargo bench --bench parse >/dev/null)
rm -rf "$out/criterion"
(cd "$work/crit/target" && find criterion -type d -name new) | while read -r d; do
  mkdir -p "$out/$d"
  cp "$work/crit/target/$d/estimates.json" "$work/crit/target/$d/sample.json" "$work/crit/target/$d/benchmark.json" "$out/$d/"
done
