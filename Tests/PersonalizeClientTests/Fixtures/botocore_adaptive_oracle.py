#!/usr/bin/env python3
"""Writes botocore-adaptive.json: botocore's adaptive retry mode (retries/adaptive.py, throttling.py, bucket.py)
driven by fixed sequences of answers (time, throttled or not) on a fake clock, with the token bucket's fill rate
and the measured send rate after each answer. AdaptiveRateOracleTests replays the sequences through AdaptiveRate
(with Guards.botocore) and compares. Regenerate: python3 botocore_adaptive_oracle.py > botocore-adaptive.json
(botocore installed; the version used is recorded in the file)."""
import json
import random
import sys

import botocore
from botocore.retries import adaptive, bucket, throttling


class FakeClock:
    def __init__(self, now):
        self.now = now

    def current_time(self):
        return self.now

    def sleep(self, amount):
        self.now += amount


class Detector:
    def is_throttling_error(self, **kwargs):
        return kwargs["throttled"]


def run(start, answers):
    clock = FakeClock(start)
    limiter = adaptive.ClientRateLimiter(
        rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=clock.current_time()),
        rate_clocker=adaptive.RateClocker(clock),
        token_bucket=bucket.TokenBucket(max_rate=1, clock=clock),
        throttling_detector=Detector(),
        clock=clock,
    )
    out = []
    for t, throttled in answers:
        clock.now = t
        limiter.on_receiving_response(throttled=throttled)
        # [time, throttled (0/1), fill rate, measured rate], rates to 12 significant digits
        out.append([t, int(throttled), float("%.12g" % limiter._token_bucket.max_rate),
                    float("%.12g" % limiter._rate_clocker.measured_rate)])
    return out


def sequence(seed, count, mean_gap, throttle_share, bursts=()):
    rng = random.Random(seed)
    t = 1000.25
    answers = []
    for i in range(count):
        t += rng.uniform(0.2, 1.8) * mean_gap
        throttled = rng.random() < throttle_share or any(a <= i < b for a, b in bursts)
        answers.append((round(t, 6), throttled))
    return answers


scenarios = {
    "steady-with-rare-throttles": sequence(1, 1500, 0.01, 0.01),
    "random-30-percent": sequence(2, 800, 0.005, 0.3),
    "throttle-bursts": sequence(3, 1500, 0.02, 0.0, bursts=[(200, 230), (600, 605), (900, 1000), (1400, 1401)]),
    "slow-key": sequence(4, 300, 0.3, 0.1),
}
json.dump({
    "botocore": botocore.__version__,
    "start": 1000.25,
    "scenarios": {name: run(1000.25, answers) for name, answers in scenarios.items()},
}, sys.stdout, indent=None, separators=(",", ":"))
sys.stdout.write("\n")
