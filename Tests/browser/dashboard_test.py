#!/usr/bin/env python3
"""Browser test of the office dashboard: a real doorstep-server, a real headless Chromium.

Starts `.build/debug/doorstep-server --port 0 --data <tmp>`, creates an office account through
POST /v1/admin/users, seeds a household with a conflict through the JSON API (two enrolled
laptops push concurrent edits), then drives Chromium with Selenium through sign-in, the
overview, the household page and one review confirm, checking what each page shows and saving
screenshots. See Tests/browser/README.md.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium must never try to download a driver.

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DISTRICT = "150602"
ACCOUNT, PASSWORD = "dongsheng.office", "browser-test-passphrase"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)
    print(f"  ok: {message}")


class Server:
    """A doorstep-server process in a temporary data folder."""

    def __init__(self, binary, data, port=0):
        self.data = data
        self.log = open(os.path.join(data, "server.log"), "a")
        address_file = os.path.join(data, "server.addr")
        if os.path.exists(address_file):
            os.remove(address_file)  # a restart on the same data: wait for this start's address
        self.process = subprocess.Popen([binary, "--port", str(port), "--data", data], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(address_file) and open(address_file).read().strip():
                break
            if self.process.poll() is not None:
                raise Failure(f"the server exited with {self.process.returncode}; see {self.log.name}")
            time.sleep(0.1)
        else:
            raise Failure("the server did not write server.addr within 30 seconds")
        self.base = open(address_file).read().strip()
        self.admin = open(os.path.join(data, "admin.token")).read().strip()

    def call(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Doorstep-Protocol", "1")
        request.add_header("Authorization", f"Bearer {token or self.admin}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def enroll(server, name):
    status, code = server.call("POST", "/v1/admin/enrollment-codes", {"district": DISTRICT, "role": "visitor"})
    check(status == 201, f"enrollment code for {name}")
    key = base64.b64encode(os.urandom(32)).decode()  # an Ed25519 public key is 32 bytes; pushes are not signed
    status, device = server.call("POST", "/v1/enroll", {"code": code["code"], "deviceName": name, "publicSigningKey": key}, token="-")
    check(status == 201, f"enrolled {name}")
    return device


def hlc(offset_ms=0):
    """A hybrid-logical-clock stamp: 12 hex digits of wall milliseconds, 4 of logical counter."""
    return f"{int(time.time() * 1000) + offset_ms:012x}0000"


def mutation(device, seq, stamp, op, kind, entity, household, fields):
    return {"device": device, "seq": seq, "hlc": stamp, "op": op, "kind": kind, "entity": entity, "household": household,
            "schema": 1, "fields": [{"field": f, "value": v, "base": b} for f, v, b in fields]}


def push(server, device, mutations, outcome="applied"):
    status, receipt = server.call("POST", "/v1/push", {"device": device["device"], "mutations": mutations, "protocolVersion": 1},
                                  token=device["token"])
    outcomes = [r.get("outcome") for r in (receipt or {}).get("results", [])] if status == 200 else receipt
    check(outcomes == [outcome] * len(mutations), f"push of {len(mutations)} mutation(s) by {device['device'][:8]}: {outcomes}")


def seed(server):
    """A filed household with a member and a visit, and a conflict on its address."""
    status, account = server.call("POST", "/v1/admin/users", {"name": ACCOUNT, "password": PASSWORD, "role": "office", "district": DISTRICT})
    check(status == 201 and account["district"] == DISTRICT and "password" not in account, "office account created through POST /v1/admin/users")
    first, second = enroll(server, "东胜走访笔记本一"), enroll(server, "东胜走访笔记本二")
    household = str(uuid.uuid4())
    created = hlc(-3000)
    facts = [("headName", "王建国", []), ("nationalId", "150602198307250026", []), ("phone", "15847702345", []),
             ("address", "东胜区林荫街道宝日陶亥社区12号楼1单元301室", []), ("district", DISTRICT, []),
             ("fileLevel", "national", []), ("primaryCause", "illness", []), ("difficulty", "deep", []),
             ("skillLevel", "none", []), ("monthlyIncomeFen", 150000, []), ("epidemicAffected", False, []), ("status", "candidate", [])]
    push(server, first, [
        mutation(first["device"], 1, created, "create", "household", household, household, facts),
        mutation(first["device"], 2, hlc(-2000), "create", "member", str(uuid.uuid4()), household,
                 [("name", "李秀英", []), ("relation", "spouse", []), ("health", "chronicIllness", []), ("employment", "unemployed", [])]),
        mutation(first["device"], 3, hlc(-1500), "create", "visit", str(uuid.uuid4()), household,
                 [("visitedAt", time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), []), ("visitor", "刘一", []),
                  ("mode", "atHome", []), ("conclusion", "eligible", [])]),
    ])
    base = [f"{created}@{first['device']}"]
    push(server, first, [mutation(first["device"], 4, hlc(-1000), "update", "household", household, household,
                                  [("address", "东胜区林荫路3号", base)])])
    push(server, second, [mutation(second["device"], 1, hlc(-500), "update", "household", household, household,
                                   [("address", "东胜区林荫路5号", base)])], outcome="conflict")
    status, _ = server.call("POST", f"/v1/households/{household}/status", {"to": "filed"})
    check(status == 200, "household filed by the office")
    status, queue = server.call("GET", "/v1/review")
    check(status == 200 and len(queue["conflicts"]) == 1, "one conflict waits for review")
    return household


def browser(window):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN", f"--window-size={window}"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def follow(driver, element):
    """Clicks a link or button and waits until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(driver):
        # Chromium may answer a check on the old page, mid-navigation, with "Node with given id
        # does not belong to the document" instead of a stale reference: the page is gone all the same.
        try:
            page.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):
            return True

    WebDriverWait(driver, 15).until(replaced)


def figure(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text.strip()


def run(server, shots):
    household = seed(server)
    driver = browser("1280,1600")
    try:
        def shot(name):
            path = os.path.join(shots, name)
            driver.save_screenshot(path)
            print(f"  screenshot: {path}")

        print("sign-in")
        driver.get(server.base + "/")
        check("/dashboard/signin" in driver.current_url, "signed out, / leads to the sign-in page")
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "the page is in Simplified Chinese")
        check(driver.find_element(By.CSS_SELECTOR, "label[for=password]").text == "密码", "the password field is labelled")
        shot("01-signin.png")
        driver.find_element(By.ID, "name").send_keys(ACCOUNT)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        follow(driver, driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]"))

        print("overview")
        check(driver.find_element(By.TAG_NAME, "h1").text == "工作总览", "signed in, the overview opens")
        check(figure(driver, "households") == "1", "one household in Dongsheng")
        check(figure(driver, "conflicts") == "1", "one conflict waiting for review")
        check(figure(driver, "status-filed") == "1", "the status chart counts the filed household")
        check(len(driver.find_elements(By.CSS_SELECTOR, "svg.chart")) == 3 and len(driver.find_elements(By.CSS_SELECTOR, "svg.progress")) == 3,
              "two bar charts, the campaign's weeks and three progress bars drawn as SVG")
        weeks = driver.find_element(By.CSS_SELECTOR, "svg.chart.weekly")
        check(len(weeks.find_elements(By.CSS_SELECTOR, "g[data-week]")) > 20 and weeks.size["width"] > 0,
              "the campaign's weeks drawn as a chart, a group per week")
        check(driver.find_element(By.CSS_SELECTOR, "header.top").value_of_css_property("background-color") in ("rgba(13, 59, 102, 1)", "rgb(13, 59, 102)"),
              "the inline style sheet applies (allowed by the Content-Security-Policy)")
        check("东胜走访笔记本一" in driver.find_element(By.ID, "table-devices").text, "each device's last sync is listed")
        shot("02-overview.png")
        driver.set_window_size(390, 1400)
        check(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling on a phone")
        shot("02-overview-phone.png")
        driver.set_window_size(1280, 1600)

        print("household")
        follow(driver, driver.find_element(By.LINK_TEXT, "困难家庭"))
        follow(driver, driver.find_element(By.LINK_TEXT, "王建国"))
        check(household in driver.current_url, "the household list opens the household")
        check(figure(driver, "status") == "在档", "the household is filed")
        page = driver.find_element(By.TAG_NAME, "main").text
        for text in ["李秀英", "配偶", "入户核实", "东胜区林荫路", "修改记录", "有冲突待审核"]:
            check(text in page, f"the household page shows {text}")
        check(len(driver.find_elements(By.CSS_SELECTOR, "#table-history tbody tr")) >= 15, "the change history lists every write")
        shot("03-household.png")

        print("review")
        follow(driver, driver.find_element(By.LINK_TEXT, "待审核"))
        conflict = driver.find_element(By.CSS_SELECTOR, "article[data-conflict]")
        check("东胜区林荫路3号" in conflict.text and "东胜区林荫路5号" in conflict.text, "both values side by side")
        check("东胜走访笔记本一" in conflict.text and "东胜走访笔记本二" in conflict.text, "with their writers")
        shot("04-review.png")
        shown = conflict.find_element(By.CSS_SELECTOR, ".head.shown .value").text
        follow(driver, conflict.find_element(By.CSS_SELECTOR, "form[action^='/dashboard/review/confirm'] button"))
        check(driver.find_element(By.CSS_SELECTOR, "p.flash").text == "已确认。", "the confirm is reported")
        check(not driver.find_elements(By.CSS_SELECTOR, "article[data-conflict]"), "no conflict is left")
        shot("05-review-confirmed.png")
        status, queue = server.call("GET", "/v1/review")
        check(status == 200 and not queue["conflicts"], "the JSON review queue agrees")
        status, aggregate = server.call("GET", f"/v1/households/{household}")
        heads = aggregate["household"]["fields"]["address"]
        check([h["value"] for h in heads] == [shown], f"the address is the confirmed value {shown}")

        print("language switch")
        follow(driver, driver.find_element(By.CSS_SELECTOR, "a.lang"))
        check(driver.find_element(By.TAG_NAME, "h1").text == "Review queue", "English by the switch")
        driver.get(server.base + "/dashboard")
        check(driver.find_element(By.TAG_NAME, "h1").text == "Overview", "the choice is remembered")
        shot("06-overview-en.png")
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.path.join(ROOT, ".build", "debug", "doorstep-server"), help="the doorstep-server binary")
    parser.add_argument("--screenshots", default=None, help="folder for the screenshots (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the server's data folder")
    args = parser.parse_args()
    shots = args.screenshots or tempfile.mkdtemp(prefix="doorstep-screenshots-")
    os.makedirs(shots, exist_ok=True)
    data = tempfile.mkdtemp(prefix="doorstep-browser-")
    server = None
    try:
        server = Server(args.server, data)
        print(f"server at {server.base}, data in {data}")
        run(server, shots)
        print(f"PASS: dashboard browser test; screenshots in {shots}")
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
        if server:
            server.stop()
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
