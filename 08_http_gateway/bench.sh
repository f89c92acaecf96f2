#!/usr/bin/env bash
# 08_http_gateway/bench.sh — `make bench-chapter8`: wrk against the gateway and
# webdis 0.1.9 (one thread, so both use one core) on one private Redis, then
# static files from the gateway's --docs against nginx (one worker, sendfile on,
# access log off). One run, targets side by side, each scenario ROUNDS times
# taking turns; the table shows medians with the rounds' range, the ratio, and
# each server's CPU time per request (user + system from /proc, all its threads;
# median of the rounds). webdis runs one worker thread, the gateway one loop:
# one core each, so requests/s compare fairly and CPU per request is the
# figure that does not depend on what else the machine is running.
#
# Then the steady measures, which a shared machine moves far less: user-space
# instructions per request (callgrind) and system calls per request (strace)
# of each server over an exact number of requests (clients.py load: 50
# keep-alive connections, K1 and then K2 requests on each; the difference of
# the two runs divided by 50 × (K2 - K1), so that start, exit and each
# connection's own setup cancel out). nginx runs with master_process off
# under callgrind (the worker's work in one process).
#
# Usage: 08_http_gateway/bench.sh [SECONDS=3] [ROUNDS=3]   (COSTS=0: skip the steady measures)
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
secs=${1:-3}
rounds=${2:-3}
bin=${WORKBOOK_BIN:-build}
make_workdir
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
tick_us=$((1000000 / $(getconf CLK_TCK)))

start_private_redis "$work"
pids+=("$REDIS_PID")
redis-cli -p "$REDIS_PORT" set bench:key "$(head -c 100 /dev/zero | tr '\0' v)" >/dev/null

gw_port=$(free_port)
"$bin/08_http_gateway/http_gateway" --port "$gw_port" --redis-port "$REDIS_PORT" \
    --docs "$work/site" --idle-timeout 600 >"$work/gw.log" 2>&1 &
gw_pid=$!
pids+=("$gw_pid")

webdis_port=$(free_port)
cat >"$work/webdis.json" <<JSON
{"redis_host": "127.0.0.1", "redis_port": $REDIS_PORT, "http_host": "127.0.0.1",
 "http_port": $webdis_port, "threads": 1, "pool_size": 2, "daemonize": false,
 "database": 0, "verbosity": 0, "logfile": "$work/webdis.log"}
JSON
webdis "$work/webdis.json" >/dev/null 2>&1 &
webdis_pid=$!
pids+=("$webdis_pid")

mkdir -p "$work/site/docs" "$work/nginx"
chmod 755 "$work" # nginx's worker (nobody) reads the files
head -c 4096 /dev/urandom >"$work/site/4k.bin"
head -c 1048576 /dev/urandom >"$work/site/1m.bin"
ln -s "$work/site/4k.bin" "$work/site/docs/4k.bin"
ln -s "$work/site/1m.bin" "$work/site/docs/1m.bin"
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
    server { listen 127.0.0.1:$nginx_port; root $work/site; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" 2>/dev/null &
pids+=($!)
wait_listening "$gw_port" && wait_listening "$webdis_port" && wait_listening "$nginx_port"
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -n 1)

# run NAME PID URL CONNS: "REQS_PER_S CPU_US_PER_REQ REDIS_US WRK_US" for one
# wrk run: the server's CPU per request, and that of Redis and of wrk itself
# (read from the shell that waited for it: its children's times), because on
# a 2-core machine the three share the cores and the server's saving shows in
# requests/s only in proportion to its share
run() {
    local pid=$2 url=$3 conns=$4 before after rb ra out rps total w
    before=$(cpu_ticks "$pid") rb=$(cpu_ticks "$REDIS_PID")
    # shellcheck disable=SC2016  # $$ and $@ belong to the inner shell
    out=$(bash -c 'wrk "$@" 2>&1; read -r -a s </proc/$$/stat; echo "wrk-cpu $((s[15] + s[16]))"' \
        wrk -t1 -c"$conns" -d"${secs}s" "$url")
    after=$(cpu_ticks "$pid") ra=$(cpu_ticks "$REDIS_PID")
    rps=$(awk '/^Requests\/sec/ { printf "%d", $2 }' <<<"$out")
    total=$(awk '/requests in/ { print $1 }' <<<"$out")
    w=$(awk '/^wrk-cpu/ { print $2 }' <<<"$out")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "bench: $1: non-2xx replies from $url" >&2
    fi
    [ "$total" -gt 0 ] 2>/dev/null || total=1
    awk -v r="$rps" -v s=$((after - before)) -v d=$((ra - rb)) -v w="${w:-0}" -v t="$tick_us" -v n="$total" \
        'BEGIN { printf "%s %.1f %.1f %.1f\n", r, s * t / n, d * t / n, w * t / n }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# spread: "LOW–HIGH" of the rounds, so a reader sees how far one run is from the next
spread() { sort -n | awk '{ v[NR] = $1 } END { printf "%d–%d", v[1], v[NR] }'; }

# scenario TITLE CONNS NAME_A PID_A URL_A NAME_B PID_B URL_B
scenario() {
    local title=$1 conns=$2 a=() b=() ca=() cb=() ra=() rb=() wa=() wb=() r
    for _ in $(seq "$rounds"); do
        read -r rps cpu red w < <(run "$3" "$4" "$5" "$conns"); a+=("$rps"); ca+=("$cpu"); ra+=("$red"); wa+=("$w")
        read -r rps cpu red w < <(run "$6" "$7" "$8" "$conns"); b+=("$rps"); cb+=("$cpu"); rb+=("$red"); wb+=("$w")
    done
    # where the machine's CPU went per request: server + Redis + wrk (medians)
    local sums
    sums=$(printf '%s %s %s %s %s %s\n' "$(printf '%s\n' "${ca[@]}" | median)" "$(printf '%s\n' "${ra[@]}" | median)" \
        "$(printf '%s\n' "${wa[@]}" | median)" "$(printf '%s\n' "${cb[@]}" | median)" \
        "$(printf '%s\n' "${rb[@]}" | median)" "$(printf '%s\n' "${wb[@]}" | median)")
    machine+=("$(awk -v t="$title" -v c="$conns" -v a="$3" -v b="$6" '{
        printf "| %-22s | %5s | %s %.1f + %.1f + %.1f = %.1f µs | %s %.1f + %.1f + %.1f = %.1f µs | %.2f× |", t, c,
            a, $1, $2, $3, $1 + $2 + $3, b, $4, $5, $6, $4 + $5 + $6, ($1 + $2 + $3 > 0 ? ($4 + $5 + $6) / ($1 + $2 + $3) : 0) }' <<<"$sums")")
    local ma mb mca mcb sa sb
    ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
    sa=$(printf '%s\n' "${a[@]}" | spread); sb=$(printf '%s\n' "${b[@]}" | spread)
    mca=$(printf '%s\n' "${ca[@]}" | median); mcb=$(printf '%s\n' "${cb[@]}" | median)
    r=$(awk -v x="$ma" -v y="$mb" 'BEGIN { printf "%.2f", (y > 0 ? x / y : 0) }')
    printf '| %-22s | %5s | %7s (%s) | %7s (%s) | %5s× | %5s µs | %5s µs |\n' \
        "$title" "$conns" "$ma" "$sa" "$mb" "$sb" "$r" "$mca" "$mcb"
}

machine=()
echo "bench-chapter8: $(nproc) cores, ${secs}s per run, median of $rounds rounds; $(uname -r); load average $(cut -d" " -f1-3 /proc/loadavg)"
echo
echo "| scenario | conns | gateway/s (range) | webdis/s (range) | ratio | gw CPU/req | webdis CPU/req |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in 1 50 1000; do
    scenario "GET /GET/bench:key" "$c" gw "$gw_pid" "http://127.0.0.1:$gw_port/GET/bench:key" \
        webdis "$webdis_pid" "http://127.0.0.1:$webdis_port/GET/bench:key"
    scenario "GET /SET/bench:k/v" "$c" gw "$gw_pid" "http://127.0.0.1:$gw_port/SET/bench:k/v" \
        webdis "$webdis_pid" "http://127.0.0.1:$webdis_port/SET/bench:k/v"
done
echo
echo "| scenario | conns | gateway/s (range) | nginx/s (range) | ratio | gw CPU/req | nginx CPU/req |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for f in 4k 1m; do
    scenario "static $f.bin" 50 gw "$gw_pid" "http://127.0.0.1:$gw_port/docs/$f.bin" \
        nginx "$nginx_worker" "http://127.0.0.1:$nginx_port/$f.bin"
done

echo
echo "where the machine's CPU went, per request (median of the rounds): server + Redis + wrk; the last"
echo "column is the ratio of the two totals, the requests/s ratio two saturated cores would allow"
echo
echo "| scenario | conns | A: server + Redis + wrk | B: server + Redis + wrk | B total / A total |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${machine[@]}"

[ "${COSTS:-1}" = 0 ] && exit 0

# ---- the steady measures ----
k1=20 k2=60 cc=50
cport=$(free_port)
sed "s/\"http_port\": $webdis_port/\"http_port\": $cport/" "$work/webdis.json" >"$work/webdis-cg.json"
sed -e "s/listen 127.0.0.1:$nginx_port;/listen 127.0.0.1:$cport;/" -e 's/^daemon off;/daemon off; master_process off;/' \
    -e "s#^pid .*#pid $work/nginx/cg.pid;#" "$work/nginx/nginx.conf" >"$work/nginx/cg.conf"
load() { python3 08_http_gateway/clients.py load "$1" "$2" "$cc" "$3" || echo "bench: load on $2 failed" >&2; }
# costs NAME PATH RUNNING_PID RUNNING_PORT CMD...: "NAME instructions syscalls" per request
costs() {
    local name=$1 path=$2 pid=$3 port=$4 a b
    shift 4
    callgrind_start "$work/cg.1" "$@"; wait_listening "$cport" 60; load "$cport" "$path" "$k1"; callgrind_stop; a=$CG_IR
    callgrind_start "$work/cg.2" "$@"; wait_listening "$cport" 60; load "$cport" "$path" "$k2"; callgrind_stop; b=$CG_IR
    strace_attach "$pid"; load "$port" "$path" "$k1"; strace_detach; local sa=$STRACE_CALLS
    strace_attach "$pid"; load "$port" "$path" "$k2"; strace_detach
    awk -v n=$((cc * (k2 - k1))) -v a="$a" -v b="$b" -v sa="$sa" -v sb="$STRACE_CALLS" -v t="$name" \
        'BEGIN { printf "| %-26s | %6.0f | %5.2f |\n", t, (b - a) / n, (sb - sa) / n }'
}
gw_cg=("$bin/08_http_gateway/http_gateway" --port "$cport" --redis-port "$REDIS_PORT" --docs "$work/site" --idle-timeout 600)
echo
echo "per request, $cc connections × ($k2 - $k1) requests: user-space instructions (callgrind), system calls (strace -c -f)"
echo
echo "| server, request | instructions | system calls |"
echo "|---|---:|---:|"
costs "gateway GET /GET/bench:key" /GET/bench:key "$gw_pid" "$gw_port" "${gw_cg[@]}"
costs "webdis GET /GET/bench:key" /GET/bench:key "$webdis_pid" "$webdis_port" webdis "$work/webdis-cg.json"
costs "gateway GET /SET/bench:k/v" /SET/bench:k/v "$gw_pid" "$gw_port" "${gw_cg[@]}"
costs "webdis GET /SET/bench:k/v" /SET/bench:k/v "$webdis_pid" "$webdis_port" webdis "$work/webdis-cg.json"
costs "gateway static 4k.bin" /docs/4k.bin "$gw_pid" "$gw_port" "${gw_cg[@]}"
costs "nginx static 4k.bin" /4k.bin "$nginx_worker" "$nginx_port" nginx -c "$work/nginx/cg.conf" -e "$work/nginx/error.log"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
