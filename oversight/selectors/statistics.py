"""Oversight: statistics selectors (issue 10 item 6; notice main text 三(二)).

Certificates and pass rates are read from one materialised figure set (``Summary`` name
``FIGURES``, scope "" = the whole city) that ``oversight.services.statistics.figures_refresh``
computes in one pass of GROUP BY queries (a beat task, or the centre on demand). Each row of it
carries its school and district, so a reader's scope and the page's filters are applied to the
rows here, in Python, with no further query. Without a stored row the same figures are computed
live, narrowed to the reader's scope first.

Scopes: the city-wide authorities see the city; a district bureau its district; school staff
their own school; anyone else nothing (the views answer 403).

``city_overview(user)`` — the dashboard's city overview — is computed from the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import ExtractYear, TruncDate
from django.utils import timezone

from portal.access import is_citywide
from portal.models import OrganisationKind, Role

FIGURES = "certificates_by"

# Figure rows (lists, to keep the stored JSON small):
# certificates: school, district code, occupation id, level, year of issue, valid, revoked, superseded
# results:      school, district code, occupation id, level, year of the batch, passed, failed, absent, other
# schools:      school, district code, institution in force (0/1), occupations in force, batches, candidates
C_SCHOOL, C_DISTRICT, C_OCC, C_LEVEL, C_YEAR = range(5)
DIMENSIONS = ("district", "school", "occupation", "level", "year")
DIMENSION_INDEX = {"school": C_SCHOOL, "district": C_DISTRICT, "occupation": C_OCC, "level": C_LEVEL, "year": C_YEAR}

# Who may export full ID numbers of subsidy-eligible holders (the district bureau and the school
# only ever see their own scope).
FULL_ID_ROLES = frozenset(
    {Role.CENTRE_REVIEWER, Role.SYSTEM_ADMIN, Role.MUNICIPAL_HR_OFFICER, Role.DISTRICT_HR_OFFICER, Role.SCHOOL_STAFF}
)
STATISTICS_ROLES = frozenset(
    {
        Role.CENTRE_REVIEWER,
        Role.SYSTEM_ADMIN,
        Role.COMMISSION_OFFICER,
        Role.COMMISSION_DEPT_OFFICER,
        Role.MUNICIPAL_HR_OFFICER,
        Role.DISTRICT_HR_OFFICER,
        Role.SCHOOL_STAFF,
    }
)
REFRESH_ROLES = frozenset({Role.CENTRE_REVIEWER, Role.SYSTEM_ADMIN})
# Batch duties, in the order the workload columns show them (assessments.models.Duty values).
DUTY_KEYS = ("examiner", "invigilator", "internal_supervisor")


# --- Scope ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """ "" (city), "district:<code>", "school:<id>", or None (nothing)."""

    key: str | None

    @property
    def is_city(self) -> bool:
        return self.key == ""

    @property
    def district(self) -> str | None:
        return self.key.split(":", 1)[1] if self.key and self.key.startswith("district:") else None

    @property
    def school(self) -> int | None:
        return int(self.key.split(":", 1)[1]) if self.key and self.key.startswith("school:") else None

    def q(self, school_path: str) -> Q:
        """Narrow a queryset whose school is reached by ``school_path`` ("institution__school")."""
        if self.key is None:
            return Q(pk__in=[])
        if self.district:
            return Q(**{f"{school_path}__organisation__district__code": self.district})
        if self.school is not None:
            return Q(**{f"{school_path}_id": self.school})
        return Q()

    def keeps(self, school_id, district_code) -> bool:
        if self.key is None:
            return False
        if self.district:
            return district_code == self.district
        if self.school is not None:
            return school_id == self.school
        return True


def scope_of(user) -> Scope:
    if not user.is_authenticated:
        return Scope(None)
    if is_citywide(user):
        return Scope("")
    org = user.organisation
    if org is None:
        return Scope(None)
    if user.has_role(Role.DISTRICT_HR_OFFICER) and org.kind == OrganisationKind.DISTRICT_HR and org.district_id:
        return Scope(f"district:{org.district.code}")
    if user.has_role(Role.SCHOOL_STAFF) and org.kind == OrganisationKind.SCHOOL:
        from schools.models import School

        school_id = School.objects.filter(organisation=org).values_list("pk", flat=True).first()
        if school_id:
            return Scope(f"school:{school_id}")
    return Scope(None)


# --- The figures: computed (one pass, GROUP BY) or read ---------------------------------------------


def compute_figures(scope: Scope | None = None, filters: Filters | None = None, *, overview: bool = True) -> dict:
    """The figure cube: certificates and results counted per school, district, occupation, level and
    year, and the overview counts per school, in a fixed number of GROUP BY queries whatever the
    size of the city. ``scope`` and ``filters`` narrow the queries (live figures); ``overview=False``
    leaves out the per-school overview counts (a filtered table does not need them)."""
    from assessments.models import Candidate, EvaluationPlan, Outcome, PlanStatus, ResultStatus
    from certificates.models import Certificate, CertificateStatus
    from institutions.models import Institution, InstitutionOccupation, InstitutionStatus
    from portal.models import District, Occupation
    from schools.models import School

    scope = scope or Scope("")
    today = timezone.localdate()
    school = "institution__school"
    filters = filters or Filters()
    certificates = (
        Certificate.objects.filter(scope.q(school), filters.q(school, "issued_on"))
        .values(
            s=F("institution__school_id"),
            d=F("institution__school__organisation__district__code"),
            o=F("occupation_id"),
            lv=F("level"),
            y=ExtractYear("issued_on"),
        )
        .annotate(
            valid=Count("pk", filter=Q(status=CertificateStatus.VALID)),
            revoked=Count("pk", filter=Q(status=CertificateStatus.REVOKED)),
            superseded=Count("pk", filter=Q(status=CertificateStatus.SUPERSEDED)),
        )
        .order_by()
    )
    results = (
        Candidate.objects.filter(
            scope.q("plan__institution__school"),
            filters.q("plan__institution__school", "plan__starts_at"),
            plan__results__status=ResultStatus.ACCEPTED,
        )
        .values(
            s=F("plan__institution__school_id"),
            d=F("plan__institution__school__organisation__district__code"),
            o=F("occupation_id"),
            lv=F("level"),
            y=ExtractYear("plan__starts_at"),
        )
        .annotate(
            passed=Count("pk", filter=Q(outcome=Outcome.PASSED)),
            failed=Count("pk", filter=Q(outcome=Outcome.FAILED)),
            absent=Count("pk", filter=Q(outcome=Outcome.ABSENT)),
            other=Count("pk", filter=Q(outcome__in=[Outcome.CANCELLED, Outcome.VOIDED])),
        )
        .order_by()
    )
    in_force = Q(status=InstitutionStatus.ACTIVE, valid_until__gte=today)
    institutions = (
        Institution.objects.filter(scope.q("school"))
        .filter(in_force)
        .values(sid=F("school_id"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    occupations = (
        InstitutionOccupation.objects.filter(scope.q("institution__school"), in_force)
        .filter(institution__status=InstitutionStatus.ACTIVE, institution__valid_until__gte=today)
        .values(sid=F("institution__school_id"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    held = [PlanStatus.ACCEPTED, PlanStatus.AMENDING]
    batches = (
        EvaluationPlan.objects.filter(scope.q("institution__school"), status__in=held)
        .values(sid=F("institution__school_id"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    candidates = (
        Candidate.objects.filter(scope.q("plan__institution__school"), plan__status__in=held)
        .values(sid=F("plan__institution__school_id"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    cert_rows = [
        [r["s"], r["d"], r["o"], r["lv"], r["y"], r["valid"], r["revoked"], r["superseded"]] for r in certificates
    ]
    result_rows = [
        [r["s"], r["d"], r["o"], r["lv"], r["y"], r["passed"], r["failed"], r["absent"], r["other"]] for r in results
    ]
    per_school: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for i, rows in enumerate((institutions, occupations, batches, candidates) if overview else ()):
        for r in rows:
            per_school[r["sid"]][i] = r["n"]
    school_ids = {r[0] for r in cert_rows} | {r[0] for r in result_rows} | set(per_school)
    schools = {
        s["pk"]: (s["organisation__short_name"] or s["organisation__name"], s["organisation__district__code"])
        for s in School.objects.filter(pk__in=school_ids).values(
            "pk", "organisation__name", "organisation__short_name", "organisation__district__code"
        )
    }
    occ_ids = {r[2] for r in cert_rows} | {r[2] for r in result_rows}
    occupations_named = {
        o.pk: f"{o.code} {o.name}" + (f"（{o.work_type}）" if o.work_type else "")
        for o in Occupation.objects.filter(pk__in=occ_ids).only("pk", "code", "name", "work_type")
    }
    district_names = dict(District.objects.values_list("code", "name"))
    return {
        "certificates": cert_rows,
        "results": result_rows,
        "schools": [[sid, schools.get(sid, ("", ""))[1], *counts] for sid, counts in per_school.items()],
        "labels": {
            "schools": {str(k): v[0] for k, v in schools.items()},
            "school_districts": {str(k): v[1] for k, v in schools.items()},
            "occupations": {str(k): v for k, v in occupations_named.items()},
            "districts": district_names,
        },
        "on": today.isoformat(),
    }


def _level_label(key) -> str:
    from schools.models import Level

    try:
        return str(Level(int(key)).label)
    except (TypeError, ValueError):
        return str(key)


def _labeller(cube: dict):
    labels = cube["labels"]

    def label(dimension: str, key) -> str:
        if dimension == "school":
            return labels["schools"].get(str(key), f"#{key}")
        if dimension == "district":
            return labels["districts"].get(key, key or "—")
        if dimension == "occupation":
            return labels["occupations"].get(str(key), f"#{key}")
        if dimension == "level":
            return _level_label(key)
        return str(key)

    return label


def _empty_overview() -> dict:
    return dict.fromkeys(
        (
            "institutions",
            "occupations",
            "batches",
            "candidates",
            "passed",
            "failed",
            "absent",
            "certificates",
            "revoked",
        ),
        0,
    )


def summarise(cube: dict, *, only: str | None = None) -> dict[str, dict]:
    """Scope key -> the small payload a page reads: per dimension the grouped table rows
    ``[key, label, valid, revoked, superseded, passed, failed, absent, other]`` (its keys are also
    the filter's choices), and the overview counts. One pass over the cube for the city, every
    district and every school; with ``only``, every row goes to that one key (a cube computed for it)."""
    tables: dict[str, dict[str, dict]] = defaultdict(lambda: {d: {} for d in DIMENSIONS})
    overview: dict[str, dict] = defaultdict(_empty_overview)

    def keys(s, d) -> tuple[str, ...]:
        return (only,) if only is not None else ("", f"district:{d}", f"school:{s}")

    dims = [(d, DIMENSION_INDEX[d]) for d in DIMENSIONS]
    for r in cube["certificates"]:
        for key in keys(r[0], r[1]):
            t, o = tables[key], overview[key]
            o["certificates"] += r[5]
            o["revoked"] += r[6]
            for d, i in dims:
                row = t[d].get(r[i])
                if row is None:
                    row = t[d][r[i]] = [0] * 7
                row[0] += r[5]
                row[1] += r[6]
                row[2] += r[7]
    for r in cube["results"]:
        for key in keys(r[0], r[1]):
            t, o = tables[key], overview[key]
            o["passed"] += r[5]
            o["failed"] += r[6]
            o["absent"] += r[7]
            for d, i in dims:
                row = t[d].get(r[i])
                if row is None:
                    row = t[d][r[i]] = [0] * 7
                row[3] += r[5]
                row[4] += r[6]
                row[5] += r[7]
                row[6] += r[8]
    for r in cube["schools"]:
        for key in keys(r[0], r[1]):
            o = overview[key]
            o["institutions"] += r[2]
            o["occupations"] += r[3]
            o["batches"] += r[4]
            o["candidates"] += r[5]
    label = _labeller(cube)
    out = {}
    for key in set(tables) | set(overview) | ({only} if only is not None else set()):
        grouped = tables.get(key) or {d: {} for d in DIMENSIONS}
        out[key] = {
            "tables": {
                d: [[k, label(d, k), *counts] for k, counts in grouped[d].items() if k is not None] for d in DIMENSIONS
            },
            "overview": dict(overview.get(key) or _empty_overview()),
        }
    return out


@dataclass
class Figures:
    """The reader's figures: the stored payload of their scope (``as_of`` its time) or a live one."""

    data: dict
    as_of: dt.datetime | None  # None: computed live just now
    scope: Scope


def figures(*, user) -> Figures:
    """The reader's figures: their scope's stored row (one query), or computed live for the scope."""
    from oversight.models import Summary

    scope = scope_of(user)
    if scope.key is None:
        return Figures(
            summarise({"certificates": [], "results": [], "schools": [], "labels": {}}, only="")[""], None, scope
        )
    stored = Summary.objects.filter(name=FIGURES, scope=scope.key).only("data", "computed_at").first()
    if stored is not None and "tables" in stored.data:
        return Figures(stored.data, stored.computed_at, scope)
    if Summary.objects.filter(name=FIGURES, scope="").exists():
        # Figures were stored, none in this scope: nothing to count here yet.
        as_of = Summary.objects.filter(name=FIGURES, scope="").values_list("computed_at", flat=True).first()
        return Figures(
            summarise({"certificates": [], "results": [], "schools": [], "labels": {}}, only=scope.key)[scope.key],
            as_of,
            scope,
        )
    return Figures(summarise(compute_figures(scope), only=scope.key)[scope.key], None, scope)


# --- Tables ----------------------------------------------------------------------------------------


@dataclass
class Filters:
    district: str = ""
    school: int | None = None
    occupation: int | None = None
    level: int | None = None
    year: int | None = None

    @property
    def is_empty(self) -> bool:
        return (
            not self.district
            and self.school is None
            and self.occupation is None
            and self.level is None
            and self.year is None
        )

    def q(self, school_path: str, date_path: str) -> Q:
        """The filters on a queryset whose school is reached by ``school_path``, dated by ``date_path``;
        the occupation and level are the queried row's own ``occupation_id`` and ``level``."""
        q = Q()
        if self.district:
            q &= Q(**{f"{school_path}__organisation__district__code": self.district})
        if self.school is not None:
            q &= Q(**{f"{school_path}_id": self.school})
        if self.occupation is not None:
            q &= Q(occupation_id=self.occupation)
        if self.level is not None:
            q &= Q(level=self.level)
        if self.year is not None:
            q &= Q(**{f"{date_path}__year": self.year})
        return q


@dataclass
class TableRow:
    key: object
    label: str
    valid: int = 0
    revoked: int = 0
    superseded: int = 0
    passed: int = 0
    failed: int = 0
    absent: int = 0
    other: int = 0

    @property
    def pass_rate(self) -> float | None:
        sat = self.passed + self.failed
        return self.passed / sat if sat else None

    @property
    def pass_rate_text(self) -> str:
        rate = self.pass_rate
        return f"{rate:.1%}" if rate is not None else "—"


@dataclass
class Table:
    dimension: str
    rows: list[TableRow] = field(default_factory=list)
    total: TableRow | None = None
    live: bool = False  # filtered: counted just now, not read from the stored figures


def tables_for(fig: Figures, filters: Filters) -> tuple[dict[str, list], bool]:
    """Every dimension's grouped rows: the stored ones without filters; with filters, counted live
    in the database (GROUP BY, narrowed to the scope and the filters). Returns (tables, live)."""
    if filters.is_empty:
        return fig.data["tables"], False
    if fig.scope.key is None:
        return {d: [] for d in DIMENSIONS}, True
    cube = compute_figures(fig.scope, filters, overview=False)
    return summarise(cube, only=fig.scope.key)[fig.scope.key]["tables"], True


def table(fig: Figures, *, by: str, filters: Filters, tables: tuple[dict, bool] | None = None) -> Table:
    """Certificates (valid, revoked and superseded apart) and results (passed / failed / absent) grouped by ``by``."""
    grouped, live = tables or tables_for(fig, filters)
    total = TableRow(None, "")
    rows = []
    for key, label, valid, revoked, superseded, passed, failed, absent, other in grouped[by]:
        rows.append(TableRow(key, label, valid, revoked, superseded, passed, failed, absent, other))
        total.valid += valid
        total.revoked += revoked
        total.superseded += superseded
        total.passed += passed
        total.failed += failed
        total.absent += absent
        total.other += other
    if by in {"year", "level"}:
        rows.sort(key=lambda t: t.key)
    else:
        rows.sort(key=lambda t: (-t.valid, t.label))
    return Table(by, rows, total, live)


def filter_choices(fig: Figures) -> dict[str, list[tuple]]:
    """The values present in the reader's stored figures (no query)."""
    out = {}
    for d in DIMENSIONS:
        pairs = [(row[0], row[1]) for row in fig.data["tables"][d]]
        out[d] = sorted(pairs, key=lambda p: p[0] if d in {"year", "level"} else p[1])
    return out


class Overview(dict):
    """The counts (a dict), and ``figures``: each count with its label and the list it links to,
    in the shape the role dashboards read (key, label, value, url, hint)."""

    @property
    def figures(self) -> list[dict]:
        from django.urls import NoReverseMatch, reverse
        from django.utils.translation import gettext as _

        def url(name: str, query: str = "") -> str:
            try:
                return reverse(name) + query
            except NoReverseMatch:
                return ""

        stats = url("oversight:statistics")
        rate = self["pass_rate"]
        as_of = self["as_of"]
        hint = (
            _("统计时间：%(at)s") % {"at": timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")}
            if as_of
            else _("实时统计")
        )
        return [
            {
                "key": "institutions",
                "label": _("有效的评价机构"),
                "value": self["institutions"],
                "url": url("registry:institution_list"),
                "hint": hint,
            },
            {
                "key": "occupations",
                "label": _("有效的备案职业（工种）"),
                "value": self["occupations"],
                "url": url("directory"),
                "hint": hint,
            },
            {
                "key": "batches",
                "label": _("已备案的评价批次"),
                "value": self["batches"],
                "url": url("assessments:plan_list"),
                "hint": hint,
            },
            {"key": "candidates", "label": _("考生人次"), "value": self["candidates"], "url": stats, "hint": hint},
            {
                "key": "pass_rate",
                "label": _("合格率（已审核结果）"),
                "value": f"{rate:.1%}" if rate is not None else "—",
                "url": stats + "?by=year",
                "hint": hint,
            },
            {
                "key": "certificates",
                "label": _("有效证书"),
                "value": self["certificates"],
                "url": url("certificates:certificate_list"),
                "hint": hint,
            },
        ]


def city_overview(user) -> Overview:
    """The city overview in the user's scope: institutions and occupations in force, batches held
    (accepted plans), their candidates, the pass rate of accepted results, valid certificates; with
    the as-of time of the stored figures (None when computed live). One query when stored. A dict;
    ``.figures`` adds labels and links for the dashboards."""
    fig = figures(user=user)
    o = {**_empty_overview(), **fig.data["overview"]}
    sat = o["passed"] + o["failed"]
    return Overview(**o, pass_rate=(o["passed"] / sat) if sat else None, as_of=fig.as_of)


# --- Subsidy-eligible holders (stored with the daily figures, or live; paginated) ---------------


def school_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """School year ``year`` runs 1 September ``year`` – 31 August ``year + 1`` (毕业学年)."""
    return dt.date(year, 9, 1), dt.date(year + 1, 8, 31)


def subsidy_holders(*, user, school_year: int, filters: Filters | None = None) -> QuerySet:
    """Valid certificates of students whose expected graduation falls in ``school_year``: the holders
    who may claim the skill-upgrading subsidy (职业技能提升补贴), one row per certificate with its level."""
    from certificates.models import Certificate, CertificateStatus

    scope = scope_of(user)
    start, end = school_year_bounds(school_year)
    qs = Certificate.objects.filter(
        scope.q("institution__school"),
        status=CertificateStatus.VALID,
        candidate__student__expected_graduation__gte=start,
        candidate__student__expected_graduation__lte=end,
    )
    f = filters or Filters()
    if f.district:
        qs = qs.filter(institution__school__organisation__district__code=f.district)
    if f.school:
        qs = qs.filter(institution__school_id=f.school)
    if f.occupation:
        qs = qs.filter(occupation_id=f.occupation)
    if f.level:
        qs = qs.filter(level=f.level)
    return qs.select_related("candidate__student__major", "institution__school__organisation__district").order_by(
        "institution__school__organisation__district__code",
        "institution__school_id",
        "candidate__student__student_number",
        "number",
    )


# The subsidy list materialised by the statistics refresh (``SubsidyHolder``); the ``Summary`` row of
# this name (scope "") carries its as-of time and the school years it holds.
SUBSIDY = "subsidy_holders"


def subsidy_years(current: int) -> range:
    """The graduating school years a reader may choose (and the refresh materialises)."""
    return range(current - 5, current + 2)


def subsidy_source(years: range) -> QuerySet:
    """The rows of ``SubsidyHolder`` for ``years``, computed from the certificates (the refresh
    inserts them with one INSERT … SELECT), in the column order of ``SUBSIDY_COLUMNS``."""
    from certificates.models import Certificate, CertificateStatus

    start, end = school_year_bounds(years[0])[0], school_year_bounds(years[-1])[1]
    graduation = "candidate__student__expected_graduation"
    year = ExtractYear(graduation)
    return (
        Certificate.objects.filter(
            status=CertificateStatus.VALID, **{f"{graduation}__gte": start, f"{graduation}__lte": end}
        )
        .annotate(
            sy_=Case(
                When(**{f"{graduation}__month__gte": 9}, then=year), default=year - 1, output_field=IntegerField()
            ),
            dc_=F("institution__school__organisation__district__code"),
            sc_=F("institution__school_id"),
            sn_=F("candidate__student__student_number"),
        )
        .values_list("pk", "sy_", "dc_", "sc_", "occupation_id", "level", "sn_", "number")
        .order_by()
    )


SUBSIDY_COLUMNS = (
    "certificate_id",
    "school_year",
    "district_code",
    "school_id",
    "occupation_id",
    "level",
    "student_number",
    "number",
)


SUBSIDY_RELATED = ("candidate__student__major", "institution__school__organisation__district")


@dataclass
class SubsidyList:
    """The reader's subsidy list: ``ids`` (certificate ids in the list's order, to count and to page
    through) and ``rows`` (the same list, certificates or stored rows, for an export), read from the
    stored list (``as_of`` its time) or joined live (``as_of`` None)."""

    ids: QuerySet
    rows: QuerySet
    as_of: dt.datetime | None

    @property
    def stored(self) -> bool:
        return self.as_of is not None

    def certificates(self, ids) -> list:
        """The certificates of a page of ``ids``, in order (one query): a deep page walks the index
        of ids only, and joins the students and schools of its own rows."""
        from certificates.models import Certificate

        ids = list(ids)
        found = Certificate.objects.select_related(*SUBSIDY_RELATED).in_bulk(ids) if ids else {}
        return [found[pk] for pk in ids if pk in found]

    def iterate(self, chunk_size: int = 2000):
        for row in self.rows.iterator(chunk_size=chunk_size):
            yield row.certificate if self.stored else row


def subsidy_list(*, user, school_year: int, filters: Filters | None = None) -> SubsidyList:
    """The subsidy-eligible holders of ``school_year`` in the reader's scope: read from the list the
    statistics refresh stored (one query for its as-of time, then an index range for the count and
    for a page), or, for a year it does not hold or before any refresh, joined live
    (``subsidy_holders``). Same rows, same order, same scope, same number of queries."""
    from oversight.models import SubsidyHolder, Summary

    marker = Summary.objects.filter(name=SUBSIDY, scope="").values("computed_at", "data").first()
    held = marker and marker["data"].get("first", 0) <= school_year <= marker["data"].get("last", -1)
    if not held:
        live = subsidy_holders(user=user, school_year=school_year, filters=filters)
        return SubsidyList(live.values_list("pk", flat=True), live, None)
    scope = scope_of(user)
    if scope.key is None:
        q = Q(pk__in=[])
    elif scope.district:
        q = Q(district_code=scope.district)
    elif scope.school is not None:
        q = Q(school_id=scope.school)
    else:
        q = Q()
    f = filters or Filters()
    if f.district:
        q &= Q(district_code=f.district)
    if f.school:
        q &= Q(school_id=f.school)
    if f.occupation:
        q &= Q(occupation_id=f.occupation)
    if f.level:
        q &= Q(level=f.level)
    stored = SubsidyHolder.objects.filter(q, school_year=school_year).order_by(
        "district_code", "school_id", "student_number", "number"
    )
    rows = stored.select_related(*(f"certificate__{path}" for path in SUBSIDY_RELATED))
    return SubsidyList(stored.values_list("certificate_id", flat=True), rows, marker["computed_at"])


def may_export_full_ids(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*FULL_ID_ROLES))


# --- Teachers' evaluation workload (live, one year) ------------------------------------------------


@dataclass
class DutyFigures:
    batches: int = 0
    days: int = 0
    candidates: int = 0


@dataclass
class PersonWorkload:
    person_id: int
    name: str
    username: str
    organisation_id: int | None
    organisation: str
    duties: dict[str, DutyFigures] = field(default_factory=dict)
    total: DutyFigures = field(default_factory=DutyFigures)
    district_id: int | None = None  # of the person's organisation (a district bureau's scope)


@dataclass
class SchoolWorkload:
    organisation_id: int | None
    organisation: str
    people: int = 0
    total: DutyFigures = field(default_factory=DutyFigures)
    duties: dict[str, DutyFigures] = field(default_factory=dict)


def workload_scope(user) -> Q:
    """Whose workload the reader sees: a school its own staff, a district bureau the people of its
    district's organisations, the city-wide authorities everyone (on BatchStaff)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if is_citywide(user):
        return Q()
    org = user.organisation
    scope = Q(pk__in=[])
    if org is None:
        return scope
    if user.has_role(Role.DISTRICT_HR_OFFICER) and org.kind == OrganisationKind.DISTRICT_HR and org.district_id:
        scope |= Q(person__organisation__district_id=org.district_id)
    if user.has_role(Role.SCHOOL_STAFF) and org.kind == OrganisationKind.SCHOOL:
        scope |= Q(person__organisation_id=org.pk)
    return scope


def _days_covered(spans: QuerySet) -> dict[tuple[int, str | None], int]:
    """(person, duty) -> calendar days covered by the distinct (person, duty, first day, last day)
    ``spans``, a day counted once; (person, None) -> the same over all their duties. On PostgreSQL
    the rows are read from the cursor as they come (dates already), without the ORM's per-value
    converters."""
    if connection.vendor == "postgresql":
        sql, params = spans.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    else:
        rows = spans
    days: dict[tuple[int, str | None], set[int]] = defaultdict(set)
    for pid, duty, first, last in rows:
        a = first.toordinal()
        covered = range(a, last.toordinal() + 1)
        days[(pid, duty)].update(covered)
        days[(pid, None)].update(covered)
    return {key: len(covered) for key, covered in days.items()}


# The per-person workload of a year stored by the statistics refresh: ``Summary`` name ``WORKLOAD``,
# scope "year:<year>", one list per person (``_workload_row``), the city's, narrowed here to the
# reader's scope as ``workload_scope`` narrows the live query.
WORKLOAD = "workload"


def workload_years(current: int) -> range:
    """The calendar years a reader may choose (and the refresh stores), newest last."""
    return range(current - 5, current + 1)


def workload_people(scope: Q, year: int, organisation_id: int | None = None) -> list[PersonWorkload]:
    """Each person's evaluation duties in batches held in ``year`` (accepted plans that have started):
    per duty the batches, the days (calendar days the batches covered; a day counts once per duty)
    and the candidates (a room duty: the room's candidates; an internal supervisor: the batch's).

    Three queries whatever the number of people, aggregated in the database: one row per person
    (GROUP BY person, a conditional count of batches and sum of room candidates per duty); the
    candidates of the batches each internal supervisor without a room oversees (a correlated count
    per batch); and the distinct local (first day, last day) spans of each person's duties, whose
    calendar days are counted here (a day counts once per duty, a batch may span days)."""
    from assessments.models import BatchStaff, Candidate, PlanStatus

    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    now = timezone.now()
    qs = BatchStaff.objects.filter(
        scope,
        plan__status__in=[PlanStatus.ACCEPTED, PlanStatus.AMENDING],
        plan__starts_at__gte=start,
        plan__starts_at__lt=min(end, now),
    )
    if organisation_id:
        qs = qs.filter(person__organisation_id=organisation_id)
    # A room duty counts its room's candidates (every room duty has a room); an internal supervisor
    # the whole batch's, counted by a correlated subquery on the (plan, student) index.
    batch_candidates = Subquery(
        Candidate.objects.filter(plan_id=OuterRef("plan_id"))
        .order_by()
        .values("plan_id")
        .annotate(n=Count("plan_id"))
        .values("n"),
        output_field=IntegerField(),
    )
    per_duty = {}
    for duty in DUTY_KEYS:
        per_duty[f"b_{duty}"] = Count("plan_id", distinct=True, filter=Q(duty=duty))
        per_duty[f"c_{duty}"] = Sum("room__candidates_expected", filter=Q(duty=duty))
    rows = (
        qs.values(
            "person_id",
            "person__full_name",
            "person__username",
            "person__organisation_id",
            "person__organisation__name",
            "person__organisation__district_id",
        )
        .annotate(b_total=Count("plan_id", distinct=True), **per_duty)
        .order_by()
    )
    # Supervisors without a room: their batches' candidates, in a query of their own (a correlated
    # count per row, kept off the per-person query so that its plan stays cheap).
    supervised = dict(
        qs.filter(duty="internal_supervisor", room__isnull=True)
        .values("person_id")
        .annotate(n=Sum(batch_candidates))
        .order_by()
        .values_list("person_id", "n")
    )
    spans = (
        qs.values_list("person_id", "duty", TruncDate("plan__starts_at"), TruncDate("plan__ends_at"))
        .distinct()
        .order_by()
    )
    people: dict[int, PersonWorkload] = {}
    for r in rows:
        pid = r["person_id"]
        p = people[pid] = PersonWorkload(
            pid,
            r["person__full_name"] or r["person__username"],
            r["person__username"],
            r["person__organisation_id"],
            r["person__organisation__name"] or "—",
            district_id=r["person__organisation__district_id"],
        )
        for duty in DUTY_KEYS:
            if r[f"b_{duty}"]:
                n = (r[f"c_{duty}"] or 0) + (supervised.get(pid) or 0 if duty == "internal_supervisor" else 0)
                p.duties[duty] = DutyFigures(r[f"b_{duty}"], 0, n)
                p.total.candidates += n
        p.total.batches = r["b_total"]
    for (pid, duty), n in _days_covered(spans).items():
        if pid in people:
            f = people[pid].total if duty is None else people[pid].duties.get(duty)
            if f is not None:
                f.days = n
    return sorted(people.values(), key=lambda p: (p.organisation, p.name, p.person_id))


def _figures_row(f: DutyFigures) -> list[int]:
    return [f.batches, f.days, f.candidates]


def workload_row(p: PersonWorkload) -> list:
    """A person's stored row: ids, names, then [batches, days, candidates] per duty (None when the
    person held no such duty) and in total."""
    duties = [_figures_row(p.duties[d]) if d in p.duties else None for d in DUTY_KEYS]
    return [
        *(p.person_id, p.name, p.username, p.organisation_id, p.organisation, p.district_id),
        duties,
        _figures_row(p.total),
    ]


def _person_of(row: list) -> PersonWorkload:
    pid, name, username, org_id, org, district_id, duties, total = row
    return PersonWorkload(
        pid,
        name,
        username,
        org_id,
        org,
        {d: DutyFigures(*f) for d, f in zip(DUTY_KEYS, duties, strict=True) if f is not None},
        DutyFigures(*total),
        district_id,
    )


def _workload_keeps(user):
    """``workload_scope`` as a test on a stored row (organisation id, district id)."""
    if not user.is_authenticated:
        return lambda org_id, district_id: False
    if is_citywide(user):
        return lambda org_id, district_id: True
    org = user.organisation
    if org is None:
        return lambda org_id, district_id: False
    district = (
        org.district_id
        if user.has_role(Role.DISTRICT_HR_OFFICER) and org.kind == OrganisationKind.DISTRICT_HR and org.district_id
        else None
    )
    school = org.pk if user.has_role(Role.SCHOOL_STAFF) and org.kind == OrganisationKind.SCHOOL else None
    return lambda org_id, district_id: (district is not None and district_id == district) or (
        school is not None and org_id == school
    )


def _schools_of(persons: list[PersonWorkload]) -> list[SchoolWorkload]:
    schools: dict[int | None, SchoolWorkload] = {}
    for p in persons:
        s = schools.setdefault(p.organisation_id, SchoolWorkload(p.organisation_id, p.organisation))
        s.people += 1
        for t, src in ((s.total, p.total), *((s.duties.setdefault(k, DutyFigures()), v) for k, v in p.duties.items())):
            t.batches += src.batches
            t.days += src.days
            t.candidates += src.candidates
    return sorted(schools.values(), key=lambda s: s.organisation)


@dataclass
class Workload:
    persons: list[PersonWorkload]
    schools: list[SchoolWorkload]
    as_of: dt.datetime | None  # the stored rows' time; None when computed live


def workload_of(*, user, year: int, organisation_id: int | None = None) -> Workload:
    """The reader's workload of ``year``: the rows the statistics refresh stored (one query), narrowed
    to the reader's scope, or, for a year it does not hold or before any refresh, computed live.
    Same rows, same order, same scope."""
    from oversight.models import Summary

    stored = Summary.objects.filter(name=WORKLOAD, scope=f"year:{year}").values("data", "computed_at").first()
    if stored is None:
        persons = workload_people(workload_scope(user), year, organisation_id)
        return Workload(persons, _schools_of(persons), None)
    keeps = _workload_keeps(user)
    persons = [
        _person_of(row)
        for row in stored["data"]["rows"]
        if keeps(row[3], row[5]) and (not organisation_id or row[3] == organisation_id)
    ]
    return Workload(persons, _schools_of(persons), stored["computed_at"])


def workload(
    *, user, year: int, organisation_id: int | None = None
) -> tuple[list[PersonWorkload], list[SchoolWorkload]]:
    """The reader's workload of ``year`` computed live (``workload_people`` in their scope) and per
    organisation."""
    persons = workload_people(workload_scope(user), year, organisation_id)
    return persons, _schools_of(persons)
