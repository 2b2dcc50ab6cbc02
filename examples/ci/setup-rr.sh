#!/bin/sh
# CI setup for rr: installs a pinned rr version into a cache-friendly directory
# (one directory per version, so a CI cache keyed on the version restores it),
# skips the download when the cache already holds that version, and prints the
# directory to put on PATH. Under GitHub Actions it also appends it to $GITHUB_PATH.
#
#   export PATH="$(sh examples/ci/setup-rr.sh):$PATH"
#
# The same as one line, without this file:
#   RR_VERSION=0.1.0; RR_DIR="$HOME/.cache/rr/$RR_VERSION"; "$RR_DIR/rr" --version >/dev/null 2>&1 || { curl -fsSLo /tmp/rr-install.sh "https://github.com/rr-server/rr/releases/download/v$RR_VERSION/install.sh" && RR_INSTALL_VERSION=$RR_VERSION RR_INSTALL_DIR=$RR_DIR sh /tmp/rr-install.sh; } && export PATH="$RR_DIR:$PATH"
#
# Environment: RR_VERSION (the pinned version), RR_CACHE_DIR (default
# ~/.cache/rr), RR_INSTALL_BASE_URL (a mirror of the release files).
set -eu

RR_VERSION=${RR_VERSION:-0.1.0}
RR_VERSION=${RR_VERSION#v}
cache_dir=${RR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rr}
bin_dir="$cache_dir/$RR_VERSION"
base=${RR_INSTALL_BASE_URL:-https://github.com/rr-server/rr/releases/download/v$RR_VERSION}

if "$bin_dir/rr" --version 2>/dev/null | grep -qF "version $RR_VERSION "; then
  echo "setup-rr: rr $RR_VERSION found in $bin_dir (cached)" >&2
else
  # Download the installer to a file first: `curl | sh` would hide a failed download.
  installer=$(mktemp)
  trap 'rm -f "$installer"' EXIT
  curl -fsSL --retry 3 -o "$installer" "$base/install.sh" ||
    { echo "setup-rr: error: cannot download $base/install.sh" >&2; exit 3; }
  RR_INSTALL_VERSION=$RR_VERSION RR_INSTALL_DIR=$bin_dir RR_INSTALL_BASE_URL=$base sh "$installer"
fi

if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$bin_dir" >>"$GITHUB_PATH"
fi
echo "$bin_dir"
