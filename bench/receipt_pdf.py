#!/usr/bin/env python
"""Benchmark of the filing receipt PDF (institutions.pdf.render_receipt).

    .venv/bin/python bench/receipt_pdf.py

Baseline, measured in the same process: WeasyPrint rendering a one-line A4 page in the same
CJK font. The receipt's time is reported as a ratio to it (median of 7 runs after a warm-up),
so the figure says what the receipt's layout costs beyond WeasyPrint's fixed cost per document.
Needs a database with a filed demo institution: it builds one with seed_demo in a throwaway
SQLite directory.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-pdf-")
os.environ["PORTAL_ALLOW_DEMO"] = "1"
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from weasyprint import HTML  # noqa: E402

from institutions.models import FilingReceipt  # noqa: E402
from institutions.pdf import render_receipt  # noqa: E402

RUNS = 7
BASELINE_HTML = (
    '<html><body style="font-family: \'Noto Serif CJK SC\', \'WenQuanYi Micro Hei\'">'
    "<p>备案回执</p></body></html>"
)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    receipt = FilingReceipt.objects.select_related("institution__school__organisation", "application").first()
    baseline = lambda: HTML(string=BASELINE_HTML).write_pdf()  # noqa: E731
    receipt_fn = lambda: render_receipt(receipt)  # noqa: E731
    baseline(), receipt_fn()  # warm-up: fonts and caches
    base = [timed(baseline) for _ in range(RUNS)]
    real = [timed(receipt_fn) for _ in range(RUNS)]
    ratios = [r / b for r, b in zip(real, base, strict=True)]
    print(f"baseline one-line page : {statistics.median(base) * 1000:7.1f} ms")
    print(f"filing receipt         : {statistics.median(real) * 1000:7.1f} ms")
    print(f"receipt / baseline     : {statistics.median(ratios):7.2f}x (median of {RUNS} paired runs)")


if __name__ == "__main__":
    main()
