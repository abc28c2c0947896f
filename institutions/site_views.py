"""The school's work plan (工作方案) and assessment sites (考核站点) in its draft application.

Thin views: scope through ``selectors`` (outside → 404), the school's own staff only (403),
a submitted application is refused with the 409 page; every write goes through the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from institutions import forms, selectors, services
from institutions.services import TransitionError
from institutions.views import VIEWER_ROLES, _confirm_delete, _editable, _refused
from portal.access import roles_required
from portal.models import Role


@roles_required(Role.SCHOOL_STAFF)
def plan_and_sites(request: HttpRequest, pk: int) -> HttpResponse:
    application, refused = _editable(request, pk)
    if refused:
        return refused
    part = request.POST.get("part") if request.method == "POST" else None
    plan_form = forms.WorkPlanForm(request.POST, request.FILES) if part == "work_plan" else forms.WorkPlanForm()
    site_form = forms.SiteForm(request.POST) if part == "site" else forms.SiteForm()
    room_form = forms.RoomForm()
    try:
        if part == "work_plan" and plan_form.is_valid():
            services.work_plan_upload(
                application=application, actor=request.user, upload=plan_form.cleaned_data["file"]
            )
            messages.success(request, _("工作方案已上传。"))
            return redirect("institutions:plan_sites", pk=application.pk)
        if part == "site" and site_form.is_valid():
            services.site_add(application=application, actor=request.user, **site_form.cleaned_data)
            messages.success(request, _("考核站点已添加，请继续添加其考场。"))
            return redirect("institutions:plan_sites", pk=application.pk)
    except TransitionError as exc:
        return _refused(request, application, exc.messages)
    except ValidationError as exc:
        (plan_form if part == "work_plan" else site_form).add_error(None, exc)
    application = selectors.application_detail(user=request.user, pk=pk)
    context = {
        "application": application,
        "plan_form": plan_form,
        "site_form": site_form,
        "room_form": room_form,
        "sites": list(application.sites.prefetch_related("rooms")),
    }
    return render(request, "institutions/plan_sites.html", context)


@roles_required(Role.SCHOOL_STAFF)
@require_POST
def room_add(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_in_scope(user=request.user, pk=pk)
    application = site.application
    form = forms.RoomForm(request.POST)
    try:
        if form.is_valid():
            services.room_add(site=site, actor=request.user, **form.cleaned_data)
            messages.success(request, _("考场已添加：%(n)s") % {"n": form.cleaned_data["name"]})
        else:
            messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    except TransitionError as exc:
        return _refused(request, application, exc.messages)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("institutions:plan_sites", pk=application.pk)


@roles_required(Role.SCHOOL_STAFF)
@require_http_methods(["GET", "HEAD", "POST"])
def site_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes the site with its rooms."""
    site = selectors.site_in_scope(user=request.user, pk=pk)
    if request.method != "POST":
        back = reverse("institutions:plan_sites", args=[site.application_id])
        return _confirm_delete(request, site.application, what=_("考核站点及其考场"), name=site.name, back=back)
    try:
        services.site_remove(site=site, actor=request.user)
    except TransitionError as exc:
        return _refused(request, site.application, exc.messages)
    messages.success(request, _("已删除考核站点“%(n)s”及其考场。") % {"n": site.name})
    return redirect("institutions:plan_sites", pk=site.application_id)


@roles_required(Role.SCHOOL_STAFF)
@require_http_methods(["GET", "HEAD", "POST"])
def room_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes."""
    room = selectors.room_in_scope(user=request.user, pk=pk)
    application = room.site.application
    if request.method != "POST":
        back = reverse("institutions:plan_sites", args=[application.pk])
        return _confirm_delete(request, application, what=_("考场"), name=str(room), back=back)
    try:
        services.room_remove(room=room, actor=request.user)
    except TransitionError as exc:
        return _refused(request, application, exc.messages)
    messages.success(request, _("已删除考场“%(n)s”。") % {"n": room.name})
    return redirect("institutions:plan_sites", pk=application.pk)


@roles_required(*VIEWER_ROLES)
def work_plan_download(request: HttpRequest, pk: int) -> FileResponse:
    application = selectors.application_detail(user=request.user, pk=pk)
    if not application.work_plan:
        raise Http404
    return FileResponse(
        application.work_plan.open("rb"),
        as_attachment=True,
        filename=f"工作方案-{application.school.name}.pdf",
        content_type="application/pdf",
    )
