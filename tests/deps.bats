#!/usr/bin/env bats
# tests/deps.bats — scripts/deps.sh installs everything the workbook runs.
# A bare Debian has only its "required" packages (plus git, make and gcc,
# which a student needs to clone and build at all); every other command that
# the Makefile, scripts and tests call must come from a package deps.sh
# installs. `make check-fresh` proves it for real on a minimal root; this test
# catches a new command the moment it is written, on any machine.

load helpers

# deps_closure: the packages deps.sh names, and what they depend on (three
# levels: gcc -> gcc-12 -> binutils-x86-64-linux-gnu, pkg-config -> pkgconf
# -> pkgconf-bin); a named package not installed here just adds nothing
deps_closure() {
    local pkgs
    pkgs=$("$WORKBOOK_ROOT/scripts/deps.sh" --packages)
    for _ in 1 2 3; do   # three levels of Depends
        # shellcheck disable=SC2046  # lists of package names, split on purpose
        pkgs=$(printf '%s\n' "$pkgs" \
            $(dpkg-query -W -f='${Depends}\n' $pkgs 2>/dev/null | tr ',|' '\n\n' |
                sed -E 's/\(.*\)//; s/:any//; s/^ *//; s/ *$//') | sort -u)
    done
    printf '%s\n' "$pkgs"
}

@test "every command our scripts and tests run is installed by deps.sh or in a minimal Debian" {
    run "$WORKBOOK_ROOT/scripts/ci/commands-used.sh"
    assert_success
    used=$output
    # the scan found the commands we know we use: it is not silently empty
    for cmd in redis-server redis-cli nc expect bats ss; do
        grep -q "^$cmd " <<<"$used" || fail "commands-used.sh did not find $cmd"
    done
    closure=$(deps_closure)
    # the packages of a minimal Debian (priority required), asked in one go
    # shellcheck disable=SC2046  # package names, split on purpose
    required=$(dpkg-query -W -f='${Package} ${Priority}\n' $(awk '$2 != "?" { print $2 }' <<<"$used" | sort -u) |
        awk '$2 == "required" { print $1 }')
    missing=()
    while read -r cmd pkg; do
        [ "$pkg" = "?" ] && { missing+=("$cmd (no Debian package owns it here)"); continue; }
        grep -qx -- "$pkg" <<<"$required" && continue
        case $pkg in git | make) continue ;; esac # the fresh machine's own
        grep -qx -- "$pkg" <<<"$closure" && continue
        missing+=("$cmd ($pkg)")
    done <<<"$used"
    [ ${#missing[@]} -eq 0 ] || fail "not installed by scripts/deps.sh: ${missing[*]}"
}

@test "deps.sh --packages lists the packages a bare Debian lacks for the suite" {
    run "$WORKBOOK_ROOT/scripts/deps.sh" --packages
    assert_success
    for pkg in procps iproute2 parallel python3-redis redis-server bats-assert expect telnet; do
        assert_line "$pkg"
    done
}
