#!/usr/bin/env python3
"""Walks botocore's Personalize Events service model and writes every string and list member's constraints, with
test values and the model's verdict on each, for ModelConstraintTests (an oracle independent of Limits.swift).

    python3 Tests/PersonalizeModelTests/Fixtures/make_model_constraints.py

Writes model_constraints.json: {"botocore": version, "recordsPerCall": {operation: max},
"members": [{"path": "PutEvents.eventList[].itemId", "kind": "string" | "list", "min", "max", "pattern",
"candidates": [{"text": s | "unit": u, "count": n, "valid": bool}]}]}.

A value is valid when its length (Unicode scalars for strings, elements for lists) is within [min, max] and the
whole value matches the pattern (the service's Java validators use String.matches). Only pattern candidates on
which Python's and Java's regex dialects agree are kept: no "\\r" or other line terminators Java's "." refuses and
Python's accepts, no non-ASCII digits (Python's "\\d" takes them), and the anchored and unanchored search agree.
"""
import json
import os
import re

import botocore
import botocore.session

model = botocore.session.get_session().get_service_model("personalize-events")

# Values aimed at each pattern's edges: spaces only, control characters, non-ASCII, partitions, missing parts.
PATTERN_PROBES = [
    "", " ", "   ", " a ", "a", "~", "!", "a b", "\t", "a\tb", "\x7f", "a\x7f", "\x1f", "caf\u00e9", "\u00a0",
    "a\n", "\n", "x" * 3,
    "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS", "arn:aws:personalize:::x",
    "arn::personalize:r:a:x", "arn:AWS:personalize:r:a:x", "arn:aws-cn:personalize:r:a:x", "arn:a1-b:personalize:r:a:x",
    "arn:aws:s3:r:a:x", "arn:aws:personalize:r:a:", "arn:aws:personalize:r:a", "arn:aws:personalize:r\n:a:x",
    "arn:aws:personalize:r:a:x\n", "arn:aws:personalize:r:a:x:y", "arn:a_b:personalize:r:a:x",
    "arn:aws:personalize:r:a:x y", "arn:aws:personalize:r:\ta:x", "arn:aws:personalize:r:a:\u00e9",
]
JAVA_DOT_REFUSES = ["\r", "\u0085", "\u2028", "\u2029"]


def valid_string(shape, s):
    n = len(s)  # Python counts code points, as the model's lengths do
    if "min" in shape.metadata and n < shape.metadata["min"]:
        return False
    if "max" in shape.metadata and n > shape.metadata["max"]:
        return False
    pattern = shape.metadata.get("pattern")
    return pattern is None or re.fullmatch(pattern, s) is not None


def unambiguous(pattern, s):
    if any(c in s for c in JAVA_DOT_REFUSES) or any(c.isdigit() and not c.isascii() for c in s):
        return False
    return (re.fullmatch(pattern, s) is None) == (re.search(pattern, s) is None)


def string_candidates(shape):
    lo = shape.metadata.get("min", 0)
    hi = shape.metadata.get("max")
    pattern = shape.metadata.get("pattern")
    out = []
    lengths = sorted({max(0, lo - 1), lo, lo + 1} | ({hi - 1, hi, hi + 1} if hi else set()))
    if pattern and pattern.startswith("arn:"):
        base = "arn:aws:personalize:us-east-1:123456789012:dataset/"
        for n in lengths:
            if n > len(base):
                s = base + "x" * (n - len(base))
                out.append({"prefix": base, "unit": "x", "count": n - len(base), "valid": valid_string(shape, s)})
    else:
        for unit in ["x", "\u00e9", "\U0001F600"]:
            for n in lengths:
                out.append({"unit": unit, "count": n, "valid": valid_string(shape, unit * n)})
    if pattern:
        for s in PATTERN_PROBES:
            if unambiguous(pattern, s):
                out.append({"text": s, "valid": valid_string(shape, s)})
    return out


members = []
records_per_call = {}


def walk(shape, path, top):
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            walk(member, f"{path}.{name}", top)
    elif shape.type_name == "list":
        if top and shape.member.type_name == "structure":
            # A request's record list: the batcher's business (at most this many records per call).
            records_per_call[path.split(".")[0]] = shape.metadata["max"]
            walk(shape.member, path + "[]", False)
            return
        lo, hi = shape.metadata.get("min", 0), shape.metadata.get("max")
        members.append({"path": path, "kind": "list", "min": lo, "max": hi, "candidates": [
            {"count": n, "valid": lo <= n <= hi} for n in sorted({max(0, lo - 1), lo, hi, hi + 1})]})
        walk(shape.member, path + "[]", False)
    elif shape.type_name == "string":
        members.append({"path": path, "kind": "string", "min": shape.metadata.get("min", 0),
                        "max": shape.metadata.get("max"), "pattern": shape.metadata.get("pattern"),
                        "candidates": string_candidates(shape)})


for op in sorted(model.operation_names):
    walk(model.operation_model(op).input_shape, op, True)

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "model_constraints.json"), "w") as f:
    json.dump({"botocore": botocore.__version__, "recordsPerCall": records_per_call, "members": members}, f,
              indent=1, ensure_ascii=True)
    f.write("\n")
print(f"{len(members)} members, {sum(len(m['candidates']) for m in members)} candidates")
