"""Violation cases pages (违规违纪): list with filters and Excel export, open a case (directly, from a
supervision report or a result anomaly), a case's page with its decision and history, evidence,
the trace-back (问题回溯), and the decide and dismiss steps.

Thin: scope through ``oversight.selectors.cases`` (404 outside it), the right through the
``CASE`` workflow's policies (403), the state (409 with the reason), the rules (the form again,
with what was typed). Owns its URLs (``urlpatterns``) and, in ``ready()``, its menu entry and
home panel.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from assessments import selectors as assessment_selectors
from assessments.models import Candidate, SupervisionAssignment
from certificates.models import Certificate, CertificateStatus
from institutions.forms import MultipleFileField
from institutions.models import Institution, InstitutionOccupation, InstitutionStatus
from oversight.models import CaseSource, CaseStatus, SanctionKind, SubjectKind
from oversight.selectors import cases as selectors
from oversight.services import cases as service
from oversight.services.cases import CASE, SanctionSpec
from portal import stepviews
from portal.access import login_only, school_scope
from portal.excel import TEXT_FORMAT, export_sheet, xlsx_response
from portal.forms import BootstrapFormMixin
from portal.models import District, User
from portal.security import file_download

K = SanctionKind
PAGE_SIZE = 50
DIRECTORY_ACTIONS = [
    ("", gettext_lazy("不处理")),
    ("suspend", gettext_lazy("暂停")),
    ("remove", gettext_lazy("移出目录")),
]


def _refused(request, problems, case=None, status=409):
    return render(request, "oversight/cases/refused.html", {"problems": problems, "case": case}, status=status)


# --- The list ------------------------------------------------------------------------------------


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    source = forms.ChoiceField(label=gettext_lazy("案件来源"), required=False)
    subject_kind = forms.ChoiceField(label=gettext_lazy("当事人类型"), required=False)
    district = forms.ModelChoiceField(label=gettext_lazy("区"), required=False, queryset=District.objects.all())
    q = forms.CharField(label=gettext_lazy("案件编号、案由或对象"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("全部"))]
        self.fields["status"].choices = everything + list(CaseStatus.choices)
        self.fields["source"].choices = everything + list(CaseSource.choices)
        self.fields["subject_kind"].choices = everything + list(SubjectKind.choices)
        self.fields["district"].empty_label = _("全部")
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )

    def apply(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        for name in ("status", "source", "subject_kind"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        if data.get("district"):
            qs = qs.filter(institution__school__organisation__district=data["district"])
        if data.get("q"):
            term = data["q"].strip()
            qs = qs.filter(Q(number__icontains=term) | Q(title__icontains=term) | Q(subject_name__icontains=term))
        return qs


def _filtered(request):
    form = CaseFilterForm(request.GET or None)
    return form, form.apply(selectors.cases_for(request.user)).order_by("-opened_at", "-id")


@login_only
def case_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "oversight/cases/list.html",
        {"form": form, "page": page, "query": query.urlencode(), "may_open": _may_open_any(request.user)},
    )


EXPORT_COLUMNS = (
    ("案件编号", 16),
    ("案由", 30),
    ("当事人类型", 10),
    ("对象", 16),
    ("评价机构", 30),
    ("区", 10),
    ("案件来源", 10),
    ("立案时间", 17),
    ("状态", 14),
    ("处理单位", 12),
    ("处理措施数", 10),
    ("处理决定", 40),
    ("决定时间", 17),
)


@login_only
def case_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as Excel (Chinese headers whatever the reader's language)."""
    _form, qs = _filtered(request)
    wb = Workbook()
    ws = export_sheet(wb, "违规违纪案件", EXPORT_COLUMNS, first=True)
    for c in qs.iterator(chunk_size=2000):
        district = c.institution.school.organisation.district
        ws.append(
            [
                c.number,
                c.title,
                c.get_subject_kind_display(),
                c.subject_name,
                c.institution.name,
                district.name if district else "",
                c.get_source_display(),
                timezone.localtime(c.opened_at).strftime("%Y-%m-%d %H:%M"),
                c.get_status_display(),
                c.get_deciding_body_display() if c.deciding_body else "",
                c.sanction_count,
                c.decision,
                timezone.localtime(c.decided_at).strftime("%Y-%m-%d %H:%M") if c.decided_at else "",
            ]
        )
        ws.cell(row=ws.max_row, column=1).number_format = TEXT_FORMAT
    return xlsx_response(wb, f"违规违纪案件-{timezone.localdate():%Y%m%d}.xlsx")


# --- Opening ---------------------------------------------------------------------------------------


def _openable_institutions(user):
    """Institutions ``user`` may open a case about (any subject for a supervising authority)."""
    qs = Institution.objects.filter(school_scope(user, "school__")).select_related("school__organisation")
    return [
        inst
        for inst in qs.order_by("school__organisation__name")
        if service.may_open(user, inst, SubjectKind.CANDIDATE)
    ]


def _may_open_any(user) -> bool:
    return bool(_openable_institutions(user))


class CaseForm(BootstrapFormMixin, forms.Form):
    subject_kind = forms.ChoiceField(
        label=gettext_lazy("当事人类型"), choices=SubjectKind.choices, widget=forms.RadioSelect
    )
    institution = forms.ModelChoiceField(
        label=gettext_lazy("评价机构"), queryset=Institution.objects.none(), required=False
    )
    plan = forms.IntegerField(
        label=gettext_lazy("评价批次编号"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("批次页面标题中的编号（#后的数字）；对象为参评人员时必填。"),
    )
    candidate = forms.CharField(
        label=gettext_lazy("考生（学号或证件号码）"),
        required=False,
        max_length=30,
        help_text=gettext_lazy("对象为参评人员时填写，须是该批次的考生。"),
    )
    person = forms.CharField(
        label=gettext_lazy("工作人员账号"),
        required=False,
        max_length=150,
        help_text=gettext_lazy("对象为工作人员时填写其登录账号。"),
    )
    title = forms.CharField(label=gettext_lazy("案由"), max_length=200)
    facts = forms.CharField(label=gettext_lazy("基本事实"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["institution"]
        field.queryset = (
            Institution.objects.filter(pk__in=[i.pk for i in institutions])
            .select_related("school__organisation")
            .order_by("school__organisation__name")
        )
        field.label_from_instance = lambda inst: inst.name
        self.fields["subject_kind"].widget.attrs["class"] = "form-check-input"
        self.fields["institution"].help_text = _("填写了批次编号时可不选，以批次的评价机构为准。")


def _resolve(form: CaseForm, user, preset_plan):
    """The plan, candidate and person the form names, each looked up within the user's scope."""
    data = form.cleaned_data
    plan = preset_plan
    if plan is None and data.get("plan"):
        plan = assessment_selectors.plan_list(user=user).filter(pk=data["plan"]).first()
        if plan is None:
            form.add_error("plan", _("找不到编号为%(n)s的评价批次（或不在您的管辖范围内）。") % {"n": data["plan"]})
    institution = plan.institution if plan is not None else data.get("institution")
    if institution is None and not form.errors:
        form.add_error("institution", _("请选择评价机构，或填写评价批次编号。"))
    candidate = person = None
    kind = data.get("subject_kind")
    if kind == SubjectKind.CANDIDATE:
        key = (data.get("candidate") or "").strip()
        if plan is None:
            if "plan" not in form.errors:
                form.add_error("plan", _("对象为参评人员时须填写评价批次编号。"))
        elif not key:
            form.add_error("candidate", _("请填写考生的学号或证件号码。"))
        else:
            candidate = (
                Candidate.objects.filter(plan=plan)
                .filter(Q(student__student_number=key) | Q(student__id_number=key.upper()))
                .select_related("student", "plan")
                .first()
            )
            if candidate is None:
                form.add_error(
                    "candidate", _("批次#%(n)s中没有学号或证件号码为“%(key)s”的考生。") % {"n": plan.pk, "key": key}
                )
    if kind == SubjectKind.STAFF:
        username = (data.get("person") or "").strip()
        person = User.objects.filter(username=username).first() if username else None
        if person is None:
            form.add_error(
                "person", _("找不到账号“%(u)s”。") % {"u": username} if username else _("请填写工作人员账号。")
            )
    return plan, institution, candidate, person


@login_only
def case_create(request: HttpRequest) -> HttpResponse:
    """Open a case: directly, from a filed supervision report (?supervision=<id>) or a result
    anomaly (?plan=<id>&source=anomaly)."""
    user = request.user
    supervision = plan = None
    source = CaseSource.DIRECT
    if request.GET.get("supervision"):
        supervision = get_object_or_404(
            SupervisionAssignment.objects.select_related("plan__institution__school__organisation", "supervisor"),
            pk=_int(request.GET["supervision"]),
            plan__in=assessment_selectors.plan_list(user=user).values("pk"),
        )
        plan, source = supervision.plan, CaseSource.SUPERVISION
    elif request.GET.get("plan"):
        plan = assessment_selectors.plan_detail(user=user, pk=_int(request.GET["plan"]))
        source = CaseSource.ANOMALY if request.GET.get("source") == CaseSource.ANOMALY else CaseSource.DIRECT
    institutions = _openable_institutions(user) if plan is None else []
    if plan is not None:
        if not service.may_open(user, plan.institution, SubjectKind.CANDIDATE):
            raise PermissionDenied
        if supervision is not None and not supervision.report_filed_at:
            return _refused(request, [_("该督导尚未提交督导报告，不能据此立案。")])
    elif not institutions:
        raise PermissionDenied
    initial = {"subject_kind": SubjectKind.CANDIDATE if plan is None else SubjectKind.INSTITUTION}
    if supervision is not None:
        initial["title"] = _("督导发现的违规问题：%(inst)s 批次#%(n)s") % {"inst": plan.institution.name, "n": plan.pk}
        initial["facts"] = supervision.report
    elif source == CaseSource.ANOMALY:
        initial["title"] = _("评价结果异常：%(inst)s 批次#%(n)s") % {"inst": plan.institution.name, "n": plan.pk}
    form = CaseForm(request.POST if request.method == "POST" else None, initial=initial, institutions=institutions)
    if plan is not None:
        del form.fields["institution"]
        del form.fields["plan"]
    if request.method == "POST" and form.is_valid():
        plan, institution, candidate, person = _resolve(form, user, plan)
        if not form.errors:
            outcome = stepviews.perform(
                form,
                lambda: service.case_open(
                    actor=user,
                    subject_kind=form.cleaned_data["subject_kind"],
                    institution=institution,
                    title=form.cleaned_data["title"],
                    facts=form.cleaned_data["facts"],
                    source=source,
                    candidate=candidate,
                    person=person,
                    plan=plan,
                    supervision=supervision,
                ),
            )
            if outcome.done:
                messages.success(request, _("已立案，案件编号%(n)s。") % {"n": outcome.result.number})
                return redirect("oversight:case_detail", pk=outcome.result.pk)
    return render(
        request,
        "oversight/cases/create.html",
        {"form": form, "plan": plan, "supervision": supervision, "source": CaseSource(source).label},
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- A case -------------------------------------------------------------------------------------


def _events(case):
    labels = {"open": _("立案"), "decide": _("作出处理决定"), "dismiss": _("不予处理"), "evidence": _("上传证据")}
    events = list(case.events.select_related("actor"))
    for e in events:
        e.label = labels.get(e.action, e.action)
    return events


@login_only
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_detail(user=request.user, pk=pk)
    history = case.history.select_related("history_user").order_by("history_date")
    return render(
        request,
        "oversight/cases/detail.html",
        {
            "case": case,
            "sanctions": selectors.case_sanctions(case),
            "evidence": case.evidence.select_related("uploaded_by"),
            "events": _events(case),
            "history": history,
            "steps": [t.name for t in CASE.available(case, request.user)],
            "is_party_only": service.deciding_body(request.user, case) is None,
            "complaint_url": _complaint_url(request.user, case),
        },
    )


def _complaint_url(user, case) -> str:
    """The complaint the case came from, linked when the reader may open it (the same scope)."""
    from oversight.selectors.complaints import complaints_for

    if case.complaint_id and complaints_for(user).filter(pk=case.complaint_id).exists():
        return reverse("oversight:complaint_detail", args=[case.complaint_id])
    return ""


@login_only
def case_trace(request: HttpRequest, pk: int) -> HttpResponse:
    """问题回溯: the batch, rooms and staff, attendance and scores, certificates, supervision."""
    case = selectors.case_detail(user=request.user, pk=pk)
    if case.person_id == request.user.pk and service.deciding_body(request.user, case) is None:
        if not selectors.cases_for(request.user).exclude(person_id=request.user.pk).filter(pk=pk).exists():
            raise PermissionDenied  # the person the case is about reads the decision, not the trace-back
    return render(request, "oversight/cases/trace.html", {"case": case, "t": selectors.trace_back(case)})


class EvidenceForm(BootstrapFormMixin, forms.Form):
    files = MultipleFileField(label=gettext_lazy("证据文件（PDF、JPEG 或 PNG，每个不超过 10 MB）"), required=False)
    description = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)


@login_only
def case_evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_detail(user=request.user, pk=pk)
    refusal = stepviews.step_refusal(request, CASE, "evidence", case, lambda p: _refused(request, p, case))
    if refusal:
        return refusal
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: service.evidence_add(
                case=case,
                actor=request.user,
                uploads=request.FILES.getlist("files"),
                description=form.cleaned_data["description"],
            ),
            field_name="files",
        )
        if outcome.refusal:
            return _refused(request, outcome.refusal, case)
        if outcome.done:
            messages.success(request, _("已上传%(n)s个证据文件。") % {"n": len(outcome.result)})
            return redirect("oversight:case_detail", pk=case.pk)
    return render(
        request,
        "oversight/cases/step.html",
        {"case": case, "form": form, "title": _("上传证据"), "submit": _("上传"), "multipart": True},
    )


@login_only
def case_evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Only for those who may read the case; never a public media address."""
    evidence = selectors.case_evidence(user=request.user, pk=pk)
    return file_download(
        evidence.file.open("rb"), original_name=evidence.original_name, content_type=evidence.content_type
    )


# --- Deciding ----------------------------------------------------------------------------------


class DecideForm(BootstrapFormMixin, forms.Form):
    decision = forms.CharField(
        label=gettext_lazy("处理决定"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("写明认定的事实、依据和处理结果；只批评教育、不采取处理措施时也须填写。"),
    )
    void_result = forms.BooleanField(label=gettext_lazy("宣布该考生评价结果无效"), required=False)
    certificates = forms.ModelMultipleChoiceField(
        label=gettext_lazy("撤销证书"),
        queryset=Certificate.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    bar = forms.BooleanField(required=False)
    bar_starts_on = forms.DateField(
        label=gettext_lazy("禁入起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    bar_ends_on = forms.DateField(
        label=gettext_lazy("禁入截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("不填表示另行通知前一直有效。"),
    )
    institution_action = forms.ChoiceField(label=gettext_lazy("评价机构"), choices=DIRECTORY_ACTIONS, required=False)
    occupation_action = forms.ChoiceField(
        label=gettext_lazy("评价职业（工种）"), choices=DIRECTORY_ACTIONS, required=False
    )
    occupation = forms.ModelChoiceField(
        label=gettext_lazy("所涉职业（工种）"), queryset=InstitutionOccupation.objects.none(), required=False
    )

    def __init__(self, *args, case, allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.allowed = case, allowed
        if K.VOID_RESULT not in allowed:
            del self.fields["void_result"]
        if K.REVOKE_CERTIFICATE in allowed:
            certs = Certificate.objects.filter(institution=case.institution, status=CertificateStatus.VALID)
            if case.candidate_id:
                certs = certs.filter(Q(candidate_id=case.candidate_id) | Q(id_number=case.subject_id_number))
            elif case.plan_id:
                certs = certs.filter(plan_id=case.plan_id)
            else:
                certs = certs.none()
            self.fields["certificates"].queryset = certs.order_by("number")
            self.fields["certificates"].label_from_instance = lambda c: f"{c.number} {c.name} {c.occupation_name}"
            self.fields["certificates"].help_text = _("列出本案对象（或本案批次）持有的有效证书。")
        else:
            del self.fields["certificates"]
        bar_kind = K.BAR_CANDIDATE if K.BAR_CANDIDATE in allowed else K.BAR_STAFF if K.BAR_STAFF in allowed else None
        self.bar_kind = bar_kind
        if bar_kind is None:
            for name in ("bar", "bar_starts_on", "bar_ends_on"):
                del self.fields[name]
        else:
            self.fields["bar"].label = (
                _("禁止%(who)s参加职业技能等级评价") if bar_kind == K.BAR_CANDIDATE else _("禁止%(who)s从事考务工作")
            ) % {"who": case.subject_name}
        if K.SUSPEND_INSTITUTION not in allowed:
            del self.fields["institution_action"]
        if K.SUSPEND_OCCUPATION not in allowed:
            del self.fields["occupation_action"]
            del self.fields["occupation"]
        else:
            field = self.fields["occupation"]
            field.queryset = InstitutionOccupation.objects.filter(institution=case.institution).select_related(
                "occupation"
            )
            field.initial = case.occupation_id
            field.label_from_instance = lambda row: f"{row.occupation}（{row.get_status_display()}）"

    def sanctions(self) -> list[SanctionSpec]:
        data = self.cleaned_data
        out = []
        if data.get("void_result"):
            out.append(SanctionSpec(K.VOID_RESULT))
        for cert in data.get("certificates") or []:
            out.append(SanctionSpec(K.REVOKE_CERTIFICATE, certificate=cert))
        if data.get("bar"):
            out.append(
                SanctionSpec(self.bar_kind, starts_on=data.get("bar_starts_on"), ends_on=data.get("bar_ends_on"))
            )
        action = data.get("institution_action")
        if action:
            out.append(SanctionSpec(K.SUSPEND_INSTITUTION if action == "suspend" else K.REMOVE_INSTITUTION))
        action = data.get("occupation_action")
        if action:
            kind = K.SUSPEND_OCCUPATION if action == "suspend" else K.REMOVE_OCCUPATION
            out.append(SanctionSpec(kind, occupation=data.get("occupation")))
        return out


@login_only
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_detail(user=request.user, pk=pk)
    refusal = stepviews.step_refusal(request, CASE, "decide", case, lambda p: _refused(request, p, case))
    if refusal:
        return refusal
    allowed = service.allowed_sanctions(request.user, case)
    form = DecideForm(request.POST or None, case=case, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: service.case_decide(
                case=case, actor=request.user, decision=form.cleaned_data["decision"], sanctions=form.sanctions()
            ),
        )
        if outcome.refusal:
            return _refused(request, outcome.refusal, case)
        if outcome.done:
            messages.success(request, _("处理决定已作出，各项处理措施已执行，相关单位和人员已收到通知。"))
            return redirect("oversight:case_detail", pk=case.pk)
    return render(
        request,
        "oversight/cases/decide.html",
        {
            "case": case,
            "form": form,
            "body": service.deciding_body(request.user, case),
            "institution_active": case.institution.status == InstitutionStatus.ACTIVE,
        },
    )


class DismissForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("不予处理的理由"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


@login_only
def case_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_detail(user=request.user, pk=pk)
    refusal = stepviews.step_refusal(request, CASE, "dismiss", case, lambda p: _refused(request, p, case))
    if refusal:
        return refusal
    form = DismissForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: service.case_dismiss(case=case, actor=request.user, reason=form.cleaned_data["reason"]),
            field_name="reason",
        )
        if outcome.refusal:
            return _refused(request, outcome.refusal, case)
        if outcome.done:
            messages.success(request, _("已决定不予处理，相关单位已收到通知。"))
            return redirect("oversight:case_detail", pk=case.pk)
    return render(
        request,
        "oversight/cases/step.html",
        {"case": case, "form": form, "title": _("不予处理"), "submit": _("确认不予处理"), "danger": True},
    )


urlpatterns = [
    path("cases/", case_list, name="case_list"),
    path("cases/export.xlsx", case_export, name="case_export"),
    path("cases/new/", case_create, name="case_create"),
    path("cases/<int:pk>/", case_detail, name="case_detail"),
    path("cases/<int:pk>/trace/", case_trace, name="case_trace"),
    path("cases/<int:pk>/evidence/", case_evidence_add, name="case_evidence_add"),
    path("cases/evidence/<int:pk>/", case_evidence_download, name="case_evidence"),
    path("cases/<int:pk>/decide/", case_decide, name="case_decide"),
    path("cases/<int:pk>/dismiss/", case_dismiss, name="case_dismiss"),
]


def _home_panel(user):
    from portal.home import HomeItem, HomePanel
    from portal.models import Role

    # The centre's and the district bureaus' dashboards carry this figure as a tile already.
    if not user.is_authenticated or user.has_role(Role.CENTRE_REVIEWER, Role.DISTRICT_HR_OFFICER):
        return None
    count = selectors.open_case_count(user)
    if not count:
        return None
    url = reverse("oversight:case_list") + "?status=open"
    return HomePanel(
        title=_("违规违纪案件"),
        items=[HomeItem(label=_("调查中的案件：%(n)s件") % {"n": count}, url=url)],
        more_url=url,
        order=60,
    )


def ready() -> None:
    """Called once from OversightConfig.ready(): the menu entry and the home panel."""
    from portal.access import SCHOOL_VIEWER_ROLES
    from portal.home import register_home_panel
    from portal.navigation import register_menu

    register_menu(gettext_lazy("违规违纪"), "oversight:case_list", SCHOOL_VIEWER_ROLES)
    register_home_panel(_home_panel)
