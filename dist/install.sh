#!/usr/bin/env bash
# Installs the bench-gate binary for this runner and puts it on PATH.
#
#  1. Maps RUNNER_OS / RUNNER_ARCH to a release target.
#  2. Reuses RUNNER_TOOL_CACHE/bench-gate/<version>/<arch> when complete and
#     still verified: the entry's .complete file records the archive's SHA-256
#     (which must equal the committed one) and the binary's SHA-256 (checked
#     on every use). A mismatch removes the entry and downloads it again.
#  3. Otherwise downloads bench-gate-v<version>-<target>.tar.gz from the
#     release (https only, redirects included), checks its SHA-256 against
#     dist/checksums/v<version>.sha256 (committed with the action, never
#     downloaded), unpacks it into the cache.
#  4. With no verified prebuilt binary (unknown platform, no checksum,
#     download failed) it builds the action's own source with `cargo build
#     --release --locked` when cargo is present, and fails with the reason
#     otherwise. The build runs in the action's directory with a fresh
#     CARGO_HOME and target directory and without the caller's RUSTC_WRAPPER,
#     RUSTFLAGS, CARGO_* and similar, so a pull request's .cargo/config.toml
#     or environment cannot run code in it. A checksum mismatch never falls
#     back: it fails.
#
# Environment: BENCH_GATE_VERSION (default: dist/VERSION; `source` = build),
# BENCH_GATE_DOWNLOAD_BASE (default: this repository's releases; http only
# for a loopback address, for tests), RUNNER_OS, RUNNER_ARCH,
# RUNNER_TOOL_CACHE, GITHUB_PATH, GITHUB_ACTION_PATH.
set -euo pipefail

action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
version="${BENCH_GATE_VERSION:-}"
[ -n "$version" ] || version="$(tr -d ' \n\r' < "$action_path/dist/VERSION")"
version="${version#v}"
base="${BENCH_GATE_DOWNLOAD_BASE:-https://github.com/persona/bench-gate/releases/download}"
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
cache_root="${RUNNER_TOOL_CACHE:-${HOME:-/tmp}/.cache}"

fail() { echo "::error title=bench-gate install::$*" >&2; exit 1; }
log() { echo "bench-gate install: $*"; }

# Downloads go over https only, redirects included. Plain http is allowed
# for the first request only when BENCH_GATE_DOWNLOAD_BASE names a loopback
# address (the tests' local release server).
case "$base" in
  https://*) protocols="=https" ;;
  http://127.0.0.1:* | http://127.0.0.1/* | http://localhost:* | http://localhost/* | "http://[::1]:"* | "http://[::1]/"*)
    protocols="=http,https" ;;
  *) fail "BENCH_GATE_DOWNLOAD_BASE must be an https URL (plain http only for 127.0.0.1, localhost or [::1]); got '$base'" ;;
esac

target=""
exe="bench-gate"
case "$os/$arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc; exe="bench-gate.exe" ;;
esac

add_to_path() {
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$1" >> "$GITHUB_PATH"; fi
  log "installed $1/$exe"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

build_from_source() { # build_from_source REASON
  local reason="$1"
  if ! command -v cargo >/dev/null 2>&1; then
    fail "$reason, and there is no Rust toolchain (cargo) on this runner to build it from source. Use a runner with a prebuilt target (Linux/macOS X64 or ARM64, Windows X64), install Rust first (e.g. dtolnay/rust-toolchain), or pin a released version."
  fi
  echo "::warning title=bench-gate install::$reason: no verified prebuilt binary, building bench-gate $version from source (a release build takes a few minutes)"
  log "building from source in $action_path with cargo build --release --locked, a fresh CARGO_HOME and target directory, and none of the caller's cargo or rustc settings"
  local dir="$cache_root/bench-gate/source-$version/$arch"
  local build="$tmp/source-build"
  mkdir -p "$build/cargo-home" "$build/target"
  local start="$SECONDS"
  (
    # Nothing from the caller may steer the build: no wrapper, flags, target
    # directory or CARGO_* setting from the environment, no cargo config from
    # the workspace (the build runs in the action's own directory) or from
    # the runner's CARGO_HOME (a fresh one).
    while IFS= read -r name; do
      case "$name" in
        CARGO_* | RUSTC* | RUSTFLAGS | RUSTDOCFLAGS | RUSTDOC*) unset "$name" ;;
      esac
    done < <(compgen -e)
    export CARGO_HOME="$build/cargo-home"
    export CARGO_TARGET_DIR="$build/target"
    cd "$action_path"
    cargo build --release --locked --manifest-path "$action_path/Cargo.toml" >&2
  ) || fail "building bench-gate $version from source failed after $((SECONDS - start)) s ($reason)"
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  cp "$build/target/release/$exe" "$dir/bin/$exe"
  log "built from source in $((SECONDS - start)) s"
  add_to_path "$dir/bin"
}

if [ "$version" = "source" ]; then
  build_from_source "version 'source' asked for"
  exit 0
fi

if [ -z "$target" ]; then
  build_from_source "no prebuilt bench-gate binary for $os/$arch"
  exit 0
fi

archive="bench-gate-v$version-$target.tar.gz"
sums="$action_path/dist/checksums/v$version.sha256"
expected=""
if [ -f "$sums" ]; then
  expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f {print $1}' "$sums")"
fi
if [ -z "$expected" ]; then
  build_from_source "no checksum for $archive in dist/checksums (version $version has no verified prebuilt binary)"
  exit 0
fi

# A cache entry is used only while it is still what was verified: its
# .complete file names the committed archive checksum and the binary's own.
dir="$cache_root/bench-gate/$version/$arch"
if [ -f "$dir.complete" ]; then
  recorded_archive="$(awk '$1 == "archive" {print $2}' "$dir.complete")"
  recorded_binary="$(awk '$1 == "binary" {print $2}' "$dir.complete")"
  if [ -x "$dir/$exe" ] && [ -n "$recorded_binary" ] && [ "$recorded_archive" = "$expected" ] \
     && [ "$(sha256_of "$dir/$exe")" = "$recorded_binary" ]; then
    log "using the cached $dir (SHA-256 verified)"
    add_to_path "$dir"
    exit 0
  fi
  echo "::warning title=bench-gate install::the cached $dir/$exe does not match the checksum recorded when it was verified; removing it and downloading again"
  rm -rf "$dir" "$dir.complete"
fi

url="$base/v$version/$archive"
log "downloading $url"
if ! curl --proto "$protocols" --proto-redir '=https' --fail --location --silent --show-error --retry 3 --retry-delay 1 --connect-timeout 10 -o "$tmp/$archive" "$url"; then
  build_from_source "could not download $url"
  exit 0
fi
actual="$(sha256_of "$tmp/$archive")"
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $archive: expected $expected (dist/checksums/v$version.sha256), got $actual. Refusing to install it."
fi
mkdir -p "$tmp/unpacked"
tar -xzf "$tmp/$archive" -C "$tmp/unpacked"
found="$(find "$tmp/unpacked" -type f -name "$exe" | head -n 1)"
[ -n "$found" ] || fail "$archive holds no $exe"
chmod +x "$found"
binary_sum="$(sha256_of "$found")"
# Move into place, then mark complete: a half-written cache is never used.
mkdir -p "$(dirname "$dir")"
rm -rf "$dir" "$dir.complete"
mkdir -p "$tmp/final"
mv "$found" "$tmp/final/$exe"
mv "$tmp/final" "$dir"
printf 'archive %s\nbinary %s\n' "$expected" "$binary_sum" > "$dir.complete"
add_to_path "$dir"
