#!/usr/bin/env python3
"""Schemathesis against a running doorstep-server (issue 7, hostile input).

Starts the built `doorstep-server` on a temporary data folder and port 0, enrolls a visitor and an
office device, then runs Schemathesis against the server's own `GET /openapi.yaml`, authenticated
as the visitor, the office and the city's admin token in turn, and finally the unauthenticated
enrollment (last: failed enrollment codes rate-limit the address, as documented). Checks: no 5xx,
and every status, content type, header and body conforms to the document. Exits non-zero on any
failure, or if the server died.

    python3 Tests/schemathesis/run.py                        # CI: 25 cases per operation and role
    SCHEMATHESIS_MAX_EXAMPLES=500 python3 Tests/schemathesis/run.py   # a long run by hand
    python3 Tests/schemathesis/run.py --strict               # also negative_data_rejection, positive_data_acceptance

Needs `pip install schemathesis` and `swift build` first.
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

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection"
STRICT = ",positive_data_acceptance"


def call(base, method, path, token=None, body=None):
    headers = {"Doorstep-Protocol": "1", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def enroll(base, admin, district, role):
    status, code = call(base, "POST", "/v1/admin/enrollment-codes", admin, {"district": district, "role": role})
    assert status == 201, (status, code)
    key = base64.b64encode(os.urandom(32)).decode()
    status, device = call(base, "POST", "/v1/enroll", None, {"code": code["code"], "deviceName": "schemathesis " + role, "publicSigningKey": key})
    assert status == 201, (status, device)
    return device


def seed_data(base, visitor):
    """One household with a visit, so that pulls and reports have something to answer."""
    household = "6f1c2a9e-3b1d-4c5e-9f00-1a2b3c4d5e6f"
    fields = {"headName": "测试户主", "nationalId": "150602198507011230", "address": "测试街 1 号", "district": "150602",
              "fileLevel": "national", "primaryCause": "illness", "difficulty": "general", "skillLevel": "none",
              "monthlyIncomeFen": 120000, "epidemicAffected": False, "status": "candidate"}
    mutation = {"device": visitor["device"], "seq": 1, "hlc": "%012x0000" % int(time.time() * 1000), "schema": 1, "op": "create",
                "kind": "household", "entity": household, "household": household,
                "fields": [{"field": k, "value": v, "base": []} for k, v in sorted(fields.items())]}
    status, receipt = call(base, "POST", "/v1/push", visitor["token"], {"protocolVersion": 1, "device": visitor["device"], "mutations": [mutation]})
    assert status == 200, (status, receipt)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-binary", default=os.path.join(ROOT, ".build", "debug", "doorstep-server"))
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SCHEMATHESIS_SEED", "20200430")))
    parser.add_argument("--strict", action="store_true", help="also require invalid input to be refused and valid input accepted")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and reports")
    args = parser.parse_args()

    st = shutil.which("schemathesis") or shutil.which("st")
    if not st:
        sys.exit("schemathesis is not installed: python3 -m pip install schemathesis")
    if not os.access(args.server_binary, os.X_OK):
        sys.exit(f"no doorstep-server at {args.server_binary}: run swift build first")

    work = tempfile.mkdtemp(prefix="doorstep-schemathesis-")
    data = os.path.join(work, "data")
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([args.server_binary, "--port", "0", "--data", data], stdout=log, stderr=subprocess.STDOUT)
    failed = []
    try:
        address = os.path.join(data, "server.addr")
        for _ in range(600):
            if os.path.exists(address) and open(address).read().strip():
                break
            if server.poll() is not None:
                sys.exit("doorstep-server exited at start; see " + log.name)
            time.sleep(0.05)
        base = open(address).read().strip()
        admin = open(os.path.join(data, "admin.token")).read().strip()
        visitor = enroll(base, admin, "150602", "visitor")
        office = enroll(base, admin, "150602", "office")
        seed_data(base, visitor)
        checks = CHECKS + (STRICT if args.strict else "")
        config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
        common = [st, "--config-file", config, "run", base + "/openapi.yaml", "--url", base, "--checks", checks, "--max-examples", str(args.max_examples),
                  "--seed", str(args.seed), "--workers", "1", "--request-timeout", "30", "--no-shrink",
                  "--suppress-health-check", "all", "--warnings", "off"]
        runs = [
            ("visitor device token", ["-H", "Authorization: Bearer " + visitor["token"], "--exclude-operation-id", "enroll"]),
            ("office device token", ["-H", "Authorization: Bearer " + office["token"], "--exclude-operation-id", "enroll"]),
            ("admin token", ["-H", "Authorization: Bearer " + admin, "--exclude-operation-id", "enroll"]),
            ("enrollment, no token (last: past ten bad codes the address is slowed)", ["--include-operation-id", "enroll"]),
        ]
        for label, extra in runs:
            report = os.path.join(work, "report-" + label.split()[0].strip(","))
            print(f"== schemathesis as {label}", flush=True)
            started = time.time()
            result = subprocess.run(common + extra + ["--report", "junit", "--report-dir", report], cwd=work)
            print(f"== {label}: exit {result.returncode} after {time.time() - started:.0f} s", flush=True)
            if result.returncode != 0:
                failed.append(label)
            if server.poll() is not None:
                failed.append("the server died")
                break
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()
    server_log = open(os.path.join(work, "server.log")).read()
    internal = [line for line in server_log.splitlines() if "request failed" in line]
    if internal:
        failed.append(f"{len(internal)} internal error(s) in the server log, e.g. {internal[0]}")
    if failed:
        print("schemathesis: FAILED: " + "; ".join(failed) + f" (work folder {work})")
        sys.exit(1)
    print(f"schemathesis: every response conformed to openapi.yaml, no 5xx ({args.max_examples} cases per operation and role)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
