"""Checks JSON documents against the schemas of protocol/openapi.yaml (ContractTests).

Usage: validate.py OPENAPI.yaml SAMPLES.json
SAMPLES.json maps a schema name of components/schemas to a list of documents. Each document is
validated against its schema (JSON Schema 2020-12, as OpenAPI 3.1 uses), with every object schema
that lists properties and says nothing of others made closed, so that a key the schema does not
name is an error. Each schema's properties that no document of it carries are reported too, so
that a type with a field the contract lacks, or a contract field the type lacks, fails.
Prints one line per problem; exits 1 when there is any.
"""
import json
import sys

import yaml
from jsonschema import Draft202012Validator


def closed(node):
    if isinstance(node, dict):
        node = {key: closed(value) for key, value in node.items()}
        if "properties" in node and "additionalProperties" not in node and not any(k in node for k in ("allOf", "oneOf", "anyOf")):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [closed(item) for item in node]
    return node


def main():
    document = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    samples = json.load(open(sys.argv[2], encoding="utf-8"))
    components = closed(document["components"])
    problems = []
    for name, instances in samples.items():
        if name not in components["schemas"]:
            problems.append(f"{name}: no such schema in components/schemas")
            continue
        validator = Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": components})
        carried = set()
        for index, instance in enumerate(instances):
            for error in validator.iter_errors(instance):
                path = "/".join(str(part) for part in error.absolute_path)
                problems.append(f"{name}[{index}] at /{path}: {error.message}")
            if isinstance(instance, dict):
                carried.update(instance.keys())
        declared = set(components["schemas"][name].get("properties", {}).keys())
        for missing in sorted(declared - carried):
            problems.append(f"{name}: property {missing} is in the contract but in no document of the type")
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


main()
