#!/usr/bin/env python3
"""Regenerates botocore_vectors.json: SigV4 header-signing vectors produced by botocore itself.

botocore's SigV4Auth.add_auth() takes its timestamp from `botocore.auth.get_current_datetime()`,
so we patch that one function to return a fixed, naive UTC datetime; everything else (canonical
request, string to sign, key derivation, Authorization header) is botocore's own code.

Usage: python3 make_botocore_vectors.py > botocore_vectors.json
"""
import datetime
import hashlib
import json
import sys
from unittest import mock

import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJGMEQCIEXAMPLETOKEN+/=="

TRACKING = "11111111-2222-3333-4444-555555555555"
DATASET = "arn:aws:personalize:{region}:123456789012:dataset/shop/{kind}"

BODIES = {
    "/events": lambda r: {
        "trackingId": TRACKING,
        "userId": "usér-1",
        "sessionId": "sess-ß-1",
        "eventList": [
            {"eventId": "e1", "eventType": "click", "itemId": "item-42", "sentAt": 1705322096,
             "properties": json.dumps({"numberOfRatings": "12", "note": "très bien ✓"})},
            {"eventId": "e2", "eventType": "purchase", "itemId": "商品-7", "sentAt": 1705322100.5,
             "eventValue": 19.99},
        ],
    },
    "/items": lambda r: {
        "datasetArn": DATASET.format(region=r, kind="ITEMS"),
        "items": [{"itemId": "item-42", "properties": json.dumps({"title": "Crème brûlée 🍮", "price": "4.5"})}],
    },
    "/users": lambda r: {
        "datasetArn": DATASET.format(region=r, kind="USERS"),
        "users": [{"userId": "usér-1", "properties": json.dumps({"city": "Zürich", "name": "Ωmega"})}],
    },
    "/actions": lambda r: {
        "datasetArn": DATASET.format(region=r, kind="ACTIONS"),
        "actions": [{"actionId": "act-1", "properties": json.dumps({"label": "Inscríbete ahora"})}],
    },
    "/action-interactions": lambda r: {
        "trackingId": TRACKING,
        "actionInteractions": [
            {"actionId": "act-1", "userId": "usér-1", "sessionId": "sess-ß-1", "timestamp": 1705322096,
             "eventType": "TAKEN", "properties": json.dumps({"channel": "e-mail ✉"})},
        ],
    },
}

CASES = [
    ("us-east-1", "personalize-events.us-east-1.amazonaws.com", datetime.datetime(2024, 1, 15, 12, 35, 0)),
    ("eu-west-1", "personalize-events.eu-west-1.amazonaws.com", datetime.datetime(2024, 2, 29, 23, 59, 59)),
]


class RecordingSigV4Auth(SigV4Auth):
    """SigV4Auth that remembers the intermediate strings it computed."""

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.recorded_string_to_sign

    def signature(self, string_to_sign, request):
        self.recorded_signature = super().signature(string_to_sign, request)
        return self.recorded_signature


def make_vector(region, host, when, path, token):
    body = json.dumps(BODIES[path](region), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    request = AWSRequest(method="POST", url=f"https://{host}{path}", data=body,
                         headers={"Content-Type": "application/json"})
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, token)
    auth = RecordingSigV4Auth(credentials, "personalize", region)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        auth.add_auth(request)
    name = f"{region}{path.replace('/', '-')}{'-token' if token else ''}"
    return {
        "name": name,
        "region": region,
        "service": "personalize",
        "method": "POST",
        "path": path,
        "query": "",
        "headers": [["host", host], ["content-type", "application/json"]],
        "body": body.decode("utf-8"),
        "credentials": {"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY, "sessionToken": token},
        "timestamp": when.replace(tzinfo=datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "epochSeconds": int(when.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "expected": {
            "payloadHash": hashlib.sha256(body).hexdigest(),
            "canonicalRequest": auth.recorded_canonical_request,
            "stringToSign": auth.recorded_string_to_sign,
            "signature": auth.recorded_signature,
            "authorization": request.headers["Authorization"],
            "xAmzDate": request.headers["X-Amz-Date"],
            "xAmzSecurityToken": request.headers.get("X-Amz-Security-Token"),
        },
    }


def main():
    vectors = [make_vector(region, host, when, path, token)
               for region, host, when in CASES
               for path in BODIES
               for token in (None, SESSION_TOKEN)]
    json.dump({"generator": f"botocore {botocore.__version__}", "vectors": vectors},
              sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
