"""Pages of a batch's candidates (see assessments.services.candidates): pick from the school's
graduating-year students, import from Excel (a background job), export, remove; and the centre's
page of openings to other schools (/assessments/openings/)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from assessments import candidate_import as excel
from assessments import selectors
from assessments.models import CandidateOpening
from assessments.services import candidates as services
from institutions.models import Institution
from institutions.services.workflow import is_school_staff_of
from portal import stepviews
from portal.access import CITYWIDE_ROLES, is_citywide, roles_required, users_with_roles
from portal.forms import BootstrapFormMixin, ExcelUploadForm
from portal.models import Role
from portal.services import job_start
from portal.views import xlsx_response
from portal.workflow import TransitionError
from schools.models import Major, School, graduating_year_bounds

SECTION_PAGE_SIZE = 50
PICK_PAGE_SIZE = 50


def _refused(request: HttpRequest, plan, problems: list[str]) -> HttpResponse:
    return render(request, "assessments/refused.html", {"plan": plan, "problems": problems}, status=409)


def _editable_plan(request: HttpRequest, pk: int):
    """The plan in the user's scope (404 otherwise), for its school's staff (403 otherwise)."""
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not is_school_staff_of(request.user, plan.institution.school):
        raise PermissionDenied
    return plan


def _not_editable(request: HttpRequest, plan) -> HttpResponse | None:
    if plan.is_editable:
        return None
    return _refused(
        request,
        plan,
        [
            _("评价计划当前状态为“%(status)s”，不能修改考生名单（草稿、退回修改或变更中的计划才能修改）。")
            % {"status": plan.get_status_display()}
        ],
    )


# --- The batch page's section -----------------------------------------------------------------


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's candidates section shows (template assessments/sections/candidates.html)."""
    rows = plan.candidates.select_related("student__major").order_by("student__student_number", "pk")
    page = Paginator(rows, SECTION_PAGE_SIZE).get_page(request.GET.get("candidates_page"))
    return {
        "page": page,
        "count": page.paginator.count,
        "can_edit": services.may_edit_candidates(request.user, plan),
        "openings_link": is_citywide(request.user),
    }


# --- Pick from the school's graduating-year students ------------------------------------------


class PickFilterForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(label=gettext_lazy("姓名或学号"), required=False)
    major = forms.TypedChoiceField(label=gettext_lazy("专业"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, majors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["major"].choices = [("", _("全部专业")), *((m.pk, f"{m.code} {m.name}") for m in majors)]


@login_required
def candidate_pick(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable_plan(request, pk)
    refusal = _not_editable(request, plan)
    if refusal:
        return refusal
    pickable = services.pickable_students(plan)
    majors = Major.objects.filter(pk__in=pickable.values("major_id")).order_by("code", "pk")
    source = request.POST if request.method == "POST" else request.GET
    form = PickFilterForm(source, majors=majors)
    students = pickable.select_related("major", "school__organisation")
    if form.is_valid():
        if form.cleaned_data["q"]:
            q = form.cleaned_data["q"].strip()
            students = students.filter(Q(name__contains=q) | Q(student_number__contains=q))
        if form.cleaned_data["major"]:
            students = students.filter(major_id=form.cleaned_data["major"])
    students = students.order_by("student_number")
    page = Paginator(students, PICK_PAGE_SIZE).get_page(source.get("page"))
    ticked = {int(v) for v in request.POST.getlist("student") if v.isdecimal()}
    problems: list[str] = []
    if request.method == "POST":
        chosen = list(pickable.filter(pk__in=ticked))
        try:
            created = services.candidates_add(plan=plan, actor=request.user, students=chosen)
        except TransitionError as exc:
            return _refused(request, plan, exc.messages)
        except ValidationError as exc:
            problems = exc.messages
        else:
            messages.success(request, _("已加入%(n)s名考生。") % {"n": len(created)})
            return redirect("assessments:plan_detail", pk=plan.pk)
    in_batch = set(plan.candidates.filter(student__in=list(page.object_list)).values_list("student_id", flat=True))
    context = {
        "plan": plan,
        "form": form,
        "page": page,
        "ticked": ticked,
        "in_batch": in_batch,
        "problems": problems,
        "bounds": graduating_year_bounds(timezone.localdate(plan.starts_at)),
        "own_school_id": plan.institution.school_id,
    }
    return render(request, "assessments/candidates/pick.html", context, status=200)


# --- Import, template, export, remove ---------------------------------------------------------


@login_required
def candidate_import(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable_plan(request, pk)
    refusal = _not_editable(request, plan)
    if refusal:
        return refusal
    form = ExcelUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = job_start(
            kind=excel.KIND,
            actor=request.user,
            params={"plan_id": plan.pk},
            upload=form.cleaned_data["file"],
        )
        return redirect("job_detail", pk=job.pk)
    return render(request, "assessments/candidates/import.html", {"plan": plan, "form": form})


@roles_required(Role.SCHOOL_STAFF)
def candidate_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(excel.template(), "candidates-template.xlsx")


@login_required
def candidate_export(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    return xlsx_response(excel.export(plan), f"candidates-{plan.pk}.xlsx")


@login_required
def candidate_remove(request: HttpRequest, pk: int, candidate_pk: int) -> HttpResponse:
    plan = _editable_plan(request, pk)
    candidate = get_object_or_404(plan.candidates.select_related("student"), pk=candidate_pk)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    try:
        services.candidate_remove(plan=plan, actor=request.user, candidate=candidate)
    except TransitionError as exc:
        return _refused(request, plan, exc.messages)
    messages.success(
        request,
        _("已将%(number)s %(name)s移出考生名单。")
        % {"number": candidate.student.student_number, "name": candidate.student.name},
    )
    return redirect(reverse("assessments:plan_detail", args=[plan.pk]) + "#candidates")


# --- Openings to other schools (centre) -------------------------------------------------------


class OpeningForm(BootstrapFormMixin, forms.Form):
    institution = forms.ModelChoiceField(label=gettext_lazy("评价机构"), queryset=Institution.objects.none())
    school = forms.ModelChoiceField(label=gettext_lazy("开放对象学校"), queryset=School.objects.none())
    decided_on = forms.DateField(label=gettext_lazy("决定日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=gettext_lazy("决定文号"), max_length=100)
    commission_dept_officer = forms.ModelChoiceField(
        label=gettext_lazy("会同决定的市教委相关职能部门经办人"), queryset=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Institution.objects.select_related("school__organisation")
        self.fields["institution"].label_from_instance = lambda i: i.school.organisation.name
        self.fields["school"].queryset = School.objects.select_related("organisation")
        self.fields["school"].label_from_instance = lambda s: s.organisation.name
        self.fields["commission_dept_officer"].queryset = users_with_roles([Role.COMMISSION_DEPT_OFFICER]).order_by(
            "full_name", "username"
        )
        self.fields["commission_dept_officer"].label_from_instance = lambda u: f"{u.full_name or u.username}"
        self.fields["school"].help_text = _("本机构可评价该校毕业学年学生中与本机构备案对应专业相关的专业学生。")


class OpeningEndForm(BootstrapFormMixin, forms.Form):
    ended_on = forms.DateField(label=gettext_lazy("终止日期"), widget=forms.DateInput(attrs={"type": "date"}))


@roles_required(*CITYWIDE_ROLES)
def opening_list(request: HttpRequest) -> HttpResponse:
    can_record = services.may_record_openings(request.user)
    form = OpeningForm(request.POST or None) if can_record else None
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            outcome = stepviews.perform(form, lambda: services.opening_record(actor=request.user, **form.cleaned_data))
            if outcome.done:
                messages.success(request, _("已登记面向外校开放。"))
                return redirect("assessments:opening_list")
    openings = CandidateOpening.objects.select_related(
        "institution__school__organisation", "school__organisation", "centre_officer", "commission_dept_officer"
    ).order_by("-decided_on", "-pk")
    page = Paginator(openings, 30).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "form": form,
        "can_record": can_record,
        "today": timezone.localdate(),
        "end_form": OpeningEndForm(initial={"ended_on": timezone.localdate()}),
    }
    return render(request, "assessments/candidates/openings.html", context)


@roles_required(Role.CENTRE_REVIEWER)
@require_POST
def opening_end(request: HttpRequest, pk: int) -> HttpResponse:
    opening = get_object_or_404(CandidateOpening, pk=pk)
    form = OpeningEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写终止日期。"))
        return redirect("assessments:opening_list")
    try:
        services.opening_end(actor=request.user, opening=opening, ended_on=form.cleaned_data["ended_on"])
    except TransitionError as exc:
        return render(request, "assessments/candidates/opening_refused.html", {"problems": exc.messages}, status=409)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("assessments:opening_list")
    messages.success(request, _("已终止该开放。"))
    return redirect("assessments:opening_list")


urlpatterns: list = [
    path("<int:pk>/candidates/pick/", candidate_pick, name="candidate_pick"),
    path("<int:pk>/candidates/import/", candidate_import, name="candidate_import"),
    path("<int:pk>/candidates/export/", candidate_export, name="candidate_export"),
    path("<int:pk>/candidates/<int:candidate_pk>/remove/", candidate_remove, name="candidate_remove"),
    path("candidates/template/", candidate_template, name="candidate_template"),
    path("openings/", opening_list, name="opening_list"),
    path("openings/<int:pk>/end/", opening_end, name="opening_end"),
]
