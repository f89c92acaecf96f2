# shellcheck shell=bash disable=SC2034,SC2154  # loaded by bats: reads its $status/$output, sets variables for the tests
# tests/servers.bash — every server of the workbook, listed once (loaded by
# tests/bad_input.bash for the tests/bad_input*.bats files; `load servers`). A
# new server is one line here; the bad-input suite then insists on a test of
# each behaviour for it.
#
# Each line: NAME  PROBE  PROGRAM [ARGS...]   (the suite adds --port 0)
#   PROBE says how a normal request looks:
#     echo    send a line, the same line comes back (after any greeting)
#     silent  the server answers nothing; it logs "read: callback N: input LEN bytes"
#     redis   PING gets +PONG (REDIS_PORT in ARGS is the file's private Redis)
#     ping    a line PING gets the line PONG (chapter 11's offload)
WORKBOOK_SERVERS='
listener         echo    01_listener/listener
idle_server      echo    03_timers/idle_server --idle 60000
signals          echo    04_signals/signals
signals_raw      echo    04_signals/signals_raw
read_watermarks  silent  05_bufferevent_watermarks/read_watermarks
relay            redis   06_redis_relay/relay --redis-port REDIS_PORT
threaded_echo    echo    11_threads/threaded_echo --threads 2
reuseport_echo   echo    11_threads/reuseport_echo --threads 2
offload          ping    11_threads/offload --threads 2
'

# server_names: every NAME, one per line
server_names() { awk 'NF { print $1 }' <<<"$WORKBOOK_SERVERS"; }

# server_entry NAME: sets SERVER_PROBE and TARGET (the command line, with the
# binary found through bin and REDIS_PORT filled in, plus --port 0)
server_entry() {
    local line word
    line=$(awk -v n="$1" '$1 == n' <<<"$WORKBOOK_SERVERS")
    [ -n "$line" ] || { echo "no server '$1' in tests/servers.bash" >&2; return 1; }
    read -r _ SERVER_PROBE line <<<"$line"
    TARGET=()
    for word in $line; do
        [ "$word" = REDIS_PORT ] && word=${REDIS_PORT:?start_redis first}
        TARGET+=("$word")
    done
    TARGET[0]=$(bin "${TARGET[0]}")
    TARGET+=(--port 0)
}
