#!/usr/bin/env bash
# errata.sh — the compiler's own words about the notes' two programs, and the
# diffs between them and their fixed versions, for docs/errata.md.
#
#   scripts/docs/errata.sh compile   compile the untouched originals (docs/notes/*.orig.c)
#                               the way the notes do, then again after each layer of
#                               fixes, and print every message the compiler gives
#   scripts/docs/errata.sh diff      diff -u original -> fixed, for both programs
#   scripts/docs/errata.sh update    rewrite the diff blocks in docs/errata.md from `diff`
#
# The compiler runs with LC_ALL=C (plain ASCII quotes, English messages) and no
# colours, so what it prints can be compared with the quotes in the docs.
set -u
cd "$(dirname "$0")/../.." || exit 1
export LC_ALL=C
CC=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# compile TITLE FILE [EXTRA_FLAGS...]: compile FILE (a .c in $work) as the notes
# do, print the command and everything the compiler says, and its verdict
compile() {
    local title=$1 file=$2
    shift 2
    echo "== $title"
    echo "\$ gcc${*:+ $*} $file -o ${file%.c} -levent"
    (cd "$work" && "$CC" -fdiagnostics-color=never "$@" "$file" -o "${file%.c}" -levent 2>&1)
    local status=$?
    if [ "$status" -eq 0 ]; then echo "-> compiled"; else echo "-> failed (exit $status)"; fi
    echo
}

# stage FILE SED_SCRIPT: a copy of the original with some fixes applied by sed
stage() { sed -e "$2" "docs/notes/$1.orig.c" >"$work/$1.c"; }

compile_all() {
    echo "compiler: $("$CC" --version | head -n 1)"
    echo "libevent: $(pkg-config --modversion libevent 2>/dev/null || echo '?')"
    echo

    stage ev_listenfd ''
    compile "1. ev_listenfd.c as in the notes" ev_listenfd.c
    stage ev_listenfd 's/struct sockadr_in/struct sockaddr_in/'
    compile "2. ev_listenfd.c, 'sockadr_in' spelt right; GCC 14 makes implicit declarations errors" \
        ev_listenfd.c -Werror=implicit-function-declaration
    stage ev_listenfd 's/struct sockadr_in/struct sockaddr_in/; s|^#include <event.h>$|#include <event.h>\n#include <event2/listener.h>|'
    compile "3. ev_listenfd.c, spelling fixed and <event2/listener.h> added" ev_listenfd.c

    stage ev_connectfd ''
    compile "4. ev_connectfd.c as in the notes" ev_connectfd.c
    stage ev_connectfd 's/struct sockad  dr_in/struct sockaddr_in/'
    compile "5. ev_connectfd.c, 'sockad  dr_in' spelt right" ev_connectfd.c
    compile "6. the same with GCC 14's default (implicit declarations are errors)" \
        ev_connectfd.c -Werror=implicit-function-declaration

    cp 01_listener/ev_listenfd.c 02_redis_client/ev_connectfd.c "$work/"
    compile "7. the fixed 01_listener/ev_listenfd.c, with the workbook's warnings" \
        ev_listenfd.c -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wno-unused-parameter -Werror
    compile "8. the fixed 02_redis_client/ev_connectfd.c, with the workbook's warnings" \
        ev_connectfd.c -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror
}

# diff_one NAME CHAPTER_DIR: diff -u original -> fixed, without timestamps
diff_one() {
    diff -u --label "docs/notes/$1.orig.c" --label "$2/$1.c" "docs/notes/$1.orig.c" "$2/$1.c"
    [ $? -le 1 ] # 1 = the files differ, as they should; 2 = trouble
}

diff_all() {
    diff_one ev_listenfd 01_listener
    diff_one ev_connectfd 02_redis_client
}

# update: replace the fenced block after each "<!-- diff: NAME -->" in
# docs/errata.md with the current diff
update() {
    diff_one ev_listenfd 01_listener >"$work/ev_listenfd.diff"
    diff_one ev_connectfd 02_redis_client >"$work/ev_connectfd.diff"
    /usr/bin/python3 - "$work" docs/errata.md <<'PY'
import re, sys
work, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
def repl(m):
    body = open(f"{work}/{m.group(2)}.diff", encoding="utf-8").read()
    return f"{m.group(1)}```diff\n{body}```"
new = re.sub(r"(<!-- diff: (\w+) -->\n)```diff\n.*?```", repl, text, flags=re.S)
open(path, "w", encoding="utf-8").write(new)
PY
    echo "errata.sh: diffs in docs/errata.md updated"
}

case ${1-} in
    compile) compile_all ;;
    diff) diff_all ;;
    update) update ;;
    *) echo "usage: $0 compile | diff | update" >&2; exit 2 ;;
esac
