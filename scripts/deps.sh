#!/usr/bin/env bash
# deps.sh — make sure everything the workbook needs to build and test is installed.
#
# Run by `make deps` and before every build and test target. When all is present it
# prints nothing and takes a few milliseconds. When something is missing it installs
# it with apt-get on Debian/Ubuntu (as root, or through `sudo -n`); anywhere else it
# prints the install commands and exits 1.
#
# Usage: scripts/deps.sh [extra ...]
#        scripts/deps.sh --packages   (list every package it knows, install nothing)
#   extra: optional groups some targets need on top of the base set:
#          bench (twemproxy, stunnel4, wrk, nginx), plot (gnuplot), memcheck (valgrind),
#          tsan and fuzz (clang), lint (clang-format, clang-tidy, cppcheck, shellcheck,
#          pyflakes3), fresh (debootstrap),
#          docs (pandoc, Pygments, chromium and a Chinese font: make docs, docs-check)
set -u

prog=deps.sh
missing_pkgs=()   # Debian package names
missing_brew=()   # Homebrew formula names
missing_what=()   # what we looked for, for the message

# need WHAT DEBIAN_PKG BREW_FORMULA CHECK_COMMAND...
need() {
    local what=$1 deb=$2 brew=$3
    shift 3
    if ! "$@" >/dev/null 2>&1; then
        missing_what+=("$what")
        missing_pkgs+=("$deb")
        [ -n "$brew" ] && missing_brew+=("$brew")
    fi
}

# A bats helper library is found where `bats_load_library` looks for it.
have_bats_lib() {
    local dir
    IFS=: read -ra dirs <<<"${BATS_LIB_PATH:-/usr/lib/bats}"
    for dir in "${dirs[@]}"; do
        [ -f "$dir/$1/load.bash" ] && return 0
    done
    return 1
}

# The tests run Debian's python3 (/usr/bin/python3, where python3-redis lives),
# not whatever python3 comes first on PATH (pyenv, a virtualenv).
have_python_redis() { /usr/bin/python3 -c 'import redis'; }

# gcc alone (installed without its Recommends) cannot compile: the C library's
# headers come in libc6-dev.
have_libc_headers() { printf '#include <getopt.h>\n' | cc -E -x c - >/dev/null; }

# bats --jobs runs GNU parallel (moreutils ships another `parallel`).
have_gnu_parallel() { parallel --version 2>/dev/null | grep -q 'GNU parallel'; }

# OpenBSD netcat is the one with -N (shut down the socket after stdin ends).
# The docs site: Pygments for Debian's python3, and a font with Chinese glyphs for
# the zh pages' screenshots.
have_pygments() { /usr/bin/python3 -c 'import pygments'; }
have_cjk_font() { [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; }

have_openbsd_nc() { command -v nc && nc -h 2>&1 | grep -q 'OpenBSD netcat'; }

check_base() {
    need "a C compiler (cc)"  gcc            ""             command -v cc
    need "C library headers (libc6-dev)" libc6-dev "" have_libc_headers
    need "make"               make           make           command -v make
    need "pkg-config"         pkg-config     pkg-config     command -v pkg-config
    need "libevent (pkg-config libevent)" libevent-dev libevent pkg-config --exists libevent
    need "hiredis (pkg-config hiredis)"   libhiredis-dev hiredis pkg-config --exists hiredis
    need "redis-server"       redis-server   redis          command -v redis-server
    need "redis-cli"          redis-tools    ""             command -v redis-cli
    need "bats"               bats           bats-core      command -v bats
    need "bats-support"       bats-support   ""             have_bats_lib bats-support
    need "bats-assert"        bats-assert    ""             have_bats_lib bats-assert
    need "nc (netcat-openbsd)" netcat-openbsd netcat        have_openbsd_nc
    need "telnet"             telnet         telnet         command -v telnet
    need "expect"             expect         expect         command -v expect
    need "ps, pkill (procps)" procps         ""             command -v pkill
    need "ss (iproute2)"      iproute2       ""             command -v ss
    need "GNU parallel"       parallel       parallel       have_gnu_parallel
    need "graphviz (dot)"     graphviz       graphviz       command -v dot
    need "python3-redis"      python3-redis  ""             have_python_redis
    need "tmux (make demoN)"  tmux           tmux           command -v tmux
    need "strace (make strace-chapterN)" strace "" command -v strace
    need "openssl (make certs, chapter 9's tests)" openssl openssl command -v openssl
    need "OpenSSL headers (pkg-config openssl)" libssl-dev openssl pkg-config --exists openssl libevent_openssl
    need "dig (bind9-dnsutils)" bind9-dnsutils bind       command -v dig
    need "dnsmasq"            dnsmasq        dnsmasq        command -v dnsmasq
    need "pv (chapter 12: nc | pv -r shows a rate)" pv pv command -v pv
    need "curl (chapter 8)"   curl           curl           command -v curl
    need "webdis (chapter 8's reference)" webdis "" command -v webdis
}

check_extra() {
    case $1 in
        bench) need "twemproxy (nutcracker)" nutcracker twemproxy command -v nutcracker
               need "redis-benchmark" redis-tools "" command -v redis-benchmark
               need "stunnel4 (bench-chapter9)" stunnel4 stunnel command -v stunnel4
               need "wrk (bench-chapter8)" wrk wrk command -v wrk
               need "nginx (bench-chapter8)" nginx nginx command -v nginx ;;
        plot)  need "gnuplot" gnuplot-nox gnuplot command -v gnuplot ;;
        fresh) need "debootstrap" debootstrap "" command -v debootstrap ;;
        memcheck) need "valgrind" valgrind valgrind command -v valgrind ;;
        # one compiler for both: libFuzzer (make fuzz) and ThreadSanitizer (make tsan-test)
        fuzz | tsan) need "clang (make fuzz, make tsan-test)" clang llvm command -v clang ;;
        lint)  need "clang-format" clang-format clang-format command -v clang-format
               need "clang-tidy" clang-tidy llvm command -v clang-tidy
               need "cppcheck" cppcheck cppcheck command -v cppcheck
               need "shellcheck" shellcheck shellcheck command -v shellcheck
               need "pyflakes3" pyflakes3 "" command -v pyflakes3 ;;
        docs)  need "pandoc" pandoc pandoc command -v pandoc
               need "Pygments (python3-pygments)" python3-pygments "" have_pygments
               need "chromium" chromium "" command -v chromium
               need "a Chinese font (fonts-wqy-microhei)" fonts-wqy-microhei "" have_cjk_font ;;
        *) echo "$prog: unknown group '$1' (known: bench, plot, memcheck, tsan, lint, fresh, docs, fuzz)" >&2; exit 2 ;;
    esac
}

check_all() {
    missing_pkgs=(); missing_brew=(); missing_what=()
    check_base
    local extra
    for extra in "$@"; do check_extra "$extra"; done
}

print_manual_help() {
    local uniq_pkgs
    uniq_pkgs=$(printf '%s\n' "${missing_pkgs[@]}" | sort -u | tr '\n' ' ')
    {
        echo "$prog: missing: $(IFS=,; echo "${missing_what[*]}" | sed 's/,/, /g')"
        echo "$prog: install them, then run make again:"
        echo "  Debian/Ubuntu: sudo apt-get install -y $uniq_pkgs"
        if [ ${#missing_brew[@]} -gt 0 ]; then
            echo "  Homebrew:      brew install $(printf '%s\n' "${missing_brew[@]}" | sort -u | tr '\n' ' ')"
        fi
        echo "  (bats-support and bats-assert: clone them into a folder on BATS_LIB_PATH)"
    } >&2
}

# --packages: every Debian package this script knows, base and all groups,
# one per line (tests/deps.bats checks our scripts need nothing else).
if [ "${1-}" = --packages ]; then
    need() { echo "$2"; }
    { check_base; for extra in bench plot memcheck tsan fuzz lint fresh docs; do check_extra "$extra"; done; } | sort -u
    exit 0
fi

check_all "$@"
[ ${#missing_pkgs[@]} -eq 0 ] && exit 0

# Something is missing: install it if this is Debian/Ubuntu and we have the rights.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        print_manual_help
        echo "$prog: not root and no password-less sudo: cannot install by myself" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    print_manual_help
    echo "$prog: this is not a Debian/Ubuntu system (no apt-get)" >&2
    exit 1
fi

pkgs=$(printf '%s\n' "${missing_pkgs[@]}" | sort -u | tr '\n' ' ')
echo "$prog: installing: $pkgs"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq >/dev/null ||
    echo "$prog: apt-get update failed; trying the install anyway" >&2
# shellcheck disable=SC2086  # word splitting of the package list is wanted
if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends $pkgs >/dev/null; then
    echo "$prog: apt-get install failed" >&2
    print_manual_help
    exit 1
fi

check_all "$@"
if [ ${#missing_pkgs[@]} -ne 0 ]; then
    print_manual_help
    echo "$prog: still missing after installing" >&2
    exit 1
fi
echo "$prog: done"
