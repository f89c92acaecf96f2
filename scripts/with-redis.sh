#!/usr/bin/env bash
# with-redis.sh PORT CMD [ARG...] — run CMD with a Redis on 127.0.0.1:PORT.
# When something already answers there, it is used as is. Otherwise a
# throwaway redis-server (no persistence, temp dir) is started for the run and
# stopped afterwards. Exits with CMD's status.
set -u
port=$1
shift

if redis-cli -p "$port" ping >/dev/null 2>&1; then
    exec "$@"
fi

. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
cleanup() {
    [ -n "${REDIS_PID-}" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! spawn_redis "$port" "$dir"; then
    echo "with-redis.sh: could not start redis-server on port $port:" >&2
    cat "$dir/redis.log" >&2
    exit 1
fi
echo "(no Redis was running on 127.0.0.1:$port: started a throwaway redis-server for this run)"
"$@"
