"""Oversight: coverage pages (issue 10 item 1). Owns its URLs (`urlpatterns`) and, in `ready()`, its menu entry.

- ``coverage``: the city, a district or a school for one school year (GET ``year``, ``district``,
  ``school``), drilling down city → district → school → its majors, each uncovered one with why;
  the trend by school year; server-drawn SVG charts (pygal, no script), each followed by its table;
  the as-of time of the materialised rows; ``coverage_export`` is the same view as a workbook;
  ``coverage_refresh`` (the centre and the commission) rebuilds a year as a background job.
- ``external_evaluation_*``: other channels (social evaluation organisations, employers, skills
  competitions) recorded with evidence by the school or the centre, withdrawn (never deleted).

Scope: ``selectors.coverage_scope_for``; a district or school outside it is a 404.
"""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from oversight.charts import style as chart_style
from oversight.charts import svg
from oversight.models import CoverageChannel, UncoveredReason
from oversight.selectors import coverage as selectors
from oversight.services import coverage as service
from portal.access import roles_required
from portal.excel import export_sheet, xlsx_response
from portal.forms import BootstrapFormMixin
from portal.models import District, Job, JobStatus, Occupation, Role
from portal.security import file_download
from portal.services import JobFailed, JobKind, job_start, register_job_kind
from schools.models import Major, School

PAGE_SIZE = 50
MAJORS_SHOWN = 200  # uncovered majors listed on a district page; the export has them all
REFRESH_JOB = "oversight_coverage_refresh"
RECORDER_ROLES = (Role.SCHOOL_STAFF, Role.CENTRE_REVIEWER)


# --- Where the reader is -------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _place(request: HttpRequest) -> dict:
    """The year, district and school asked for, checked against the reader's scope (404 outside)."""
    scope = selectors.coverage_scope_for(request.user)
    if scope is None:
        raise Http404
    years = selectors.coverage_years()
    year = _int(request.GET.get("year"))
    if year not in years:
        year = selectors.current_school_year()
    school = district = None
    school_id, district_id = _int(request.GET.get("school")), _int(request.GET.get("district"))
    if scope.school is not None:
        school = scope.school
        if school_id not in (None, school.pk) or district_id not in (None, school.organisation.district_id):
            raise Http404
    elif school_id is not None:
        school = School.objects.select_related("organisation__district").filter(pk=school_id).first()
        if school is None or not scope.allows(school=school):
            raise Http404
    if school is not None:
        district = school.organisation.district
    elif district_id is not None:
        district = District.objects.filter(pk=district_id).first()
        if district is None or not scope.allows(district=district):
            raise Http404
    elif scope.district is not None:
        district = scope.district
    return {"scope": scope, "years": years, "year": year, "district": district, "school": school}


def _query(year: int, district=None, school=None) -> str:
    parts = [f"year={year}"]
    if district is not None:
        parts.append(f"district={district.pk}")
    if school is not None:
        parts.append(f"school={school.pk}")
    return "&".join(parts)


# What the school can do about each reason (shown beside it on the school's page).
NEXT_STEPS = {
    UncoveredReason.NO_OCCUPATION: _("可申请增加备案与该专业对应的职业（工种），或登记其他渠道评价。"),
    UncoveredReason.EXPIRED: _("可申请延续备案或重新备案，或登记其他渠道评价。"),
    UncoveredReason.SUSPENDED: _("暂停解除前可登记其他渠道评价。"),
    UncoveredReason.NO_BATCH: _("该学年未组织对应职业（工种）的评价批次。"),
}


def _channel_labels(value: str) -> str:
    labels = dict(CoverageChannel.choices)
    return "、".join(str(labels.get(c, c)) for c in value.split(",") if c)


# --- Charts (pygal, server-drawn SVG, no script) ---------------------------------------

MET, NOT_MET = "#198754", "#d9822b"


def bar_chart(title: str, labels: list[str], rates: list, goal) -> str:
    """One horizontal bar per district or school: green at or above the target, amber below."""
    import pygal

    chart = pygal.HorizontalBar(
        style=chart_style(("#0d6efd", "#6c757d")),
        js=[],
        width=900,
        height=110 + 30 * len(labels),
        range=(0, 100),
        show_legend=False,
        truncate_label=-1,
        print_values=True,
        print_values_position="top",
        value_formatter=lambda v: f"{v:.1f}%" if v is not None else "—",
    )
    chart.title = title
    chart.x_labels = labels[::-1]  # pygal draws the first label at the bottom: read top-down like the table
    chart.add(
        _t("覆盖率（%）"),
        [{"value": float(r), "color": MET if r >= goal else NOT_MET} if r is not None else None for r in rates[::-1]],
    )
    return svg(chart)


def line_chart(title: str, labels: list[str], rates: list, goal) -> str:
    import pygal

    chart = pygal.Line(
        style=chart_style(("#0d6efd", "#6c757d")),
        js=[],
        width=900,
        height=300,
        range=(0, 100),
        legend_at_bottom=True,
        show_legend=len(labels) > 1,
        print_values=True,
        dots_size=5,
        value_formatter=lambda v: f"{v:.1f}%" if v is not None else "—",
    )
    chart.title = title
    chart.x_labels = labels
    chart.add(_t("覆盖率（%）"), [float(r) if r is not None else None for r in rates])
    if len(labels) > 1:
        chart.add(_t("目标（%）"), [float(goal)] * len(labels), show_dots=False, print_values=False)
    return svg(chart)


# --- The coverage page ----------------------------------------------------------------


def _view_data(place: dict) -> dict:
    year, district, school = place["year"], place["district"], place["school"]
    figures = selectors.coverage_figures(school_year=year, district=district, school=school)
    rows = [] if school else selectors.coverage_rows(school_year=year, district=district)
    if school is not None:
        majors = list(selectors.coverage_majors(school_year=year, school=school))
    elif district is not None:
        majors = list(selectors.uncovered_majors(school_year=year, district=district)[: MAJORS_SHOWN + 1])
    else:
        majors = []
    for m in majors:
        m.channel_labels = _channel_labels(m.channels)
        m.next_step = NEXT_STEPS.get(m.reason, "")
    trend = selectors.coverage_trend(district=district, school=school)
    return {"figures": figures, "rows": rows, "majors": majors, "trend": trend}


@roles_required(*selectors.COVERAGE_ROLES)
def coverage(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    data = _view_data(place)
    year, district, school = place["year"], place["district"], place["school"]
    goal = selectors.target()
    level = "school" if school else "district" if district else "city"
    counted = [r for r in data["rows"] if r.figures.total]
    charts = {}
    if counted:
        charts["rows"] = bar_chart(
            (_t("各区专业覆盖率（目标 %(goal)s%%）") if level == "city" else _t("各校专业覆盖率（目标 %(goal)s%%）"))
            % {"goal": goal},
            [r.name for r in counted],
            [r.figures.rate for r in counted],
            goal,
        )
    if data["trend"]:
        charts["trend"] = line_chart(
            _t("专业覆盖率趋势（按学年，目标 %(goal)s%%）") % {"goal": goal},
            [service.school_year_label(f.school_year) for f in data["trend"]],
            [f.rate for f in data["trend"]],
            goal,
        )
    scope = place["scope"]
    return render(
        request,
        "oversight/coverage/page.html",
        {
            **place,
            **data,
            "level": level,
            "goal": goal,
            "charts": charts,
            "year_label": service.school_year_label(year),
            "year_choices": [(y, service.school_year_label(y)) for y in place["years"]],
            "query": _query(year, district, school),
            "city_query": _query(year) if scope.level == "city" else "",
            "district_query": _query(year, district) if district and scope.level in {"city", "district"} else "",
            "more_majors": level == "district" and len(data["majors"]) > MAJORS_SHOWN,
            "shown_majors": data["majors"][:MAJORS_SHOWN] if level == "district" else data["majors"],
            "may_refresh": service.may_refresh(request.user),
            "may_record": request.user.is_superuser or request.user.has_role(*RECORDER_ROLES),
            "reasons": UncoveredReason.choices,
        },
    )


# --- Export ---------------------------------------------------------------------------


def _sheet(wb, title: str, header: list[tuple[str, int]], rows) -> None:
    ws = export_sheet(wb, title, header)
    for row in rows:
        ws.append(row)


def _rate_text(rate) -> str:
    return f"{rate}%" if rate is not None else "—"


def coverage_workbook(place: dict) -> bytes:
    """The current view as a workbook (Chinese headers whatever the reader's language)."""
    year, district, school = place["year"], place["district"], place["school"]
    figures = selectors.coverage_figures(school_year=year, district=district, school=school)
    rows = [] if school else selectors.coverage_rows(school_year=year, district=district)
    majors = selectors.coverage_majors(school_year=year, district=district, school=school)
    trend = selectors.coverage_trend(district=district, school=school)
    reasons = dict(UncoveredReason.choices)
    wb = Workbook()
    wb.remove(wb.active)
    where = school.name if school else district.name if district else "全市"
    _sheet(
        wb,
        "汇总",
        [("范围", 24), ("学年", 12), ("专业数", 10), ("已覆盖", 10), ("未覆盖", 10), ("覆盖率", 10), ("达到目标", 10)],
        [
            [
                where,
                service.school_year_label(year),
                figures.total,
                figures.covered,
                figures.uncovered,
                _rate_text(figures.rate),
                "是" if figures.meets_target else "否",
            ]
        ]
        + [
            [
                r.name,
                service.school_year_label(year),
                r.figures.total,
                r.figures.covered,
                r.figures.uncovered,
                _rate_text(r.figures.rate),
                "是" if r.figures.meets_target else "否",
            ]
            for r in rows
        ],
    )
    channels = dict(CoverageChannel.choices)
    _sheet(
        wb,
        "专业明细",
        [
            ("区", 12),
            ("学校", 30),
            ("专业代码", 12),
            ("专业名称", 24),
            ("毕业学年学生数", 14),
            ("已覆盖", 8),
            ("覆盖渠道", 30),
            ("未覆盖原因", 26),
        ],
        (
            [
                m.district.name if m.district else "",
                m.school.organisation.name,
                m.major.code,
                m.major.name,
                m.graduating_students,
                "是" if m.covered else "否",
                "、".join(str(channels.get(c, c)) for c in m.channels.split(",") if c),
                str(reasons.get(m.reason, "")) if m.reason else "",
            ]
            for m in majors.iterator(chunk_size=2000)
        ),
    )
    _sheet(
        wb,
        "趋势",
        [("学年", 12), ("专业数", 10), ("已覆盖", 10), ("覆盖率", 10), ("达到目标", 10)],
        [
            [
                service.school_year_label(f.school_year),
                f.total,
                f.covered,
                _rate_text(f.rate),
                "是" if f.meets_target else "否",
            ]
            for f in trend
        ],
    )
    notes = wb.create_sheet("导出说明")
    notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    as_of = timezone.localtime(figures.computed_at).strftime("%Y-%m-%d %H:%M") if figures.computed_at else "尚未统计"
    notes.append(["统计时间", as_of])
    notes.append(["范围", where])
    notes.append(["目标", f"{selectors.target()}%"])
    notes.append(
        [
            "口径",
            "毕业学年学生所在专业中，可通过本校评价机构或社会培训评价组织、用人单位、职业技能竞赛参加职业技能等级认定的专业所占比例",
        ]
    )
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 60
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


@roles_required(*selectors.COVERAGE_ROLES)
def coverage_export(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    data = coverage_workbook(place)
    where = place["school"].name if place["school"] else place["district"].name if place["district"] else "全市"
    return xlsx_response(data, f"专业覆盖率-{where}-{service.school_year_label(place['year'])}.xlsx")


# --- Refresh (a background job) ----------------------------------------------------------


def _run_refresh(job: Job, progress) -> dict:
    progress(0, 1, _("统计专业覆盖率"))
    try:
        result = service.refresh_coverage(int(job.params["school_year"]))
    except ValidationError as exc:
        raise JobFailed(exc.messages) from exc
    progress(1, 1, _("统计专业覆盖率"))
    return result


@roles_required(*service.REFRESH_ROLES)
@require_POST
def coverage_refresh(request: HttpRequest) -> HttpResponse:
    """Rebuild one school year's rows now (as a job: its page shows progress and links back)."""
    year = _int(request.POST.get("year"))
    if year is None or year > selectors.current_school_year():
        year = selectors.current_school_year()
    running = Job.objects.filter(
        kind=REFRESH_JOB, params__school_year=year, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    ).first()
    job = running or job_start(kind=REFRESH_JOB, actor=request.user, params={"school_year": year})
    return redirect("job_detail", pk=job.pk)


# --- Other channels ----------------------------------------------------------------------


class SchoolChoiceForm(forms.Form):
    school = forms.ModelChoiceField(label=_("学校"), queryset=School.objects.none())


class ExternalEvaluationForm(BootstrapFormMixin, forms.Form):
    major = forms.ModelChoiceField(label=_("专业"), queryset=Major.objects.none())
    school_year = forms.TypedChoiceField(label=_("学年"), coerce=int)
    channel = forms.ChoiceField(
        label=_("评价渠道"), choices=[c for c in CoverageChannel.choices if c[0] != CoverageChannel.IN_SCHOOL]
    )
    provider = forms.CharField(label=_("评价组织或赛事名称"), max_length=200)
    occupation = forms.ModelChoiceField(
        label=_("职业（工种）"),
        queryset=Occupation.objects.filter(is_active=True),
        required=False,
        help_text=_("选填：评价所依据的职业（工种）。"),
    )
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    evidence = forms.FileField(
        label=_("证明材料"),
        help_text=_("评价组织的评价安排、用人单位的认定文件或竞赛获奖名单等；PDF、JPEG 或 PNG，不超过 10 MB。"),
    )

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["major"].queryset = Major.objects.filter(school=school).order_by("code")
        self.fields["major"].label_from_instance = lambda m: f"{m.code} {m.name}"
        current = selectors.current_school_year()
        self.fields["school_year"].choices = [
            (y, service.school_year_label(y)) for y in range(current, current - 4, -1)
        ]
        self.fields["school_year"].initial = current


def _recorder_school(request: HttpRequest) -> School | None:
    """School staff: their own school. The centre: the school chosen (``?school=``), or None to choose."""
    scope = selectors.coverage_scope_for(request.user)
    if scope is None:
        raise Http404
    if scope.school is not None:
        return scope.school
    if scope.level != "city":
        raise PermissionDenied
    school_id = _int(request.GET.get("school") or request.POST.get("school"))
    if school_id is None:
        return None
    school = School.objects.select_related("organisation").filter(pk=school_id).first()
    if school is None:
        raise Http404
    return school


@roles_required(*selectors.COVERAGE_ROLES)
def external_evaluation_list(request: HttpRequest) -> HttpResponse:
    year = _int(request.GET.get("year"))
    qs = selectors.external_evaluation_list(user=request.user, school_year=year)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    current = selectors.current_school_year()
    return render(
        request,
        "oversight/coverage/evaluations.html",
        {
            "page": page,
            "year": year,
            "year_choices": [(y, service.school_year_label(y)) for y in range(current, current - 5, -1)],
            "may_record": request.user.is_superuser or request.user.has_role(*RECORDER_ROLES),
        },
    )


@roles_required(*RECORDER_ROLES)
def external_evaluation_create(request: HttpRequest) -> HttpResponse:
    school = _recorder_school(request)
    if school is None:
        chooser = SchoolChoiceForm()
        chooser.fields["school"].queryset = School.objects.select_related("organisation").order_by("organisation__name")
        chooser.fields["school"].widget.attrs["class"] = "form-select"
        return render(request, "oversight/coverage/evaluation_school.html", {"form": chooser})
    if not service.may_record(request.user, school):
        raise PermissionDenied
    if request.method == "POST":
        form = ExternalEvaluationForm(request.POST, request.FILES, school=school)
        if form.is_valid():
            d = form.cleaned_data
            try:
                row = service.external_evaluation_record(
                    actor=request.user,
                    major=d["major"],
                    school_year=d["school_year"],
                    channel=d["channel"],
                    provider=d["provider"],
                    occupation=d["occupation"],
                    note=d["note"],
                    evidence=d["evidence"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                from django.contrib import messages

                messages.success(
                    request,
                    _t("已登记：%(major)s（%(year)s学年）。覆盖率将随即重新统计。")
                    % {"major": row.major.name, "year": service.school_year_label(row.school_year)},
                )
                return redirect("oversight:external_evaluation_list")
    else:
        form = ExternalEvaluationForm(school=school)
    return render(request, "oversight/coverage/evaluation_form.html", {"form": form, "school": school})


class WithdrawForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("撤销原因"), widget=forms.Textarea(attrs={"rows": 3}))


@roles_required(*RECORDER_ROLES)
def external_evaluation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = selectors.external_evaluation_detail(user=request.user, pk=pk)
    if not service.may_record(request.user, evaluation.school):
        raise PermissionDenied
    if evaluation.withdrawn_at is not None:
        return render(
            request,
            "409.html",
            {"problems": [_t("这条评价记录已经撤销。")]},
            status=409,
        )
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service.external_evaluation_withdraw(
                evaluation=evaluation, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            return redirect("oversight:external_evaluation_list")
    return render(request, "oversight/coverage/evaluation_withdraw.html", {"form": form, "evaluation": evaluation})


@roles_required(*selectors.COVERAGE_ROLES)
def external_evaluation_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = selectors.external_evaluation_detail(user=request.user, pk=pk)
    return file_download(
        evaluation.evidence.open("rb"), original_name=evaluation.evidence_name, content_type=evaluation.evidence_type
    )


urlpatterns: list = [
    path("coverage/", coverage, name="coverage"),
    path("coverage/export/", coverage_export, name="coverage_export"),
    path("coverage/refresh/", coverage_refresh, name="coverage_refresh"),
    path("coverage/evaluations/", external_evaluation_list, name="external_evaluation_list"),
    path("coverage/evaluations/new/", external_evaluation_create, name="external_evaluation_create"),
    path("coverage/evaluations/<int:pk>/withdraw/", external_evaluation_withdraw, name="external_evaluation_withdraw"),
    path("coverage/evaluations/<int:pk>/evidence/", external_evaluation_evidence, name="external_evaluation_evidence"),
]


def ready() -> None:
    """Called once from OversightConfig.ready(): the menu entry and the refresh job kind."""
    from portal.navigation import register_menu

    register_menu(_("专业覆盖率"), "oversight:coverage", selectors.COVERAGE_ROLES)
    register_job_kind(
        REFRESH_JOB,
        JobKind(
            label=_("统计专业覆盖率"),
            handler=_run_refresh,
            may_start=lambda user, params: service.may_refresh(user),
            result_link=lambda job: reverse("oversight:coverage") + f"?year={job.params['school_year']}",
        ),
    )
