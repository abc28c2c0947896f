"""Oversight: roster selectors — the reconciliation of a graduating-student roster (信息共享, notice
二(四)2) against the schools' student records, the candidates and the certificates.

Categories (each a queryset, counted by the same query the list pages and exports use):

- ``not_in_roster``: students graduating in the roster's school year who are candidates of a batch,
  but whose ID number is not in the roster;
- ``unreported``: roster students holding a valid certificate not yet reported to the centre;
- ``name``, ``school``, ``major``: the roster row and the student record with its ID number differ;
- ``id_number``: no student record has the row's ID number, but the school has a student of that
  name (the ID number differs);
- ``not_found``: no student record has the row's ID number or, at its school, its name.

Who sees what: the commission, its departments, the centre, the municipal HR bureau (and the system
administrator) the whole city; a district bureau the rows of its district's schools; school staff
their own school's rows (``portal.access.school_scope``). The list of imports itself is shared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from assessments.models import Candidate
from certificates.models import Certificate, CertificateStatus
from oversight.models import RosterEntry, RosterImport
from portal.access import SCHOOL_VIEWER_ROLES, school_scope
from schools.models import Student

READER_ROLES = tuple(SCHOOL_VIEWER_ROLES)


@dataclass(frozen=True)
class Category:
    key: str
    label: Promise
    help: Promise
    of: str  # "entries" (roster rows) or "students" (student records)


CATEGORIES = (
    Category(
        "not_in_roster",
        _("名册外考生"),
        _("毕业学年的学生已报名参加评价，但名册中没有其证件号码。"),
        "students",
    ),
    Category("unreported", _("证书未报送"), _("名册中的学生已取得证书，但证书尚未报送市职鉴中心。"), "entries"),
    Category("name", _("姓名不一致"), _("名册姓名与同一证件号码的学籍姓名不同。"), "entries"),
    Category("id_number", _("证件号码不一致"), _("学籍中没有该证件号码，但该校有同名学生。"), "entries"),
    Category("school", _("学校不一致"), _("名册学校与同一证件号码的学籍学校不同。"), "entries"),
    Category("major", _("专业不一致"), _("名册专业（有专业代码时按代码）与学籍专业不同。"), "entries"),
    Category("not_found", _("学籍中无此人"), _("学籍中既没有该证件号码，该校也没有同名学生。"), "entries"),
)
BY_KEY = {c.key: c for c in CATEGORIES}


# --- Rosters ----------------------------------------------------------------------------------


def roster_list(*, user) -> QuerySet[RosterImport]:
    if not (user.is_authenticated and (user.is_superuser or user.has_role(*READER_ROLES))):
        return RosterImport.objects.none()
    return RosterImport.objects.select_related("uploaded_by")


def roster_detail(*, user, pk: int) -> RosterImport:
    return get_object_or_404(roster_list(user=user), pk=pk)


def newer_import(roster: RosterImport) -> RosterImport | None:
    """The import of the same school year that supersedes ``roster`` (None: it is the current one)."""
    return (
        RosterImport.objects.filter(school_year=roster.school_year, uploaded_at__gt=roster.uploaded_at)
        .order_by("-uploaded_at")
        .first()
    )


def year_bounds(school_year: int) -> tuple[dt.date, dt.date]:
    """The school year (1 September – 31 August) that began in ``school_year``."""
    return dt.date(school_year, 9, 1), dt.date(school_year + 1, 8, 31)


# --- Rows in scope ------------------------------------------------------------------------------


def _certificates(id_ref: str = "id_number", *, unreported: bool = False):
    qs = Certificate.objects.filter(id_number=OuterRef(id_ref), status=CertificateStatus.VALID)
    return qs.filter(report__isnull=True) if unreported else qs


def _counted(qs) -> Coalesce:
    counted = qs.order_by().values("id_number").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def entries(roster: RosterImport, *, user) -> QuerySet[RosterEntry]:
    """The roster's rows ``user`` may see, with the matched student and certificate figures."""
    return (
        RosterEntry.objects.filter(roster=roster)
        .filter(school_scope(user, "school__"))
        .select_related("school__organisation", "student__major", "student__school__organisation")
        .annotate(
            certificate_count=_counted(_certificates()),
            unreported_count=_counted(_certificates(unreported=True)),
            first_certificate=Subquery(_certificates().order_by("issued_on", "number").values("number")[:1]),
        )
        .order_by("row_number")
    )


def _same_name_at_school():
    return Student.objects.filter(school_id=OuterRef("school_id"), name=OuterRef("name"))


def _major_differs() -> Q:
    by_code = ~Q(major_code="") & ~Q(student__major__code=F("major_code"))
    by_name = Q(major_code="") & ~Q(student__major__name=F("major_name"))
    return by_code | by_name


ENTRY_FILTERS = {
    "unreported": lambda: Q(Exists(_certificates(unreported=True))),
    "name": lambda: Q(student__isnull=False) & ~Q(student__name=F("name")),
    "school": lambda: Q(student__isnull=False) & ~Q(student__school_id=F("school_id")),
    "major": lambda: Q(student__isnull=False) & _major_differs(),
    "id_number": lambda: Q(student__isnull=True) & Q(Exists(_same_name_at_school())),
    "not_found": lambda: Q(student__isnull=True) & ~Q(Exists(_same_name_at_school())),
}


def graduating_candidates(roster: RosterImport, *, user) -> QuerySet[Student]:
    """Students graduating in the roster's school year who are candidates of a batch (in ``user``'s scope)."""
    start, end = year_bounds(roster.school_year)
    return (
        Student.objects.filter(expected_graduation__gte=start, expected_graduation__lte=end)
        .filter(Exists(Candidate.objects.filter(student=OuterRef("pk"))))
        .filter(school_scope(user, "school__"))
    )


def _in_roster(roster: RosterImport):
    return RosterEntry.objects.filter(roster=roster, id_number=OuterRef("id_number"))


def students(roster: RosterImport, *, user) -> QuerySet[Student]:
    """The graduating candidates with the roster row of their ID number and their certificate figures."""
    row = _in_roster(roster)
    return (
        graduating_candidates(roster, user=user)
        .select_related("school__organisation", "major")
        .annotate(
            in_roster=Exists(row),
            roster_name=Subquery(row.values("name")[:1]),
            roster_school_id=Subquery(row.values("school_id")[:1]),
            roster_school=Subquery(row.values("school_name")[:1]),
            roster_major=Subquery(row.values("major_name")[:1]),
            roster_major_code=Subquery(row.values("major_code")[:1]),
            same_name_in_roster=Exists(
                RosterEntry.objects.filter(roster=roster, school_id=OuterRef("school_id"), name=OuterRef("name"))
            ),
            candidacy_count=Coalesce(
                Subquery(
                    Candidate.objects.filter(student=OuterRef("pk"))
                    .order_by()
                    .values("student")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            certificate_count=_counted(_certificates()),
            unreported_count=_counted(_certificates(unreported=True)),
            first_certificate=Subquery(_certificates().order_by("issued_on", "number").values("number")[:1]),
        )
        .order_by("school__organisation__name", "student_number")
    )


def category_rows(roster: RosterImport, key: str, *, user) -> QuerySet:
    """The rows of one category (roster rows, or student records for ``not_in_roster``)."""
    if key == "not_in_roster":
        return students(roster, user=user).filter(in_roster=False)
    return entries(roster, user=user).filter(ENTRY_FILTERS[key]())


def category_counts(roster: RosterImport, *, user) -> dict[str, int]:
    """Each category's count (one query each, whatever the roster's size) and the rows in scope."""
    counts = {c.key: category_rows(roster, c.key, user=user).count() for c in CATEGORIES}
    counts["rows"] = RosterEntry.objects.filter(roster=roster).filter(school_scope(user, "school__")).count()
    return counts


# --- Flags of one row (exports) ------------------------------------------------------------------


def entry_flags(e: RosterEntry) -> dict[str, bool]:
    s = e.student
    major_differs = bool(
        s and ((e.major_code and s.major.code != e.major_code) or (not e.major_code and s.major.name != e.major_name))
    )
    return {
        "matched": s is not None,
        "name": bool(s and s.name != e.name),
        "school": bool(s and s.school_id != e.school_id),
        "major": major_differs,
        "unreported": bool(e.unreported_count),
    }


def student_flags(s: Student) -> dict[str, bool]:
    if not s.in_roster:
        return {
            "missing": True,
            "id_number": bool(s.same_name_in_roster),
            "name": False,
            "school": False,
            "major": False,
            "unreported": bool(s.unreported_count),
        }
    major_differs = (s.roster_major_code and s.major.code != s.roster_major_code) or (
        not s.roster_major_code and s.major.name != s.roster_major
    )
    return {
        "missing": False,
        "id_number": False,
        "name": s.name != s.roster_name,
        "school": s.school_id != s.roster_school_id,
        "major": bool(major_differs),
        "unreported": bool(s.unreported_count),
    }
