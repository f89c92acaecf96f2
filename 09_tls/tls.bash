# 09_tls/tls.bash — what chapter 9's test files share (`load tls`): the
# certificates, made per file by the chapter's own certs.sh, and a private
# Redis with a TLS port.

# make_certs: this file's certificates in $CERTS (certs.sh, as `make certs`)
make_certs() {
    CERTS=$BATS_FILE_TMPDIR/certs
    "$WORKBOOK_ROOT/09_tls/certs.sh" "$CERTS" >/dev/null
    export CERTS
}

# start_tls_redis NAME [ARGS...]: a private Redis with a plaintext port
# (REDIS_PORT) and a TLS port (TLS_PORT) serving $CERTS/NAME.crt; clients need
# no certificate unless ARGS say --tls-auth-clients yes. Stopped in teardown.
start_tls_redis() {
    local name=$1 dir
    shift
    dir=$(mktemp -d "$(_wb_scope_dir)/redis.XXXXXX")
    TLS_PORT=$(free_port)
    start_private_redis "$dir" --tls-port "$TLS_PORT" --tls-cert-file "$CERTS/$name.crt" \
        --tls-key-file "$CERTS/$name.key" --tls-ca-cert-file "$CERTS/ca.crt" \
        --tls-auth-clients no "$@" || return 1
    echo "$REDIS_PID" >>"$(_wb_scope_dir)/wb_pids"
    wait_listening "$TLS_PORT" 10
    export REDIS_PORT REDIS_PID TLS_PORT
}

# rcli_tls PORT ARGS...: redis-cli over TLS, trusting our CA, printing as on a terminal
rcli_tls() {
    local port=$1
    shift
    redis-cli --tls --cacert "$CERTS/ca.crt" -p "$port" --no-raw "$@"
}
