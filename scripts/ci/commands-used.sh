#!/usr/bin/env bash
# commands-used.sh — the external commands the workbook's own shell code runs
# (Makefile and chapter.mk recipes, scripts/, tests/, every chapter's .bats),
# one per line as "COMMAND PACKAGE", PACKAGE being the Debian package that
# installed it here. tests/harness.bats checks every one is either part of a
# minimal Debian (priority "required") or installed by scripts/deps.sh, so a
# new command in a test cannot land without its install step.
#
# It reads the files as text and takes the first word of every simple command
# (start of line, after | ; & && || ( $( and after run/exec/timeout N/time/!/
# then/do/else; not NAME=value, an assignment, nor NAME(, a call), keeping those that resolve to a file on PATH: builtins,
# keywords and our own shell functions drop out by themselves. It may see
# more than is run (a word in a string); it does not miss a command written
# in the usual way.
set -u
cd "$(dirname "$0")/../.." || exit 1

files=(Makefile scripts/*.sh scripts/*/*.sh tests/*.bash tests/*.bats [0-9][0-9]_*/*.bats
    [0-9][0-9]_*/chapter.mk)
for f in docs/*.mk; do [ -f "$f" ] && files+=("$f"); done

# shell functions the files define: not commands, even if a file of the same
# name exists somewhere on PATH
declare -A defined
for name in $(grep -hoE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_-]*\(\)' "${files[@]}" | tr -d ' \t()'); do
    defined[$name]=1
done

# Resolve against the system's own PATH, not a user's (pyenv shims, ~/bin).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

words=()
paths=()
while read -r word; do
    [ -n "${defined[$word]-}" ] && continue
    [ "$(type -t "$word")" = file ] || continue
    words+=("$word")
    paths+=("$(command -v "$word")")
done < <(grep -hvE '^[[:space:]]*(#|@test )' "${files[@]}" |
    sed -E 's/^\t@?-?//' |
    grep -oE '(^|[;&|(`]|\$\(|\b(run|exec|then|do|else|time|timeout( -s [A-Z]+)? [0-9.]+[sm]?|xargs|!))[[:space:]]*[a-z][a-z0-9._+-]*([^=(a-z0-9._+-]|$)' |
    sed -E 's/[^a-z0-9._+-]$//' | grep -oE '[a-z][a-z0-9._+-]*$' | sort -u)

# the real files (through /etc/alternatives), as /usr/bin/x and /bin/x: dpkg
# knows a file by the path its package shipped; dpkg's file lists,
# /var/lib/dpkg/info/PKG[:ARCH].list, say which package owns what
paste -d ' ' <(printf '%s\n' "${words[@]}") <(readlink -f "${paths[@]}") |
    awk 'NR == FNR { owner[$2] = $1; next }
         { short = $2; sub(/^\/usr/, "", short)
           pkg = ($2 in owner) ? owner[$2] : ((short in owner) ? owner[short] : "?"); print $1, pkg }' \
        <(awk '{ pkg = FILENAME; sub(/.*\//, "", pkg); sub(/(:[^:]*)?\.list$/, "", pkg); print pkg, $0 }' \
            /var/lib/dpkg/info/*.list) -
