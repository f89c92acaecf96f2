#!/usr/bin/env bats
# tests/classroom_lesson9.bats — `make demo9` plays to its end by itself
# (tests/classroom.bash's start_lesson): the handshake in the trace pane, a value through the
# terminator, the host-name check, an old TLS version refused with one log
# line; then nothing is left behind.

load helpers
load classroom

@test "make demo9: TLS through the terminator, a wrong name refused, TLS 1.1 refused, then all cleaned up" {
    start_lesson 9 quiet 300
    wait_pane client '^PONG$'
    lesson_servers 1
    wait_pane trace 'tls +handshake done: TLSv1\.3'
    wait_pane client '^"hello over TLS"$'
    wait_pane client '^tls_client: cannot verify redis\.example: hostname mismatch$'
    wait_pane client2 '^s_client exit 1$'
    wait_pane trace 'TLS handshake failed: unsupported protocol$'
    wait_pane_lines client '^PONG$' 2
    wait_pane server '^summary: clients_now=0 clients_total=5 handshakes_failed=2 upstream_errors=0$'
    played_to_the_end
    assert_all_cleaned_up
}
