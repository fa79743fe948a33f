#!/usr/bin/env bash
# scripts/deps.sh [build|test|bench|format] - install missing Debian packages.
#
# Checks each package the given task needs with dpkg-query and installs the
# missing ones with apt-get when run as root; otherwise prints the exact
# command to run and exits 1. Prints nothing when everything is present.
# docs/DEPENDENCIES.md says why each package is here.
set -euo pipefail

# The package lists: the only place they are written down.
PKGS_BUILD="build-essential cmake pkg-config libxxhash-dev liblz4-dev"
PKGS_TEST="$PKGS_BUILD libcmocka-dev clang python3 python3-redis redis-tools nutcracker"
PKGS_BENCH="$PKGS_BUILD redis-server redis-tools liblmdb-dev librocksdb-dev gnuplot-nox"
PKGS_FORMAT="clang-format"

task=${1:-build}
case $task in
build) want=$PKGS_BUILD ;;
test) want=$PKGS_TEST ;;
bench) want=$PKGS_BENCH ;;
format) want=$PKGS_FORMAT ;;
*)
    echo "usage: $0 [build|test|bench|format]" >&2
    exit 2
    ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: not a Debian system; make sure these are installed: $want" >&2
    exit 0
fi

missing=()
for pkg in $want; do
    st=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $st == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "deps.sh: missing packages for '$task': ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
