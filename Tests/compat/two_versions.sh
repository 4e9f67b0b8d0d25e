#!/usr/bin/env bash
# Two versions of Doorstep side by side (issue 22, "Upgrades"): between two released versions,
# laptops with unsynced work keep working, whichever side is upgraded first.
#
# The previous release (Tests/compat/previous-release: its version and commit) is taken from this
# repository's history (`git archive`) and built beside the current tree; then, with real
# processes of both builds and their command lines only:
#   1. an old laptop (previous CLI) with unsynced work, the server upgraded under it: its work
#      syncs to the new server; then the laptop itself is upgraded (the new CLI opens the old
#      database, migrating it) with unsynced work again, and syncs it;
#   2. a new laptop against an old server (not yet upgraded): enrolls and syncs; then the server
#      is upgraded under its unsynced work, and it syncs that.
# Every change each laptop made is on the server at the end (the devices list's highestSeq and
# the households), nothing is pending or refused.
#
#   Tests/compat/two_versions.sh        (CI runs it last; the previous build goes to .build-compat/:
#                                        its dependencies are built once, its own modules each time,
#                                        about 3 minutes here after the first run)
source "$(dirname "$0")/../../Samples/lib.sh"

district=150602

step "两个版本" "The current build, and the previous release built from this repository's history"
setup compat
new_bin="$tmp/new-bin"
mkdir -p "$new_bin"
cp "$bin/doorstep" "$bin/doorstep-server" "$new_bin/"
read -r old_version old_commit < <(grep -v '^#' Tests/compat/previous-release)
if ! git cat-file -e "$old_commit^{commit}" 2>/dev/null; then
    if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
        fail "this clone is shallow and lacks the previous release $old_version ($old_commit): clone with its history (git fetch --unshallow)"
    fi
    fail "the previous release $old_version ($old_commit) is not in this repository's history"
fi
mkdir -p "$tmp/old"
git archive "$old_commit" | tar -x -C "$tmp/old"
# The same dependency versions as the current build (Package.resolved is made per machine, not committed).
if [ -f Package.resolved ]; then cp Package.resolved "$tmp/old/"; fi
say "building $old_version (${old_commit:0:8}) into .build-compat/"
if ! (cd "$tmp/old" && swift build --scratch-path "$root/.build-compat" --product doorstep-server && swift build --scratch-path "$root/.build-compat" --product doorstep) >"$tmp/old-build.log" 2>&1; then
    tail -n 30 "$tmp/old-build.log" | indent >&2
    fail "the previous release $old_version does not build"
fi
old_bin=$(cd "$tmp/old" && swift build --scratch-path "$root/.build-compat" --show-bin-path)
new_version=$("$new_bin/doorstep-server" --version)
[ "$("$old_bin/doorstep-server" --version)" = "$old_version" ] || fail "the previous build says it is $("$old_bin/doorstep-server" --version), not $old_version"
[ "$new_version" != "$old_version" ] || fail "the current build has the previous release's version ($old_version): raise Sources/DoorstepCore/Version.swift"
ok "previous: $old_version in $old_bin; current: $new_version"

old() { bin=$old_bin; }
new() { bin=$new_bin; }

# highest FILE DEVICE: the seq the server holds for DEVICE, from a devices list in FILE.
highest() { value "$1" "[x['highestSeq'] for x in d if x['id'] == '$2'][0]"; }

# ---------------------------------------------------------------------------------------------
step "旧版笔记本，服务器先升级" "1. An old laptop with unsynced work; the server is upgraded under it, then the laptop"
old
start_server "$tmp/server1"
run 0 "$tmp/code1.json" doorstep admin enroll-code --district "$district" --role visitor --server "$server" --token "$admin" --json
run 0 "$tmp/enroll1.json" doorstep enroll --db "$tmp/laptop1.sqlite" --server "$server" --code "$(value "$tmp/code1.json" "d['code']")" --name "旧版笔记本" --json
device1=$(value "$tmp/enroll1.json" "d['device']")
run 0 "$tmp/new1.json" doorstep household new --db "$tmp/laptop1.sqlite" --name "钱示例壬" --national-id 150602198507011230 \
    --address "东胜区样例巷7号1单元302室" --file-level national --cause illness --difficulty deep --skill none --income-yuan 700 --json
household1=$(value "$tmp/new1.json" "d['id']")
run 0 "$tmp/visit1.json" doorstep visit record "$household1" --db "$tmp/laptop1.sqlite" --mode atHome --verified income --conclusion eligible --visitor 张示例甲 --json
run 0 "$tmp/sync1.json" doorstep sync --db "$tmp/laptop1.sqlite" --json
check "$tmp/sync1.json" "d['summary']['pushed'] == 2 and d['pending'] == 0" "$old_version laptop against the $old_version server: 2 changes synced"
run 0 "$tmp/visit1b.json" doorstep visit record "$household1" --db "$tmp/laptop1.sqlite" --mode online --verified members --conclusion needsFollowUp --visitor 张示例甲 --json
run 0 "$tmp/edit1.json" doorstep household edit "$household1" --db "$tmp/laptop1.sqlite" --income-yuan 2600 --json
run 0 "$tmp/status1.json" doorstep status --db "$tmp/laptop1.sqlite" --json
check "$tmp/status1.json" "d['pending'] == 2" "2 more changes wait on the old laptop"
stop_server

new
start_server "$tmp/server1"
ok "the $new_version server started on the $old_version server's data (migrated)"
old
run 0 "$tmp/sync1b.json" doorstep sync --db "$tmp/laptop1.sqlite" --server "$server" --json
check "$tmp/sync1b.json" "d['summary']['pushed'] == 2 and d['pending'] == 0 and d['quarantine'] == 0" \
    "the $old_version laptop's unsynced work synced to the $new_version server"
run 0 "$tmp/visit1c.json" doorstep visit record "$household1" --db "$tmp/laptop1.sqlite" --mode atHome --verified cause --conclusion eligible --visitor 张示例甲 --json
new
run 0 "$tmp/status1b.json" doorstep status --db "$tmp/laptop1.sqlite" --json
check "$tmp/status1b.json" "d['pending'] == 1" "the $new_version CLI opens the $old_version laptop's database (migrated) with its unsynced change"
run 0 "$tmp/sync1c.json" doorstep sync --db "$tmp/laptop1.sqlite" --server "$server" --json
check "$tmp/sync1c.json" "d['summary']['pushed'] == 1 and d['pending'] == 0 and d['quarantine'] == 0" "the upgraded laptop synced it"
run 0 "$tmp/devices1.json" doorstep admin devices list --server "$server" --token "$admin" --json
[ "$(highest "$tmp/devices1.json" "$device1")" = 5 ] || fail "the server holds seqs up to $(highest "$tmp/devices1.json" "$device1") of the laptop's 5"
run 0 "$tmp/show1.json" doorstep households show "$household1" --db "$tmp/laptop1.sqlite" --json
check "$tmp/show1.json" "[h['value'] for h in d['household']['fields']['monthlyIncomeFen']] == [260000] and len([e for e in d['entities'] if e['kind'] == 'visit']) == 3" \
    "all 5 changes are on the server, and back on the laptop (3 visits, income 2600 yuan)"
stop_server

# ---------------------------------------------------------------------------------------------
step "新版笔记本，旧版服务器" "2. A new laptop against an old server; then the server upgraded under its unsynced work"
old
start_server "$tmp/server2"
run 0 "$tmp/code2.json" doorstep admin enroll-code --district "$district" --role visitor --server "$server" --token "$admin" --json
new
run 0 "$tmp/enroll2.json" doorstep enroll --db "$tmp/laptop2.sqlite" --server "$server" --code "$(value "$tmp/code2.json" "d['code']")" --name "新版笔记本" --json
device2=$(value "$tmp/enroll2.json" "d['device']")
run 0 "$tmp/new2.json" doorstep household new --db "$tmp/laptop2.sqlite" --name "孙示例癸" --national-id 150602197903154829 \
    --address "东胜区示例路88号2单元501室" --file-level national --cause unemployment --difficulty general --skill primary --income-yuan 900 --json
household2=$(value "$tmp/new2.json" "d['id']")
run 0 "$tmp/visit2.json" doorstep visit record "$household2" --db "$tmp/laptop2.sqlite" --mode atHome --verified income --conclusion eligible --visitor 李示例乙 --json
run 0 "$tmp/sync2.json" doorstep sync --db "$tmp/laptop2.sqlite" --json
check "$tmp/sync2.json" "d['summary']['pushed'] == 2 and d['pending'] == 0 and d['quarantine'] == 0" "$new_version laptop against the $old_version server: 2 changes synced"
run 0 "$tmp/edit2.json" doorstep household edit "$household2" --db "$tmp/laptop2.sqlite" --income-yuan 1,500 --json
stop_server
new
start_server "$tmp/server2"
run 0 "$tmp/sync2b.json" doorstep sync --db "$tmp/laptop2.sqlite" --server "$server" --json
check "$tmp/sync2b.json" "d['summary']['pushed'] == 1 and d['pending'] == 0 and d['quarantine'] == 0" \
    "its unsynced change synced once the server was upgraded"
run 0 "$tmp/devices2.json" doorstep admin devices list --server "$server" --token "$admin" --json
[ "$(highest "$tmp/devices2.json" "$device2")" = 3 ] || fail "the server holds seqs up to $(highest "$tmp/devices2.json" "$device2") of the laptop's 3"
run 0 "$tmp/show2.json" doorstep households show "$household2" --db "$tmp/laptop2.sqlite" --json
check "$tmp/show2.json" "[h['value'] for h in d['household']['fields']['monthlyIncomeFen']] == [150000]" \
    "the server holds all 3 of the new laptop's changes (income 1,500 yuan, typed with a comma)"
stop_server

step "完成" "Done in $(elapsed) s: both upgrade orders keep every unsynced change"
