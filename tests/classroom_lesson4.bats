#!/usr/bin/env bats
# tests/classroom_lesson4.bats — `make demo4` plays to its end by itself
# (tests/classroom.bash's start_lesson): USR1 prints stats, HUP reloads the greeting a new client gets, Ctrl-C says goodbye. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo4: USR1 prints stats, HUP reloads the greeting a new client gets, Ctrl-C says goodbye" {
    start_lesson 4 quiet 300
    wait_pane client '^hello from the chapter 4 server$'
    lesson_servers 1
    wait_pane server '^stats: .* SIGUSR1=1$'
    wait_pane server '^reload: greeting "hello from the chapter 4 server" -> "bonjour"$'
    wait_pane client2 '^bonjour$'
    wait_pane_lines client '^server shutting down$' 1
    wait_pane server '^summary: .* SIGINT=1 SIGTERM=0 SIGHUP=1 SIGUSR1=1$'
    played_to_the_end
    assert_all_cleaned_up
}
