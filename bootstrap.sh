#!/usr/bin/env bash
# bootstrap.sh — the README's two commands on a fresh Debian 12 machine.
#
#   ./bootstrap.sh serve [httpmodes options]   install what is missing, build, start the server
#   ./bootstrap.sh test                        install what is missing, build, run every test
#                                              (unit, end-to-end in all four modes, conformance,
#                                              browser), then again under ASan + UBSan
#   ./bootstrap.sh build                       install what is missing and build only
#   ./bootstrap.sh lab [compare options]       install what is missing (with wrk and gnuplot),
#                                              build, and run the load-test lab:
#                                              loadtest/compare --bin build/server/httpmodes ...
#                                              (e.g. ./bootstrap.sh lab --quick)
#
# Packages come from Debian by name with apt-get (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# What the build needs, and what the tests drive (real clients and a browser).
BUILD_PKGS=(gcc make cmake pkg-config libc6-dev libssl-dev libev-dev libpq-dev)
# ...and the clients the README's examples use with a running server
CLIENT_PKGS=(curl wrk)
TEST_PKGS=("${CLIENT_PKGS[@]}" libcmocka-dev python3 chromium util-linux procps clang libclang-rt-14-dev
    gnuplot-nox iproute2 openssl nginx-light libnginx-mod-http-echo apache2-bin
    postgresql valgrind)
# ...and what the load-test lab (loadtest/compare) runs: wrk, gnuplot for the
# charts, python3 for the driver, iproute2 (ss) and procps for what it samples,
# and the peers of `compare --peers` (nginx with its echo module; Apache's
# binary and modules only — apache2-bin, not apache2, which adds a system
# service on port 80 — the lab starts its own on loopback), and valgrind for
# loadtest/instructions
LAB_PKGS=(wrk gnuplot-nox python3 iproute2 procps nginx-light libnginx-mod-http-echo apache2-bin
    valgrind)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_packages() {
    local want=("$@") missing=() p
    # llhttp: a system library where the distribution has one, else the C
    # sources Debian 12 ships in node-llhttp (built by CMakeLists.txt).
    if ! installed libllhttp-dev && ! installed node-llhttp; then
        if apt-cache show libllhttp-dev >/dev/null 2>&1; then want+=(libllhttp-dev); else want+=(node-llhttp); fi
    fi
    for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
        # llhttp may only now be resolvable (apt lists were empty before the update)
        if ! installed libllhttp-dev && ! installed node-llhttp; then
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends node-llhttp
        fi
    fi
}

build() { # build DIR [cmake options]
    local dir=$1
    shift
    say "building in $dir"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)"
}

cmd=${1:-serve}
[ $# -gt 0 ] && shift
case "$cmd" in
serve)
    ensure_packages "${BUILD_PKGS[@]}" "${CLIENT_PKGS[@]}"
    build build -DHTTPMODES_TESTS=OFF
    say "starting httpmodes (Ctrl-C stops it)"
    exec ./build/server/httpmodes "$@"
    ;;
build)
    ensure_packages "${BUILD_PKGS[@]}"
    build build -DHTTPMODES_TESTS=OFF
    ;;
test)
    ensure_packages "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
    build build -DHTTPMODES_TESTS=ON
    say "tests: release build"
    (cd build && ctest -j 2 --output-on-failure --timeout 600)
    build build-asan -DHTTPMODES_TESTS=ON -DHTTPMODES_SANITIZE=ON
    say "tests: AddressSanitizer + UndefinedBehaviorSanitizer build"
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest -j 2 --output-on-failure --timeout 900)
    say "all tests passed"
    ;;
lab)
    ensure_packages "${BUILD_PKGS[@]}" "${LAB_PKGS[@]}"
    build build -DHTTPMODES_TESTS=OFF
    say "load-test lab: loadtest/compare $*"
    exec loadtest/compare --bin build/server/httpmodes "$@"
    ;;
*)
    echo "usage: $0 serve [httpmodes options] | test | build | lab [compare options]" >&2
    exit 2
    ;;
esac
