#!/usr/bin/env bash
# Runs bench-gate with the action's inputs, which arrive as INPUT_*
# environment variables (never interpolated into a script: no injection).
#   - with `shard`: benchmark share K/N only and output its results;
#   - with `results`: import (`results-format`) or merge (several files)
#     them first, then gate;
#   - otherwise: gate, benchmarking here.
set -euo pipefail

# Valgrind, when a scenario counts instructions or allocations (never fails).
bash "$(dirname "${BASH_SOURCE[0]}")/valgrind.sh"

# Results and report live in the runner's temp folder, outside the checkout.
out_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/bench-gate"
mkdir -p "$out_dir"

workload_args=()
add_to() { # add_to ARRAY FLAG VALUE: only when VALUE is not empty
  local -n arr="$1"
  if [ -n "$3" ]; then arr+=("$2" "$3"); fi
}
add_to workload_args --workload "${INPUT_WORKLOAD:-}"
add_to workload_args --config "${INPUT_CONFIG:-}"

# pull_request_target holds a write token while the pull request's code runs:
# `gate` refuses it unless allowed; a shard job measures without `gate`.
case "${INPUT_ALLOW_PULL_REQUEST_TARGET:-false}" in
  true) allow_prt=true ;;
  false | "") allow_prt=false ;;
  *) echo "bench-gate: allow-pull-request-target must be true or false" >&2; exit 3 ;;
esac
if [ -n "${INPUT_SHARD:-}" ] && [ "${GITHUB_EVENT_NAME:-}" = pull_request_target ] && [ "$allow_prt" = false ]; then
  echo "bench-gate does not run on pull_request_target events (a write token while the pull request's code runs); measure on pull_request, publish with workflow_run, or set allow-pull-request-target: true" >&2
  exit 3
fi

# A/B mode, for a shard (which measures its own scenarios' pairs) and the gate.
ab_args=()
add_to ab_args --ab-setup "${INPUT_AB_SETUP:-}"
case "${INPUT_AB:-}" in
  "") ;;                            # the config's ab.enabled decides
  true) ab_args+=(--ab pr-base) ;;  # the pull request's base commit
  false) ab_args+=(--no-ab) ;;
  *) ab_args+=(--ab "$INPUT_AB") ;;
esac

if [ -n "${INPUT_SHARD:-}" ]; then
  name="shard-${INPUT_SHARD//\//-of-}.json"
  bench-gate run "${workload_args[@]}" "${ab_args[@]}" --shard "$INPUT_SHARD" --output "$out_dir/$name"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "results-path=$out_dir/$name" >> "$GITHUB_OUTPUT"
    echo "result=shard" >> "$GITHUB_OUTPUT"
  fi
  exit 0
fi

args=(gate "${workload_args[@]}")
add_to args --baseline "${INPUT_BASELINE:-}"
add_to args --baselines-dir "${INPUT_BASELINES_DIR:-}"
add_to args --warn-threshold "${INPUT_WARN_THRESHOLD:-}"
add_to args --fail-threshold "${INPUT_FAIL_THRESHOLD:-}"
add_to args --env-mismatch "${INPUT_ENV_MISMATCH:-}"
add_to args --confirm "${INPUT_CONFIRM:-}"
add_to args --decision "${INPUT_DECISION:-}"
add_to args --override-label "${INPUT_OVERRIDE_LABEL:-}"
add_to args --override-permission "${INPUT_OVERRIDE_PERMISSION:-}"
add_to args --override-scope "${INPUT_OVERRIDE_SCOPE:-}"
add_to args --label-events "${INPUT_LABEL_EVENTS:-}"
add_to args --gate-login "${INPUT_GATE_LOGIN:-}"
add_to args --check-name "${INPUT_CHECK_NAME:-}"
add_to args --comment "${INPUT_COMMENT:-}"
add_to args --fail-on-regression "${INPUT_FAIL_ON_REGRESSION:-}"
add_to args --history-url "${INPUT_HISTORY_URL:-}"
add_to args --history-branch "${INPUT_HISTORY_BRANCH:-}"
add_to args --history-keep "${INPUT_HISTORY_KEEP:-}"
add_to args --gate-on "${INPUT_GATE_ON:-}"
if [ "$allow_prt" = true ]; then args+=(--allow-pull-request-target); fi
add_to args --missing "${INPUT_MISSING:-}"
case "${INPUT_ALLOW_OTHER_WORKLOAD:-}" in
  true) args+=(--allow-other-workload) ;;
  ""|false) ;;
  *) echo "::error title=bench-gate::the input allow-other-workload must be true or false" >&2; exit 3 ;;
esac
args+=("${ab_args[@]}")

if [ -n "${INPUT_RESULTS:-}" ]; then
  # Whitespace-separated files or globs; globs expand here, on purpose.
  files=()
  read -r -a patterns <<< "${INPUT_RESULTS//$'\n'/ }"
  for pattern in "${patterns[@]}"; do
    matched=0
    for f in $pattern; do
      if [ -e "$f" ]; then files+=("$f"); matched=1; fi
    done
    if [ "$matched" = 0 ]; then
      echo "::error title=bench-gate::results: nothing matches '$pattern'" >&2
      exit 3
    fi
  done
  if [ -n "${INPUT_RESULTS_FORMAT:-}" ]; then
    bench-gate import --format "$INPUT_RESULTS_FORMAT" "${files[@]}" --output "$out_dir/imported.json"
    results="$out_dir/imported.json"
  elif [ "${#files[@]}" -gt 1 ]; then
    bench-gate merge "${files[@]}" --output "$out_dir/merged.json"
    results="$out_dir/merged.json"
  else
    results="${files[0]}"
  fi
  args+=(--results "$results")
fi

args+=(--results-out "$out_dir/results.json" --report-out "$out_dir/report.md")
exec bench-gate "${args[@]}"
