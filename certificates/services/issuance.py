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
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import Candidate, EvaluationPlan, Outcome, ResultStatus
from certificates.models import CandidatePhoto, Certificate
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
    """The candidate's certificate: the existing original, or a new one numbered now.

    One transaction per certificate: a number is taken from the counter and the row stored
    together, so a failure gives the number back and a re-run neither skips nor duplicates. Two
    issuers racing for the same candidate: the loser's insert hits the one-original constraint,
    rolls back (its number comes back) and returns the winner's certificate.
    """
    plan = candidate.plan
    institution = plan.institution
    if actor is not None and not is_school_staff_of(actor, institution.school):
        raise PermissionDenied
    try:
        return _issue_one(candidate=candidate, actor=actor, issued_on=issued_on, photo_name=photo_name)
    except IntegrityError:
        existing = Certificate.objects.filter(candidate=candidate, supersedes__isnull=True).first()
        if existing is None:
            raise
        return existing


def _issue_one(*, candidate: Candidate, actor: User | None, issued_on: dt.date, photo_name: str) -> Certificate:
    plan = candidate.plan
    institution = plan.institution
    with transaction.atomic():
        existing = Certificate.objects.filter(candidate=candidate, supersedes__isnull=True).first()
        if existing is not None:
            return existing
        problems = issue_problems(candidate)
        if not photo_name:  # the batch issue (issue_batch) refuses candidates without one beforehand
            photo = CandidatePhoto.objects.filter(student_id=candidate.student_id).first()
            photo_name = photo.file.name if photo is not None else ""
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


# --- A batch at once (the issue job) ----------------------------------------------------------


def may_issue(user, plan: EvaluationPlan) -> bool:
    return user.is_authenticated and is_school_staff_of(user, plan.institution.school)


def passed(plan: EvaluationPlan):
    from assessments.services.results import passed_candidates

    return passed_candidates(plan).select_related("student", "plan__institution", "plan__occupation__occupation")


def missing_photos(plan: EvaluationPlan) -> list[Candidate]:
    """Passed candidates still without a certificate and without a photo."""
    issued = Certificate.objects.filter(candidate=OuterRef("pk"), supersedes__isnull=True)
    missing = passed(plan).exclude(Exists(issued)).filter(student__photo__isnull=True)
    return list(missing.order_by("student__student_number"))


def batch_problems(plan: EvaluationPlan) -> list[str]:
    """Why the batch's certificates cannot be issued now (empty: they can)."""
    filing = getattr(plan, "results", None)
    if filing is None or filing.status != ResultStatus.ACCEPTED:
        return [_("本批次评价结果尚未经市职鉴中心审核通过，不能发证。")]
    if not passed(plan).exists():
        return [_("本批次没有评价结果为“合格”的考生，无需发证。")]
    missing = missing_photos(plan)
    if missing:
        names = "、".join(f"{c.student.student_number} {c.student.name}" for c in missing[:50])
        more = len(missing) - 50
        problems = [
            _("以下%(n)s名考生没有证件照片，请先上传照片再发证：%(names)s")
            % {"n": len(missing), "names": names + ("……" if more > 0 else "")}
        ]
        return problems
    return []


def issue_batch(*, plan: EvaluationPlan, actor: User, issued_on: dt.date, progress=None) -> dict:
    """Issue every passed candidate's certificate, one transaction each, then render its PDF.

    Resumable: a re-run (after a worker died, or a second click) finds the certificates already
    issued and the PDFs already stored, and does the rest.
    """
    from certificates.services.documents import certificate_render

    if not may_issue(actor, plan):
        raise PermissionDenied
    problems = batch_problems(plan)
    if problems:
        raise ValidationError(problems)
    candidates = list(passed(plan).order_by("student__student_number", "pk"))
    total = len(candidates)
    issued = rendered = 0
    for i, candidate in enumerate(candidates, start=1):
        before = Certificate.objects.filter(candidate=candidate, supersedes__isnull=True).exists()
        certificate = issue_one(candidate=candidate, actor=actor, issued_on=issued_on)
        issued += not before
        rendered += certificate_render(certificate_id=certificate.pk)  # after the commit, outside it
        if progress is not None:
            progress(i, total, gettext_lazy("颁发证书并生成PDF"))
    return {"created": issued, "updated": 0, "issued": issued, "rendered": rendered, "total": total}
