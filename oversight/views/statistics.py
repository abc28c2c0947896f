"""Oversight: statistics (issue 10 item 6; notice main text 三(二)).

- ``statistics``: certificates (valid, revoked and corrected apart) and pass rates of accepted
  results, grouped by district, school, occupation, level or year, with filters; a chart and its
  table; the as-of time of the materialised figures (or "live"); the centre refreshes them.
- ``statistics_export``: every grouping as one sheet of a workbook, filters applied.
- ``statistics_subsidy`` (+ export): graduating-year students who hold a certificate, for subsidy claims.
- ``statistics_workload`` (+ export): teachers' evaluation workload per school and per person, for performance pay.

Thin: figures and scope come from ``oversight.selectors.statistics``; the refresh is a service.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.html import format_html_join
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from assessments.models import Duty
from oversight.charts import style as chart_style
from oversight.charts import svg
from oversight.selectors import statistics as selectors
from oversight.services import statistics as service
from portal.access import roles_required
from portal.excel import export_sheet, xlsx_response
from portal.forms import BootstrapFormMixin
from schools.models import academic_year_of

PAGE_SIZE = 50
ROLES = selectors.STATISTICS_ROLES
BY_LABELS = {
    "district": _("按区"),
    "school": _("按学校"),
    "occupation": _("按职业（工种）"),
    "level": _("按等级"),
    "year": _("按年度"),
}
DIMENSION_HEADERS = {
    "district": "区",
    "school": "学校",
    "occupation": "职业（工种）",
    "level": "等级",
    "year": "年度（证书按发证年份，考生按批次年份）",
}
DUTIES = [Duty.EXAMINER, Duty.INVIGILATOR, Duty.INTERNAL_SUPERVISOR]


# --- Charts (pygal, server-drawn SVG; no script, no CDN) -------------------------------------------

def bar_chart(title: str, labels: list[str], series: list[tuple[str, list]], *, percent: bool = False) -> str:
    import pygal
    chart = pygal.HorizontalBar(
        style=chart_style(("#198754", "#dc3545", "#0d6efd"), text_size=12),
        js=[],
        width=900,
        height=max(220, 60 + 26 * len(labels) * max(1, len(series))),
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        truncate_label=18,
        # pygal measures labels as Latin text; Chinese characters are about twice as wide.
        margin_left=min(6 * max((len(label) for label in labels), default=0), 110),
        print_values=len(labels) <= 25,
        range=(0, 100) if percent else None,
        value_formatter=(lambda v: f"{v:.1f}%" if v is not None else "—") if percent else (lambda v: f"{v:,.0f}"),
    )
    chart.title = title
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return svg(chart)


# --- Certificates and pass rates ---------------------------------------------------------------------


class FigureFilterForm(BootstrapFormMixin, forms.Form):
    district = forms.ChoiceField(label=_("区"), required=False)
    school = forms.TypedChoiceField(label=_("学校"), required=False, coerce=int, empty_value=None)
    occupation = forms.TypedChoiceField(label=_("职业（工种）"), required=False, coerce=int, empty_value=None)
    level = forms.TypedChoiceField(label=_("等级"), required=False, coerce=int, empty_value=None)
    year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for name in selectors.DIMENSIONS:
            self.fields[name].choices = [("", _("全部"))] + [(str(k), v) for k, v in choices[name]]

    def filters(self) -> selectors.Filters:
        if not (self.is_bound and self.is_valid()):
            return selectors.Filters()
        d = self.cleaned_data
        return selectors.Filters(
            district=d.get("district") or "",
            school=d.get("school"),
            occupation=d["occupation"],
            level=d["level"],
            year=d["year"],
        )


def _figure_page_data(request: HttpRequest):
    fig = selectors.figures(user=request.user)
    data = request.GET.copy()
    by = data.pop("by", ["district"])[-1]
    if by not in selectors.DIMENSIONS:
        by = "district"
    data.pop("page", None)
    form = FigureFilterForm(data or None, choices=selectors.filter_choices(fig))
    _narrow(form, fig.scope)
    return fig, form, by


def _narrow(form: forms.Form, scope: selectors.Scope) -> None:
    """A district bureau has one district to choose from, a school one school: no such filter."""
    if not scope.is_city:
        form.fields.pop("district", None)
    if scope.school is not None:
        form.fields.pop("school", None)


def _rate(value) -> str:
    return f"{value:.1%}" if value is not None else "—"


@roles_required(*ROLES)
def statistics(request: HttpRequest) -> HttpResponse:
    fig, form, by = _figure_page_data(request)
    filters = form.filters()
    table = selectors.table(fig, by=by, filters=filters)
    shown = table.rows[:30]
    charts = []
    if shown:
        charts.append(
            bar_chart(
                _t("证书数（%(by)s）") % {"by": BY_LABELS[by]},
                [r.label for r in shown],
                [(_t("有效证书"), [r.valid for r in shown]), (_t("已撤销"), [r.revoked for r in shown])],
            )
        )
        rated = [r for r in shown if r.pass_rate is not None]
        if rated:
            charts.append(
                bar_chart(
                    _t("合格率（%(by)s）") % {"by": BY_LABELS[by]},
                    [r.label for r in rated],
                    [(_t("合格率"), [round(r.pass_rate * 100, 1) for r in rated])],
                    percent=True,
                )
            )
    query = request.GET.copy()
    query.pop("by", None)
    return render(
        request,
        "oversight/statistics/index.html",
        {
            "form": form,
            "by": by,
            "tabs": [(k, v) for k, v in BY_LABELS.items()],
            "table": table,
            "charts": charts,
            "chart_cut": len(table.rows) > len(shown),
            "as_of": fig.as_of,
            "live": table.live,
            "scope": fig.scope,
            "filters_query": query.urlencode(),
            "may_refresh": request.user.is_superuser or request.user.has_role(*selectors.REFRESH_ROLES),
            "total_rate": table.total.pass_rate if table.total else None,
        },
    )


@roles_required(*ROLES)
def statistics_export(request: HttpRequest) -> HttpResponse:
    fig, form, _by = _figure_page_data(request)
    filters = form.filters()
    wb = Workbook(write_only=True)
    headers = ["有效证书", "已撤销", "已更正（被替代）", "合格", "不合格", "缺考", "取消资格/成绩无效", "合格率"]
    with translation.override("zh-hans"):
        tables = selectors.tables_for(fig, filters)
        for by in selectors.DIMENSIONS:
            table = selectors.table(fig, by=by, filters=filters, tables=tables)
            ws = wb.create_sheet(str(BY_LABELS[by]))
            ws.append([DIMENSION_HEADERS[by], *headers])
            for r in [*table.rows, table.total]:
                label = r.label if r is not table.total else "合计"
                ws.append(
                    [label, r.valid, r.revoked, r.superseded, r.passed, r.failed, r.absent, r.other, _rate(r.pass_rate)]
                )
        notes = wb.create_sheet("导出说明")
        _notes(notes, request, fig, form)
        notes.append(
            [
                "合格率",
                "合格 ÷（合格＋不合格），缺考、取消资格和成绩无效不计入分母；只统计市职鉴中心审核通过的评价结果。",
            ]
        )
        notes.append(["证书", "“有效证书”不含已撤销和已更正（被新证书替代）的证书，二者单列。"])
    return xlsx_response(wb, f"证书与合格率统计-{dt.date.today():%Y%m%d}.xlsx")


def _notes(ws, request, fig, form) -> None:
    ws.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    ws.append(["导出人", str(request.user)])
    ws.append(["统计时间", timezone.localtime(fig.as_of).strftime("%Y-%m-%d %H:%M") if fig.as_of else "实时统计"])
    ws.append(["统计范围", _scope_text(fig.scope, fig)])
    if form is not None and form.is_bound and form.is_valid():
        for name, field in form.fields.items():
            value = form.cleaned_data.get(name)
            if value not in (None, ""):
                ws.append([str(field.label), dict(field.choices).get(str(value), str(value))])


def _scope_text(scope: selectors.Scope, fig) -> str:
    if scope.district:
        from portal.models import District

        name = District.objects.filter(code=scope.district).values_list("name", flat=True).first() or scope.district
        return _t("本区（%(name)s）") % {"name": name}
    if scope.school is not None:
        return _t("本校")
    return _t("全市")


@roles_required(*selectors.REFRESH_ROLES)
def statistics_refresh(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    row = service.figures_refresh(actor=request.user)
    messages.success(
        request,
        _t("统计数据已更新，统计时间 %(at)s。")
        % {"at": timezone.localtime(row.computed_at).strftime("%Y-%m-%d %H:%M")},
    )
    return redirect("oversight:statistics")


# --- Subsidy-eligible holders --------------------------------------------------------------------


class SubsidyFilterForm(BootstrapFormMixin, forms.Form):
    school_year = forms.TypedChoiceField(label=_("毕业学年"), coerce=int, required=False, empty_value=None)
    district = forms.ChoiceField(label=_("区"), required=False)
    school = forms.TypedChoiceField(label=_("学校"), required=False, coerce=int, empty_value=None)
    occupation = forms.TypedChoiceField(label=_("职业（工种）"), required=False, coerce=int, empty_value=None)
    level = forms.TypedChoiceField(label=_("等级"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, choices: dict, current: int, **kwargs):
        super().__init__(*args, **kwargs)
        years = selectors.subsidy_years(current)
        self.fields["school_year"].choices = [
            (str(y), _t("%(a)s–%(b)s学年") % {"a": y, "b": y + 1}) for y in reversed(years)
        ]
        self.fields["school_year"].initial = str(current)
        for name in ("district", "school", "occupation", "level"):
            self.fields[name].choices = [("", _("全部"))] + [(str(k), v) for k, v in choices[name]]

    def values(self, current: int) -> tuple[int, selectors.Filters]:
        if not (self.is_bound and self.is_valid()):
            return current, selectors.Filters()
        d = self.cleaned_data
        return d["school_year"] or current, selectors.Filters(
            district=d.get("district") or "", school=d.get("school"), occupation=d["occupation"], level=d["level"]
        )


def _subsidy(request: HttpRequest):
    current = academic_year_of(timezone.localdate())
    fig = selectors.figures(user=request.user)
    data = request.GET.copy()
    data.pop("page", None)
    form = SubsidyFilterForm(data or None, choices=selectors.filter_choices(fig), current=current)
    _narrow(form, fig.scope)
    year, filters = form.values(current)
    holders = selectors.subsidy_list(user=request.user, school_year=year, filters=filters)
    return fig, form, year, holders


@roles_required(*ROLES)
def subsidy(request: HttpRequest) -> HttpResponse:
    fig, form, year, holders = _subsidy(request)
    page = Paginator(holders.ids, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = holders.certificates(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "oversight/statistics/subsidy.html",
        {
            "form": form,
            "page": page,
            "year": year,
            "query": query.urlencode(),
            "full_ids": selectors.may_export_full_ids(request.user),
            "scope_text": _scope_text(fig.scope, fig),
            "as_of": holders.as_of,
        },
    )


SUBSIDY_COLUMNS = (
    ("姓名", 12),
    ("证件类型", 14),
    ("证件号码", 22),
    ("学校", 30),
    ("所在区", 10),
    ("专业", 20),
    ("学号", 14),
    ("预计毕业时间", 14),
    ("职业名称", 20),
    ("工种/职业方向", 16),
    ("等级", 14),
    ("证书编号", 26),
    ("发证日期", 12),
)


@roles_required(*ROLES)
def subsidy_export(request: HttpRequest) -> HttpResponse:
    fig, form, year, holders = _subsidy(request)
    full = selectors.may_export_full_ids(request.user)
    wb = Workbook(write_only=True)
    ws = export_sheet(wb, "补贴申领名单", SUBSIDY_COLUMNS)
    with translation.override("zh-hans"):
        n = 0
        for c in holders.iterate(chunk_size=2000):
            student = c.candidate.student
            school = c.institution.school.organisation
            ws.append(
                [
                    c.name,
                    c.get_id_type_display(),
                    c.id_number if full else c.masked_id_number,
                    school.name,
                    school.district.name if school.district_id else "",
                    student.major.name,
                    student.student_number,
                    student.expected_graduation.isoformat(),
                    c.occupation_name,
                    c.work_type or "--",
                    c.get_level_display(),
                    c.number,
                    c.issued_on.isoformat(),
                ]
            )
            n += 1
        notes = wb.create_sheet("导出说明")
        _notes(notes, request, fig, None)
        notes.append(
            [
                "名单时间",
                timezone.localtime(holders.as_of).strftime("%Y-%m-%d %H:%M") if holders.as_of else "实时名单",
            ]
        )
        notes.append(["毕业学年", f"{year}–{year + 1}学年（{year}年9月1日至{year + 1}年8月31日毕业）"])
        notes.append(["条数", str(n)])
        notes.append(
            [
                "证件号码",
                "完整显示" if full else "已遮盖：完整证件号码仅向市职鉴中心、市人社局、本区区人社局和本校导出",
            ]
        )
        notes.append(
            ["依据", "沪人社职〔2022〕102号 三(二)：取得证书的学生可按规定申领职业技能提升补贴，纳入技能人才统计。"]
        )
    return xlsx_response(wb, f"职业技能提升补贴申领名单-{year}学年.xlsx")


# --- Teachers' evaluation workload ------------------------------------------------------------------


class WorkloadFilterForm(BootstrapFormMixin, forms.Form):
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, current: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(str(y), str(y)) for y in reversed(selectors.workload_years(current))]
        self.fields["year"].initial = str(current)

    def chosen_year(self, current: int) -> int:
        if self.is_bound and self.is_valid() and self.cleaned_data["year"]:
            return self.cleaned_data["year"]
        return current


def _workload(request: HttpRequest):
    current = timezone.localdate().year
    data = request.GET.copy()
    data.pop("page", None)
    form = WorkloadFilterForm(data or None, current=current)
    year = form.chosen_year(current)
    found = selectors.workload_of(user=request.user, year=year)
    return form, year, found.persons, found.schools, found.as_of


@roles_required(*ROLES)
def workload(request: HttpRequest) -> HttpResponse:
    form, year, persons, schools, as_of = _workload(request)
    page = Paginator(persons, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    duties = [(d.value, d.label) for d in DUTIES]
    chart = ""
    if schools:
        top = schools[:25]
        chart = bar_chart(
            _t("评价工作量（人次·批次）"),
            [s.organisation for s in top],
            [
                (str(label), [s.duties.get(key).batches if s.duties.get(key) else 0 for s in top])
                for key, label in duties
            ],
        )
    return render(
        request,
        "oversight/statistics/workload.html",
        {
            "form": form,
            "year": year,
            "page": page,
            "rows": [_person_cells(p) for p in page.object_list],
            "schools": [_school_cells(s) for s in schools],
            "duties": duties,
            "query": query.urlencode(),
            "chart": chart,
            "as_of": as_of,
        },
    )


def _cells(duties: dict, total) -> list[int]:
    out = []
    for d in DUTIES:
        f = duties.get(d.value)
        out += [f.batches, f.days, f.candidates] if f else [0, 0, 0]
    return out + [total.batches, total.days, total.candidates]


def _cells_html(cells: list[int]):
    """The row's figure cells as one piece of markup: a city's table has some 2,000 of them, which
    the template's loop would format one by one."""
    return format_html_join("", '<td class="text-end">{}</td>', ((n,) for n in cells))


def _person_cells(p) -> dict:
    cells = _cells(p.duties, p.total)
    return {"p": p, "cells": cells, "cells_html": _cells_html(cells)}


def _school_cells(s) -> dict:
    cells = _cells(s.duties, s.total)
    return {"s": s, "cells": cells, "cells_html": _cells_html(cells)}


@roles_required(*ROLES)
def workload_export(request: HttpRequest) -> HttpResponse:
    form, year, persons, schools, as_of = _workload(request)
    wb = Workbook(write_only=True)
    with translation.override("zh-hans"):
        figures_headers = []
        for d in DUTIES:
            label = str(d.label)
            figures_headers += [f"{label}·批次", f"{label}·天数", f"{label}·考生数"]
        figures_headers += ["合计·批次", "合计·天数", "合计·考生数"]
        ws = wb.create_sheet("按人员")
        ws.append(["姓名", "用户名", "所在单位", *figures_headers])
        for p in persons:
            ws.append([p.name, p.username, p.organisation, *_cells(p.duties, p.total)])
        ws2 = wb.create_sheet("按学校")
        ws2.append(["单位", "人数", *(h.replace("批次", "批次人次") for h in figures_headers)])
        for s in schools:
            ws2.append([s.organisation, s.people, *_cells(s.duties, s.total)])
        notes = wb.create_sheet("导出说明")
        notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
        notes.append(["导出人", str(request.user)])
        notes.append(["年度", str(year)])
        notes.append(["统计时间", timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M") if as_of else "实时统计"])
        notes.append(
            [
                "口径",
                "已备案并已开考的评价批次中担任考评人员、监考人员、内部质量督导人员的情况；天数为批次覆盖的日历天数（同一职责同日多批次计一天）；考生数为所在考场安排的考生数，内部质量督导按批次考生总数。",
            ]
        )
        notes.append(["依据", "沪人社职〔2022〕102号 三(二)：将教师额外承担的培训评价工作量纳入绩效工资分配因素。"])
    return xlsx_response(wb, f"教师评价工作量-{year}.xlsx")


urlpatterns = [
    path("statistics/", statistics, name="statistics"),
    path("statistics/export/", statistics_export, name="statistics_export"),
    path("statistics/refresh/", statistics_refresh, name="statistics_refresh"),
    path("statistics/subsidy/", subsidy, name="statistics_subsidy"),
    path("statistics/subsidy/export/", subsidy_export, name="statistics_subsidy_export"),
    path("statistics/workload/", workload, name="statistics_workload"),
    path("statistics/workload/export/", workload_export, name="statistics_workload_export"),
]


def ready() -> None:
    """The menu entry for everyone who reads statistics."""
    from portal.navigation import register_menu

    register_menu(_("统计"), "oversight:statistics", ROLES)
