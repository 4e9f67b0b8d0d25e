#!/usr/bin/env bash
# A working day of the campaign, end to end, on this machine, with synthetic data (走访日全流程演示).
#
# A server in a temporary folder; district 150602 (东胜区) seeded from the sample generator; an
# office (旗区工会) and two visitors (走访人员) enrolled, each with its own database (--db); the
# office decides a few statuses and compares the roster; the server stops and both visitors work
# offline: visits, the SAME household's income changed by both (a conflict), and ONE new
# household filed by both (a duplicate); the server comes back on a new port; the day-end sync,
# the review of the conflict and the duplicate, FieldApp (the library as a desktop app uses it),
# the field app (doorstep app) through its HTTP pages, and the campaign report. Every step's result is checked: the script exits non-zero, saying
# which promise did not hold, if one does not.
#
#   Samples/day-end.sh                               (well under a minute once built)
#   DOORSTEP_SAMPLE_LANG=en Samples/day-end.sh       (the CLI's output in English)
#
# See Samples/lib.sh for the other settings. Needs swift and python3.

source "$(dirname "$0")/lib.sh"

district=150602
sample_households=20

step "准备：编译" "Build the server, the CLI, the sample generator and FieldApp"
setup day-end
say "临时文件夹 temporary folder: $tmp (removed at the end)"

# ---------------------------------------------------------------------------------------------
step "合成示例数据（非真实人员）" "Synthetic sample data: the generator, and the committed sample it must reproduce"
say "doorstep-sample-data makes households with fictitious names (…示例…), valid national IDs,"
say "members, causes, incomes around each district's minimum-living standard, and a civil-affairs"
say "roster (民政低保名单) with differences planted on purpose."
run 0 "$tmp/gen-all.txt" "$bin/doorstep-sample-data" --seed 2020 --households-per-district 20 --out "$tmp/sample-all"
python3 - "$tmp/sample-all" "Samples/data/sample" <<'PY' || fail "Samples/data/sample is not what the generator makes with seed 2020: regenerate it (see Samples/data/README.md)"
import json, sys
made, committed = sys.argv[1], sys.argv[2]
for name in ("households.csv", "roster.csv"):
    with open(f"{made}/{name}", "rb") as a, open(f"{committed}/{name}", "rb") as b:
        if a.read() != b.read():
            print(f"   {name} differs", file=sys.stderr); sys.exit(1)
with open(f"{made}/households.json", encoding="utf-8") as a, open(f"{committed}/households.json", encoding="utf-8") as b:
    if json.load(a) != json.load(b):
        print("   households.json differs", file=sys.stderr); sys.exit(1)
PY
ok "the generator with seed 2020 makes exactly the committed Samples/data/sample (200 households, 10 districts)"
run 0 "$tmp/gen.txt" "$bin/doorstep-sample-data" --seed 2020 --households-per-district "$sample_households" --districts "$district" --out "$tmp/sample"
indent <"$tmp/gen.txt"
sample="$tmp/sample"
check "$sample/households.json" "len(d['households']) == $sample_households and all(h['household']['district'] == '$district' for h in d['households'])" \
    "$sample_households households of district $district"
python3 - "$sample/households.csv" <<'PY' || fail "households.csv is not UTF-8 with a byte-order mark and Chinese headers"
import sys
data = open(sys.argv[1], "rb").read()
assert data.startswith(b"\xef\xbb\xbf"), "no BOM"
assert data[3:].decode("utf-8").split("\r\n")[0].startswith("户主姓名,身份证号"), "headers"
PY
ok "households.csv is UTF-8 with a BOM (for Excel) and Chinese headers (户主姓名, 身份证号 …)"
python3 - "$sample/households.json" "$tmp/sample-all/households.json" <<'PY' || fail "a district's households depend on which other districts were generated"
import json, sys
one = json.load(open(sys.argv[1], encoding="utf-8"))["households"]
every = [h for h in json.load(open(sys.argv[2], encoding="utf-8"))["households"] if h["household"]["district"] == "150602"]
sys.exit(0 if one == every else 1)
PY
ok "the same seed makes the same households for $district whether or not other districts are generated"

# ---------------------------------------------------------------------------------------------
step "启动服务器" "Start a server in the temporary folder (port 0: a free port, written to server.addr)"
start_server "$tmp/server"
first_server=$server
say "server: $server   data: $tmp/server   city administrator's token: $tmp/server/admin.token"
ok "the server answers GET /health at $server"

# ---------------------------------------------------------------------------------------------
step "导入 $district 东胜区的困难户档案" "Seed district $district: import the households file (doorstep admin import)"
say "First a dry run (--check): every row is checked, nothing is imported."
run 0 "$tmp/check.json" doorstep admin import "$sample/households.csv" --check --server "$server" --token "$admin" --json
check "$tmp/check.json" "d['dryRun'] and d['imported'] == $sample_households and d['errors'] == []" \
    "the dry run finds $sample_households importable rows and no problem"
run 0 "$tmp/import.json" doorstep admin import "$sample/households.csv" --server "$server" --token "$admin" --json
check "$tmp/import.json" "not d['dryRun'] and d['imported'] == $sample_households and d['skipped'] == 0" \
    "imported $sample_households households (status 在档 filed)"

# ---------------------------------------------------------------------------------------------
step "登记旗区工会的设备" "Enroll the district office's computer (an office code from the city administrator)"
run 0 "$tmp/office-code.json" doorstep admin enroll-code --district "$district" --role office --server "$server" --token "$admin" --json
office_code=$(value "$tmp/office-code.json" "d['code']")
say "one-time office code: $office_code"
office="$tmp/office.sqlite"
run 0 "$tmp/office-enroll.json" doorstep enroll --db "$office" --server "$server" --code "$office_code" --name "东胜区工会办公室" --json
check "$tmp/office-enroll.json" "d['role'] == 'office' and d['district'] == '$district'" "the office's computer is enrolled as 旗区工会 (office) of $district"
run 0 "$tmp/office-sync.json" doorstep sync --db "$office" --json
check "$tmp/office-sync.json" "d['summary']['pulledHouseholds'] == $sample_households" "its first sync downloads the district's $sample_households households"

# ---------------------------------------------------------------------------------------------
step "旗区工会决定状态，并与民政低保名单比对" "The office decides statuses earlier visits called for, then compares the civil-affairs roster"
say "households.json names the households the sample means to exit (laterStatus). The office"
say "records each decision on its computer (doorstep household status), then syncs."
decisions=$(value "$sample/households.json" "' '.join(h['household']['nationalId'] + ':' + h['laterStatus'] for h in d['households'] if h.get('laterStatus'))")
decided=0
for decision in $decisions; do
    national_id=${decision%%:*}
    status=${decision##*:}
    run 0 "$tmp/search.json" doorstep households search "$national_id" --db "$office" --json
    id=$(value "$tmp/search.json" "d[0]['id'] if len(d) == 1 else ''")
    [ -n "$id" ] || fail "the office's computer does not find exactly one household with national ID ${national_id:0:6}…"
    run 0 "$tmp/decide.json" doorstep household status "$id" --to "$status" --db "$office" --json
    say "  ${id:0:8} → $status"
    decided=$((decided + 1))
done
[ "$decided" -gt 0 ] || fail "the sample has no status decisions for $district"
run 0 "$tmp/office-sync2.json" doorstep sync --db "$office" --json
check "$tmp/office-sync2.json" "d['summary']['pushed'] == $decided and d['pending'] == 0 and d['quarantine'] == 0" \
    "the sync sends the $decided decisions and the server accepts them"
say "Now the roster (数据比对): match on national ID, list the differences, change nothing."
show doorstep roster compare "$sample/roster.csv" --db "$office"
run 0 "$tmp/roster.json" doorstep roster compare "$sample/roster.csv" --db "$office" --json
expected=$(value "$sample/households.json" "[len([m for m in d['roster']['mismatches'] if m['district'] == '$district' and m['kind'] == k]) for k in ('inRosterNotOnFile', 'onFileNotInRoster', 'disagreement')]")
check "$tmp/roster.json" "[len(d['inRosterNotOnFile']), len(d['onFileNotInRoster']), len(d['disagreements'])] == $expected and d['invalidRows'] == []" \
    "the comparison finds exactly the differences the generator planted [extra, missing, disagreements] = $expected"

# ---------------------------------------------------------------------------------------------
step "登记两位走访人员的笔记本" "Enroll two visitors' laptops with codes the office issues from its own computer"
visitor_a="$tmp/visitor-a.sqlite"
visitor_b="$tmp/visitor-b.sqlite"
for who in a b; do
    run 0 "$tmp/code-$who.json" doorstep admin enroll-code --db "$office" --district "$district" --role visitor --json
    code=$(value "$tmp/code-$who.json" "d['code']")
    if [ "$who" = a ]; then db=$visitor_a; name="张示例甲的笔记本"; else db=$visitor_b; name="李示例乙的笔记本"; fi
    run 0 "$tmp/enroll-$who.json" doorstep enroll --db "$db" --server "$server" --code "$code" --name "$name" --json
    check "$tmp/enroll-$who.json" "d['role'] == 'visitor' and d['district'] == '$district'" "$name is enrolled as a visitor (走访人员) of $district"
    run 0 "$tmp/sync-$who.json" doorstep sync --db "$db" --json
    check "$tmp/sync-$who.json" "d['summary']['pulledHouseholds'] == $sample_households" "$name downloads the district's $sample_households households"
done

# ---------------------------------------------------------------------------------------------
step "断网：服务器停止" "No network: the server stops (killed, and waited for)"
stop_server
reachable "$first_server" && fail "the server still answers at $first_server"
ok "nothing answers at $first_server any more"
run 3 "$tmp/offline-sync.json" doorstep sync --db "$visitor_a" --retries 1 --json
ok "a sync attempt exits 3 (sync incomplete: server unreachable); the laptop keeps its work"

# ---------------------------------------------------------------------------------------------
step "离线走访" "Both visitors work offline: visits, the same household's income, the same new household"
run 0 "$tmp/list-a.json" doorstep households list --db "$visitor_a" --status filed --json
target=$(value "$tmp/list-a.json" "d[0]['id']")
target_name=$(value "$tmp/list-a.json" "d[0]['headName']")
other_a=$(value "$tmp/list-a.json" "d[1]['id']")
other_b=$(value "$tmp/list-a.json" "d[2]['id']")
say "Both visit ${target_name} (${target:0:8}) and each writes down the monthly income found there:"
say "  visitor A: 1500 yuan, visitor B: 1650 yuan: the same field changed twice from the same value."
run 0 "$tmp/a-visit1.json" doorstep visit record "$target" --db "$visitor_a" --mode atHome \
    --verified income,members --conclusion eligible --observed-income-yuan 1500 --visitor 张示例甲 --json
run 0 "$tmp/a-edit.json" doorstep household edit "$target" --db "$visitor_a" --income-yuan 1500 --json
run 0 "$tmp/a-visit2.json" doorstep visit record "$other_a" --db "$visitor_a" --mode atHome \
    --verified cause,income --conclusion eligible --visitor 张示例甲 --json
run 0 "$tmp/b-visit1.json" doorstep visit record "$target" --db "$visitor_b" --mode atHome \
    --verified income --conclusion eligible --observed-income-yuan 1650 --visitor 李示例乙 --json
run 0 "$tmp/b-edit.json" doorstep household edit "$target" --db "$visitor_b" --income-yuan 1650 --json
run 0 "$tmp/b-visit2.json" doorstep visit record "$other_b" --db "$visitor_b" --mode online \
    --verified members --conclusion needsFollowUp --visitor 李示例乙 --json
ok "visits and income updates recorded on both laptops, offline"

say "A household the files do not have yet: both visitors meet it and each files it (新建档案, candidate);"
say "B writes the address in a shorter form."
new_id=$(python3 -c '
body = "150602" + "19790315" + "482"
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
print(body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11])')
run 0 "$tmp/a-new.json" doorstep household new --db "$visitor_a" --name "赵示例丁" --national-id "$new_id" \
    --address "东胜区示例路88号2单元501室" --file-level national --cause unemployment --difficulty general \
    --skill primary --income-yuan 900 --epidemic yes --notes "合成示例数据" --json
run 0 "$tmp/b-new.json" doorstep household new --db "$visitor_b" --name "赵示例丁" --national-id "$new_id" \
    --address "东胜区示例路88号2-501" --file-level national --cause unemployment --difficulty general \
    --skill primary --income-yuan 900 --epidemic yes --notes "合成示例数据" --json
new_a=$(value "$tmp/a-new.json" "d['id']")
new_b=$(value "$tmp/b-new.json" "d['id']")
ok "the same person (national ID ${new_id:0:6}********${new_id:14}) filed on both laptops: ${new_a:0:8} and ${new_b:0:8}"
run 0 "$tmp/a-status.json" doorstep status --db "$visitor_a" --json
run 0 "$tmp/b-status.json" doorstep status --db "$visitor_b" --json
check "$tmp/a-status.json" "d['pending'] == 4" "visitor A's laptop holds 4 changes waiting for a sync"
check "$tmp/b-status.json" "d['pending'] == 4" "visitor B's laptop holds 4 changes waiting for a sync"

# ---------------------------------------------------------------------------------------------
step "服务器恢复（新端口）" "The server comes back on the same data folder, at a new address"
start_server "$tmp/server"
say "old address: $first_server   new address: $server"
ok "the server answers at $server with the same data"

# ---------------------------------------------------------------------------------------------
step "日终同步" "Day-end sync: each visitor sends the day's work (sync --server: the enrolled server at its new address)"
run 0 "$tmp/day-end-a.json" doorstep sync --db "$visitor_a" --server "$server" --json
check "$tmp/day-end-a.json" "d['summary']['pushed'] == 4 and d['summary']['conflicts'] == 0 and d['pending'] == 0 and d['quarantine'] == 0" \
    "visitor A: 4 changes applied, no conflict (A is first), nothing left pending"
run 0 "$tmp/day-end-b.json" doorstep sync --db "$visitor_b" --server "$server" --json
check "$tmp/day-end-b.json" "d['summary']['pushed'] == 4 and d['summary']['conflicts'] == 2 and d['pending'] == 0 and d['quarantine'] == 0" \
    "visitor B: 4 changes applied, 2 of them in conflict (the income A also changed; the address of the household A also filed), nothing lost"
run 0 "$tmp/day-end-a2.json" doorstep sync --db "$visitor_a" --server "$server" --json
run 0 "$tmp/list-a2.json" doorstep households list --db "$visitor_a" --json
check "$tmp/list-a2.json" "[h['conflicts'] for h in d if h['id'] == '$target'] == [1]" \
    "after syncing again, visitor A's laptop shows ${target_name}'s open conflict too"

# ---------------------------------------------------------------------------------------------
step "FieldApp：桌面程序调用客户端库" "FieldApp on visitor A's laptop: list, record a follow-up visit, sync while observing"
say "Samples/FieldApp uses DoorstepClient as a desktop application would (open, list, record, observe, sync)."
run 0 "$tmp/fieldapp.txt" "$bin/FieldApp" --db "$visitor_a" --server "$server" --list --limit 5 --record-visit "${other_a:0:8}" --sync
indent <"$tmp/fieldapp.txt"
grep -q "open conflict" "$tmp/fieldapp.txt" || fail "FieldApp's list does not show the open conflict"
grep -q "^sync done: pushed 1, " "$tmp/fieldapp.txt" || fail "FieldApp's sync did not send its one visit"
ok "FieldApp lists the households (with the conflict), records a visit on the laptop and syncs it (pushed 1)"
if grep -q "note: the list observation has not reported" "$tmp/fieldapp.txt"; then
    say "⚠ FieldApp's observation (FieldClient.observeHouseholds) did not report the sync's changes:"
    say "  a DoorstepClient issue (its households table is WITHOUT ROWID, which GRDB's observation"
    say "  cannot see); the list itself is right, as the note shows. Not a failure of this walk-through."
fi

# ---------------------------------------------------------------------------------------------
step "走访助手：doorstep app" "The field app on visitor A's laptop, through its HTTP pages: worklist, home verification, sync"
say "doorstep app serves the visitor's pages on 127.0.0.1 (a browser opens them; here python3 plays"
say "the browser): the address it prints holds a secret that becomes a cookie, every form a token."
say "The server moved this morning and the laptop still knows its old address: the app's first sync"
say "fails, its sync page asks for the new address, checks that the same server answers there, and"
say "the second sync goes through."
"$bin/doorstep" app --db "$visitor_a" --no-browser --port 0 >"$tmp/app.txt" 2>&1 &
app_pid=$!
waited=0
until grep -qo 'http://127\.0\.0\.1:[0-9]*/?key=[A-Za-z0-9_-]*' "$tmp/app.txt"; do
    running "$app_pid" || fail "doorstep app stopped while starting: $(cat "$tmp/app.txt")"
    [ "$waited" -lt 300 ] || fail "doorstep app printed no address within 30 s"
    sleep 0.1
    waited=$((waited + 1))
done
app_address=$(grep -o 'http://127\.0\.0\.1:[0-9]*/?key=[A-Za-z0-9_-]*' "$tmp/app.txt" | head -1)
say "the app: ${app_address%%\?*} (the secret not shown)"
python3 - "$app_address" "$other_b" "$tmp/app-result.json" "$server" <<'PY' || fail "the field app's day did not go as a visitor expects (see above)"
import http.cookiejar, json, re, sys, time, urllib.error, urllib.parse, urllib.request
address, household, out, server = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
base = address.split("/?")[0]
class Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), Keep())
def call(path, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with browser.open(path if path.startswith("http") else base + path, data=data, timeout=30) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers, answer.read().decode()
def hidden(page, name):
    found = re.search(r'name="%s" value="([^"]+)"' % name, page)
    assert found, f"no {name} on the page"
    return found.group(1)
status, headers, _ = call("/")
assert status == 403, f"without the secret the app shows nothing ({status})"
status, headers, _ = call(address)
assert status == 303 and "HttpOnly" in headers.get("Set-Cookie", ""), "the secret becomes an HttpOnly cookie"
status, _, page = call("/")
assert status == 200 and "工作清单" in page, "the worklist is the first page"
assert f"/households/{household}" in page and "上次走访需跟进" in page, "visitor B's follow-up visit puts that household on A's worklist"
print("   the worklist shows the household visitor B asked to follow up (上次走访需跟进)")
path = f"/households/{household}/verify"
status, _, form = call(path)
assert status == 200, f"the home verification form ({status})"
day = time.strftime("%Y-%m-%d", time.localtime(time.time() - 86400))
fields = [("csrf", hidden(form, "csrf")), ("nonce", hidden(form, "nonce")), ("visit.visitedAt", day + "T10:30"),
          ("visit.visitor", "张示例甲"), ("visit.mode", "atHome"), ("visit.verified", "income"), ("visit.conclusion", "eligible"),
          ("visit.observedIncomeFen", "两千六"), ("fact.monthlyIncomeFen", "2600元")]
status, _, refused = call(path, fields)
assert status == 422 and "两千六" in refused, f"an income written in words is refused next to the field, what was typed kept ({status})"
print("   \"两千六\" is refused next to the field, before anything is saved; typed again as 2600元")
fields = [(k, v) for k, v in fields if k not in ("csrf", "nonce", "visit.observedIncomeFen")]
status, _, form = call(path)
fields = [("csrf", hidden(form, "csrf")), ("nonce", hidden(form, "nonce")), ("visit.observedIncomeFen", "2600元")] + fields
status, headers, _ = call(path, fields)
assert status == 303 and "done=verified" in headers.get("Location", ""), f"the home verification is saved ({status})"
status, _, page = call(headers["Location"])
assert "2600.00 元" in page and "入户核实已保存" in page, "the household page shows the corrected income"
print("   saved in one local transaction: the visit and the income correction (2600.00 元)")
def sync():
    status, _, page = call("/")
    status, headers, _ = call("/sync", [("csrf", hidden(page, "csrf"))])
    assert status == 303, f"the sync starts ({status})"
    for _ in range(600):
        status, _, page = call("/sync")
        if 'data-sync="summary"' in page or 'data-sync="failed"' in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the sync did not end within a minute")
page = sync()
assert 'data-sync="failed"' in page and "「服务器地址」" in page, "the old address does not answer: the sync page says so"
assert '<details data-sync="server" open>' in page, "and opens the new-address form"
print("   the first sync fails at the old address; the sync page asks for the new one")
status, _, refused = call("/sync/server", [("csrf", hidden(page, "csrf")), ("server", "不是地址")])
assert status == 422 and "请填写服务器地址" in refused, f"an address that is no address is refused next to the field ({status})"
status, headers, _ = call("/sync/server", [("csrf", hidden(page, "csrf")), ("server", server)])
assert status == 303 and "done=serverMoved" in headers.get("Location", ""), f"the same server answers at the new address ({status})"
print("   the new address is checked (the same server answers there) and kept")
page = sync()
pushed = re.search(r'data-figure="pushed">(\d+)<', page)
figures = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page))
assert pushed and pushed.group(1) == "2", f"the sync sends the visit and the correction: {figures or page[page.find('<main'):][:1500]}"
print("   the sync page's summary: 2 sent")
json.dump({"pushed": int(pushed.group(1))}, open(out, "w"))
PY
kill "$app_pid" 2>/dev/null || true
wait "$app_pid" 2>/dev/null || true
app_pid=""
run 0 "$tmp/app-check.json" doorstep review show "$other_b" --server "$server" --token "$admin" --json
check "$tmp/app-check.json" "[h['value'] for h in d['household']['household']['fields']['monthlyIncomeFen']] == [260000]" \
    "the server holds the income the app saved: 2600元 as 260000 fen, not a hundred times less"

# ---------------------------------------------------------------------------------------------
step "旗区工会审核" "The office's review queue: two conflicts and a duplicate"
say "The office's computer is enrolled with the old address, and the CLI's office commands take a"
say "new address only with a token: from here on they use the city administrator's token"
say "(--server $server --token …), which sees district $district like its office."
office_args=(--server "$server" --token "$admin")
show doorstep review list --district "$district" "${office_args[@]}"
run 0 "$tmp/review.json" doorstep review list --district "$district" "${office_args[@]}" --json
check "$tmp/review.json" "len(d['conflicts']) == 2 and [c['record']['field'] for c in d['conflicts'] if c['record']['household'] == '$target'] == ['monthlyIncomeFen']" \
    "two conflicts wait; one is ${target_name}'s monthly income (monthlyIncomeFen)"
check "$tmp/review.json" "[sorted(h['value'] for h in c['record']['heads']) for c in d['conflicts'] if c['record']['household'] == '$target'] == [[150000, 165000]]" \
    "both incomes are kept for the office to see: 1500.00 and 1650.00 yuan (in fen: 150000, 165000)"
check "$tmp/review.json" "[sorted([x['survivor'], x['alias']]) for x in d['duplicates']] == [sorted(['$new_a', '$new_b'])]" \
    "one duplicate waits: the two files of national ID ${new_id:0:6}…, linked as survivor and alias"
survivor=$(value "$tmp/review.json" "d['duplicates'][0]['survivor']")
check "$tmp/review.json" "[c['record']['field'] for c in d['conflicts'] if c['record']['household'] == '$survivor'] == ['address']" \
    "the other conflict is the duplicate's address, written two ways: the linked files are merged field by field"

# ---------------------------------------------------------------------------------------------
step "处理冲突" "The income conflict: look at both values, then confirm the one shown (review confirm)"
show doorstep review show "${target:0:8}" "${office_args[@]}"
run 0 "$tmp/confirm.json" doorstep review confirm "${target:0:8}" monthlyIncomeFen "${office_args[@]}" --json
check "$tmp/confirm.json" "d['outcome'] == 'applied'" "the office confirms the income shown (marked >); the server applies the decision"
run 0 "$tmp/after-confirm.json" doorstep review show "$target" "${office_args[@]}" --json
kept=$(value "$tmp/after-confirm.json" "[h['value'] for h in d['household']['household']['fields']['monthlyIncomeFen']]")
check "$tmp/after-confirm.json" "d['conflicts'] == [] and $kept in ([150000], [165000])" \
    "${target_name}'s income has one value now ($kept fen), and no open conflict"

# ---------------------------------------------------------------------------------------------
step "查看重复档案" "The duplicate: one household filed twice (不重复: no one twice)"
show doorstep review show "${survivor:0:8}" "${office_args[@]}"
run 0 "$tmp/dup.json" doorstep review show "$survivor" "${office_args[@]}" --json
alias=$(value "$tmp/review.json" "d['duplicates'][0]['alias']")
check "$tmp/dup.json" "len(d['duplicates']) == 1 and d['household']['aliases'] == ['$alias']" \
    "the two files are one household on the server (the alias points to the survivor), counted once"
say "The office keeps the full address (review overturn sets the value it chooses):"
run 0 "$tmp/overturn.json" doorstep review overturn "${survivor:0:8}" address "东胜区示例路88号2单元501室" "${office_args[@]}" --json
check "$tmp/overturn.json" "d['outcome'] == 'applied'" "the server applies the decision"
run 0 "$tmp/after-overturn.json" doorstep review show "$survivor" "${office_args[@]}" --json
check "$tmp/after-overturn.json" "[h['value'] for h in d['household']['household']['fields']['address']] == ['东胜区示例路88号2单元501室']" \
    "the household's address is the one the office chose"
run 0 "$tmp/review2.json" doorstep review list --district "$district" "${office_args[@]}" --json
check "$tmp/review2.json" "d['conflicts'] == [] and len(d['duplicates']) == 1" "no conflict waits any more; the duplicate link stays on record (counted as 重复 twice)"
say "Were they two different households, the office would separate them: doorstep review unlink SURVIVOR ALIAS."

# ---------------------------------------------------------------------------------------------
step "督查考核报表" "The campaign report for district $district (doorstep report), and its CSV for Excel"
say "The 2020 campaign's stages are long past and these files were created today, so visit coverage"
say "and the exit rates have nothing to count yet (shown as -); files by status, duplicates (重复),"
say "the review queue, causes and devices are today's."
show doorstep report --district "$district" "${office_args[@]}"
run 0 "$tmp/report.json" doorstep report --district "$district" "${office_args[@]}" --json
run 0 "$tmp/report-csv.txt" doorstep report --district "$district" "${office_args[@]}" --csv "$tmp/report.csv"
section="d['districts'][0]"
check "$tmp/report.json" "$section['district'] == '$district' and $section['households'] == $sample_households + 1" \
    "$((sample_households + 1)) households: the $sample_households imported and the new one, counted once"
check "$tmp/report.json" "$section['twice'] == 1" "twice (重复): 1 duplicate link"
expected_status=$(value "$sample/households.json" "{s: sum(1 for h in d['households'] if h.get('laterStatus') == s) for s in ('outOfHardship', 'safetyNet', 'closed')}")
check "$tmp/report.json" "{s: $section['filesByStatus']['now'].get(s, 0) for s in ('outOfHardship', 'safetyNet', 'closed')} == $expected_status and $section['filesByStatus']['now'].get('candidate', 0) == 1" \
    "files by status now: the office's decisions $expected_status and 1 candidate (the new household)"
check "$tmp/report.json" "$section['review']['conflicts'] == 0" "no conflict waiting for review"
python3 - "$tmp/report.csv" <<'PY' || fail "the report's CSV is not UTF-8 with a BOM holding the district's row"
import sys
data = open(sys.argv[1], "rb").read()
assert data.startswith(b"\xef\xbb\xbf")
assert "150602" in data.decode("utf-8") or "东胜区" in data.decode("utf-8")
PY
ok "report.csv: UTF-8 with a BOM (opens in Excel with the Chinese intact), one row for $district and the total"
python3 -c 'import sys; [print(line[:90] + ("…" if len(line) > 90 else "")) for line in open(sys.argv[1], encoding="utf-8-sig").read().splitlines()[:3]]' "$tmp/report.csv" | indent

printf '\n%s✓ 全部步骤均已核对 all steps checked%s: the day-end walk-through took %ss.\n' "$green" "$plain" "$(elapsed)"
