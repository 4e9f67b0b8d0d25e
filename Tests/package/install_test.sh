#!/usr/bin/env bash
# The release package as an operator installs it (issue 22), on this machine, as root:
# dpkg -i, the doorstep user and folders, the unit checked by systemd-analyze, the installed
# server started as the doorstep user with the unit's own command line (directly: systemd is not
# running in CI), /health, the scheduled backup's state, a laptop enrolled and synced with the
# installed CLI, then dpkg -r (data and configuration kept), dpkg -i again, and dpkg --purge
# (configuration gone; the doorstep user and the data kept). Usage: Tests/package/install_test.sh dist/doorstep_VERSION_ARCH.deb
set -euo pipefail
deb=${1:?usage: install_test.sh PACKAGE.deb}
[ "$(id -u)" = 0 ] || { echo "install_test.sh: run as root (it installs a package)" >&2; exit 1; }
work=$(mktemp -d /tmp/doorstep-package.XXXXXX)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    dpkg --purge doorstep >/dev/null 2>&1 || true
    rm -rf "$work" /var/lib/doorstep
    deluser --system --quiet doorstep >/dev/null 2>&1 || true
    delgroup --system --quiet doorstep >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "   FAILED: $*" >&2; exit 1; }
ok() { echo "   ok: $*"; }

if dpkg -s doorstep >/dev/null 2>&1; then fail "a doorstep package is installed already: remove it first"; fi
rm -rf /var/lib/doorstep

echo "== dpkg -i $deb"
dpkg -i "$deb" >"$work/dpkg.txt" 2>&1 || { cat "$work/dpkg.txt"; fail "dpkg -i"; }
for binary in /usr/bin/doorstep-server /usr/bin/doorstep; do
    [ -x "$binary" ] || fail "$binary is not installed"
    # Only system libraries the package declares (scripts/release.sh checked each against Depends).
    ldd "$binary" | grep -q "not found" && fail "$binary links a library this machine lacks"
done
ok "binaries installed; their libraries are all on the machine"
getent passwd doorstep >/dev/null || fail "no doorstep user"
[ "$(stat -c '%U %a' /var/lib/doorstep)" = "doorstep 700" ] || fail "/var/lib/doorstep is $(stat -c '%U %a' /var/lib/doorstep), not doorstep 700"
[ "$(stat -c '%G %a' /etc/doorstep/server.toml)" = "doorstep 640" ] || fail "/etc/doorstep/server.toml is not readable by the doorstep group only"
ok "user doorstep, /var/lib/doorstep (0700), /etc/doorstep/server.toml (0640)"
/usr/bin/doorstep-server --version | grep -q . || fail "doorstep-server --version"

echo "== systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/doorstep-server.service >"$work/verify.txt" 2>&1 || { cat "$work/verify.txt"; fail "systemd-analyze verify"; }
ok "the unit passes systemd-analyze verify"

echo "== the installed server, as the doorstep user, with the unit's command line"
command=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/doorstep-server.service)
[ "$command" = "/usr/bin/doorstep-server serve --config /etc/doorstep/server.toml" ] || fail "unexpected ExecStart: $command"
# The port is the one thing changed (the shipped 8080 may be taken on a CI machine): 0 takes a free one.
runuser -u doorstep -- env MALLOC_ARENA_MAX=2 DOORSTEP_PORT=0 $command >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do [ -s /var/lib/doorstep/server.addr ] && break; sleep 0.2; done
[ -s /var/lib/doorstep/server.addr ] || { cat "$work/server.log"; fail "the server did not start"; }
url=$(cat /var/lib/doorstep/server.addr)
curl -fsS "$url/health" >"$work/health.json" || fail "/health"
python3 - "$work/health.json" <<'PY' || fail "/health does not say ok with the backup schedule's state"
import json, sys
health = json.load(open(sys.argv[1]))
assert health["status"] == "ok", health
assert health["backup"]["written"] == 0 and health["backup"]["failed"] == 0, health
PY
ok "$url/health: ok (scheduled backups on, none due yet)"
[ "$(stat -c '%U' /var/lib/doorstep/doorstep.sqlite)" = "doorstep" ] || fail "the database is not the doorstep user's"
admin=$(cat /var/lib/doorstep/admin.token)
doorstep admin enroll-code --district 150602 --role visitor --server "$url" --token "$admin" --json >"$work/code.json" || fail "enroll-code"
code=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$work/code.json")
doorstep enroll --db "$work/laptop.sqlite" --server "$url" --code "$code" --name "CI laptop" --json >"$work/enroll.json" || fail "enroll"
printf '户主姓名,身份证号,住址,旗区,档案级别,主要致困原因,困难程度,技能水平,家庭月收入,受疫情影响\n包测试户主,150602195001010018,东胜区 建设街 1 号,150602,全国级,因病,一般困难,无技能,2600元,否\n' >"$work/one.csv"
doorstep admin import "$work/one.csv" --server "$url" --token "$admin" --json >"$work/import.json" || { cat "$work/import.json"; fail "import"; }
doorstep sync --db "$work/laptop.sqlite" --json >"$work/sync.json" || { cat "$work/sync.json"; fail "sync"; }
python3 - "$work/sync.json" <<'PY' || fail "the laptop's sync did not bring the household"
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
assert summary["pulledHouseholds"] == 1, summary
PY
ok "a laptop enrolled and synced with the installed CLI (1 household pulled)"
curl -fsS "$url/metrics" >"$work/metrics.txt" || fail "/metrics"
grep -q '^doorstep_devices_enrolled 1' "$work/metrics.txt" || fail "/metrics does not count the enrolled laptop"
grep -q '^doorstep_backup_last_attempt_timestamp_seconds 0' "$work/metrics.txt" || fail "/metrics has no backup gauges (backups are on in the shipped configuration)"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

echo "== dpkg -r: the data and the configuration stay"
dpkg -r doorstep >"$work/remove.txt" 2>&1 || { cat "$work/remove.txt"; fail "dpkg -r"; }
[ ! -e /usr/bin/doorstep-server ] || fail "doorstep-server is still installed"
[ -s /var/lib/doorstep/doorstep.sqlite ] || fail "dpkg -r removed the data"
[ -f /etc/doorstep/server.toml ] || fail "dpkg -r removed the configuration"
ok "binaries removed; /var/lib/doorstep and /etc/doorstep/server.toml kept"
echo "== dpkg -i again: the same data served again"
dpkg -i "$deb" >"$work/dpkg2.txt" 2>&1 || { cat "$work/dpkg2.txt"; fail "dpkg -i after dpkg -r"; }
[ "$(stat -c '%U' /var/lib/doorstep/doorstep.sqlite)" = "doorstep" ] || fail "the kept database is not the doorstep user's"
echo "== dpkg --purge: the configuration goes, the user and the data stay"
dpkg --purge doorstep >"$work/purge.txt" 2>&1 || { cat "$work/purge.txt"; fail "dpkg --purge"; }
[ ! -e /etc/doorstep ] || fail "/etc/doorstep is still there"
getent passwd doorstep >/dev/null || fail "the doorstep user was removed"
[ -s /var/lib/doorstep/doorstep.sqlite ] || fail "dpkg --purge removed the data"
ok "configuration removed; the doorstep user and /var/lib/doorstep kept (removed by hand)"
echo "== the package installs, serves, syncs and goes"
