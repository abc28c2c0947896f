from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.access import SCHOOL_VIEWER_ROLES, roles_required
from portal.history import history_rows
from portal.models import Role
from portal.security import file_download
from portal.services import job_start
from portal.views import xlsx_response
from schools import excel, selectors
from schools.forms import (
    ImportUploadForm,
    SchoolContactForm,
    SchoolFilterForm,
    SchoolOnboardForm,
    StudentFilterForm,
    ThroughProgrammeForm,
    WithdrawForm,
)
from schools.models import ThroughProgramme
from schools.services import (
    may_manage_school_records,
    may_onboard_schools,
    school_onboard,
    school_update,
    set_password_link,
    through_programme_record,
)
from schools.services import through_programme_withdraw as through_programme_withdraw_service

SCHOOL_PAGE_SIZE = 30


@roles_required(*SCHOOL_VIEWER_ROLES)
def school_list(request: HttpRequest) -> HttpResponse:
    if request.user.has_role(Role.SCHOOL_STAFF) and not request.user.is_superuser:
        school = selectors.school_of(request.user)
        if school is not None:
            return redirect("schools:school_detail", pk=school.pk)
    form = SchoolFilterForm(request.GET or None)
    filters = form.filters()
    schools = selectors.school_list_with_counts(user=request.user, on=timezone.localdate(), **filters)
    # One page at a time: the counts are correlated subqueries, computed for the rows shown only.
    page = Paginator(schools, SCHOOL_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "searched": any(filters.values()),
        "can_onboard": may_onboard_schools(request.user),
    }
    return render(request, "schools/school_list.html", context)


@roles_required(*SCHOOL_VIEWER_ROLES)
def school_detail(request: HttpRequest, pk: int) -> HttpResponse:
    school = get_object_or_404(selectors.school_list_with_counts(user=request.user, on=timezone.localdate()), pk=pk)
    return render(
        request,
        "schools/school_detail.html",
        {
            "school": school,
            "majors": selectors.major_list(user=request.user, school=school),
            "can_manage": may_manage_school_records(request.user, school),
            "history": history_rows(school),
        },
    )


@roles_required(Role.SCHOOL_STAFF)
def school_edit(request: HttpRequest, pk: int) -> HttpResponse:
    school = get_object_or_404(selectors.school_list(user=request.user), pk=pk)
    if not may_manage_school_records(request.user, school):
        raise PermissionDenied
    initial = {"address": school.address, "contact_name": school.contact_name, "contact_phone": school.contact_phone}
    form = SchoolContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        school_update(school=school, actor=request.user, data=data, reason=reason)
        messages.success(request, _("学校信息已保存。"))
        return redirect("schools:school_detail", pk=school.pk)
    return render(request, "schools/school_edit.html", {"school": school, "form": form})


@roles_required(*SCHOOL_VIEWER_ROLES)
def major_list(request: HttpRequest, pk: int) -> HttpResponse:
    school = get_object_or_404(selectors.school_list(user=request.user), pk=pk)
    majors = selectors.major_list(user=request.user, school=school)
    return render(
        request,
        "schools/major_list.html",
        {"school": school, "majors": majors, "can_manage": may_manage_school_records(request.user, school)},
    )


@roles_required(*SCHOOL_VIEWER_ROLES)
def student_list(request: HttpRequest, pk: int) -> HttpResponse:
    school = get_object_or_404(selectors.school_list(user=request.user), pk=pk)
    majors = list(selectors.major_list(user=request.user, school=school))
    form = StudentFilterForm(request.GET or None, majors=majors)
    filters = form.cleaned_data if form.is_valid() else {}
    students = selectors.student_list(
        user=request.user,
        school=school,
        major_id=int(filters["major"]) if filters.get("major") else None,
        search=filters.get("q", ""),
        graduating_on=timezone.localdate() if filters.get("graduating") else None,
    )
    page = Paginator(students, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "schools/student_list.html",
        {
            "school": school,
            "page": page,
            "form": form,
            "can_manage": may_manage_school_records(request.user, school),
            "today": timezone.localdate(),
        },
    )


@roles_required(*SCHOOL_VIEWER_ROLES)
def student_detail(request: HttpRequest, pk: int) -> HttpResponse:
    student = get_object_or_404(selectors.student_list(user=request.user), pk=pk)
    return render(
        request,
        "schools/student_detail.html",
        {
            "student": student,
            "history": history_rows(student),
            "is_graduating": student.is_graduating_year(timezone.localdate()),
        },
    )


def _import(request: HttpRequest, pk: int, kind: str, heading: str, template_url: str) -> HttpResponse:
    school = get_object_or_404(selectors.school_list(user=request.user), pk=pk)
    if not may_manage_school_records(request.user, school):
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = job_start(
            kind=kind, actor=request.user, params={"school_id": school.pk}, upload=form.cleaned_data["file"]
        )
        return redirect("job_detail", pk=job.pk)
    context = {"school": school, "form": form, "heading": heading, "template_url": reverse(template_url)}
    return render(request, "schools/import.html", context)


@roles_required(Role.SCHOOL_STAFF)
def major_import(request: HttpRequest, pk: int) -> HttpResponse:
    return _import(request, pk, "import_majors", _("导入专业"), "schools:major_template")


@roles_required(Role.SCHOOL_STAFF)
def student_import(request: HttpRequest, pk: int) -> HttpResponse:
    return _import(request, pk, "import_students", _("导入学籍学生"), "schools:student_template")


@roles_required(Role.SCHOOL_STAFF)
def major_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(excel.major_template(), "majors-template.xlsx")


@roles_required(Role.SCHOOL_STAFF)
def student_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(excel.student_template(), "students-template.xlsx")


# --- Through-programmes (贯通培养) ----------------------------------------------------------


@roles_required(*SCHOOL_VIEWER_ROLES)
def through_programmes(request: HttpRequest, pk: int) -> HttpResponse:
    """The school's through-programme majors with their approval documents; its staff record more."""
    school = get_object_or_404(selectors.school_list(user=request.user), pk=pk)
    can_manage = may_manage_school_records(request.user, school)
    candidates = [
        m for m in selectors.major_list(user=request.user, school=school) if m.is_active and not m.is_through_programme
    ]
    form = ThroughProgrammeForm(majors=candidates)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = ThroughProgrammeForm(request.POST, request.FILES, majors=candidates)
        if form.is_valid():
            data = form.cleaned_data
            major = next(m for m in candidates if m.pk == data["major"])
            try:
                through_programme_record(
                    major=major,
                    actor=request.user,
                    kind=data["kind"],
                    partner=data["partner"],
                    approval_ref=data["approval_ref"],
                    upload=data["file"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已登记贯通培养专业“%(major)s”。") % {"major": major})
                return redirect("schools:through_programmes", pk=school.pk)
    programmes = selectors.through_programme_list(user=request.user, school=school)
    history = (
        ThroughProgramme.history.filter(major__school=school)
        .select_related("history_user", "major")
        .order_by("-history_date", "-history_id")[:50]
    )
    context = {
        "school": school,
        "programmes": programmes,
        "form": form,
        "has_candidates": bool(candidates),
        "can_manage": can_manage,
        "withdraw_form": WithdrawForm(),
        "through_history": history,
    }
    return render(request, "schools/through_programmes.html", context)


@roles_required(Role.SCHOOL_STAFF)
@require_POST
def through_programme_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    programme = selectors.through_programme_in_scope(user=request.user, pk=pk)
    school = programme.major.school
    if not may_manage_school_records(request.user, school):
        raise PermissionDenied
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("撤销须填写原因。"))
        return redirect("schools:through_programmes", pk=school.pk)
    try:
        through_programme_withdraw_service(programme=programme, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已撤销贯通培养专业“%(major)s”。") % {"major": programme.major})
    return redirect("schools:through_programmes", pk=school.pk)


@roles_required(*SCHOOL_VIEWER_ROLES)
def through_programme_document(request: HttpRequest, pk: int) -> FileResponse:
    programme = selectors.through_programme_in_scope(user=request.user, pk=pk)
    return file_download(
        programme.file.open("rb"), original_name=programme.original_name, content_type=programme.content_type
    )


def _form_errors(form, exc: ValidationError) -> None:
    """A service's refusal shown on the form: on its field where it names one, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Onboarding -----------------------------------------------------------------------------


@roles_required(Role.SYSTEM_ADMIN)
def school_new(request: HttpRequest) -> HttpResponse:
    """One page for the centre's administrator: the school, its district and code, its first user.

    The answer to a successful POST is the one page that shows the set-password link: it is not
    stored anywhere, so it is shown once (no redirect that would have to carry it).
    """
    form = SchoolOnboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            school, user = school_onboard(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            link = request.build_absolute_uri(set_password_link(user))
            context = {"school": school, "new_user": user, "link": link, "timeout_days": _reset_days()}
            return render(request, "schools/school_new_done.html", context)
    return render(request, "schools/school_new.html", {"form": form, "role_label": Role.SCHOOL_STAFF.label})


def _reset_days() -> int:
    from django.conf import settings

    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
