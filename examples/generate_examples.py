#!/usr/bin/env python3
"""Regenerates the bundled example logs (deterministic: the same files every time).

    python3 examples/generate_examples.py

web/clickstream.jsonl        today's web-shop clickstream (the live file)
web/clickstream.jsonl.1.gz   yesterday's, rotated and compressed by logrotate
catalog/catalog-updates.jsonl  catalog upserts from the product service
users/profile-updates.jsonl    profile changes from the account service
"""
import datetime as dt
import gzip
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261126)

SKUS = [f"SKU-{1000 + i}" for i in range(40)]
CATEGORIES = ["shoes", "running", "outdoor", "socks", "jackets", "bags", "accessories"]
BRANDS = ["Acme", "Northwind", "Contoso", "Fabrikam"]
DEVICES = ["mobile", "desktop", "tablet"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def clickstream(start, count):
    lines = []
    t = start
    users = [f"u-{1000 + i}" for i in range(25)]
    sessions = {}
    for n in range(count):
        t += dt.timedelta(seconds=rng.randint(1, 40))
        if rng.random() < 0.08:
            lines.append({"ts": iso(t), "level": "info", "msg": "health check ok", "path": "/healthz"})
            continue
        user = rng.choice(users)
        if user not in sessions or rng.random() < 0.05:
            sessions[user] = f"s-{rng.getrandbits(32):08x}"
        sku = rng.choice(SKUS)
        event = rng.choices(["product_view", "product_click", "add_to_cart", "purchase"], [60, 25, 10, 5])[0]
        record = {
            "ts": iso(t),
            "level": "info",
            "msg": "shop event",
            "event": event,
            "user": {"id": user, "segment": rng.choice(["new", "returning"])},
            "session": sessions[user],
            "product": {"sku": sku, "price": round(rng.uniform(5, 180), 2)},
            "page": f"/p/{sku}",
            "device": rng.choice(DEVICES),
        }
        if event == "product_click":
            record["rec"] = {"id": f"rec-{rng.getrandbits(24):06x}", "shown": rng.sample(SKUS, 5)}
        if event == "purchase":
            record["order"] = {"id": f"o-{n:05d}", "quantity": rng.randint(1, 3)}
        lines.append(record)
    return lines


def catalog(start):
    t = start
    lines = []
    for sku in SKUS[:30]:
        t += dt.timedelta(minutes=rng.randint(1, 30))
        lines.append({
            "time": int(t.timestamp()),
            "type": "catalog.upsert",
            "item": {
                "id": sku,
                "categories": rng.sample(CATEGORIES, rng.randint(1, 3)),
                "price": round(rng.uniform(5, 180), 2),
                "brand": rng.choice(BRANDS),
                "inStock": rng.random() < 0.9,
            },
        })
    return lines


def profiles(start):
    t = start
    lines = []
    for i in range(20):
        t += dt.timedelta(minutes=rng.randint(1, 90))
        lines.append({
            "timestamp": t.strftime("%Y-%m-%d %H:%M:%S"),
            "type": "profile.updated",
            "userId": f"u-{1000 + i}",
            "profile": {"membership": rng.choice(["basic", "silver", "gold"]), "ageBand": rng.choice(["18-24", "25-34", "35-44", "45+"])},
        })
    return lines


def write_jsonl(path, records, gz=False):
    data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
    full = os.path.join(HERE, "logs", path)
    if gz:
        with open(full, "wb") as f:
            f.write(gzip.compress(data, mtime=0))
    else:
        with open(full, "wb") as f:
            f.write(data)


day = dt.datetime(2026, 11, 25, 8, 0, 0, tzinfo=dt.timezone.utc)
write_jsonl("web/clickstream.jsonl.1.gz", clickstream(day, 120), gz=True)
write_jsonl("web/clickstream.jsonl", clickstream(day + dt.timedelta(days=1), 180))
write_jsonl("catalog/catalog-updates.jsonl", catalog(day))
write_jsonl("users/profile-updates.jsonl", profiles(day))
