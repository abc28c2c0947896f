"""Oversight: the role dashboards' numbers, each counted by the list it links to.

A figure is declared once: a list (``LISTS``: its page and the queryset that page shows for a user and
its GET parameters) and the parameters. Its number is that queryset's ``count()`` and its link is the
page's address with the same parameters, so the number and the rows behind the link cannot disagree.
Every number is one COUNT query, whatever the size of the data; a role sees only the numbers of its
work, each within its own scope (a district bureau: its district; a school: itself).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.access import is_citywide
from portal.models import OrganisationKind, Role

Params = dict[str, str]

# --- The lists a dashboard counts: each is the page's own selector and filter ---------------------


def _plans(user, params: Params) -> QuerySet:
    """assessments:plan_list — selectors.plan_list narrowed by its PlanFilter, as the page does."""
    from assessments.filters import PlanFilter
    from assessments.selectors import plan_list

    return PlanFilter(_data(params), queryset=plan_list(user=user), user=user).qs


def _overdue(user, params: Params) -> QuerySet:
    """assessments:overdue_list — the batches whose results are overdue and still not filed."""
    from assessments.services.clock import overdue_plans

    return overdue_plans(user)


def _applications(user, params: Params) -> QuerySet:
    """institutions:application_list — its status filter (one status, or every open one)."""
    from institutions.forms import ApplicationFilterForm
    from institutions.selectors import application_list_filtered

    form = ApplicationFilterForm(_data(params))
    return application_list_filtered(user=user, status=form.cleaned_data["status"] if form.is_valid() else "")


def _schools(user, params: Params) -> QuerySet:
    """schools:school_list — its search form's filters."""
    from schools.forms import SchoolFilterForm
    from schools.selectors import school_list_with_counts

    filters = SchoolFilterForm(_data(params)).filters()
    return school_list_with_counts(user=user, on=timezone.localdate(), graduating_only=True, **filters)


def _registry(user, params: Params) -> QuerySet:
    """registry:institution_list — the registry's search within the user's scope."""
    from institutions.directory_forms import RegistrySearchForm
    from institutions.selectors import registry_list

    form = RegistrySearchForm(_data(params))
    return registry_list(user=user, status=form.status_filter(), **form.filters())


def _certificates(user, params: Params) -> QuerySet:
    """certificates:certificate_list — selectors.certificate_list narrowed by its CertificateFilter."""
    from certificates.filters import CertificateFilter
    from certificates.selectors import certificate_list

    return CertificateFilter(_data(params), queryset=certificate_list(user=user), user=user).qs


def _requests(user, params: Params) -> QuerySet:
    """certificates:request_list — revocation and correction requests, by status."""
    from certificates.filters import RequestFilter
    from certificates.selectors import request_list

    return RequestFilter(_data(params), queryset=request_list(user=user)).qs


def _reports(user, params: Params) -> QuerySet:
    """certificates:report_list — the certificate reports, by status."""
    from certificates.models import ReportStatus
    from certificates.selectors import report_list

    reports = report_list(user=user)
    status = params.get("status", "")
    return reports.filter(status=status) if status in ReportStatus.values else reports


def _to_report(user, params: Params) -> QuerySet:
    """certificates:report_list, its school part — the school's batches with certificates to report."""
    from certificates.selectors import plans_to_report

    return plans_to_report(user=user)


def _unreported(user, params: Params) -> QuerySet:
    """certificates:unreported — certificates issued past the reporting period and not reported."""
    from certificates.selectors import unreported_list

    return unreported_list(user=user)


def _data(params: Params) -> QueryDict | None:
    """The GET the page would receive (``None`` for no parameters, as ``request.GET or None``)."""
    if not params:
        return None
    data = QueryDict(mutable=True)
    data.update(params)
    return data


@dataclass(frozen=True)
class ListSpec:
    url_name: str
    rows: Callable[[object, Params], QuerySet]
    # A small table ("app_label.Model") whose figures on one dashboard are counted together in one
    # query (a conditional count per figure, each over the list's own rows); "" for one COUNT each.
    table: str = ""


PLANS = "assessments.EvaluationPlan"
LISTS: dict[str, ListSpec] = {
    "plans": ListSpec("assessments:plan_list", _plans, PLANS),
    "overdue": ListSpec("assessments:overdue_list", _overdue, PLANS),
    "applications": ListSpec("institutions:application_list", _applications, "institutions.FilingApplication"),
    "schools": ListSpec("schools:school_list", _schools),
    "registry": ListSpec("registry:institution_list", _registry),
    "certificates": ListSpec("certificates:certificate_list", _certificates),
    "requests": ListSpec("certificates:request_list", _requests),
    "reports": ListSpec("certificates:report_list", _reports),
    "to_report": ListSpec("certificates:report_list", _to_report, PLANS),
    "unreported": ListSpec("certificates:unreported", _unreported),
}


# --- Figures and dashboards ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number of a dashboard: what it counts (``list`` and ``params``) and where it links."""

    key: str
    label: str
    value: str
    url: str
    count: int | None = None
    hint: str = ""
    tone: str = ""
    group: str = ""


@dataclass
class Dashboard:
    role: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    note: str = ""


# How a queue's number reads: work waiting (warning) or a deadline missed (danger) when above zero.
WAITING, LATE = "warning", "danger"


@dataclass(frozen=True)
class Counted:
    """A figure still to count: ``list_name``'s rows under ``params``, linked to that list."""

    key: str
    label: str
    list_name: str
    params: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    tone: str = ""

    @property
    def url(self) -> str:
        return reverse(LISTS[self.list_name].url_name) + (f"?{urlencode(self.params)}" if self.params else "")

    def rows(self, user) -> QuerySet:
        return LISTS[self.list_name].rows(user, dict(self.params))

    def figure(self, count: int) -> Figure:
        return Figure(
            self.key, self.label, str(count), self.url, count=count, hint=self.hint, tone=self.tone if count else ""
        )


def counted(key: str, label: str, list_name: str, params: Params | None = None, *, hint: str = "", tone="") -> Counted:
    """The figure of ``list_name`` under ``params``: the list's queryset counted, its address linked."""
    return Counted(key, label, list_name, tuple((params or {}).items()), hint, tone)


def resolve(user, items) -> list[Figure]:
    """Count the figures: one COUNT per list, or for a small table one query with a conditional count
    per figure (``pk IN`` the list's own rows), so a dashboard costs a few queries whatever the data."""
    items = [i for i in items if i is not None]
    counts: dict[str, int] = {}
    tables: dict[str, list[Counted]] = defaultdict(list)
    for item in items:
        if isinstance(item, Counted):
            table = LISTS[item.list_name].table
            if table:
                tables[table].append(item)
            else:
                counts[item.key] = item.rows(user).count()
    for table, members in tables.items():
        if len(members) == 1:
            counts[members[0].key] = members[0].rows(user).count()
            continue
        each = {
            f"n{i}": Count("pk", filter=Q(pk__in=c.rows(user).order_by().values("pk"))) for i, c in enumerate(members)
        }
        got = apps.get_model(table)._default_manager.order_by().aggregate(**each)
        counts.update({c.key: got[f"n{i}"] for i, c in enumerate(members)})
    return [i.figure(counts[i.key]) if isinstance(i, Counted) else i for i in items]


def _url(name: str, query: str = "") -> str | None:
    """The address of a page another part of oversight publishes, or None until it exists."""
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return None


# --- The figures other oversight parts publish (each shown once its selector and page exist) --------


def _coverage_figure(user) -> Figure | None:
    """The share of majors covered this school year, in the user's coverage scope, against the target."""
    try:
        from oversight.selectors.coverage import coverage_figures, coverage_scope_for, current_school_year, target
    except ImportError:
        return None
    scope = coverage_scope_for(user)
    url = _url("oversight:coverage")
    if scope is None or url is None:
        return None
    year = current_school_year()
    figures = coverage_figures(school_year=year, district=scope.district, school=scope.school)
    if figures.rate is None:
        value, tone = "—", ""
    else:
        value, tone = f"{figures.rate}%", ("success" if figures.meets_target else WAITING)
    hint = _("%(year)s学年：%(covered)s/%(total)s个专业，目标%(target)s%%") % {
        "year": f"{year}-{year + 1}",
        "covered": figures.covered,
        "total": figures.total,
        "target": target(),
    }
    if figures.computed_at is not None:  # the stored coverage rows' as-of time
        hint += " · " + _("截至%(at)s") % {"at": timezone.localtime(figures.computed_at).strftime("%m-%d %H:%M")}
    return Figure("coverage", _("专业覆盖率"), value, url, count=figures.covered, hint=hint, tone=tone)


def _cases_figure(user) -> Figure | None:
    try:
        from oversight.selectors.cases import open_case_count
    except ImportError:
        return None
    url = _url("oversight:case_list", "?status=open")
    if url is None:
        return None
    n = open_case_count(user)
    return Figure("cases", _("未结违规违纪案件"), str(n), url, count=n, tone=WAITING if n else "")


def _complaints_figure(user) -> Figure | None:
    try:
        from oversight.selectors.complaints import pending_complaint_count
    except ImportError:
        return None
    url = _url("oversight:complaint_list", "?status=received")
    if url is None:
        return None
    n = pending_complaint_count(user)
    return Figure("complaints", _("待分办的投诉举报"), str(n), url, count=n, tone=WAITING if n else "")


# The city overview's figures that are statistics rather than a list's rows: shown as the statistics
# page shows them (with its as-of time), linked to it. Institutions, batches and certificates are
# counted from their lists instead (``municipal_dashboard``), so that each equals the rows behind it.
STATISTICS_KEYS = ("occupations", "candidates", "pass_rate")


def _city_figures(user) -> list[Figure]:
    try:
        from oversight.selectors.statistics import city_overview
    except ImportError:
        return []
    stats = _url("oversight:statistics")
    if stats is None or not is_citywide(user):
        return []
    overview = city_overview(user)
    rows = {row["key"]: row for row in overview.figures}
    out = []
    for name in STATISTICS_KEYS:
        row = rows.get(name)
        if row is None:
            continue
        url = row["url"] if name != "occupations" else stats  # the directory lists institutions, not rows
        count = row["value"] if isinstance(row["value"], int) else None
        out.append(Figure(name, str(row["label"]), str(row["value"]), url or stats, count=count, hint=str(row["hint"])))
    return out


# --- The dashboards per role ----------------------------------------------------------------------


def _month(today: dt.date) -> Params:
    first = today.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return {"starts_from": first.isoformat(), "starts_to": last.isoformat()}


def commission_dashboard(user) -> Dashboard:
    """市教委 and its department: coverage, filings in progress, schools not yet filed."""
    figures = [
        _coverage_figure(user),
        counted("applications", _("办理中的备案申请"), "applications", {"status": "in_progress"}),
        counted(
            "awaiting_consent",
            _("待出具备案确认意见"),
            "applications",
            {"status": "awaiting_consent"},
            tone=WAITING,
        ),
        counted("unfiled_schools", _("尚未备案的学校"), "schools", {"filed": "no"}),
    ]
    return Dashboard(Role.COMMISSION_OFFICER, _("市教委：覆盖率与备案进展"), resolve(user, figures))


def centre_dashboard(user) -> Dashboard:
    """市职鉴中心: its queues, by part of the work."""
    filings, batches, certificates, oversight = _("机构备案"), _("评价计划与结果"), _("证书"), _("监管")
    figures = [
        counted("evaluations", _("技术评估中的备案申请"), "applications", {"status": "under_evaluation"}, tone=WAITING),
        counted("to_confirm", _("待报部备案并出具回执"), "applications", {"status": "consented"}, tone=WAITING),
        counted("plans_to_review", _("待审核的评价计划"), "plans", {"status": "submitted"}, tone=WAITING),
        counted("results_to_review", _("待审核的评价结果"), "plans", {"results": "submitted"}, tone=WAITING),
        counted("results_due", _("已结束、待报送结果的批次"), "plans", {"results": "due"}),
        counted("results_overdue", _("逾期未报送结果的批次"), "overdue", tone=LATE),
        counted("reports_to_receive", _("待接收的证书报送"), "reports", {"status": "submitted"}, tone=WAITING),
        counted("unreported", _("逾期未报送的证书"), "unreported", tone=LATE),
        counted("requests", _("待审核的撤销、更正申请"), "requests", {"status": "requested"}, tone=WAITING),
        _complaints_figure(user),
        _cases_figure(user),
    ]
    groups = {
        "evaluations": filings,
        "to_confirm": filings,
        "plans_to_review": batches,
        "results_to_review": batches,
        "results_due": batches,
        "results_overdue": batches,
        "reports_to_receive": certificates,
        "unreported": certificates,
        "requests": certificates,
        "complaints": oversight,
        "cases": oversight,
    }
    shown = [replace(f, group=groups.get(f.key, "")) for f in resolve(user, figures)]
    return Dashboard(Role.CENTRE_REVIEWER, _("市职鉴中心：待办队列"), shown)


def district_dashboard(user) -> Dashboard:
    """区人社局: its district's schools only (every list below is scoped to the district)."""
    today = timezone.localdate()
    district = user.organisation.district if user.organisation_id else None
    figures = [
        counted("batches_this_month", _("本月开考的批次"), "plans", _month(today), hint=f"{today:%Y-%m}"),
        counted("results_overdue", _("逾期未报送结果的批次"), "overdue", tone=LATE),
        counted("supervision_reports", _("已提交督导报告的批次"), "plans", {"supervision": "true"}),
        _cases_figure(user),
    ]
    title = _("区人社局：%(district)s评价工作监管") % {"district": district or ""}
    return Dashboard(Role.DISTRICT_HR_OFFICER, title, resolve(user, figures), note=_("仅含本区学校的数据。"))


def municipal_dashboard(user) -> Dashboard:
    """市人社局: the city overview."""
    today = timezone.localdate()
    figures = [
        counted("institutions", _("有效的评价机构"), "registry", {"status": "active"}),
        counted("batches", _("已备案的评价批次"), "plans", {"status": "accepted"}),
        counted("batches_this_month", _("本月开考的批次"), "plans", _month(today), hint=f"{today:%Y-%m}"),
        counted("certificates", _("有效证书"), "certificates", {"status": "valid"}),
        *_city_figures(user),
    ]
    return Dashboard(Role.MUNICIPAL_HR_OFFICER, _("市人社局：全市概况"), resolve(user, figures))


def school_dashboard(user) -> Dashboard:
    """School staff: the school's own coverage, batches, deadlines and certificates."""
    figures = [
        _coverage_figure(user),
        counted("plans", _("本校评价计划"), "plans"),
        counted("plans_returned", _("退回修改的评价计划"), "plans", {"status": "returned"}, tone=WAITING),
        counted("results_due", _("已结束、待报送结果的批次"), "plans", {"results": "due"}, tone=WAITING),
        counted("results_overdue", _("逾期未报送结果的批次"), "overdue", tone=LATE),
        counted("to_report", _("有证书待报送的批次"), "to_report", tone=WAITING),
        counted("requests", _("审核中的撤销、更正申请"), "requests", {"status": "requested"}),
    ]
    return Dashboard(Role.SCHOOL_STAFF, _("本校评价工作"), resolve(user, figures))


def _is_district_bureau(user) -> bool:
    org = user.organisation
    return user.has_role(Role.DISTRICT_HR_OFFICER) and org is not None and org.kind == OrganisationKind.DISTRICT_HR


def _is_school(user) -> bool:
    org = user.organisation
    return user.has_role(Role.SCHOOL_STAFF) and org is not None and org.kind == OrganisationKind.SCHOOL


# Which dashboard each role sees (a person holding two roles sees both).
DASHBOARDS: tuple[tuple[Callable[[object], bool], Callable[[object], Dashboard]], ...] = (
    (lambda u: u.has_role(Role.COMMISSION_OFFICER, Role.COMMISSION_DEPT_OFFICER), commission_dashboard),
    (lambda u: u.has_role(Role.CENTRE_REVIEWER), centre_dashboard),
    (_is_district_bureau, district_dashboard),
    (lambda u: u.has_role(Role.MUNICIPAL_HR_OFFICER), municipal_dashboard),
    (_is_school, school_dashboard),
)


def dashboards_for(user) -> list[Dashboard]:
    """The dashboards of the user's roles, in a fixed order (none for an anonymous visitor)."""
    if not user.is_authenticated:
        return []
    return [build(user) for allowed, build in DASHBOARDS if allowed(user)]
