#!/usr/bin/env bash
# Installs Valgrind when the config counts instructions or allocations
# (`measure: [instructions, allocations]` in a scenario) and it is absent:
# on Linux, with apt, timed in the log. Never fails the job: without
# Valgrind those metrics are reported as skipped, with the reason.
set -uo pipefail

config="${INPUT_CONFIG:-bench-gate.yml}"
[ -f "$config" ] || exit 0
counted='(instructions|allocations)'
if ! grep -Eq "^[^#]*measure:[^#]*\\b${counted}\\b" "$config" &&
   ! grep -Eq "^[[:space:]]*-[[:space:]]*${counted}[[:space:]]*(#.*)?\$" "$config"; then
  exit 0
fi
if command -v valgrind > /dev/null 2>&1; then
  echo "bench-gate: $(valgrind --version) counts instructions and allocations"
  exit 0
fi
if [ "$(uname -s)" != Linux ] || ! command -v apt-get > /dev/null 2>&1; then
  echo "::notice title=bench-gate::Valgrind is not installed and cannot be installed here (Linux with apt only): instructions and allocations are reported as skipped"
  exit 0
fi
as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo -n); fi
echo "bench-gate: installing Valgrind (the config counts instructions or allocations)"
start=$(date +%s)
if "${as_root[@]}" apt-get install -y -q valgrind >&2 ||
   { "${as_root[@]}" apt-get update -q >&2 && "${as_root[@]}" apt-get install -y -q valgrind >&2; }; then
  echo "bench-gate: installed $(valgrind --version) in $(( $(date +%s) - start )) s"
else
  echo "::warning title=bench-gate::could not install Valgrind with apt-get: instructions and allocations are reported as skipped"
fi
exit 0
