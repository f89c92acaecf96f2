#!/usr/bin/env bats
# tests/zh-sync.bats — the Chinese edition (docs/zh/) stays in step with the English pages:
# scripts/docs/zh-sync.py fails, naming the page and the section, when an English section changed
# after it was translated, when a heading is in one edition only, when a code block, marker,
# image or link differs; it passes on the repository as it is.

load helpers

SYNC=(/usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/zh-sync.py")

# A scratch copy of the repository's pages (chapter folders linked, for the links), plus a
# small page of our own and its translation, stamped.
setup() {
    R="$BATS_TEST_TMPDIR/repo"
    mkdir -p "$R"
    cp -r "$WORKBOOK_ROOT/README.md" "$WORKBOOK_ROOT/docs" "$R/"
    for f in "$WORKBOOK_ROOT"/*; do
        [ -e "$R/$(basename "$f")" ] || ln -s "$f" "$R/$(basename "$f")"
    done
    cat >"$R/docs/98-sample.md" <<'EOF'
# Chapter 98 — a sample

Source: [`01_listener/listener.c`](../01_listener/listener.c)

## What and why

A listener waits for connections.

![the loop](img/01-loop.svg)

## Run it

```sh
make chapter1
```

<!-- transcript: sample -->
```
listening on 127.0.0.1:8080
```

### Options

`--port 0` picks a free port. See [Run it](#run-it).
EOF
    cat >"$R/docs/zh/98-sample.md" <<'EOF'
# 第 98 章：示例

源码：[`01_listener/listener.c`](../../01_listener/listener.c)

## 是什么，为什么

监听器（listener）等待连接。

![事件循环](../img/01-loop.svg)

## 运行

```sh
make chapter1
```

<!-- transcript: sample -->
```
listening on 127.0.0.1:8080
```

### 选项

`--port 0` 让内核挑一个空闲端口。见[运行](#运行)。
EOF
    "${SYNC[@]}" --root "$R" --update-hashes 98-sample.md >/dev/null
}

sync_check() { run "${SYNC[@]}" --root "$R"; }

@test "the repository's Chinese edition is in step with the English pages" {
    run "${SYNC[@]}"
    assert_success
    assert_output ''
    run "${SYNC[@]}" --status
    assert_success
    assert_line --regexp '^zh-sync: 0 problem\(s\): the Chinese edition is in step$'
}

@test "an unmodified scratch copy passes; every zh section carries its stamp" {
    sync_check
    assert_success
    run grep -c '^<!-- en: [0-9a-f]\{12\} -->$' "$R/docs/zh/98-sample.md"
    assert_output 4
}

@test "an English section edited after translation fails, naming the page and the section" {
    sed -i 's/A listener waits for connections./A listener waits for new connections./' "$R/docs/98-sample.md"
    sync_check
    assert_failure
    assert_line --regexp '^zh-sync: 98-sample\.md: section "What and why" changed in English \(stamp [0-9a-f]{12}, now [0-9a-f]{12}\), update docs/zh/98-sample\.md$'
    # only that section
    assert_equal "$(grep -c 'changed in English' <<<"$output")" 1
}

@test "rewrapping an English paragraph is not a change" {
    sed -i 's/A listener waits for connections./A listener waits\nfor   connections./' "$R/docs/98-sample.md"
    sync_check
    assert_success
}

@test "--status lists the stale section and exits 0; --update-hashes --section stamps it" {
    sed -i 's/picks a free port/lets the kernel pick a free port/' "$R/docs/98-sample.md"
    run "${SYNC[@]}" --root "$R" --status
    assert_success
    assert_line --regexp '^zh-sync: 98-sample\.md: section "Options" changed in English'
    assert_line 'zh-sync: to see what changed in English: scripts/docs/zh-sync.py --diff 98-sample.md'
    assert_line 'zh-sync: 1 problem(s)'
    run "${SYNC[@]}" --root "$R" --update-hashes 98-sample.md --section Options
    assert_success
    assert_output 'zh-sync: docs/zh/98-sample.md: stamped 1 section(s): "Options"'
    sync_check
    assert_success
}

@test "a heading added only in English fails, naming it" {
    printf '\n## Exercises\n\n1. Count the connections.\n' >>"$R/docs/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'zh-sync: 98-sample.md: section "Exercises" (##) is in English only: translate it into docs/zh/98-sample.md at the same place'
    # stamping refuses while the headings differ
    run "${SYNC[@]}" --root "$R" --update-hashes 98-sample.md
    assert_failure
    assert_output --partial 'headings differ, nothing stamped'
}

@test "a heading in a middle section, added only in English, is named too" {
    sed -i 's/^## Run it$/## Build it\n\nmake.\n\n## Run it/' "$R/docs/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'section "Build it" (##) is in English only'
    refute_output --partial '"Run it" (##) is in English only'
}

@test "a code block that differs by one byte fails, naming the section" {
    sed -i 's/^make chapter1$/make chapter1 /' "$R/docs/zh/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'zh-sync: 98-sample.md: section "Run it": its code blocks differ from English'
}

@test "inline code changed in the translation fails, naming the section and the span" {
    sed -i 's/`--port 0` 让内核/`--port 零` 让内核/' "$R/docs/zh/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'zh-sync: 98-sample.md: section "Options": inline code of the English is missing from the translation (it must appear unchanged): `--port 0`'
}

@test "a transcript marker missing from the translation fails" {
    sed -i '/transcript: sample/d' "$R/docs/zh/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'section "Run it": its <!-- … --> markers differ from English'
}

@test "a different image, or a link that does not resolve from docs/zh/, fails" {
    sed -i 's#../img/01-loop.svg#../img/05-watermarks.svg#' "$R/docs/zh/98-sample.md"
    sed -i 's#(../../01_listener/listener.c)#(../01_listener/listener.c)#' "$R/docs/zh/98-sample.md"
    sed -i 's/(#运行)/(#run-it)/' "$R/docs/zh/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'section "What and why": its images differ from English'
    assert_output --partial 'link ../01_listener/listener.c points at nothing from docs/zh/'
    assert_output --partial 'link #run-it: no heading or <a id> with that anchor on the page'
}

@test "a link to an answer's <a id> anchor resolves; one to an id no page has fails" {
    grep -q '<a id="ex-0-1"></a>' "$R/docs/answers.md"
    echo '答案见 [0.1](../answers.md#ex-0-1)。' >>"$R/docs/zh/98-sample.md"
    sync_check
    assert_success
    echo '还有 [9.9](../answers.md#ex-9-9)。' >>"$R/docs/zh/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'link ../answers.md#ex-9-9: no heading or <a id> with that anchor'
    refute_output --partial 'ex-0-1'
}

@test "a missing translation of a chapter page fails, unless listed as pending" {
    rm "$R/docs/zh/98-sample.md"
    sync_check
    assert_failure
    assert_output --partial 'zh-sync: 98-sample.md: no translation: create docs/zh/98-sample.md (translate docs/98-sample.md)'
    echo 98-sample.md >>"$R/docs/zh/pending.txt"
    sync_check
    assert_success
    assert_output --partial 'note: 98-sample.md: not translated yet'
}

@test "a real page: an English section edited in a scratch copy fails, naming page and section" {
    sed -i 's/^Port 8080 taken?/Is port 8080 taken?/' "$R/docs/01-listener.md"
    run grep -c '^Is port 8080 taken?' "$R/docs/01-listener.md"
    assert_output 1
    sync_check
    assert_failure
    assert_line --regexp '^zh-sync: 01-listener\.md: section "Run it" changed in English \(stamp [0-9a-f]{12}, now [0-9a-f]{12}\), update docs/zh/01-listener\.md$'
}

@test "--diff shows what changed in English since a section was translated, and a new section whole" {
    git -C "$R" init -q
    git -C "$R" add README.md docs
    git -C "$R" -c user.name=t -c user.email=t@example.invalid commit -qm base
    sed -i 's/A listener waits for connections./A listener waits for new connections./' "$R/docs/98-sample.md"
    printf '\n## Exercises\n\n1. Count the connections.\n' >>"$R/docs/98-sample.md"
    run "${SYNC[@]}" --root "$R" --diff 98-sample.md
    assert_success
    assert_line --regexp '^=== 98-sample\.md: section "What and why" changed in English since it was translated \(stamp [0-9a-f]{12}\):$'
    assert_line -- '-A listener waits for connections.'
    assert_line -- '+A listener waits for new connections.'
    assert_line '=== 98-sample.md: section "Exercises" is new in English (or its old text is not in git history):'
    assert_line '1. Count the connections.'
    # --status names both, the changed one and the one in English only
    run "${SYNC[@]}" --root "$R" --status
    assert_line --partial 'section "What and why" changed in English'
    assert_line --partial 'section "Exercises" (##) is in English only'
}
