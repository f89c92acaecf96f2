#!/usr/bin/env bash
# check-fresh.sh — the README's two commands on a bare Debian, as a new user
# would run them: a minimal Debian root (debootstrap --variant=minbase) with
# only git, make and gcc added, a clone of the current commit, then
#   make test                        must end "0 failed"
#   timeout -s INT 10 make chapter1  must print "listening on 127.0.0.1:8080"
# Everything else must be installed by the workbook itself (scripts/deps.sh).
#
# The minimal root is built once per suite and kept in the cache
# ($XDG_CACHE_HOME or ~/.cache, libevent-workbook/fresh/SUITE); every run works
# on a throw-away copy of it, so what one run installs never hides a missing
# install step from the next. Needs root (debootstrap, chroot, mount) and the
# Debian mirror apt already uses. Only committed work is tested (it clones HEAD).
#
# Usage: SUITE=bookworm|trixie scripts/ci/check-fresh.sh     (make check-fresh)
# Ends with one line: "check-fresh SUITE: passed …" or "check-fresh SUITE: FAILED …";
# exits 0 when passed, 1 when a check failed, 2 when it cannot run here.
set -u
prog=check-fresh
suite=${SUITE:-bookworm}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/libevent-workbook/fresh
base=$cache/$suite

die() { echo "$prog: $*" >&2; exit 2; }
fail() { echo "$prog $suite: FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root: debootstrap, chroot and mount only work as root (try: sudo make check-fresh)"
case $suite in bookworm | trixie) ;; *) die "unknown SUITE '$suite': bookworm or trixie" ;; esac
command -v debootstrap >/dev/null || "$repo/scripts/deps.sh" fresh >&2 || die "cannot install debootstrap"
commit=$(git -C "$repo" rev-parse HEAD) || die "$repo is not a git checkout"
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
    echo "$prog: note: uncommitted changes are not tested (the root gets a clone of HEAD)" >&2

# mirror: the Debian mirror apt already uses here (deb822 or one-line sources)
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ')
mirror=${mirror:-http://deb.debian.org/debian}

# The cached minimal root: minbase plus git, make and gcc, nothing else.
if [ ! -f "$base/.complete" ]; then
    echo "$prog: building a minimal $suite root in $base (once; a few minutes)" >&2
    rm -rf "$base.tmp" && mkdir -p "$cache" || die "cannot write $cache"
    debootstrap --variant=minbase --include=git,make,gcc,ca-certificates "$suite" "$base.tmp" \
        "$mirror" >"$cache/$suite.debootstrap.log" 2>&1 ||
        { tail -n 20 "$cache/$suite.debootstrap.log" >&2; die "debootstrap $suite failed (log: $cache/$suite.debootstrap.log)"; }
    rm -rf "$base.tmp/var/cache/apt/archives/"*.deb
    touch "$base.tmp/.complete" && mv "$base.tmp" "$base"
fi

# A throw-away copy; every mount is undone and every process left in it is
# stopped on the way out, whatever happened.
root=$(mktemp -d "$cache/run-$suite.XXXXXX")
mounts=()
cleanup() {
    local pid m i
    for pid in /proc/[0-9]*; do
        [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && kill -KILL "${pid#/proc/}" 2>/dev/null
    done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        m=${mounts[i]}
        umount -R "$m" 2>/dev/null || umount -lR "$m" 2>/dev/null
    done
    rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp -a "$base/." "$root/" || fail "cannot copy the cached root"
mount_in() { # mount_in TARGET MOUNT-ARGS...: mount, and remember it for cleanup
    local target=$root$1
    shift
    mkdir -p "$target" && mount "$@" "$target" && mounts+=("$target")
}
mount_in /proc -t proc proc || fail "cannot mount /proc"
mount_in /dev --rbind /dev && mount --make-rslave "$root/dev" || fail "cannot bind /dev"
mount_in /dev/shm -t tmpfs -o mode=1777 shm || fail "cannot mount /dev/shm"
# What a real install has: localhost as both 127.0.0.1 and ::1; a resolver.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

git clone -q --no-local "$repo" "$root/root/workbook" && git -C "$root/root/workbook" checkout -q "$commit" ||
    fail "cannot clone $repo"
in_root() { # in_root COMMAND: run a shell command in the root, as root, with a clean environment
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd /root/workbook && $1" </dev/null
}

log=$cache/$suite.last-run.log
start=$SECONDS
in_root 'make test' >"$log" 2>&1
test_status=$?
test_secs=$((SECONDS - start))
summary=$(grep -E '^bats: [0-9]+ passed' "$log" | tail -n 1)
installed=$(sed -n 's/^deps.sh: installing: //p' "$log" | head -n 1 | wc -w)
if [ "$test_status" -ne 0 ] || ! grep -qE '^bats: [0-9]+ passed, 0 failed' <<<"$summary"; then
    grep -E '^not ok|^# ' "$log" | head -n 60
    tail -n 15 "$log"
    fail "make test: ${summary:-no summary line} (exit $test_status; log: $log)"
fi

in_root 'timeout -s INT 10 make chapter1' >"$cache/$suite.chapter1.log" 2>&1
grep -q '^listening on 127.0.0.1:8080$' "$cache/$suite.chapter1.log" ||
    { cat "$cache/$suite.chapter1.log"; fail "make chapter1 did not print 'listening on 127.0.0.1:8080'"; }

echo "$prog $suite: passed: make test: $summary in ${test_secs} s (first run, $installed packages installed by deps.sh); make chapter1: listening on 127.0.0.1:8080"
