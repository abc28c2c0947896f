from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.access import SCHOOL_VIEWER_ROLES, roles_required
from portal.history import history_rows
from portal.models import Role
from portal.services import job_start
from portal.views import xlsx_response
from schools import excel, selectors
from schools.forms import ImportUploadForm, SchoolContactForm, SchoolFilterForm, StudentFilterForm
from schools.services import may_manage_school_records, school_update

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
    return render(request, "schools/school_list.html", {"form": form, "page": page, "searched": any(filters.values())})


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
