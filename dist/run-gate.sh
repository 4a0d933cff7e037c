#!/usr/bin/env bash
# Runs `bench-gate gate` with the action's inputs, which arrive as INPUT_*
# environment variables (never interpolated into a script: no injection).
set -euo pipefail

args=(gate)
add() { # add FLAG VALUE: only when VALUE is not empty
  if [ -n "$2" ]; then args+=("$1" "$2"); fi
}
add --workload "${INPUT_WORKLOAD:-}"
add --config "${INPUT_CONFIG:-}"
add --baseline "${INPUT_BASELINE:-}"
add --baselines-dir "${INPUT_BASELINES_DIR:-}"
add --results "${INPUT_RESULTS:-}"
add --warn-threshold "${INPUT_WARN_THRESHOLD:-}"
add --fail-threshold "${INPUT_FAIL_THRESHOLD:-}"
add --override-label "${INPUT_OVERRIDE_LABEL:-}"
add --override-permission "${INPUT_OVERRIDE_PERMISSION:-}"
add --check-name "${INPUT_CHECK_NAME:-}"
add --comment "${INPUT_COMMENT:-}"
add --fail-on-regression "${INPUT_FAIL_ON_REGRESSION:-}"

# Results and report live in the runner's temp folder, outside the checkout.
out_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/bench-gate"
mkdir -p "$out_dir"
args+=(--results-out "$out_dir/results.json" --report-out "$out_dir/report.md")

exec bench-gate "${args[@]}"
