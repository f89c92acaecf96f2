#!/usr/bin/env bats
# exercises/1.2/check.bats — a line "UPPER text" comes back as "TEXT"; every
# other line comes back as it was; a line that arrives in two reads too.

load ../../tests/helpers
load ../helpers

GREETING="hello from the chapter 1 listener: type a line and it comes back"

setup() {
    start_server listener "$(bin 01_listener/listener)" --port 0
}

@test "nc: 'UPPER hello world' comes back as 'HELLO WORLD', other lines unchanged" {
    run nc -N 127.0.0.1 "$PORT" < <(printf 'UPPER hello world\nplain line\nUPPER again\n')
    assert_success
    assert_equal "$output" "$(printf '%s\r\nHELLO WORLD\nplain line\nAGAIN' "$GREETING")"
}

@test "the line arrives in two reads ('UPP', then 'ER split me'): still one command" {
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/split_client.py" "$PORT" "UPP" $'ER split me\n'
    assert_success
    assert_output "b'SPLIT ME\\n'"
}

@test "telnet (CR LF line ends): 'UPPER from telnet' comes back upper-cased" {
    run telnet_expect "$PORT" '
want {type a line and it comes back}
send "UPPER from telnet\r"
want {FROM TELNET\r\n}
send "as typed\r"
want {as typed\r\nas typed\r\n}
'
    assert_success
}

@test "a last line without its newline still comes back when the client closes" {
    run nc -N 127.0.0.1 "$PORT" < <(printf 'UPPER tail')
    assert_success
    assert_equal "$output" "$(printf '%s\r\nTAIL' "$GREETING")"
}
