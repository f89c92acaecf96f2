#!/usr/bin/env bats
# exercises/1.3/check.bats — predict which chapter 1 test fails when
# on_accept_error stops disabling the listener. The check builds that variant
# of YOUR listener.c in a scratch folder, runs listener.bats against it, and
# compares the tests that really failed with the one named in answer.txt.

load ../../tests/helpers
load ../helpers

setup_file() {
    local src="$WORKBOOK_ROOT/01_listener/listener.c" out="$BATS_FILE_TMPDIR/bin/01_listener"
    mkdir -p "$out"
    grep -q '^    evconnlistener_disable(listener);$' "$src" ||
        { echo "01_listener/listener.c: no 'evconnlistener_disable(listener);' line to take out" >&2; return 1; }
    sed 's/^    evconnlistener_disable(listener);$/    (void)listener; \/* exercise 1.3: no pause *\//' \
        "$src" >"$BATS_FILE_TMPDIR/listener.c"
    # shellcheck disable=SC2046
    cc -std=c11 -O2 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I"$WORKBOOK_ROOT/common" \
        $(pkg-config --cflags libevent) -o "$out/listener" "$BATS_FILE_TMPDIR/listener.c" \
        "$WORKBOOK_ROOT"/common/*.c $(pkg-config --libs libevent)
}

@test "answer.txt names the listener.bats test that fails without the pause" {
    predicted=$(answer failing-test)
    [ "${#predicted}" -ge 6 ] || fail "failing-test: give at least 6 characters of the test's name"
    # the real outcome: chapter 1's tests against the variant, 4 tests at a time
    BATS_TEST_TIMEOUT='' WORKBOOK_BIN="$BATS_FILE_TMPDIR/bin" run bats --tap --jobs 4 \
        "$WORKBOOK_ROOT/01_listener/listener.bats"
    failed=$(sed -n 's/^not ok [0-9]* //p' <<<"$output" | tr '[:upper:]' '[:lower:]')
    passed=$(sed -n 's/^ok [0-9]* //p' <<<"$output" | tr '[:upper:]' '[:lower:]')
    [ -n "$failed" ] || fail "every test passed against the variant: nothing to compare with"
    echo "# failed without the pause: $failed" >&3
    grep -qF -- "$predicted" <<<"$failed" ||
        fail "you predicted '$predicted'; the tests that failed: $failed"
    ! grep -qF -- "$predicted" <<<"$passed" ||
        fail "'$predicted' also names a test that passed; give more of the name"
}
