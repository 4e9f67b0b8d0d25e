#!/usr/bin/env python3
"""Browser test of the field app (`doorstep app`): a real doorstep-server, a real field app, a
real headless Chromium.

A visitor's day, as issue 18 describes it: the laptop is enrolled from the app's first page,
syncs, finds a household, records a home verification with a correction typed as `2600元` and a
new assistance item while the server is stopped, is stopped before filing a household whose
national ID the laptop already holds, syncs when the server is back, and the office sees the
result on its dashboard; an edit made at the same time by a second laptop is shown as a conflict
on both; a revoked laptop is told where its unsent work went. The local server's own checks
(the secret, the Host, the form token) are tried from outside the browser. Screenshots of each
page are saved. See Tests/browser/README.md.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium must never try to download a driver.

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from dashboard_test import DISTRICT, Failure, Server, browser, check, enroll, follow, hlc, mutation, push  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ACCOUNT, PASSWORD = "dongsheng.office", "browser-test-passphrase"
NATIONAL_ID = "150602198307250026"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class App:
    """A `doorstep app` process on a laptop database in a temporary folder."""

    def __init__(self, binary, folder):
        self.log_path = os.path.join(folder, "app.log")
        self.log = open(self.log_path, "w")
        database = os.path.join(folder, "laptop", "doorstep.sqlite")
        self.process = subprocess.Popen(
            [binary, "app", "--no-browser", "--db", database],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "LANG": "zh_CN.UTF-8"})
        for _ in range(300):
            text = open(self.log_path).read()
            match = re.search(r"http://127\.0\.0\.1:(\d+)/\?key=(\S+)", text)
            if match:
                break
            if self.process.poll() is not None:
                raise Failure(f"the app exited with {self.process.returncode}: {text}")
            time.sleep(0.1)
        else:
            raise Failure("the app printed no address within 30 seconds")
        self.address = match.group(0)
        self.base = f"http://127.0.0.1:{match.group(1)}"
        self.key = match.group(2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def answer(url, headers=None):
    """The status of a GET from outside the browser (no cookie unless given)."""
    request = urllib.request.Request(url, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def seed(server):
    """An office account, and one household filed by a colleague's laptop."""
    status, _ = server.call("POST", "/v1/admin/users", {"name": ACCOUNT, "password": PASSWORD, "role": "office", "district": DISTRICT})
    check(status == 201, "office account created")
    colleague = enroll(server, "东胜走访笔记本二")
    household = str(uuid.uuid4())
    created = hlc(-60_000)
    facts = [("headName", "王建国", []), ("nationalId", NATIONAL_ID, []), ("phone", "15847702345", []),
             ("address", "东胜区林荫街道宝日陶亥社区12号楼1单元301室", []), ("district", DISTRICT, []),
             ("fileLevel", "national", []), ("primaryCause", "illness", []), ("difficulty", "deep", []),
             ("skillLevel", "none", []), ("monthlyIncomeFen", 150000, []), ("epidemicAffected", False, []), ("status", "candidate", [])]
    push(server, colleague, [mutation(colleague["device"], 1, created, "create", "household", household, household, facts)])
    return household, colleague, f"{created}@{colleague['device']}"


def wait_for_sync(driver):
    """Waits until the sync page (which refreshes itself while the sync runs) shows its end."""
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-sync=summary], [data-sync=failed], [data-sync=revoked]"))


def fill(driver, name, value):
    element = driver.find_element(By.NAME, name)
    if element.tag_name == "select":
        Select(element).select_by_value(value)
    else:
        element.clear()
        element.send_keys(value)


def focused(driver):
    """The element that has the keyboard's focus."""
    return driver.switch_to.active_element


def focus_is_visible(driver):
    """Whether the focused element shows a focus ring (an outline or a shadow)."""
    return driver.execute_script(
        "const s = getComputedStyle(document.activeElement);"
        "return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';")


def tab_to(driver, matches, what, limit=80):
    """Presses Tab until `matches(element)` holds for the focused element, each stop with a visible focus ring."""
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = focused(driver)
        if element.tag_name != "body":
            check(focus_is_visible(driver), f"a visible focus ring on {element.tag_name} {element.get_attribute('name') or element.text[:20]}")
        if matches(element):
            return element
    raise Failure(f"{what} is not reached by the Tab key")


def keyboard_only(driver, app, household):
    """A home verification with the keyboard alone: Tab, typing, arrow keys and Enter, no mouse."""
    driver.get(app.base + "/?all=1")  # verified at home today: found among every household
    driver.execute_script("if (document.activeElement) document.activeElement.blur();")  # nothing focused yet
    link = tab_to(driver, lambda e: e.tag_name == "a" and e.text == "王建国", "the household's link on the worklist")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 15).until(lambda d: d.current_url.rstrip("/").endswith(household))
    verify = tab_to(driver, lambda e: e.tag_name == "a" and e.text == "入户核实", "the home verification link")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/verify"))
    controls = [e for e in driver.find_elements(By.CSS_SELECTOR, "main form input, main form select, main form textarea, main form button")
                if e.get_attribute("type") != "hidden"]
    check(all(int(e.get_attribute("tabIndex") or 0) >= 0 for e in controls), "every control of the form takes the focus")
    visitor = tab_to(driver, lambda e: e.get_attribute("name") == "visit.visitor", "the visitor field")
    ActionChains(driver).send_keys("张三").perform()
    conclusion = tab_to(driver, lambda e: e.get_attribute("name") == "visit.conclusion", "the conclusion")
    for _ in range(10):
        if Select(conclusion).first_selected_option.get_attribute("value") == "eligible":
            break
        ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()
    check(Select(conclusion).first_selected_option.get_attribute("value") == "eligible", "a choice made with the arrow keys")
    seen = []
    submit = None
    for _ in range(120):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = focused(driver)
        seen.append(element)
        if element.tag_name == "button" and element.get_attribute("type") == "submit":
            submit = element
            break
    check(submit is not None, "Tab reaches the form's save button")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 15).until(lambda d: "done=verified" in d.current_url)
    check("入户核实已保存" in driver.find_element(By.CSS_SELECTOR, "p.flash").text, "saved with the keyboard alone")


def run(server_binary, app_binary, folder, shots):
    port = free_port()
    data = os.path.join(folder, "server")
    os.makedirs(data)
    server = Server(server_binary, data, port)  # a fixed port: the laptop finds the server again after a restart
    household, colleague, created = seed(server)
    app = App(app_binary, folder)
    driver = browser("1366,768")
    try:
        def shot(name):
            path = os.path.join(shots, name)
            driver.save_screenshot(path)
            print(f"  screenshot: {path}")

        print("the local server's own checks")
        status, text = answer(app.base + "/")
        check(status == 403 and "王建国" not in text, "without the secret: 403")
        status, _ = answer(app.base + "/", {"Host": f"evil.example:{app.base.rsplit(':', 1)[1]}"})
        check(status == 421, "another host name (DNS rebinding): 421")
        status, _ = answer(app.base + "/?key=wrong")
        check(status == 403, "a wrong key: 403")

        print("enrollment")
        driver.get(app.address)
        check(driver.current_url.endswith("/enroll"), "a laptop not enrolled opens on the enrollment page")
        check("key=" not in driver.current_url, "the secret leaves the address bar")
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "in Simplified Chinese")
        shot("app-01-enroll.png")
        status, code = server.call("POST", "/v1/admin/enrollment-codes", {"district": DISTRICT, "role": "visitor"})
        check(status == 201, "an enrollment code from the office")
        fill(driver, "server", server.base)
        fill(driver, "code", code["code"])
        fill(driver, "name", "张三的笔记本")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]"))
        check("本机已登记" in driver.find_element(By.CSS_SELECTOR, "p.flash").text, "enrolled")

        print("first sync")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "[data-action=sync]"))
        wait_for_sync(driver)
        check(driver.find_element(By.CSS_SELECTOR, '[data-figure="pulledHouseholds"]').text == "1", "one household received")
        shot("app-02-synced.png")

        print("worklist")
        follow(driver, driver.find_element(By.LINK_TEXT, "工作清单"))
        rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-household]")
        check(len(rows) == 1 and "王建国" in rows[0].text and "本阶段尚未入户核实" in rows[0].text, "the household waits for its home visit, with why")
        check(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling at 1366×768")
        shot("app-03-worklist.png")
        fill(driver, "q", NATIONAL_ID[-4:])
        driver.find_element(By.NAME, "q").send_keys(Keys.ENTER)
        WebDriverWait(driver, 15).until(lambda d: "q=" in d.current_url)
        check("王建国" in driver.find_element(By.TAG_NAME, "main").text, "found by the last digits of the national ID")

        print("home verification, offline")
        server.stop()
        follow(driver, driver.find_element(By.LINK_TEXT, "王建国"))
        follow(driver, driver.find_element(By.LINK_TEXT, "入户核实"))
        shot("app-04-verify-form.png")
        check(driver.find_element(By.NAME, "visit.visitor").get_attribute("value") == "", "the visitor's name is asked, not guessed")
        fill(driver, "visit.visitor", "张三")
        fill(driver, "visit.conclusion", "eligible")
        fill(driver, "visit.observedIncomeFen", "两千")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        problem = driver.find_element(By.ID, "e-visit.observedIncomeFen").text
        check(problem != "" and "incom" not in problem.lower(), f"a typing mistake is explained in Chinese beside the field: {problem}")
        shot("app-05-verify-problem.png")
        fill(driver, "visit.observedIncomeFen", "2600元")
        fill(driver, "fact.monthlyIncomeFen", "2600元")
        for name, value in [("assistance.category", "employment"), ("assistance.measure", "推荐到物业公司上岗"),
                            ("assistance.leadDepartment", "humanResources"), ("assistance.status", "planned")]:
            fill(driver, name, value)
        driver.execute_script("document.getElementsByName('assistance.dueDate')[0].value = '2030-03-01'")
        # A photo of the income certificate, chosen in the file control (protocol 1.4).
        photo = os.path.join(folder, "收入证明.jpg")
        with open(photo, "wb") as out:
            out.write(bytes([0xFF, 0xD8, 0xFF, 0xE0]) + "王建国的收入证明".encode() + bytes(range(256)) * 40)
        driver.find_element(By.NAME, "documents").send_keys(photo)
        fill(driver, "documentCaption", "2020年3月收入证明")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        main = driver.find_element(By.TAG_NAME, "main").text
        check("入户核实已保存" in main and "2600.00 元" in main and "推荐到物业公司上岗" in main, "saved: the correction, the item and the visit")
        check("收入证明.jpg" in main and "2020年3月收入证明" in main, "the photo is listed on the household page")
        check("4 条修改未发送" in driver.find_element(By.CSS_SELECTOR, "[data-status=pending]").text, "four changes wait to be sent")
        shot("app-06-household.png")

        print("a duplicate caught at the door")
        follow(driver, driver.find_element(By.LINK_TEXT, "新建档案"))
        for name, value in [("headName", "王建国"), ("nationalId", NATIONAL_ID), ("address", "东胜区某街1号"), ("fileLevel", "national"),
                            ("primaryCause", "illness"), ("difficulty", "general"), ("skillLevel", "none"), ("monthlyIncomeFen", "1,500")]:
            fill(driver, name, value)
        follow(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        check(driver.find_elements(By.CSS_SELECTOR, f'[data-match="{household}"]'), "the file already on the laptop is offered instead")
        shot("app-07-duplicate.png")

        print("sync when the server is back; a colleague's edit at the same time")
        server = Server(server_binary, data, port)
        push(server, colleague, [mutation(colleague["device"], 2, hlc(), "update", "household", household, household,
                                          [("address", "东胜区林荫路5号", [created])])])
        follow(driver, driver.find_element(By.CSS_SELECTOR, f'[data-match="{household}"]'))
        follow(driver, driver.find_element(By.LINK_TEXT, "修改档案"))
        fill(driver, "address", "东胜区林荫路3号")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        follow(driver, driver.find_element(By.CSS_SELECTOR, "[data-action=sync]"))
        wait_for_sync(driver)
        check(driver.find_element(By.CSS_SELECTOR, '[data-figure="pushed"]').text == "5", "five changes sent")
        check(driver.find_element(By.CSS_SELECTOR, '[data-figure="conflicts"]').text == "1", "one conflict")
        shot("app-08-synced-conflict.png")
        driver.get(app.base + f"/households/{household}")
        conflict = driver.find_element(By.CSS_SELECTOR, "[data-conflict=address]").text
        check("林荫路3号" in conflict and "林荫路5号" in conflict, f"the conflict in words on the laptop: {conflict}")
        status, aggregate = server.call("GET", f"/v1/households/{household}")
        check(aggregate["household"]["fields"]["monthlyIncomeFen"][0]["value"] == 260000, "the server holds 2600元 as 260000 fen")

        print("the office's dashboard")
        office = browser("1366,900")
        try:
            office.get(server.base + f"/dashboard/households/{household}")
            office.find_element(By.ID, "name").send_keys(ACCOUNT)
            office.find_element(By.ID, "password").send_keys(PASSWORD)
            follow(office, office.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]"))
            page = office.find_element(By.TAG_NAME, "main").text
            for text in ["推荐到物业公司上岗", "¥2,600.00", "入户核实", "有冲突待审核", "收入证明.jpg", "2020年3月收入证明"]:
                check(text in page, f"the office sees {text}")
            # The photo reached the server after the changes, and opens in the office's browser.
            office.find_element(By.LINK_TEXT, "收入证明.jpg").click()
            WebDriverWait(office, 15).until(lambda d: "/attachments/" in d.current_url)
            check(office.execute_script("return document.contentType") == "image/jpeg", "the photo opens as a JPEG in the office's browser")
            office.back()
            office.save_screenshot(os.path.join(shots, "app-09-dashboard.png"))
        finally:
            office.quit()

        print("keyboard only")
        keyboard_only(driver, app, household)
        shot("app-10-keyboard.png")

        print("language switch")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "a.lang"))
        check(driver.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "en", "English by the switch")
        check("Home verification" in driver.find_element(By.TAG_NAME, "main").text, "the page in English")
        shot("app-11-english.png")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "a.lang"))

        print("print sheet")
        driver.get(app.base + f"/households/{household}/print")
        check("困难职工家庭入户核实表" in driver.find_element(By.TAG_NAME, "main").text, "the verification sheet")
        shot("app-12-print.png")

        print("revocation")
        status, listing = server.call("GET", "/v1/admin/devices")
        device = next(d for d in listing["devices"] if d["name"] == "张三的笔记本")
        status, _ = server.call("POST", f"/v1/admin/devices/{device['id']}/revoke")
        check(status == 200, "the office revokes the laptop")
        driver.get(app.base + "/sync")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "[data-action=sync]"))
        wait_for_sync(driver)
        check(driver.find_elements(By.CSS_SELECTOR, "[data-sync=revoked]"), "the laptop is told it was revoked")
        shot("app-13-revoked.png")
    except Exception:
        driver.save_screenshot(os.path.join(shots, "app-failure.png"))
        print(f"  the page at the failure: {os.path.join(shots, 'app-failure.png')}, {driver.current_url}")
        raise
    finally:
        driver.quit()
        app.stop()
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.path.join(ROOT, ".build", "debug", "doorstep-server"), help="the doorstep-server binary")
    parser.add_argument("--doorstep", default=os.path.join(ROOT, ".build", "debug", "doorstep"), help="the doorstep binary")
    parser.add_argument("--screenshots", default=None, help="folder for the screenshots (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the data folders")
    args = parser.parse_args()
    shots = args.screenshots or tempfile.mkdtemp(prefix="doorstep-screenshots-")
    os.makedirs(shots, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="doorstep-field-app-")
    try:
        run(args.server, args.doorstep, folder, shots)
        print(f"PASS: field app browser test; screenshots in {shots}")
        return 0
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # a Selenium or network error: report it as a failure, with its trace
        import traceback
        traceback.print_exc()
        print(f"FAIL: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
