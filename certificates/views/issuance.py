"""A batch's certificates (/certificates/batches/<plan>/): the list, the issue job, the ZIP job,
each certificate's PDF. Thin: scope through ``certificates.selectors`` (404 outside it), then a
service or a job. The school's staff of the institution issue; the centre, the city-wide
authorities and the district bureau (its district's) read."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from certificates import jobs, selectors
from certificates.models import Certificate
from certificates.services import documents, issuance
from portal import selectors as portal_selectors
from portal.forms import BootstrapFormMixin
from portal.models import JobStatus
from portal.security import attachment_disposition
from portal.stepviews import perform


class IssueForm(BootstrapFormMixin, forms.Form):
    issued_on = forms.DateField(label=_("发证日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_issued_on(self):
        day = self.cleaned_data["issued_on"]
        today = timezone.localdate()
        if day > today:
            raise forms.ValidationError(_("发证日期不能晚于今天。"))
        accepted = getattr(getattr(self.plan, "results", None), "accepted_at", None)
        if accepted and day < timezone.localtime(accepted).date():
            raise forms.ValidationError(_("发证日期不能早于评价结果审核通过的日期。"))
        return day


@login_required
def batch_certificates(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.issuance_plan(user=request.user, pk=pk)
    may_issue = issuance.may_issue(request.user, plan)
    form = IssueForm(request.POST or None, plan=plan, initial={"issued_on": timezone.localdate()})
    if request.method == "POST":
        if not may_issue:
            raise PermissionDenied
        if form.is_valid():
            outcome = perform(
                form, lambda: jobs.issue_start(plan=plan, actor=request.user, issued_on=form.cleaned_data["issued_on"])
            )
            if outcome.done:
                return redirect("job_detail", pk=outcome.result.pk)
    certificates = list(
        selectors.certificate_list(user=request.user)
        .filter(plan=plan)
        .only("pk", "number", "name", "id_number", "status", "issued_on", "pdf", "plan_id")
        .order_by("number")
    )
    passed = issuance.passed(plan).count()
    context = {
        "plan": plan,
        "certificates": certificates,
        "passed": passed,
        "may_issue": may_issue,
        "problems": issuance.batch_problems(plan) if may_issue and len(certificates) < passed else [],
        "form": form,
        "issue_job": jobs.running(jobs.ISSUE, plan),
    }
    return render(request, "certificates/issuance/batch.html", context, status=400 if form.errors else 200)


@login_required
def batch_zip(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.issuance_plan(user=request.user, pk=pk)
    if request.method != "POST":
        return redirect("certificates:batch_certificates", pk=plan.pk)
    if not selectors.certificate_list(user=request.user).filter(plan=plan).exists():
        raise Http404
    job = jobs.zip_start(plan=plan, actor=request.user)
    return redirect("job_detail", pk=job.pk)


@login_required
@require_safe
def batch_zip_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(portal_selectors.job_list(user=request.user), pk=pk, kind=jobs.ZIP)
    selectors.issuance_plan(user=request.user, pk=job.params.get("plan_id"))
    name = (job.result or {}).get("file")
    if job.status != JobStatus.SUCCEEDED or not name:
        raise Http404
    from django.core.files.storage import default_storage

    if not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"), content_type="application/zip")
    response["Content-Disposition"] = attachment_disposition(f"certificates-{job.params['plan_id']}.zip")
    return response


@login_required
@require_safe
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(selectors.certificate_list(user=request.user), pk=pk)
    if not certificate.pdf:
        documents.certificate_render(certificate_id=certificate.pk)  # this view runs outside a transaction
        certificate = Certificate.objects.get(pk=certificate.pk)
    response = FileResponse(certificate.pdf.open("rb"), content_type="application/pdf")
    disposition = attachment_disposition(f"{certificate.number}.pdf")
    if request.GET.get("inline"):
        disposition = disposition.replace("attachment", "inline", 1)
    response["Content-Disposition"] = disposition
    return response


urlpatterns = [
    path("batches/<int:pk>/", batch_certificates, name="batch_certificates"),
    path("batches/<int:pk>/zip/", batch_zip, name="batch_zip"),
    path("zips/<int:pk>/", batch_zip_download, name="batch_zip_download"),
    path("<int:pk>/pdf/", certificate_pdf, name="certificate_pdf"),
]
