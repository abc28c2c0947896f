"""Candidates' photos of a batch (issue 9 item 3): one by one from the candidate list, or a ZIP.

The batch is loaded through ``assessments.selectors.plan_detail`` (404 outside the user's scope);
only the staff of the school running it may see and change the photos (403 otherwise).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from assessments.selectors import plan_detail
from certificates.models import CandidatePhoto
from certificates.services import photos as service
from institutions.services.workflow import is_school_staff_of
from portal.access import login_only
from portal.forms import BootstrapFormMixin
from portal.stepviews import perform


class PhotoForm(BootstrapFormMixin, forms.Form):
    candidate = forms.IntegerField(widget=forms.HiddenInput)
    file = forms.FileField(label=_("照片（JPEG 或 PNG，不超过 2 MB）"))


class ZipForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("照片压缩包（ZIP，文件名为证件号码或学号）"))


def _plan_for_staff(request: HttpRequest, pk: int):
    plan = plan_detail(user=request.user, pk=pk)
    if not is_school_staff_of(request.user, plan.institution.school):
        raise PermissionDenied
    return plan


def _candidates(plan):
    rows = list(plan.candidates.select_related("student").order_by("student__student_number"))
    photos = {p.student_id: p for p in CandidatePhoto.objects.filter(student__in=[c.student_id for c in rows])}
    for c in rows:
        c.photo_row = photos.get(c.student_id)
    return rows


@login_only
def photo_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's candidates with their photos; upload or replace one."""
    plan = _plan_for_staff(request, pk)
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        candidate = get_object_or_404(plan.candidates.select_related("student"), pk=form.cleaned_data["candidate"])
        upload = form.cleaned_data["file"]
        data = upload.read(service.MAX_BYTES + 1)
        outcome = perform(
            form,
            lambda: service.photo_save(
                student=candidate.student, actor=request.user, data=data, name=upload.name, plan=plan
            ),
            field_name="file",
        )
        if outcome.done:
            return redirect("certificates:photo_list", plan.pk)
    rows = _candidates(plan)
    return render(
        request,
        "certificates/records/photos.html",
        {
            "plan": plan,
            "rows": rows,
            "form": form,
            "missing": sum(1 for c in rows if c.photo_row is None),
            "zip_form": ZipForm(),
        },
    )


@login_only
def photo_import(request: HttpRequest, pk: int) -> HttpResponse:
    """A ZIP of photos named by ID number or student number, with a report for each file."""
    plan = _plan_for_staff(request, pk)
    form = ZipForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > service.MAX_ZIP_BYTES:
            form.add_error("file", _("ZIP 文件超过 200 MB。"))
        else:
            outcome = perform(
                form,
                lambda: service.photos_import_zip(plan=plan, actor=request.user, data=upload.read()),
                field_name="file",
            )
            report = outcome.result
    return render(
        request,
        "certificates/records/photo_import.html",
        {
            "plan": plan,
            "form": form,
            "report": report,
            "imported": sum(1 for r in report or [] if r.ok),
        },
    )


urlpatterns = [
    path("batches/<int:pk>/photos/", photo_list, name="photo_list"),
    path("batches/<int:pk>/photos/import/", photo_import, name="photo_import"),
]
