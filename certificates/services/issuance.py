"""Issuing one certificate from accepted results (annex §4.4: 评价结果经市职鉴中心备案通过后).

``issue_one`` is idempotent per candidate: a candidate who already holds an original
certificate gets that one back, so a re-run of a half-finished issue job completes it without a
duplicate (a database constraint backs this) and without a skipped number (the counter's value
comes back when a transaction rolls back).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import Candidate, Outcome, ResultStatus
from certificates.models import Certificate
from certificates.services.numbering import certificate_number
from institutions.services.workflow import is_school_staff_of
from portal.i18n import stored
from portal.models import User
from portal.services import record


def issue_problems(candidate: Candidate) -> list[str]:
    """Why this candidate cannot be issued a certificate now (messages name the candidate)."""
    who = f"{candidate.student.student_number} {candidate.student.name}"
    filing = getattr(candidate.plan, "results", None)
    problems = []
    if filing is None or filing.status != ResultStatus.ACCEPTED:
        problems.append(_("%(who)s：本批次评价结果尚未经市职鉴中心审核通过，不能发证。") % {"who": who})
    elif candidate.outcome != Outcome.PASSED:
        problems.append(_("%(who)s：评价结果不是“合格”，不能发证。") % {"who": who})
    return problems


def issue_one(*, candidate: Candidate, actor: User | None, issued_on: dt.date, photo_name: str = "") -> Certificate:
    """The candidate's certificate: the existing original, or a new one numbered now."""
    plan = candidate.plan
    institution = plan.institution
    if actor is not None and not is_school_staff_of(actor, institution.school):
        raise PermissionDenied
    with transaction.atomic():
        existing = Certificate.objects.filter(candidate=candidate, supersedes__isnull=True).first()
        if existing is not None:
            return existing
        problems = issue_problems(candidate)
        if problems:
            raise ValidationError(problems)
        occupation = plan.occupation.occupation
        student = candidate.student
        certificate = Certificate(
            number=certificate_number(institution=institution, issued_on=issued_on, level=plan.level),
            institution=institution,
            candidate=candidate,
            plan=plan,
            name=student.name,
            id_type=student.id_type,
            id_number=student.id_number,
            occupation=occupation,
            occupation_name=occupation.name,
            work_type=occupation.work_type,
            level=plan.level,
            institution_name=institution.name,
            issued_on=issued_on,
            token=secrets.token_urlsafe(32),
            photo=photo_name,
            issued_by=actor or plan.created_by,
        )
        record(certificate, actor=actor, reason=stored(gettext_lazy("颁发证书")))
        certificate.save()
    return certificate
