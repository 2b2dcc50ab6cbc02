#!/bin/sh
# rr installer: downloads the rr binary for this OS and CPU from a release,
# verifies it against the release's SHA256SUMS and installs it atomically.
# Needs only sh, curl or wget, tar and sha256sum (or shasum / openssl); calls no
# API and needs no token, so rate limits never break it.
#
#   curl -fsSL https://github.com/rr-server/rr/releases/latest/download/install.sh | sh
#
# Environment (all optional):
#   RR_INSTALL_VERSION     version to install, e.g. 0.1.0 (default: the latest release)
#   RR_INSTALL_BASE_URL    URL (or local path, or file://) of the directory that holds
#                          SHA256SUMS and the rr-<version>-<os>-<arch>.tar.gz archives
#                          (default: the GitHub release of RR_INSTALL_VERSION, or
#                          .../releases/latest/download when no version is given)
#   RR_INSTALL_DIR         where rr goes (default: ~/.local/bin, or /usr/local/bin as root)
#   RR_INSTALL_OS          override OS detection (linux, darwin)
#   RR_INSTALL_ARCH        override CPU detection (x64, arm64)
#   RR_INSTALL_DOWNLOADER  curl or wget (default: whichever exists, curl first)
#   RR_INSTALL_SHA256      the archive's expected SHA-256, pinned by you (e.g. in CI); the
#                          release's SHA256SUMS must list the same value
#
# Exit codes: 1 other failure, 2 unsupported platform or bad setting,
# 3 download failed, 4 checksum mismatch, 5 the downloaded rr does not run here.
# Nothing is installed unless every step succeeded.
set -eu

RELEASES_URL="https://github.com/rr-server/rr/releases"

say() { printf 'rr-install: %s\n' "$*" >&2; }
# die <exit code> <message>: one line on stderr, then exit (the trap cleans up).
die() { code=$1; shift; printf 'rr-install: error: %s\n' "$*" >&2; exit "$code"; }

case ${1:-} in
  "") ;;
  -h | --help)
    # The header comment is the manual (when piped into sh, there is no file to read).
    if [ -f "$0" ]; then
      sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    else
      echo "usage: RR_INSTALL_VERSION=<version> RR_INSTALL_DIR=<dir> sh install.sh (see docs/INSTALL.md)"
    fi
    exit 0
    ;;
  *) die 2 "install.sh takes no arguments ('$1'); set RR_INSTALL_VERSION, RR_INSTALL_DIR, RR_INSTALL_BASE_URL instead (see --help)" ;;
esac

tmp=""
stage=""
cleanup() {
  if [ -n "$stage" ]; then rm -f "$stage"; fi
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- platform ---------------------------------------------------------------
os_overridden=${RR_INSTALL_OS:+1}
arch_overridden=${RR_INSTALL_ARCH:+1}
raw_os=${RR_INSTALL_OS:-$(uname -s)}
case $raw_os in
  Linux | linux) os=linux ;;
  Darwin | darwin | macos) os=darwin ;;
  *) die 2 "unsupported operating system '$raw_os': rr ships binaries for Linux and macOS only; elsewhere run it from source with Bun or Deno (see docs/INSTALL.md)" ;;
esac
raw_arch=${RR_INSTALL_ARCH:-$(uname -m)}
case $raw_arch in
  x86_64 | amd64 | x64) arch=x64 ;;
  aarch64 | arm64 | armv8*) arch=arm64 ;;
  *) die 2 "unsupported CPU architecture '$raw_arch': rr ships binaries for x64 and arm64 only; elsewhere run it from source with Bun or Deno (see docs/INSTALL.md)" ;;
esac
# An x64 shell under Rosetta on Apple silicon: install the native binary.
if [ -z "$arch_overridden" ] && [ "$os" = darwin ] && [ "$arch" = x64 ] &&
  [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
  arch=arm64
fi

# --- settings ---------------------------------------------------------------
version=${RR_INSTALL_VERSION:-}
version=${version#v}
case $version in
  *[!0-9A-Za-z.+-]*) die 2 "invalid RR_INSTALL_VERSION '$RR_INSTALL_VERSION': expected a version such as 0.1.0" ;;
esac

pinned_sha256=$(printf '%s' "${RR_INSTALL_SHA256:-}" | tr 'A-F' 'a-f')
case $pinned_sha256 in
  *[!0-9a-f]*) die 2 "invalid RR_INSTALL_SHA256 '$RR_INSTALL_SHA256': expected 64 hex digits" ;;
esac
if [ -n "$pinned_sha256" ] && [ ${#pinned_sha256} != 64 ]; then
  die 2 "invalid RR_INSTALL_SHA256 '$RR_INSTALL_SHA256': expected 64 hex digits"
fi

if [ -n "${RR_INSTALL_BASE_URL:-}" ]; then
  base=${RR_INSTALL_BASE_URL%/}
elif [ -n "$version" ]; then
  base="$RELEASES_URL/download/v$version"
else
  # GitHub redirects .../releases/latest/download/<file> to the newest release: no API call.
  base="$RELEASES_URL/latest/download"
fi

if [ -n "${RR_INSTALL_DIR:-}" ]; then
  dir=$RR_INSTALL_DIR
elif [ "$(id -u)" = 0 ]; then
  dir=/usr/local/bin
elif [ -n "${HOME:-}" ]; then
  dir="$HOME/.local/bin"
else
  die 2 "cannot choose an install directory: HOME is not set; set RR_INSTALL_DIR"
fi
if [ -d "$dir/rr" ]; then
  die 2 "$dir/rr is a directory; remove it or set RR_INSTALL_DIR to another directory"
fi

downloader=${RR_INSTALL_DOWNLOADER:-}
if [ -z "$downloader" ]; then
  if command -v curl >/dev/null 2>&1; then
    downloader=curl
  elif command -v wget >/dev/null 2>&1; then
    downloader=wget
  fi
fi
# A base without a scheme, or with file://, is a local directory: copied, no downloader needed.
case $base in
  file://*) base_is_local=1 ;;
  *://*) base_is_local="" ;;
  *) base_is_local=1 ;;
esac
if [ -z "$base_is_local" ]; then
  case $downloader in
    curl | wget) command -v "$downloader" >/dev/null 2>&1 || die 2 "RR_INSTALL_DOWNLOADER=$downloader but $downloader is not installed" ;;
    "") die 2 "neither curl nor wget is installed; install one of them and run the installer again" ;;
    *) die 2 "invalid RR_INSTALL_DOWNLOADER '$downloader': use curl or wget" ;;
  esac
fi

if command -v sha256sum >/dev/null 2>&1; then
  hasher=sha256sum
elif command -v shasum >/dev/null 2>&1; then
  hasher=shasum
elif command -v openssl >/dev/null 2>&1; then
  hasher=openssl
else
  die 2 "no SHA-256 tool found (sha256sum, shasum or openssl): refusing to install an unverified download"
fi
command -v tar >/dev/null 2>&1 || die 2 "tar is not installed; install it and run the installer again"

# --- helpers ----------------------------------------------------------------
# fetch <file name> <destination>: copy one file of the release directory.
fetch() {
  url="$base/$1"
  if [ -n "$base_is_local" ]; then
    src=${url#file://}
    [ -f "$src" ] || die 3 "download failed: $src does not exist"
    cp "$src" "$2" || die 3 "download failed: cannot copy $src"
    return 0
  fi
  if [ "$downloader" = curl ]; then
    if status=$(curl -sSL --retry 3 --retry-delay 1 --connect-timeout 20 -w '%{http_code}' -o "$2" "$url" 2>"$tmp/fetch.err"); then
      [ "$status" = 200 ] || die 3 "download failed: $url answered HTTP $status"
    else
      die 3 "download failed: cannot fetch $url ($(head -n 1 "$tmp/fetch.err"))"
    fi
  else
    if ! wget -S -q -T 20 -O "$2" "$url" 2>"$tmp/fetch.err"; then
      status=$(sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$tmp/fetch.err" | tail -n 1)
      if [ -n "$status" ]; then
        die 3 "download failed: $url answered HTTP $status"
      fi
      die 3 "download failed: cannot fetch $url ($(grep -v '^ ' "$tmp/fetch.err" | head -n 1))"
    fi
  fi
}

sha256_of() {
  case $hasher in
    sha256sum) sha256sum "$1" | cut -d ' ' -f 1 ;;
    shasum) shasum -a 256 "$1" | cut -d ' ' -f 1 ;;
    openssl) openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1 ;;
  esac
}

# --- download and verify ----------------------------------------------------
tmp=$(mktemp -d 2>/dev/null || mktemp -d -t rr-install) || die 1 "cannot create a temporary directory"
fetch SHA256SUMS "$tmp/SHA256SUMS"

suffix="-$os-$arch.tar.gz"
if [ -n "$version" ]; then
  asset="rr-$version$suffix"
else
  # No version asked for: the release's SHA256SUMS names the archive (and so the version).
  asset=$(awk -v suf="$suffix" '{ sub(/\r$/, ""); f = $2; sub(/^\*/, "", f) }
    index(f, "rr-") == 1 && length(f) > length(suf) && substr(f, length(f) - length(suf) + 1) == suf { print f }' "$tmp/SHA256SUMS")
  case $asset in
    "") die 3 "$base/SHA256SUMS lists no rr archive for $os-$arch" ;;
    *"
"*) die 2 "$base/SHA256SUMS lists several versions for $os-$arch; set RR_INSTALL_VERSION" ;;
  esac
  version=${asset#rr-}
  version=${version%"$suffix"}
fi
expected=$(awk -v f="$asset" '{ sub(/\r$/, ""); n = $2; sub(/^\*/, "", n) } n == f { print $1; exit }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || die 3 "$base/SHA256SUMS lists no $asset: is rr $version released for $os-$arch?"
case $expected in
  *[!0-9a-fA-F]*) die 4 "$base/SHA256SUMS has a malformed checksum for $asset" ;;
esac
[ ${#expected} = 64 ] || die 4 "$base/SHA256SUMS has a malformed checksum for $asset"
expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
# A hash pinned by the caller (e.g. in CI) must agree with the release's SHA256SUMS: a
# changed release or a dishonest mirror is refused before anything is downloaded.
if [ -n "$pinned_sha256" ] && [ "$pinned_sha256" != "$expected" ]; then
  die 4 "$base/SHA256SUMS lists $expected for $asset but RR_INSTALL_SHA256 pins $pinned_sha256; nothing was installed"
fi

say "downloading $base/$asset"
fetch "$asset" "$tmp/$asset"
actual=$(sha256_of "$tmp/$asset")
if [ "$actual" != "$expected" ]; then
  die 4 "checksum mismatch for $asset: expected $expected, got $actual; the download is corrupt or was tampered with, nothing was installed"
fi

mkdir "$tmp/unpacked"
tar -xzf "$tmp/$asset" -C "$tmp/unpacked" rr 2>"$tmp/tar.err" ||
  die 1 "cannot unpack $asset: $(head -n 1 "$tmp/tar.err")"
[ -f "$tmp/unpacked/rr" ] || die 1 "$asset holds no rr binary"
chmod 755 "$tmp/unpacked/rr"

# Run it once before installing (skipped when the platform was overridden: the
# binary may be meant for another machine).
if [ -z "$os_overridden" ] && [ -z "$arch_overridden" ]; then
  if ! reported=$("$tmp/unpacked/rr" --version 2>&1); then
    die 5 "the downloaded rr does not run on this machine ($(printf '%s\n' "$reported" | head -n 1)); on musl-based Linux (Alpine) or old CPUs run rr from source with Bun or Deno (see docs/INSTALL.md)"
  fi
  case "$reported " in
    *"version $version "*) ;;
    *) die 5 "the downloaded rr reports '$(printf '%s\n' "$reported" | head -n 1)', expected version $version" ;;
  esac
fi

# --- install ----------------------------------------------------------------
mkdir -p "$dir" 2>/dev/null || die 1 "cannot create $dir: set RR_INSTALL_DIR to a writable directory"
[ -w "$dir" ] || die 1 "$dir is not writable: run as root, or set RR_INSTALL_DIR to a writable directory"
previous=""
if [ -x "$dir/rr" ]; then
  previous=$("$dir/rr" --version 2>/dev/null | head -n 1 || true)
fi
# Copy next to the target first, then rename: the swap is atomic on one file
# system, so a running or concurrent rr never sees a half-written binary.
stage="$dir/.rr.install.$$"
cp "$tmp/unpacked/rr" "$stage" || die 1 "cannot write to $dir"
chmod 755 "$stage"
mv -f "$stage" "$dir/rr" || die 1 "cannot replace $dir/rr"
stage=""

if [ -n "$previous" ]; then
  say "replaced $previous"
fi
say "installed rr $version ($os-$arch) to $dir/rr"
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "note: $dir is not on your PATH; add it with: export PATH=\"$dir:\$PATH\"" ;;
esac
