#!/usr/bin/env python3
"""Reference client: boto3 PutEvents, up to 10 events per call, one userId+sessionId per call.

  boto3_baseline.py FILE ENDPOINT [LIMIT]

Reads JSON lines, maps them like bench/config.json's shop-events mapping, keeps a pending list per
(user, session) and sends it when it holds 10 events (and every leftover at the end). Prints the number of
events sent. botocore signs with SigV4 (credentials from the environment).
"""
import datetime
import hashlib
import json
import sys

import boto3
from botocore.config import Config

TYPES = {"product_view": "View", "product_click": "Click", "add_to_cart": "AddToCart", "purchase": "Purchase"}


def main():
    path, endpoint = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
    client = boto3.client("personalize-events", endpoint_url=endpoint, region_name="us-east-1",
                          config=Config(retries={"max_attempts": 3}))
    tracking = "11111111-2222-3333-4444-555555555555"
    pending = {}
    sent = 0

    def flush(key):
        nonlocal sent
        events = pending.pop(key)
        client.put_events(trackingId=tracking, userId=key[0], sessionId=key[1], eventList=events)
        sent += len(events)

    with open(path) as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                break
            r = json.loads(line)
            event = {
                "eventId": hashlib.sha256(line.encode()).hexdigest()[:32],
                "eventType": TYPES[r["event"]],
                "itemId": r["product"]["sku"],
                "eventValue": float(r["product"]["price"]),
                "sentAt": datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00")),
                "properties": json.dumps({"device": r["device"], "segment": r["user"]["segment"]}),
            }
            rec = r.get("rec")
            if rec:
                event["recommendationId"] = rec["id"]
                event["impression"] = rec["shown"]
            key = (r["user"]["id"], r["session"])
            pending.setdefault(key, []).append(event)
            if len(pending[key]) == 10:
                flush(key)
    for key in list(pending):
        flush(key)
    print(sent)


if __name__ == "__main__":
    main()
