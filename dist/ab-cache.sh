#!/usr/bin/env bash
# Where the built-in workload's A/B base build is kept between pushes to a
# pull request, and the cache key for it: outputs `path` and `key`, or
# nothing when there is nothing to cache (not a pull_request event, A/B off,
# a config or a setup of the user's own, results given, a shard job, or HEAD
# not GitHub's test-merge commit).
#
# The key names the base commit (the test-merge commit's first parent, which
# bench-gate measures as the base), and bench-gate takes from the folder only
# the file named by the base commit it resolved itself. The folder holds the
# base's build only: bench-gate copies it there right after the base tree's
# build, before the head's setup runs. Caches saved by a pull request's run
# are visible to that pull request only (GitHub scopes caches by ref). The
# pull request's own code runs on this runner, as this user, before the
# cache is saved: like everything in its A/B run, the cached base build is
# as trustworthy as that code (docs/security.md, trust model).
set -euo pipefail

out() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1" >> "$GITHUB_OUTPUT"; fi
}

[ "${GITHUB_EVENT_NAME:-}" = pull_request ] || exit 0
[ -z "${INPUT_RESULTS:-}" ] && [ -z "${INPUT_SHARD:-}" ] || exit 0
case "${INPUT_AB:-}" in "" | true) ;; *) exit 0 ;; esac
[ -z "${INPUT_AB_SETUP:-}" ] || exit 0
[ -z "${INPUT_CONFIG:-}" ] && [ ! -e bench-gate.yml ] || exit 0

# The parents of HEAD, from the commit object itself (a depth-1 clone).
parents=$(git cat-file -p HEAD 2>/dev/null | sed -n -e '/^$/q' -e 's/^parent //p') || exit 0
read -r -d '' -a p <<< "$parents" || true
[ "${#p[@]}" -eq 2 ] || exit 0
base="${p[0]}"
[[ "$base" =~ ^[0-9a-f]{40}$ ]] || exit 0

out "path=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/bench-gate-ab-build"
out "key=bench-gate-ab-build-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-$base"
