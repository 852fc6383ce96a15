#!/usr/bin/env python3
"""Deterministic web-shop clickstream generator for the personalize-tail benchmarks.

Every line is one JSON object of ~256 bytes that the `shop-events` mapping of bench/config.json turns into one
Personalize event (no line is skipped). Users and sessions are spread realistically: a pool of concurrent
sessions, each 5-30 events long, emitted in runs of 1-8 events, so most batches of 10 same user+session form
but runs interleave the way a real web tier's log does.

  generate.py lines OUT N [--seed S]          N lines into OUT (plain JSON lines)
  generate.py files DIR COUNT PER [--seed S]  COUNT files of PER lines each: DIR/part-00000.jsonl ...
  generate.py live OUT RATE SECONDS           append RATE lines/s for SECONDS to OUT, each stamped with the
                                              append time in ns (field `tsNs`, a string), flushed per tick
"""
import json
import os
import random
import sys
import time

EVENTS = ["product_view"] * 60 + ["product_click"] * 25 + ["add_to_cart"] * 11 + ["purchase"] * 4
DEVICES = ["desktop", "mobile", "tablet"]
SEGMENTS = ["new", "returning", "vip"]
START = 1_795_680_000  # 2026-11-26T00:00:00Z; timestamps advance ~0.5 s per line in total


def iso(seconds: float) -> str:
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + ".%03dZ" % millis


class Shop:
    def __init__(self, seed: int, concurrent: int = 40, users: int = 200_000, products: int = 50_000):
        self.rng = random.Random(seed)
        self.users = users
        self.products = products
        self.sessions = [self._new_session() for _ in range(concurrent)]
        self.current = None
        self.run_left = 0
        self.clock = float(START)

    def _new_session(self):
        r = self.rng
        # Zipf-like user popularity: a few heavy users, a long tail.
        user = int(self.users * (r.random() ** 2.5))
        return {
            "user": "u-%06d" % user,
            "segment": SEGMENTS[user % 3],
            "session": "s-%08x" % r.getrandbits(32),
            "device": DEVICES[r.getrandbits(8) % 3],
            "left": r.randint(5, 30),
        }

    def line(self, extra: str = "") -> str:
        r = self.rng
        if self.run_left == 0:
            self.current = r.randrange(len(self.sessions))
            self.run_left = r.randint(1, 8)
        s = self.sessions[self.current]
        self.clock += r.random()
        event = EVENTS[r.getrandbits(7) % 100]
        sku = "SKU-%06d" % int(self.products * (r.random() ** 2))
        price = "%d.%02d" % (r.randint(1, 499), r.randint(0, 99))
        parts = [
            '{"ts":"%s","level":"info","event":"%s"' % (iso(self.clock), event),
            ',"user":{"id":"%s","segment":"%s"},"session":"%s"' % (s["user"], s["segment"], s["session"]),
            ',"product":{"sku":"%s","price":%s},"page":"/p/%s","device":"%s"' % (sku, price, sku, s["device"]),
        ]
        if event == "product_click":
            shown = ",".join('"SKU-%06d"' % r.randrange(self.products) for _ in range(3))
            parts.append(',"rec":{"id":"rec-%06x","shown":[%s]}' % (r.getrandbits(24), shown))
        parts.append(extra)
        body = "".join(parts)
        # Pad to ~256 bytes with a request id, as real access-log-style records carry.
        pad = max(8, 250 - len(body) - len(',"reqId":""}'))
        body += ',"reqId":"%s"}' % (("%032x" % r.getrandbits(128)) * (1 + pad // 32))[:pad]
        s["left"] -= 1
        self.run_left -= 1
        if s["left"] == 0:
            self.sessions[self.current] = self._new_session()
            self.run_left = 0
        return body + "\n"


def write_lines(path: str, n: int, seed: int) -> None:
    shop = Shop(seed)
    with open(path, "w", buffering=1 << 20) as f:
        for _ in range(n):
            f.write(shop.line())


def write_files(directory: str, count: int, per: int, seed: int) -> None:
    os.makedirs(directory, exist_ok=True)
    shop = Shop(seed)
    for i in range(count):
        with open(os.path.join(directory, "part-%05d.jsonl" % i), "w") as f:
            f.write("".join(shop.line() for _ in range(per)))


def live(path: str, rate: int, seconds: float, seed: int) -> None:
    shop = Shop(seed)
    tick = 0.01  # 100 appends per second, rate/100 lines each
    per_tick = max(1, rate // 100)
    total = int(rate * seconds)
    written = 0
    start = time.monotonic()
    with open(path, "a") as f:
        k = 0
        while written < total:
            target = start + k * tick
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            chunk = []
            now = time.time_ns()
            for _ in range(min(per_tick, total - written)):
                chunk.append(shop.line(',"tsNs":"%d"' % now))
            f.write("".join(chunk))
            f.flush()
            written += len(chunk)
            k += 1
    print(written)


def main(argv):
    seed = 42
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) >= 3 and argv[0] == "lines":
        write_lines(argv[1], int(argv[2]), seed)
    elif len(argv) >= 4 and argv[0] == "files":
        write_files(argv[1], int(argv[2]), int(argv[3]), seed)
    elif len(argv) >= 4 and argv[0] == "live":
        live(argv[1], int(argv[2]), float(argv[3]), seed)
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
