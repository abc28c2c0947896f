from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from portal import selectors, services
from portal.access import CITYWIDE_ROLES, login_only, public, roles_required
from portal.forms import ExcelUploadForm
from portal.health import broker_state
from portal.home import panels_for
from portal.imports import major_occupation_template as major_occupation_template_bytes
from portal.imports import occupation_template as occupation_template_bytes
from portal.models import CalendarDay, CalendarYear, Role, User
from portal.services import JOB_KINDS

REFERENCE_ROLES = CITYWIDE_ROLES | {Role.SCHOOL_STAFF, Role.DISTRICT_HR_OFFICER}


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


@login_only
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"panels": panels_for(request.user)})


@public
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's language switch; a logged-in user's choice is also kept as their language, so that
    e-mails to them are written in it (portal.services.notification_emails_send).
    Anonymous visitors switch with a plain link (GET, no CSRF token: portal.language)."""
    if request.method == "GET" and "language" in request.GET:
        from portal.language import language_link

        return language_link(request)
    response = set_language(request)
    code = request.POST.get("language")
    user = request.user
    chosen = request.method == "POST" and code in dict(settings.LANGUAGES)
    if chosen and user.is_authenticated and code != user.language:
        User.objects.filter(pk=user.pk).update(language=code)  # a preference, not an audited change
    return response


@login_only
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "portal/notification_list.html", {"page": page})


@login_only
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    return redirect(notification.link or "notification_list")


@login_only
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_read(user=request.user)
    messages.success(request, _("已将%(n)s条通知标记为已读。") % {"n": count})
    return redirect("notification_list")


@login_only
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.job_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "portal/job_list.html", {"page": page, "kinds": JOB_KINDS})


@login_only
@never_cache
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(selectors.job_list(user=request.user), pk=pk)
    kind = JOB_KINDS.get(job.kind)
    context = {"job": job, "kind": kind, "result_link": kind.result_link(job) if kind and job.is_finished else ""}
    template = "portal/_job_progress.html" if request.htmx else "portal/job_detail.html"
    return render(request, template, context)


@roles_required(*REFERENCE_ROLES)
def occupation_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    assessable = request.GET.get("assessable") == "1"
    qs = selectors.occupation_list(search=search, assessable_only=assessable)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/occupation_list.html",
        {"page": page, "q": search, "assessable": assessable, "can_import": request.user.has_role(Role.SYSTEM_ADMIN)},
    )


@roles_required(Role.SYSTEM_ADMIN)
def occupation_import(request: HttpRequest) -> HttpResponse:
    form = ExcelUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.job_start(kind="import_occupations", actor=request.user, upload=form.cleaned_data["file"])
        return redirect("job_detail", pk=job.pk)
    return render(request, "portal/occupation_import.html", {"form": form})


@roles_required(Role.SYSTEM_ADMIN)
def occupation_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(occupation_template_bytes(), "occupations-template.xlsx")


@roles_required(*REFERENCE_ROLES)
def major_catalogue(request: HttpRequest) -> HttpResponse:
    """The majors of 职业教育专业目录（2021年） and the occupations each corresponds to."""
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.major_catalogue_list(search=search), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/major_catalogue.html",
        {"page": page, "q": search, "can_import": request.user.has_role(Role.SYSTEM_ADMIN)},
    )


@roles_required(Role.SYSTEM_ADMIN)
def major_occupation_import(request: HttpRequest) -> HttpResponse:
    form = ExcelUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.job_start(kind="import_major_occupations", actor=request.user, upload=form.cleaned_data["file"])
        return redirect("job_detail", pk=job.pk)
    return render(request, "portal/major_occupation_import.html", {"form": form})


@roles_required(Role.SYSTEM_ADMIN)
def major_occupation_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(major_occupation_template_bytes(), "major-occupations-template.xlsx")


@roles_required(*REFERENCE_ROLES)
def calendar(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    known = CalendarYear.objects.filter(year=year).first()
    days = CalendarDay.objects.filter(date__year=year)
    years = list(CalendarYear.objects.values_list("year", flat=True))
    return render(
        request,
        "portal/calendar.html",
        {
            "year": year,
            "known": known,
            "days": days,
            "years": years,
            "next_year": today.year + 1,
            "next_year_known": (today.year + 1) in years,
        },
    )


@public
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Reports database, broker and PDF documents' system packages; 503 when one is down."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["broker"] = broker_state()  # one PING on a pooled connection, reused for 2 s (portal.health)
    healthy = all(v in {"ok", "eager"} for v in checks.values())
    from portal import sysdeps

    # A CJK font and Pango (checked once per process); without HarfBuzz's subsetter it is "slow" but healthy.
    checks["documents"], documents_ok = sysdeps.health()
    healthy = healthy and documents_ok
    checks["status"] = "ok" if healthy else "error"
    checks["time"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return JsonResponse(checks, status=200 if healthy else 503)
