#!/usr/bin/env python
"""Benchmark of certificate PDFs (certificates.services.documents).

    .venv/bin/python bench/certificate_pdf.py [--count 1000] [--runs 7]
    .venv/bin/python bench/certificate_pdf.py --count 1000 --slices 20   # 1 and 2 processes alternating

1. Per page: the whole pipeline as the issue job runs it (template, photo thumbnail, QR code,
   WeasyPrint, PAdES signature with pyHanko) against WeasyPrint alone rendering the same
   certificate's HTML (already built, so the same fonts, photo and QR). Median of ``--runs``
   paired runs after a warm-up; wall and CPU time.
2. Throughput: ``--count`` certificates rendered and signed by 1 process, then by 2 processes
   (``multiprocessing``, fork), wall time each, and the speed-up.

No database is needed: the certificates are unsaved model instances with invented data. A
throwaway PORTAL_VAR_DIR holds the demo signing key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-cert-")
os.environ["PORTAL_ALLOW_DEMO"] = "1"
for name in ("DATABASE_URL", "REDIS_URL", "PORTAL_SIGNING_KEY", "PORTAL_SIGNING_CERT", "PORTAL_SIGNING_PKCS12"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from PIL import Image  # noqa: E402
from weasyprint import HTML  # noqa: E402

from certificates.models import Certificate  # noqa: E402
from certificates.services import documents  # noqa: E402


def photo() -> bytes:
    img = Image.new("RGB", (413, 579), (255, 255, 255))
    img.paste((40, 60, 120), (100, 120, 313, 480))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


PHOTO = photo()


def certificate(i: int) -> Certificate:
    return Certificate(
        number=f"Y00003100000126{4}{i + 1:06d}",
        name="张小明",
        id_type="resident_id",
        id_number="31010120080101123X",
        occupation_name="电工",
        work_type="",
        level=4,
        institution_name="上海市示范职业技术学校",
        issued_on=dt.date(2026, 12, 20),
        token=f"bench-token-{i:08d}-abcdefghijklmnopqrstuvwxyz",
    )


def pipeline(i: int) -> int:
    return len(documents.sign_pdf(documents.render_unsigned(certificate(i), photo=PHOTO)))


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def per_page(runs: int) -> dict:
    c = certificate(0)
    html = documents.certificate_html(c, photo=PHOTO)
    alone = lambda: HTML(string=html).write_pdf()  # noqa: E731
    whole = lambda: pipeline(0)  # noqa: E731
    alone(), whole()  # warm-up: fonts, key, caches
    pairs = [(timed(alone), timed(whole)) for _ in range(runs)]
    base_wall = [a[0] for a, _ in pairs]
    real_wall = [w[0] for _, w in pairs]
    base_cpu = [a[1] for a, _ in pairs]
    real_cpu = [w[1] for _, w in pairs]
    signed = documents.sign_pdf(documents.render_unsigned(c, photo=PHOTO))
    return {
        "weasyprint_alone_ms": statistics.median(base_wall) * 1000,
        "pipeline_ms": statistics.median(real_wall) * 1000,
        "ratio_wall": statistics.median(r / b for r, b in zip(real_wall, base_wall, strict=True)),
        "weasyprint_alone_cpu_ms": statistics.median(base_cpu) * 1000,
        "pipeline_cpu_ms": statistics.median(real_cpu) * 1000,
        "ratio_cpu": statistics.median(r / b for r, b in zip(real_cpu, base_cpu, strict=True)),
        "signed_pdf_bytes": len(signed),
    }


def interleaved(count: int, slices: int) -> tuple[float, float]:
    """1 process and 2 processes in alternating slices of ``count / slices`` certificates, so that
    both see the same share of a machine whose other load comes and goes: (1-process s, 2-process s)."""
    per = max(1, count // slices)
    one = two = 0.0
    with multiprocessing.get_context("fork").Pool(2) as pool:
        list(pool.imap_unordered(pipeline, range(4), chunksize=1))  # warm both workers (fonts, key)
        for k in range(slices):
            chunk = range(k * per, (k + 1) * per)
            start = time.perf_counter()
            for i in chunk:
                pipeline(i)
            one += time.perf_counter() - start
            start = time.perf_counter()
            list(pool.imap_unordered(pipeline, chunk, chunksize=4))
            two += time.perf_counter() - start
    return one, two


def throughput(count: int, processes: int) -> float:
    start = time.perf_counter()
    if processes == 1:
        for i in range(count):
            pipeline(i)
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            list(pool.imap_unordered(pipeline, range(count), chunksize=4))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--slices", type=int, default=0, help="alternate 1 and 2 processes in this many slices (a shared machine)"
    )
    args = parser.parse_args()
    page = per_page(args.runs)
    alone, alone_cpu = page["weasyprint_alone_ms"], page["weasyprint_alone_cpu_ms"]
    print(f"WeasyPrint alone, same HTML : {alone:7.1f} ms  (CPU {alone_cpu:.1f})")
    print(f"whole pipeline (signed)     : {page['pipeline_ms']:7.1f} ms  (CPU {page['pipeline_cpu_ms']:.1f})")
    print(f"pipeline / alone            : {page['ratio_wall']:7.2f}x wall, {page['ratio_cpu']:.2f}x CPU")
    print(f"signed PDF size             : {page['signed_pdf_bytes']:,} bytes")
    load_before = os.getloadavg()
    if args.slices:
        one, two = interleaved(args.count, args.slices)
    else:
        one = throughput(args.count, 1)
        two = throughput(args.count, 2)
    print(f"{args.count} certificates, 1 process : {one:7.1f} s")
    print(f"{args.count} certificates, 2 processes: {two:7.1f} s  speed-up {one / two:.2f}x")
    out = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load": os.getloadavg(),
        "slices": args.slices,
        "count": args.count,
        **page,
        "one_process_s": one,
        "two_processes_s": two,
        "speedup": one / two,
    }
    (ROOT / "bench" / "results-certificate-pdf.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
