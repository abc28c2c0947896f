"""Cases for the oversight tests: an issued batch (certificates from ``test_records_builders``) and
a case against one of its candidates, opened by the centre through ``case_open``."""

from __future__ import annotations

from oversight.models import CaseSource, SubjectKind
from oversight.services import cases as service
from tests.certificates.test_records_builders import Issued, issued


def institution_of(i: Issued):
    return i.plan.institution


def candidate_case(i: Issued, *, actor=None, source=CaseSource.DIRECT, **kwargs):
    candidate = i.b.candidates[0]
    return service.case_open(
        actor=actor or i.centre,
        subject_kind=SubjectKind.CANDIDATE,
        institution=institution_of(i),
        title="考生替考",
        facts="经督导发现，该考生由他人代考。",
        source=source,
        candidate=candidate,
        **kwargs,
    )


def staff_case(i: Issued, person, *, actor=None):
    return service.case_open(
        actor=actor or i.centre,
        subject_kind=SubjectKind.STAFF,
        institution=institution_of(i),
        title="考评人员违规评分",
        facts="考评人员未按评分标准评分。",
        source=CaseSource.DIRECT,
        person=person,
        plan=i.plan,
    )


def institution_case(i: Issued, *, actor=None):
    return service.case_open(
        actor=actor or i.centre,
        subject_kind=SubjectKind.INSTITUTION,
        institution=institution_of(i),
        title="评价机构违规发证",
        facts="评价机构向未参加考核人员发证。",
        source=CaseSource.DIRECT,
        plan=i.plan,
    )


__all__ = ["candidate_case", "institution_case", "institution_of", "issued", "staff_case"]
