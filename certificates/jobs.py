"""Background jobs of certificates: issuing a batch's certificates, and a batch's PDFs as one ZIP.

Both are ``portal.models.Job`` rows run by the portal's job runner, so the job page's progress
bar survives a reload and a job whose worker died is run again. Unlike imports, issuing is not
all-or-nothing: each certificate commits on its own (``issuance.issue_one``), so the work done
is kept and a re-run completes the rest without a duplicate or a skipped number.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.translation import gettext_lazy

from assessments.models import EvaluationPlan
from certificates import selectors
from certificates.models import Certificate
from certificates.services import documents, issuance
from portal.models import Job, JobStatus
from portal.services import JobFailed, JobKind, job_start, register_job_kind

ISSUE = "certificates_issue"
ZIP = "certificates_zip"


def _plan(job: Job) -> EvaluationPlan:
    return EvaluationPlan.objects.select_related("institution__school", "occupation__occupation", "results").get(
        pk=job.params["plan_id"]
    )


def run_issue(job: Job, progress) -> dict:
    plan = _plan(job)
    try:
        return issuance.issue_batch(
            plan=plan,
            actor=job.created_by,
            issued_on=dt.date.fromisoformat(job.params["issued_on"]),
            progress=progress,
        )
    except ValidationError as exc:
        raise JobFailed(exc.messages) from exc


def run_zip(job: Job, progress) -> dict:
    plan = _plan(job)
    certificates = list(selectors.certificate_list(user=job.created_by).filter(plan=plan).order_by("number"))
    if not certificates:
        raise JobFailed([gettext_lazy("本批次还没有证书。")])
    progress(0, len(certificates), gettext_lazy("打包证书PDF"))
    data = documents.zip_of(certificates)
    name = default_storage.save(f"certificates/zip/plan-{plan.pk}-job-{job.pk}.zip", ContentFile(data))
    progress(len(certificates), len(certificates), gettext_lazy("打包证书PDF"))
    return {"file": name, "count": len(certificates), "size": len(data)}


def running(kind: str, plan: EvaluationPlan) -> Job | None:
    return (
        Job.objects.filter(kind=kind, params__plan_id=plan.pk, status__in=[JobStatus.PENDING, JobStatus.RUNNING])
        .order_by("-created_at")
        .first()
    )


def issue_start(*, plan: EvaluationPlan, actor, issued_on: dt.date) -> Job:
    """Start the issue job (or return the one already under way); refuses with the named problems."""
    issuance_problems = issuance.batch_problems(plan)
    if not issuance.may_issue(actor, plan):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    if issuance_problems:
        raise ValidationError(issuance_problems)
    issued = Certificate.objects.filter(plan=plan, supersedes__isnull=True, candidate__in=issuance.passed(plan))
    if issued.count() >= issuance.passed(plan).count() and not running(ISSUE, plan):
        raise ValidationError(gettext_lazy("本批次合格考生均已颁发证书。"))
    return running(ISSUE, plan) or job_start(
        kind=ISSUE, actor=actor, params={"plan_id": plan.pk, "issued_on": issued_on.isoformat()}
    )


def zip_start(*, plan: EvaluationPlan, actor) -> Job:
    mine = Job.objects.filter(
        kind=ZIP, params__plan_id=plan.pk, created_by=actor, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    ).first()
    return mine or job_start(kind=ZIP, actor=actor, params={"plan_id": plan.pk})


def _may_issue(user, params: dict) -> bool:
    plan = EvaluationPlan.objects.select_related("institution__school").filter(pk=params.get("plan_id")).first()
    return plan is not None and issuance.may_issue(user, plan)


def _may_zip(user, params: dict) -> bool:
    return selectors.issuance_plans(user=user).filter(pk=params.get("plan_id")).exists()


def register_job_kinds() -> None:
    register_job_kind(
        ISSUE,
        JobKind(
            label=gettext_lazy("颁发证书"),
            handler=run_issue,
            may_start=_may_issue,
            result_link=lambda job: reverse("certificates:batch_certificates", args=[job.params["plan_id"]]),
        ),
    )
    register_job_kind(
        ZIP,
        JobKind(
            label=gettext_lazy("证书PDF打包下载"),
            handler=run_zip,
            may_start=_may_zip,
            result_link=lambda job: reverse("certificates:batch_zip_download", args=[job.pk]),
        ),
    )
