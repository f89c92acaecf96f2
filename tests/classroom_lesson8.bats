#!/usr/bin/env bats
# tests/classroom_lesson8.bats — `make demo8` plays to its end by itself
# (tests/classroom.bash's start_lesson): each step's effect shows in its pane,
# the last screen is held until the test ends the session, and nothing is left
# behind.

load helpers
load classroom

@test "make demo8: JSON and text replies, a stream followed by http_get, 403, four Redis clients" {
    start_lesson 8 quiet 300
    wait_pane client '^\{"SET":\[true,"OK"\]\}$'
    wait_pane client '^hello world$'
    lesson_servers 1
    wait_pane client2 '^chunk 2: \{"SUBSCRIBE":\["message","workbook:news","hello, class"\]\}$'
    wait_pane client '^403$'
    # two shared links, the stream's own connection, and the redis-cli asking
    wait_pane client '^connected_clients:4'
    played_to_the_end
    assert_all_cleaned_up
}
