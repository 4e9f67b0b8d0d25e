#!/usr/bin/env python3
"""Checks that every module a target's sources import is a declared dependency of that target.

SwiftPM's own `--explicit-target-dependency-import-check error` reports nothing on this
toolchain (6.3.1, Linux) even for a planted undeclared import of another target of the package,
so this does the same check from the package description (`swift package dump-package`) and
the sources' import lines. A product dependency counts as its module of the same name; the
toolchain's modules (Foundation, Testing, Synchronization, ...) need no declaration.
Prints each undeclared import as `path:line: target imports Module`; exits 1 when there is any.
"""
import json
import os
import re
import subprocess
import sys

TOOLCHAIN = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Dispatch",
             "Synchronization", "Testing", "XCTest", "_Concurrency", "Observation", "RegexBuilder", "os", "PackageDescription"}
IMPORT = re.compile(r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:public |package |internal |private |fileprivate )?import\s+(?:(?:struct|class|enum|protocol|func|var|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    package = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout)
    problems = []
    for target in package["targets"]:
        name = target["name"]
        declared = {name}
        for dependency in target.get("dependencies", []):
            for kind in ("byName", "target", "product"):
                if kind in dependency:
                    declared.add(dependency[kind][0])
        path = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", name)
        for folder, _, files in os.walk(os.path.join(root, path)):
            for file in sorted(files):
                if not file.endswith(".swift"):
                    continue
                full = os.path.join(folder, file)
                with open(full, encoding="utf-8") as source:
                    for number, line in enumerate(source, 1):
                        match = IMPORT.match(line)
                        if match and match.group(1) not in declared and match.group(1) not in TOOLCHAIN:
                            problems.append(f"{os.path.relpath(full, root)}:{number}: {name} imports {match.group(1)}")
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


main()
