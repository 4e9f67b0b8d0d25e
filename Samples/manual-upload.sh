#!/usr/bin/env bash
# Work carried on a USB stick when there is no network (离线数据包手工上传演示).
#
# A visitor's laptop with no network exports its unsynced work to an encrypted, signed bundle
# file (doorstep bundle export); another machine (another database, with the administrator's
# token) uploads it (doorstep upload); uploading it again changes nothing (every receipt says
# alreadyApplied, the report's figures and the household's visits are unchanged); when the
# laptop syncs at last, its work is confirmed, not applied twice. Every step's result is
# checked: the script exits non-zero, saying which promise did not hold, if one does not.
#
#   Samples/manual-upload.sh                          (well under a minute once built)
#
# See Samples/lib.sh for the settings. Needs swift and python3.

source "$(dirname "$0")/lib.sh"

district=150602
households=10

step "准备：编译" "Build the server, the CLI and the sample generator"
setup manual-upload
say "临时文件夹 temporary folder: $tmp (removed at the end)"

# ---------------------------------------------------------------------------------------------
step "服务器与示例数据" "A server in the temporary folder, district $district seeded with $households synthetic households"
run 0 "$tmp/gen.txt" "$bin/doorstep-sample-data" --seed 2020 --households-per-district "$households" --districts "$district" --out "$tmp/sample"
start_server "$tmp/server"
first_server=$server
say "server: $server"
run 0 "$tmp/import.json" doorstep admin import "$tmp/sample/households.csv" --server "$server" --token "$admin" --json
check "$tmp/import.json" "d['imported'] == $households" "imported $households households of $district"

# ---------------------------------------------------------------------------------------------
step "登记走访人员的笔记本" "Enroll a visitor's laptop and download the district"
laptop="$tmp/laptop.sqlite"
run 0 "$tmp/code.json" doorstep admin enroll-code --district "$district" --role visitor --server "$server" --token "$admin" --json
run 0 "$tmp/enroll.json" doorstep enroll --db "$laptop" --server "$server" --code "$(value "$tmp/code.json" "d['code']")" --name "王示例丙的笔记本" --json
check "$tmp/enroll.json" "d['role'] == 'visitor'" "the laptop is enrolled as a visitor of $district"
run 0 "$tmp/sync.json" doorstep sync --db "$laptop" --json
check "$tmp/sync.json" "d['summary']['pulledHouseholds'] == $households" "it holds the district's $households households"

# ---------------------------------------------------------------------------------------------
step "没有网络" "No network: the server is out of reach (stopped), the visitor works on"
stop_server
reachable "$first_server" && fail "the server still answers at $first_server"
run 3 "$tmp/offline.json" doorstep sync --db "$laptop" --retries 1 --json
ok "sync exits 3 (server unreachable): nothing is lost, the work waits on the laptop"
run 0 "$tmp/list.json" doorstep households list --db "$laptop" --status filed --json
first=$(value "$tmp/list.json" "d[0]['id']")
second=$(value "$tmp/list.json" "d[1]['id']")
run 0 "$tmp/v1.json" doorstep visit record "$first" --db "$laptop" --mode atHome --verified income,members --conclusion eligible --visitor 王示例丙 --json
run 0 "$tmp/v2.json" doorstep visit record "$second" --db "$laptop" --mode atHome --verified income --conclusion eligible \
    --observed-income-yuan 2100 --proposed-status outOfHardship --visitor 王示例丙 --json
run 0 "$tmp/edit.json" doorstep household edit "$second" --db "$laptop" --income-yuan 2100 --json
new_id=$(python3 -c '
body = "150602" + "19860921" + "274"
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
print(body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11])')
run 0 "$tmp/new.json" doorstep household new --db "$laptop" --name "钱示例壬" --national-id "$new_id" --address "东胜区样例巷7号1单元302室" \
    --file-level national --cause illness --difficulty deep --skill none --income-yuan 700 --notes "合成示例数据" --json
run 0 "$tmp/status.json" doorstep status --db "$laptop" --json
check "$tmp/status.json" "d['pending'] == 4" "4 changes wait on the laptop: two visits, an income update, a new household"

# ---------------------------------------------------------------------------------------------
step "导出数据包" "Export the unsynced work to a bundle file (doorstep bundle export), e.g. onto a USB stick"
mkdir -p "$tmp/usb"
bundle="$tmp/usb/wang-laptop.dsbundle"
run 0 "$tmp/export.json" doorstep bundle export --db "$laptop" --out "$bundle" --json
check "$tmp/export.json" "d['written'] and d['mutations'] == 4" "the bundle holds the 4 changes"
[ -s "$bundle" ] || fail "no bundle file at $bundle"
if grep -q -e "$new_id" -e "钱示例壬" "$bundle"; then fail "the bundle shows a national ID or a name in clear text"; fi
ok "the file ($(wc -c <"$bundle" | tr -d ' ') bytes) is encrypted to the server's key: no name or national ID in clear"
run 0 "$tmp/status2.json" doorstep status --db "$laptop" --json
check "$tmp/status2.json" "d['pending'] == 4" "the laptop still counts the 4 changes as pending until a sync confirms them"

# ---------------------------------------------------------------------------------------------
step "另一台电脑上传数据包" "Another machine (another database, the administrator's token) uploads the bundle (doorstep upload)"
start_server "$tmp/server"
say "the server is reachable again at $server (only from the office's machine, not from the laptop)"
office=(--db "$tmp/office-pc.sqlite" --server "$server" --token "$admin")
run 0 "$tmp/report-before.json" doorstep report --district "$district" "${office[@]}" --json
check "$tmp/report-before.json" "d['districts'][0]['households'] == $households" "before the upload the server has $households households of $district"
run 0 "$tmp/upload1.json" doorstep upload "$bundle" "${office[@]}" --json
value "$tmp/upload1.json" "'receipt: applied %(applied)s, already applied %(alreadyApplied)s, conflicts %(conflicts)s, rejected %(rejected)s, held for review %(heldForReview)s' % d[0]" | indent
check "$tmp/upload1.json" "len(d) == 1 and d[0]['applied'] == 4 and d[0]['alreadyApplied'] == 0 and d[0]['rejected'] == 0 and not d[0]['heldForReview'] and d[0].get('error') is None" \
    "the server applies the 4 changes from the file"
run 0 "$tmp/report-after1.json" doorstep report --district "$district" "${office[@]}" --json
check "$tmp/report-after1.json" "d['districts'][0]['households'] == $households + 1" "the district now has $((households + 1)) households (the new one is there)"
run 0 "$tmp/first-after1.json" doorstep review show "$first" "${office[@]}" --json
check "$tmp/first-after1.json" "sum(1 for e in d['household']['entities'] if e['kind'] == 'visit') == 1" "the first household has the visit, once"

# ---------------------------------------------------------------------------------------------
step "再次上传：不重复" "Upload the same file again, twice: nothing changes (不重复)"
show doorstep upload "$bundle" "${office[@]}"
run 0 "$tmp/upload2.json" doorstep upload "$bundle" "${office[@]}" --json
check "$tmp/upload2.json" "len(d) == 1 and d[0]['applied'] == 0 and d[0]['alreadyApplied'] == 4 and d[0]['rejected'] == 0 and d[0].get('error') is None" \
    "each time every receipt says alreadyApplied: 4 already applied, 0 applied"
run 0 "$tmp/report-after2.json" doorstep report --district "$district" "${office[@]}" --json
python3 - "$tmp/report-after1.json" "$tmp/report-after2.json" <<'PY' || fail "the report's figures changed after uploading the same bundle again"
import json, sys
def figures(path):
    section = json.load(open(path, encoding="utf-8"))["districts"][0]
    # Everything the report counts; the devices' last-seen times are not counts.
    return {key: value for key, value in section.items() if key not in ("devices", "clockFlaggedDevices")}
before, after = figures(sys.argv[1]), figures(sys.argv[2])
for key in sorted(set(before) | set(after)):
    if before.get(key) != after.get(key):
        print(f"   {key}: {before.get(key)} -> {after.get(key)}", file=sys.stderr)
sys.exit(0 if before == after else 1)
PY
ok "the report's figures are the same as after the first upload ($((households + 1)) households, files by status, review queue …)"
run 0 "$tmp/first-after2.json" doorstep review show "$first" "${office[@]}" --json
check "$tmp/first-after2.json" "sum(1 for e in d['household']['entities'] if e['kind'] == 'visit') == 1" "the first household still has its visit once"
run 0 "$tmp/review.json" doorstep review list --district "$district" "${office[@]}" --json
check "$tmp/review.json" "d['conflicts'] == [] and d['duplicates'] == []" "no conflict and no duplicate came of it"

# ---------------------------------------------------------------------------------------------
step "笔记本恢复联网" "The laptop gets a network again and syncs: its work is confirmed, not sent twice"
run 0 "$tmp/late-sync.json" doorstep sync --db "$laptop" --server "$server" --json
check "$tmp/late-sync.json" "d['summary']['pushed'] == 0 and d['summary']['alreadyApplied'] == 4 and d['pending'] == 0" \
    "the sync is answered alreadyApplied for all 4 and nothing is pending on the laptop any more"
run 0 "$tmp/report-final.json" doorstep report --district "$district" "${office[@]}" --json
check "$tmp/report-final.json" "d['districts'][0]['households'] == $households + 1" "the server still has $((households + 1)) households"

printf '\n%s✓ 全部步骤均已核对 all steps checked%s: the manual upload walk-through took %ss.\n' "$green" "$plain" "$(elapsed)"
