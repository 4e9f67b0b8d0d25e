#!/usr/bin/env bash
# A district relay through a day when the line to the city fails (旗区中转服务器演示).
#
# A city server; district 150602 (东胜区) seeded from the sample generator; its office makes a
# relay (doorstep admin relays create) and runs it on "its own machine" (another doorstep-server,
# --relay-for), reaching the city through a line that this script cuts and restores (a small
# proxy); two laptops enrolled through the relay. With the line cut, laptop A records a visit
# and syncs: the relay holds it (relayed: the city's outcome still to come) and laptop B sees it
# at once; relay-status says the city is unreachable and one change waits. The line comes back:
# the relay forwards the visit, as laptop A signed it; laptop A's next sync brings the city's
# outcome; the city holds the visit once. Every step's result is checked: the script exits
# non-zero, saying which promise did not hold, if one does not.
#
#   Samples/relay.sh                               (well under a minute once built)
#
# See Samples/lib.sh for the settings. Needs swift and python3.

source "$(dirname "$0")/lib.sh"

district=150602
households=8
relay_pid=""
line_pid=""

stop_extra() {
    local pid
    for pid in "$relay_pid" "$line_pid"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
}

step "准备：编译" "Build the server, the CLI and the sample generator"
setup relay
trap 'stop_extra; cleanup' EXIT
say "临时文件夹 temporary folder: $tmp (removed at the end)"

# ---------------------------------------------------------------------------------------------
step "市里的服务器与示例数据" "The city's server, district $district seeded with $households synthetic households"
run 0 "$tmp/gen.txt" "$bin/doorstep-sample-data" --seed 2020 --households-per-district "$households" --districts "$district" --out "$tmp/sample"
start_server "$tmp/city"
say "city server: $server"
run 0 "$tmp/import.json" doorstep admin import "$tmp/sample/households.csv" --server "$server" --token "$admin" --json
check "$tmp/import.json" "d['imported'] == $households" "imported $households households of $district"

# ---------------------------------------------------------------------------------------------
step "旗区到市里的线路" "The district's line to the city: a proxy this script can cut (the file $tmp/line-cut)"
python3 - "$server" "$tmp/line.port" "$tmp/line-cut" >>"$tmp/line.log" 2>&1 <<'PY' &
import os, socket, sys, threading, urllib.parse
target = urllib.parse.urlparse(sys.argv[1])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
live = set()
lock = threading.Lock()
def watch():
    # A cut line drops the connections open on it too (an HTTP client keeps them alive).
    import time
    while True:
        if os.path.exists(sys.argv[3]):
            with lock:
                for s in list(live):
                    try: s.shutdown(socket.SHUT_RDWR)
                    except OSError: pass
                live.clear()
        time.sleep(0.05)
threading.Thread(target=watch, daemon=True).start()
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
while True:
    client, _ = listener.accept()
    if os.path.exists(sys.argv[3]):
        client.close()  # the line is cut: nothing reaches the city
        continue
    upstream = socket.create_connection((target.hostname, target.port))
    with lock:
        live.update((client, upstream))
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
PY
line_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/line.port" ] && break; sleep 0.1; done
[ -s "$tmp/line.port" ] || fail "the line's proxy did not start"
line="http://127.0.0.1:$(cat "$tmp/line.port")"
ok "the city is reached from the district through $line"

# ---------------------------------------------------------------------------------------------
step "旗区工会设立中转服务器" "The district office makes its relay (doorstep admin relays create) and starts it"
run 0 "$tmp/relay-made.json" doorstep admin relays create --district "$district" --name "东胜区工会中转" --server "$server" --token "$admin" --json
relay_token=$(value "$tmp/relay-made.json" "d['token']")
check "$tmp/relay-made.json" "d['relay']['district'] == '$district' and d['token'].startswith('dsr_') and '--relay-for $district' in d['command']" \
    "a relay credential for $district, and the one command to run on the office's machine"
"$bin/doorstep-server" --port 0 --data "$tmp/relay" --relay-for "$district" --upstream "$line" --relay-token "$relay_token" \
    --relay-interval-ms 300 >>"$tmp/relay.log" 2>&1 &
relay_pid=$!
for _ in $(seq 1 300); do [ -s "$tmp/relay/server.addr" ] && break; sleep 0.1; done
[ -s "$tmp/relay/server.addr" ] || fail "the relay did not start (its log: $tmp/relay.log)"
relay=$(tr -d '[:space:]' <"$tmp/relay/server.addr")
python3 - "$relay/v1/server" <<'PY' || fail "the relay never answered as the city (GET /v1/server)"
import json, sys, time, urllib.request
for attempt in range(200):
    try:
        request = urllib.request.Request(sys.argv[1], headers={"Doorstep-Protocol": "1"})
        with urllib.request.urlopen(request, timeout=2) as response:
            if json.load(response).get("relayFor") == "150602":
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
ok "the relay answers at $relay, as the city's server for district $district"
[ "$(stat -c %a "$tmp/relay/relay.token")" = 600 ] || fail "the relay's token is readable by others"
ok "its token is kept in its data folder (relay.token, owner only): later starts need no --relay-token"

# ---------------------------------------------------------------------------------------------
step "两台笔记本通过中转服务器登记" "Two laptops enroll through the relay (it passes the enrollment on to the city)"
laptop_a="$tmp/laptop-a.sqlite"
laptop_b="$tmp/laptop-b.sqlite"
for laptop in "$laptop_a" "$laptop_b"; do
    run 0 "$tmp/code.json" doorstep admin enroll-code --district "$district" --role visitor --server "$server" --token "$admin" --json
    run 0 "$tmp/enroll.json" doorstep enroll --db "$laptop" --server "$relay" --code "$(value "$tmp/code.json" "d['code']")" --name "笔记本" --json
    run 0 "$tmp/sync.json" doorstep sync --db "$laptop" --json
    check "$tmp/sync.json" "d['summary']['pulledHouseholds'] == $households" "a laptop enrolled at the relay holds the district's $households households"
done

# ---------------------------------------------------------------------------------------------
step "线路中断" "The line to the city is cut; laptop A records a visit and syncs with the relay"
touch "$tmp/line-cut"
run 0 "$tmp/list.json" doorstep households list --db "$laptop_a" --json
target=$(value "$tmp/list.json" "d[0]['id']")
run 0 "$tmp/visit.json" doorstep visit record "$target" --db "$laptop_a" --mode atHome --verified income --conclusion eligible \
    --visitor 张示例甲 --json
run 0 "$tmp/sync-a.json" doorstep sync --db "$laptop_a" --json
check "$tmp/sync-a.json" "d['summary'].get('relayed') == 1 and d['pending'] == 1" \
    "the relay took the visit at once (relayed: the city's outcome still to come); laptop A keeps it until then"
show doorstep sync --db "$laptop_a"
run 0 "$tmp/sync-b.json" doorstep sync --db "$laptop_b" --json
run 0 "$tmp/show-b.json" doorstep households show "$target" --db "$laptop_b" --json
check "$tmp/show-b.json" "sum(1 for e in d['entities'] if e['kind'] == 'visit') == 1" \
    "laptop B, on the same office network, sees laptop A's visit the same day"
for _ in $(seq 1 50); do
    "$bin/doorstep-server" relay-status --data "$tmp/relay" --relay-for "$district" --upstream "$line" --json >"$tmp/status.json" 2>"$tmp/status.err" || true
    [ "$(value "$tmp/status.json" "d['upstreamReachable']" 2>/dev/null)" = False ] && break
    sleep 0.2
done
check "$tmp/status.json" "not d['upstreamReachable'] and d['pendingMutations'] == 1 and d['oldestUnconfirmedAt']" \
    "relay-status: the city is unreachable, one change waits for it"
show "$bin/doorstep-server" relay-status --data "$tmp/relay" --relay-for "$district" --upstream "$line"

# ---------------------------------------------------------------------------------------------
step "线路恢复" "The line comes back: the relay forwards the visit, as laptop A signed it"
rm -f "$tmp/line-cut"
for _ in $(seq 1 100); do
    "$bin/doorstep-server" relay-status --data "$tmp/relay" --relay-for "$district" --upstream "$line" --json >"$tmp/status.json" 2>/dev/null || true
    [ "$(value "$tmp/status.json" "d['pendingMutations'] == 0 and d['upstreamReachable']" 2>/dev/null)" = True ] && break
    sleep 0.2
done
check "$tmp/status.json" "d['upstreamReachable'] and d['pendingMutations'] == 0 and d['pendingBatches'] == 0 and d['lastForwardAt']" \
    "relay-status: the city answers, nothing waits, the last forward is recorded"
run 0 "$tmp/sync-a2.json" doorstep sync --db "$laptop_a" --json
check "$tmp/sync-a2.json" "d['summary']['pushed'] == 1 and not d['summary'].get('relayed') and d['pending'] == 0" \
    "laptop A's next sync brings the city's outcome (applied) through the relay; nothing is pending"
python3 - "$server/v1/households/$target" "$admin" >"$tmp/city-show.json" <<'PY' || fail "the city does not answer for the household"
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Doorstep-Protocol": "1", "Authorization": "Bearer " + sys.argv[2]})
with urllib.request.urlopen(request, timeout=10) as response:
    sys.stdout.write(response.read().decode("utf-8"))
PY
check "$tmp/city-show.json" "sum(1 for e in d['entities'] if e['kind'] == 'visit') == 1" \
    "the city holds the visit once"
run 0 "$tmp/relays.json" doorstep admin relays list --server "$server" --token "$admin" --json
check "$tmp/relays.json" "len(d) == 1 and d[0]['lastContactAt'] and not d[0].get('revokedAt')" \
    "the city lists the relay with its last contact"

printf '\n%s✓ 完成 done%s in %ss: a relay kept the district working with the line cut, and the city got every change once.\n' \
    "$green" "$plain" "$(elapsed)"
