# Shared by Samples/day-end.sh and Samples/manual-upload.sh (sourced, not run): printing,
# checks, the build, and a throwaway server. Needs bash, swift and python3.
#
# Environment:
#   DOORSTEP_SAMPLE_LANG=zh|en     the language of the CLI's own output (default zh)
#   DOORSTEP_SAMPLE_SKIP_BUILD=1   use the binaries already in `swift build --show-bin-path`
#   DOORSTEP_SAMPLE_KEEP=1         keep the temporary folder (databases, server data, logs)

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Nothing from the caller's environment may point the sample at real data or credentials.
unset DOORSTEP_TOKEN DOORSTEP_DB DOORSTEP_VISITOR DOORSTEP_DATA DOORSTEP_HOST DOORSTEP_PORT \
    DOORSTEP_DATABASE_URL DOORSTEP_DISTRICTS

cli_lang=${DOORSTEP_SAMPLE_LANG:-zh}
case "$cli_lang" in zh|en) ;; *) echo "DOORSTEP_SAMPLE_LANG must be zh or en" >&2; exit 64 ;; esac
started=$(date +%s)
step_count=0
server_pid=""
bin=""
server=""
admin=""
tmp=""

# MARK: printing

# Colours on a terminal only (CI logs get plain text).
if [ -t 1 ]; then bold=$'\033[1m' green=$'\033[32m' red=$'\033[31m' plain=$'\033[0m'; else bold="" green="" red="" plain=""; fi

# step "中文" "English": a numbered heading, in both languages.
step() {
    step_count=$((step_count + 1))
    printf '\n%s== %d. %s%s\n   %s\n' "$bold" "$step_count" "$1" "$plain" "$2"
}

# say LINE...: narration, one line each.
say() {
    local line
    for line in "$@"; do printf '   %s\n' "$line"; done
}

# ok "what is true now": a check that passed.
ok() {
    printf '   %s✓%s %s\n' "$green" "$plain" "$*"
}

# A command's own output, indented under the narration.
indent() {
    sed 's/^/     │ /'
}

# fail "what is wrong": the sample stops, non-zero, saying which promise did not hold.
fail() {
    printf '\n%s✗ 失败 FAILED%s (step %d, %ss): %s\n' "$red" "$plain" "$step_count" "$(elapsed)" "$*" >&2
    if [ -n "$tmp" ] && [ -s "$tmp/server.log" ]; then
        echo "   the server's log, last lines:" >&2
        tail -n 15 "$tmp/server.log" | sed 's/^/     │ /' >&2
    fi
    exit 1
}

# The command line as printed: the admin token is never shown.
shown() {
    local text="$*"
    if [ -n "$admin" ]; then text=${text//"$admin"/'$ADMIN_TOKEN'}; fi
    if [ -n "$bin" ]; then text=${text//"$bin/"/}; fi
    printf '%s' "$text"
}

# MARK: running and checking

# run STATUS OUT CMD...: runs CMD with stdout in OUT and stderr in OUT.err; fails unless it
# exits with STATUS.
run() {
    local expected=$1 out=$2 status=0
    shift 2
    "$@" >"$out" 2>"$out.err" || status=$?
    if [ "$status" != "$expected" ]; then
        echo "   \$ $(shown "$@")" >&2
        { cat "$out"; cat "$out.err"; } | head -n 40 | sed 's/^/     │ /' >&2
        fail "$(shown "${@:1:3}") … exited with $status, expected $expected"
    fi
}

# show CMD...: runs CMD and prints its output indented (stderr too); fails if it fails.
show() {
    local status=0 out
    out=$(mktemp "$tmp/show.XXXXXX")
    echo "     \$ $(shown "$@")"
    "$@" >"$out" 2>&1 || status=$?
    indent <"$out"
    [ "$status" = 0 ] || fail "$(shown "${@:1:3}") … exited with $status"
}

# value FILE EXPR: the value of a Python expression over the JSON document in FILE (as `d`).
value() {
    python3 - "$1" "$2" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
v = eval(sys.argv[2])
print(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
PY
}

# check FILE EXPR "what must be true": fails with that sentence unless EXPR holds over the JSON in FILE.
check() {
    local result
    result=$(value "$1" "bool($2)" 2>&1) || { echo "$result" | indent >&2; fail "$3 (could not read $1 as JSON)"; }
    if [ "$result" != "True" ]; then
        echo "   not true: $2" >&2
        head -c 3000 "$1" | sed 's/^/     │ /' >&2
        fail "$3"
    fi
    ok "$3"
}

# doorstep ARGS...: the CLI, in the chosen language.
doorstep() {
    "$bin/doorstep" "$@" --lang "$cli_lang"
}

# MARK: build, temporary folder, server

# setup NAME: the temporary folder (removed on exit with the server) and the binaries.
setup() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/doorstep-$1.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    if [ "${DOORSTEP_SAMPLE_SKIP_BUILD:-}" != 1 ]; then
        say "swift build (only what changed is compiled; the first build takes several minutes)"
        if ! swift build >"$tmp/build.log" 2>&1; then
            grep -E "error|warning: [^']" "$tmp/build.log" | head -n 30 | indent >&2 || tail -n 30 "$tmp/build.log" | indent >&2
            fail "swift build failed"
        fi
    fi
    bin=$(swift build --show-bin-path)
    local tool
    for tool in doorstep doorstep-server doorstep-sample-data FieldApp; do
        [ -x "$bin/$tool" ] || fail "$bin/$tool is missing: run swift build"
    done
    ok "binaries in $bin"
}

cleanup() {
    local status=$?
    trap - EXIT
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "${app_pid:-}" ]; then
        kill "$app_pid" 2>/dev/null || true
        wait "$app_pid" 2>/dev/null || true
    fi
    if [ -n "$tmp" ]; then
        if [ "${DOORSTEP_SAMPLE_KEEP:-}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
    fi
    exit "$status"
}

# start_server DATA: a server on a free port with its data in DATA; sets $server (its URL, read
# from DATA/server.addr) and $admin (the city administrator's token, DATA/admin.token).
start_server() {
    local data=$1 waited=0
    rm -f "$data/server.addr"
    "$bin/doorstep-server" --port 0 --data "$data" >>"$tmp/server.log" 2>&1 &
    server_pid=$!
    until [ -s "$data/server.addr" ]; do
        if ! running "$server_pid"; then
            wait "$server_pid" 2>/dev/null || true
            server_pid=""
            fail "the server stopped while starting"
        fi
        [ "$waited" -lt 300 ] || fail "the server did not write $data/server.addr within 30 s"
        sleep 0.1
        waited=$((waited + 1))
    done
    server=$(tr -d '[:space:]' <"$data/server.addr")
    admin=$(tr -d '[:space:]' <"$data/admin.token")
    python3 - "$server/health" <<'PY' || fail "the server does not answer GET /health"
import sys, time, urllib.request
for attempt in range(100):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

# running PID: whether the process is alive (a child that exited but was not waited for is not).
running() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        ! grep -q ') Z' "/proc/$1/stat" 2>/dev/null
    elif command -v ps >/dev/null; then
        ! ps -o stat= -p "$1" 2>/dev/null | grep -q Z
    fi
}

# stop_server: stops the server (SIGTERM; SIGKILL if it has not exited after 15 s) and waits for it.
stop_server() {
    local waited=0
    kill "$server_pid" 2>/dev/null || true
    while running "$server_pid"; do
        if [ "$waited" = 150 ]; then kill -9 "$server_pid" 2>/dev/null || true; fi
        sleep 0.1
        waited=$((waited + 1))
    done
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

# reachable URL: whether anything answers at URL.
reachable() {
    python3 - "$1/health" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except OSError:
    sys.exit(1)
PY
}

# elapsed: seconds since the sample started.
elapsed() {
    echo $(($(date +%s) - started))
}
