# exercises/helpers.bash — what the exercises' checks share, beside
# tests/helpers.bash (load both: `load ../../tests/helpers` then `load ../helpers`).

# answer KEY: the value of "KEY: value" in this exercise's answer.txt (lower
# case, spaces squeezed); fails with a message when the file or the key is missing
answer() {
    local file="$BATS_TEST_DIRNAME/answer.txt" value
    if [ ! -f "$file" ]; then
        fail "no answer yet: write your prediction into exercises/$(basename "$BATS_TEST_DIRNAME")/answer.txt"
        return 1
    fi
    value=$(sed -n "s/^$1:[[:space:]]*//p" "$file" | head -n 1 | tr '[:upper:]' '[:lower:]' |
        tr -s ' ' | sed 's/[[:space:]]*$//')
    if [ -z "$value" ]; then
        fail "answer.txt has no line '$1: ...'"
        return 1
    fi
    printf '%s\n' "$value"
}

# wait_count FILE REGEX N [SECONDS]: wait until N lines of FILE match REGEX;
# SECONDS by default $EXERCISE_WAIT, or 10 (tests/exercises.bats sets 1 where
# it runs a check that is meant to fail: the wait would only be waited out)
wait_count() {
    local file=$1 regex=$2 n=$3 seconds=${4:-${EXERCISE_WAIT:-10}}
    local deadline=$((SECONDS + seconds))
    until [ "$(count_lines "$file" "$regex")" -ge "$n" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "waited $seconds s for $n line(s) matching /$regex/; the program printed:" >&2
            sed 's/^/    /' "$file" >&2
            return 1
        fi
        sleep 0.05
    done
}
