"""The portal's public JSON API for schools' own systems (no login, rate-limited per client address).

``GET /api/v1/calendar/due-date?end=YYYY-MM-DD&days=5``: the day results are due, ``days``
working days (default ``PORTAL_RESULTS_WORKING_DAYS``, 1 to 60) after ``end`` on the portal's
working-day calendar, the same count the batch pages show (``assessments.services.clock``)::

    200 {"end": "2026-02-13", "working_days": 5, "due": "2026-02-27"}
    422 {"error": "...", "unknown_years": [2027], "end": ..., "working_days": ...}   the calendar lacks a year
    400 {"error": "...", "field": "end"}                                              bad input
    429 {"error": "..."}                                                              too many requests
    405                                                                               any method but GET and HEAD

Machines read the codes and fields; ``error`` is one sentence in Chinese and English, whatever
the language of the request.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_ratelimit.decorators import ratelimit

from portal.access import public
from portal.security import client_ip

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rate(group, request) -> str:
    return getattr(settings, "PORTAL_API_RATE", "60/m")


def _client(group, request) -> str:
    return client_ip(request) or "unknown"


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status, json_dumps_params={"ensure_ascii": False})


@public
@require_safe
@never_cache
@ratelimit(group="api", key=_client, rate=_rate, block=False)
def due_date(request: HttpRequest) -> JsonResponse:
    from assessments.services.clock import MAX_WORKING_DAYS, MIN_WORKING_DAYS, results_due, results_working_days

    if getattr(request, "limited", False):
        response = _error(429, "请求过于频繁，请稍后再试。/ Too many requests: please try again later.")
        response["Retry-After"] = "60"
        return response
    raw_end = request.GET.get("end", "").strip()
    if not raw_end:
        return _error(
            400,
            "缺少参数end（评价最后一天，YYYY-MM-DD）。/ Missing parameter end (the last day, YYYY-MM-DD).",
            field="end",
        )
    try:
        if not ISO_DATE.match(raw_end):
            raise ValueError(raw_end)
        end = dt.date.fromisoformat(raw_end)
    except ValueError:
        return _error(
            400, "参数end须为YYYY-MM-DD格式的有效日期。/ end must be a valid date in the form YYYY-MM-DD.", field="end"
        )
    raw_days = request.GET.get("days", "").strip()
    days = results_working_days()
    if raw_days:
        if not re.fullmatch(r"\d{1,3}", raw_days) or not MIN_WORKING_DAYS <= int(raw_days) <= MAX_WORKING_DAYS:
            return _error(
                400,
                f"参数days须为{MIN_WORKING_DAYS}至{MAX_WORKING_DAYS}之间的整数。"
                f"/ days must be a whole number from {MIN_WORKING_DAYS} to {MAX_WORKING_DAYS}.",
                field="days",
            )
        days = int(raw_days)
    try:
        due, unknown = results_due(end, days=days)
    except OverflowError:  # the count ran past 9999-12-31
        return _error(400, "参数end超出可计算的日期范围。/ end is out of the range of dates.", field="end")
    if unknown is not None:
        return _error(
            422,
            f"无法计算：{unknown}年工作日历尚未发布。"
            f"/ Cannot be computed yet: the calendar for {unknown} is not published.",
            unknown_years=[unknown],
            end=end.isoformat(),
            working_days=days,
        )
    return JsonResponse({"end": end.isoformat(), "working_days": days, "due": due.isoformat()})
