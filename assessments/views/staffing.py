"""Pages of a batch's staffing (see assessments.services.staffing): rooms and staff on the batch
page, their add and remove pages for the school while the plan is editable, and the centre's
staffing standards (考务配置标准).

Batch pages need a login only: the selector decides who sees the batch (404 otherwise); the
service decides who may change it (403) and whether the plan may still change (409 here)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import selectors
from assessments.models import BatchStaff, Candidate, Duty, EvaluationPlan, PlanStatus, RoomPart, StaffingStandard
from assessments.services import staffing
from institutions.services.workflow import is_school_staff_of
from portal import stepviews
from portal.access import roles_required
from portal.forms import BootstrapFormMixin
from portal.history import history_rows
from portal.models import Occupation, OccupationKind, Role

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _aware(data: dict, *names: str) -> dict:
    for name in names:
        if data.get(name) and timezone.is_naive(data[name]):
            data[name] = timezone.make_aware(data[name])
    return data


# --- Forms ----------------------------------------------------------------------------------


class RoomForm(BootstrapFormMixin, forms.Form):
    room = forms.ModelChoiceField(label=gettext_lazy("考场"), queryset=None)
    part = forms.ChoiceField(label=gettext_lazy("考核内容"))
    starts_at = forms.DateTimeField(label=gettext_lazy("开始时间"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=gettext_lazy("结束时间"), widget=DATETIME)
    candidates_expected = forms.IntegerField(label=gettext_lazy("安排考生数"), min_value=1, max_value=999)

    def __init__(self, *args, plan: EvaluationPlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = plan.site.rooms.all()
        self.fields["room"].label_from_instance = lambda room: (
            _("%(name)s（容纳%(cap)s人，%(av)s）")
            % {
                "name": room.name,
                "cap": room.capacity,
                "av": _("有音视频监控") if room.av_monitoring else _("无音视频监控"),
            }
        )
        self.fields["room"].help_text = _("本批次考核站点“%(site)s”已备案的考场。") % {"site": plan.site.name}
        self.fields["part"].choices = [(p.value, p.label) for p in staffing.PARTS_BY_METHOD.get(plan.method, [])]
        start, end = timezone.localtime(plan.starts_at), timezone.localtime(plan.ends_at)
        self.fields["starts_at"].help_text = _("须在本批次时间%(start)s—%(end)s之内。") % {
            "start": f"{start:%Y-%m-%d %H:%M}",
            "end": f"{end:%Y-%m-%d %H:%M}",
        }
        if not self.is_bound:
            self.initial.setdefault("starts_at", start)
            self.initial.setdefault("ends_at", end)

    def clean(self):
        return _aware(super().clean(), "starts_at", "ends_at")


class StaffForm(BootstrapFormMixin, forms.Form):
    duty = forms.ChoiceField(label=gettext_lazy("职责"), choices=Duty.choices)
    room = forms.ModelChoiceField(
        label=gettext_lazy("考场"),
        queryset=None,
        required=False,
        help_text=gettext_lazy("监考人员选理论考场，考评人员选实操或过程考核考场；内部质量督导人员不选考场。"),
    )
    person = forms.ModelChoiceField(label=gettext_lazy("本校评价工作人员"), queryset=None, required=False)
    invited_username = forms.CharField(
        label=gettext_lazy("或：外聘人员的用户名"),
        required=False,
        max_length=150,
        help_text=gettext_lazy("外聘人员（如评估专家、外校教师）须已有本平台账号；只能看到本批次。"),
    )

    def __init__(self, *args, plan: EvaluationPlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = plan.rooms.select_related("room")
        self.fields["room"].label_from_instance = staffing.room_label
        self.fields["person"].queryset = staffing.school_people(plan)
        self.fields["person"].label_from_instance = staffing.person_label

    def clean(self):
        data = super().clean()
        person, username = data.get("person"), (data.get("invited_username") or "").strip()
        if person and username:
            raise forms.ValidationError(_("请选择本校人员或填写外聘人员用户名，二者选一。"))
        if username:
            person = staffing.invitee(username)
            if person is None:
                self.add_error("invited_username", _("没有用户名为“%(u)s”的有效账号。") % {"u": username})
                return data
        if person is None:
            raise forms.ValidationError(_("请选择本校人员或填写外聘人员用户名。"))
        data["person"] = person
        if data.get("duty") != Duty.INTERNAL_SUPERVISOR and not data.get("room"):
            self.add_error("room", _("监考人员和考评人员须选择考场。"))
        return data


class ConflictForm(BootstrapFormMixin, forms.Form):
    candidate = forms.ModelChoiceField(label=gettext_lazy("考生"), queryset=None)
    reason = forms.CharField(label=gettext_lazy("回避理由"), max_length=200)

    def __init__(self, *args, plan: EvaluationPlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidate"].queryset = Candidate.objects.filter(plan=plan).select_related("student")
        self.fields["candidate"].label_from_instance = lambda c: f"{c.student.name}（{c.student.student_number}）"


class StandardForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = StaffingStandard
        fields = list(staffing.STANDARD_FIELDS)


class NewStandardForm(StandardForm):
    occupation = forms.ModelChoiceField(
        label=gettext_lazy("职业（工种）"),
        queryset=None,
        required=False,
        help_text=gettext_lazy("留空为通用规则（适用于没有单独标准的职业）。"),
    )

    class Meta(StandardForm.Meta):
        fields = ["occupation", *staffing.STANDARD_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occupation"].queryset = Occupation.objects.filter(
            kind=OccupationKind.SKILL, is_active=True, staffing_standard__isnull=True
        ).order_by("code", "work_type")


# --- The batch page's section ---------------------------------------------------------------


def rules_text(standard: StaffingStandard) -> str:
    text = _(
        "配置标准（%(source)s）：理论考场每%(per)s名考生至少1名监考人员，且不少于%(min)s名；"
        "实操和过程考核考场每%(eper)s名考生至少1名考评人员，且不少于%(emin)s名"
    ) % {
        "source": standard,
        "per": standard.theory_candidates_per_invigilator,
        "min": standard.theory_min_invigilators,
        "eper": standard.practical_candidates_per_examiner,
        "emin": standard.practical_min_examiners,
    }
    return text + (_("，考评人员为奇数。") if standard.practical_examiners_odd else _("。"))


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's staffing section shows (template assessments/sections/staffing.html)."""
    rooms = list(
        plan.rooms.select_related("room").prefetch_related(
            Prefetch("staff", queryset=BatchStaff.objects.select_related("person").order_by("duty", "id"))
        )
    )
    supervisors = list(plan.staff.filter(duty=Duty.INTERNAL_SUPERVISOR).select_related("person"))
    editable = staffing.may_edit(request.user, plan)
    standard = staffing.standard_for(plan)
    for br in rooms:
        if br.part == RoomPart.THEORY:
            br.needed = staffing.needed_invigilators(standard, br.candidates_expected)
        else:
            br.needed = staffing.needed_examiners(standard, br.candidates_expected)
    return {
        "rooms": rooms,
        "supervisors": supervisors,
        "may_edit": editable,
        "standard": standard,
        "rules": rules_text(standard),
        "problems": staffing.staffing_problems(plan) if plan.status != PlanStatus.WITHDRAWN else [],
        "gaps": staffing.staffing_gaps(plan) if plan.is_editable else [],
        "changes": staffing.changes_since_accepted(plan),
        "may_declare": staffing.may_declare_conflict(request.user, plan),
    }


# --- Rooms and staff ------------------------------------------------------------------------


def _refused(request: HttpRequest, plan, problems: list[str]) -> HttpResponse:
    return render(request, "assessments/refused.html", {"plan": plan, "problems": problems}, status=409)


def _editable_or_refusal(request: HttpRequest, plan) -> HttpResponse | None:
    if not is_school_staff_of(request.user, plan.institution.school):
        raise PermissionDenied
    if not plan.is_editable:
        return _refused(
            request,
            plan,
            [_("评价计划当前状态为“%(status)s”，不能修改考场和考务人员。") % {"status": plan.get_status_display()}],
        )
    return None


def _back(plan) -> str:
    return reverse("assessments:plan_detail", args=[plan.pk]) + "#staffing"


@login_required
def room_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    refusal = _editable_or_refusal(request, plan)
    if refusal:
        return refusal
    form = RoomForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(form, lambda: staffing.room_add(plan=plan, actor=request.user, **form.cleaned_data))
        if outcome.done:
            messages.success(request, _("已安排考场%(room)s。") % {"room": staffing.room_label(outcome.result)})
            return redirect(_back(plan))
    return render(request, "assessments/staffing/room_form.html", {"plan": plan, "form": form})


@login_required
def room_remove(request: HttpRequest, pk: int, room_pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    batch_room = get_object_or_404(plan.rooms.select_related("room"), pk=room_pk)
    refusal = _editable_or_refusal(request, plan)
    if refusal:
        return refusal
    if request.method == "POST":
        form = forms.Form(request.POST)
        outcome = stepviews.perform(form, lambda: staffing.room_remove(batch_room=batch_room, actor=request.user))
        if outcome.done:
            messages.success(request, _("已撤销考场%(room)s。") % {"room": staffing.room_label(batch_room)})
            return redirect(_back(plan))
        return _refused(request, plan, form.non_field_errors())
    context = {
        "plan": plan,
        "what": _("考场"),
        "name": staffing.room_label(batch_room),
        "note": _("该考场的监考人员、考评人员安排随之撤销。"),
    }
    return render(request, "assessments/staffing/remove_confirm.html", context)


@login_required
def staff_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    refusal = _editable_or_refusal(request, plan)
    if refusal:
        return refusal
    initial = {}
    if request.GET.get("room", "").isdigit():
        room = plan.rooms.filter(pk=int(request.GET["room"])).first()
        if room is not None:
            initial = {"room": room.pk, "duty": Duty.INVIGILATOR if room.part == RoomPart.THEORY else Duty.EXAMINER}
    elif request.GET.get("duty") == Duty.INTERNAL_SUPERVISOR:
        initial = {"duty": Duty.INTERNAL_SUPERVISOR}
    form = StaffForm(request.POST or None, plan=plan, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = stepviews.perform(
            form,
            lambda: staffing.staff_add(
                plan=plan, actor=request.user, person=data["person"], duty=data["duty"], room=data.get("room")
            ),
        )
        if outcome.done:
            messages.success(
                request,
                _("已安排%(person)s为%(duty)s。")
                % {"person": staffing.person_label(outcome.result.person), "duty": outcome.result.get_duty_display()},
            )
            return redirect(_back(plan))
    return render(request, "assessments/staffing/staff_form.html", {"plan": plan, "form": form})


@login_required
def staff_remove(request: HttpRequest, pk: int, staff_pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    row = get_object_or_404(plan.staff.select_related("person", "room__room"), pk=staff_pk)
    refusal = _editable_or_refusal(request, plan)
    if refusal:
        return refusal
    if request.method == "POST":
        form = forms.Form(request.POST)
        outcome = stepviews.perform(form, lambda: staffing.staff_remove(staff=row, actor=request.user))
        if outcome.done:
            messages.success(request, _("已撤销%(person)s的考务安排。") % {"person": staffing.person_label(row.person)})
            return redirect(_back(plan))
        return _refused(request, plan, form.non_field_errors())
    name = f"{staffing.person_label(row.person)} · {row.get_duty_display()}"
    if row.room_id:
        name += f" · {staffing.room_label(row.room)}"
    context = {"plan": plan, "what": _("考务人员安排"), "name": name, "note": _("撤销后该人员不再能查看本批次。")}
    return render(request, "assessments/staffing/remove_confirm.html", context)


@login_required
def conflict_declare(request: HttpRequest, pk: int) -> HttpResponse:
    """An examiner of the batch declares a conflict of interest with one of its candidates (回避)."""
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not staffing.may_declare_conflict(request.user, plan):
        raise PermissionDenied
    form = ConflictForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: staffing.conflict_declare(
                plan=plan,
                actor=request.user,
                candidate=form.cleaned_data["candidate"],
                reason=form.cleaned_data["reason"],
            ),
        )
        if outcome.done:
            messages.success(request, _("已申报回避，您不会被安排评价该考生。"))
            return redirect(_back(plan))
    return render(request, "assessments/staffing/conflict_form.html", {"plan": plan, "form": form})


# --- Staffing standards (the centre) --------------------------------------------------------


@roles_required(Role.CENTRE_REVIEWER)
def standard_list(request: HttpRequest) -> HttpResponse:
    rows = list(StaffingStandard.objects.select_related("occupation", "updated_by"))
    common = next((row for row in rows if row.occupation_id is None), None)
    context = {
        "common": common,
        "defaults": StaffingStandard(),
        "rows": [row for row in rows if row.occupation_id is not None],
    }
    return render(request, "assessments/staffing/standard_list.html", context)


@roles_required(Role.CENTRE_REVIEWER)
def standard_create(request: HttpRequest) -> HttpResponse:
    form = NewStandardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        occupation = data.pop("occupation")
        outcome = stepviews.perform(
            form, lambda: staffing.standard_save(actor=request.user, occupation=occupation, **data)
        )
        if outcome.done:
            messages.success(request, _("考务配置标准已保存：%(s)s。") % {"s": outcome.result})
            return redirect("assessments:standard_list")
    return render(request, "assessments/staffing/standard_form.html", {"form": form, "standard": None})


@roles_required(Role.CENTRE_REVIEWER)
def standard_edit(request: HttpRequest, pk: int) -> HttpResponse:
    standard = get_object_or_404(StaffingStandard.objects.select_related("occupation"), pk=pk)
    form = StandardForm(request.POST or None, instance=StaffingStandard.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in staffing.STANDARD_FIELDS}
        outcome = stepviews.perform(form, lambda: staffing.standard_save(actor=request.user, standard=standard, **data))
        if outcome.done:
            messages.success(request, _("考务配置标准已保存：%(s)s。") % {"s": outcome.result})
            return redirect("assessments:standard_list")
    context = {"form": form, "standard": standard, "history": history_rows(standard)}
    return render(request, "assessments/staffing/standard_form.html", context)


# --- Home page and menu -------------------------------------------------------------------

HOME_LIMIT = 6


def home_panel(user):
    """A person's batch duties (监考、考评、内部督导) in filed batches that have not ended: two queries."""
    from portal.home import HomeItem, HomePanel

    if not user.is_authenticated:
        return None
    duties = (
        BatchStaff.objects.filter(person=user, plan__ends_at__gte=timezone.now())
        .exclude(plan__status__in=[PlanStatus.DRAFT, PlanStatus.WITHDRAWN])
        .select_related("plan__institution", "plan__occupation__occupation", "room__room")
        .order_by("plan__starts_at", "room__starts_at", "id")
    )
    rows = list(duties[: HOME_LIMIT + 1])
    if not rows:
        return None
    items = []
    for row in rows[:HOME_LIMIT]:
        plan = row.plan
        when = row.room.starts_at if row.room_id else plan.starts_at
        where = staffing.room_label(row.room) if row.room_id else _("全批次")
        items.append(
            HomeItem(
                f"{plan.institution.name} · {plan.occupation.occupation} · {row.get_duty_display()}",
                reverse("assessments:plan_detail", args=[plan.pk]) + "#staffing",
                meta=f"{timezone.localtime(when):%Y-%m-%d %H:%M} · {where}",
                badge=_("外聘") if row.invited else "",
            )
        )
    more = reverse("assessments:plan_list") if len(rows) > HOME_LIMIT else ""
    return HomePanel(_("我的考务安排"), items, more_url=more, order=30)


def ready() -> None:
    """Called from AssessmentsConfig.ready: the home panel of batch duties, the standards' menu entry."""
    from portal.home import register_home_panel
    from portal.navigation import register_menu

    register_home_panel(home_panel)
    register_menu(gettext_lazy("考务配置标准"), "assessments:standard_list", {Role.CENTRE_REVIEWER})


urlpatterns = [
    path("<int:pk>/rooms/add/", room_add, name="staffing_room_add"),
    path("<int:pk>/rooms/<int:room_pk>/remove/", room_remove, name="staffing_room_remove"),
    path("<int:pk>/staff/add/", staff_add, name="staffing_staff_add"),
    path("<int:pk>/staff/<int:staff_pk>/remove/", staff_remove, name="staffing_staff_remove"),
    path("<int:pk>/conflicts/declare/", conflict_declare, name="staffing_conflict_declare"),
    path("standards/", standard_list, name="standard_list"),
    path("standards/new/", standard_create, name="standard_create"),
    path("standards/<int:pk>/", standard_edit, name="standard_edit"),
]
