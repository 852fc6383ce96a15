#!/usr/bin/env python3
"""Serializes Personalize Events requests with botocore's own rest-json serializer, to check our wire encoding.

    python3 Tests/PersonalizeModelTests/Fixtures/make_botocore_bodies.py

Writes botocore_bodies.json: [{"operation", "params" (what we feed our encoder, with sentAt as epoch seconds),
"body" (the exact body botocore would send)}].
"""
import datetime as dt
import json
import os

import botocore.session
from botocore import serialize

session = botocore.session.get_session()
model = session.get_service_model("personalize-events")
serializer = serialize.create_serializer(model.metadata["protocol"], include_validation=True)

cases = [
    ("PutEvents", {
        "trackingId": "11111111-2222-3333-4444-555555555555", "userId": "user-1", "sessionId": "sess-1",
        "eventList": [{"eventId": "e1", "eventType": "click", "itemId": "item-42", "sentAt": 1705322096,
                       "properties": json.dumps({"numberOfRatings": "12"}), "eventValue": 4.5,
                       "impression": ["item-42", "item-7"], "recommendationId": "RID-abc"}],
    }),
    ("PutEvents", {
        "trackingId": "t-2", "sessionId": "s-ü", "eventList": [
            {"eventType": "watch", "sentAt": 1, "eventValue": 1.0},
            {"eventType": "buy \"now\"", "sentAt": 1763900000, "itemId": "i\u00e9\u4e2d", "eventValue": 1e-7,
             "metricAttribution": {"eventAttributionSource": "email-campaign"}},
        ],
    }),
    ("PutItems", {"datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
                  "items": [{"itemId": "SKU-1", "properties": json.dumps({"price": 9.5, "category": "a|b"})},
                            {"itemId": "SKU-2"}]}),
    ("PutUsers", {"datasetArn": "arn:aws:personalize:eu-west-1:123456789012:dataset/shop/USERS",
                  "users": [{"userId": "u-1", "properties": json.dumps({"membership": "gold"})}]}),
    ("PutActions", {"datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ACTIONS",
                    "actions": [{"actionId": "a-1", "properties": json.dumps({"value": 3})}]}),
    ("PutActionInteractions", {"trackingId": "t-3", "actionInteractions": [
        {"actionId": "a-1", "userId": "u-1", "sessionId": "s-1", "timestamp": 1763900000, "eventType": "Taken",
         "eventId": "ev-1", "recommendationId": "r-1", "impression": ["a-1", "a-2"],
         "properties": json.dumps({"channel": "web"})}]}),
]

out = []
for op, params in cases:
    def to_dt(d):
        d = dict(d)
        for key in ("sentAt", "timestamp"):
            if key in d:
                d[key] = dt.datetime.fromtimestamp(d[key], tz=dt.timezone.utc)
        return d
    feed = dict(params)
    for list_key in ("eventList", "actionInteractions"):
        if list_key in feed:
            feed[list_key] = [to_dt(e) for e in feed[list_key]]
    request = serializer.serialize_to_request(feed, model.operation_model(op))
    out.append({"operation": op, "path": request["url_path"], "params": params, "body": request["body"].decode()})

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "botocore_bodies.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
