#!/usr/bin/env python
"""Where a public verification request spends its time, in-process (cProfile), on an existing database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_scale REDIS_URL=redis://127.0.0.1:6379/7 \\
    DJANGO_SECRET_KEY=x... DJANGO_DEBUG=0 PORTAL_VERIFY_LOG_BUFFER=1 .venv/bin/python bench/verify_profile.py

Runs ``--requests`` QR-link requests (distinct certificates drawn at random) through Django's test
client with ``bench.settings`` and prints the share of the view's time per part: the certificate
SELECT, the rate limit and log (Redis script or INSERT), the template, the rest (middleware, URL
resolution, the client). Also the same number of requests to the bare view, for scale.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("PORTAL_VERIFY_RATE", "100000000/m")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from certificates.models import Certificate  # noqa: E402

PARTS = {
    "SELECT (certificate)": ("verification.py", "_rows"),
    "rate limit + log": ("verification.py", "_count_and_log"),
    "rate limit (django-ratelimit)": ("verification.py", "limited"),
    "log INSERT": ("verification.py", "log"),
    "template": ("verify.py", "_result"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    ids = list(Certificate.objects.order_by("?").values_list("pk", flat=True)[: args.requests])
    tokens = list(Certificate.objects.filter(pk__in=ids).values_list("token", flat=True))
    client = Client(HTTP_HOST="127.0.0.1")
    for token in tokens[:20]:  # warm-up: connections, templates, the page shell
        client.get(f"/verify/t/{token}/")
    start = time.perf_counter()
    for _ in tokens:
        client.get("/bench/bare/")
    bare = (time.perf_counter() - start) / len(tokens) * 1000
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for token in tokens:
        assert client.get(f"/verify/t/{token}/").status_code == 200
    profile.disable()
    page = (time.perf_counter() - start) / len(tokens) * 1000
    stats = pstats.Stats(profile)
    view = next(v for k, v in stats.stats.items() if k[0].endswith("verify.py") and k[2] == "verify_token")[3]
    print(f"bare view {bare:.2f} ms/request, QR page {page:.2f} ms/request (profiled), {len(tokens)} requests")
    print(f"view verify_token: {view / len(tokens) * 1000:.2f} ms/request (cumulative, profiled)")
    for label, (filename, function) in PARTS.items():
        cumulative = sum(v[3] for k, v in stats.stats.items() if k[0].endswith(filename) and k[2] == function)
        if cumulative:
            print(f"  {label:32} {cumulative / len(tokens) * 1000:6.2f} ms  {cumulative / view:6.1%} of the view")


if __name__ == "__main__":
    main()
