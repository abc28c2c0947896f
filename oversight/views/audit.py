"""Oversight: the audit log (issue 10 item 7) — the centre-wide log, its export, and one object's history.

Thin: the reader's scope comes from ``oversight.selectors.audit``; the log is written by the receiver
in ``oversight.services.audit``, connected in ``ready()``.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from oversight.selectors import audit as selectors
from oversight.services import audit as service
from portal.access import roles_required
from portal.excel import export_sheet, xlsx_response
from portal.forms import BootstrapFormMixin
from portal.history import ACTIONS
from portal.i18n import shown
from portal.models import Organisation

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 50_000


def type_choices() -> list[tuple[str, str]]:
    """Every tracked model (no query once the content types are cached)."""
    rows = []
    for model, _history in service.history_models():
        ct = ContentType.objects.get_for_model(model)
        rows.append((str(ct.pk), f"{model._meta.verbose_name}（{model._meta.app_label}）"))
    return [("", _("全部类型"))] + sorted(rows, key=lambda r: r[1])


class AuditFilterForm(BootstrapFormMixin, forms.Form):
    who = forms.CharField(label=_("操作人（用户名或姓名）"), required=False, max_length=50)
    organisation = forms.ModelChoiceField(label=_("单位"), queryset=Organisation.objects.none(), required=False)
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations_for(user)
        self.fields["organisation"].empty_label = _("全部单位")
        self.fields["object_type"].choices = type_choices()

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data


def organisations_for(user):
    """The organisations whose entries the reader may see (the filter's choices)."""
    qs = Organisation.objects.order_by("kind", "name")
    if selectors.reads_whole_log(user):
        return qs
    org = user.organisation
    if org is None:
        return qs.none()
    if user.has_role("district_hr_officer") and org.district_id:
        return qs.filter(district_id=org.district_id)
    return qs.filter(pk=org.pk)


def _filtered(request: HttpRequest):
    form = AuditFilterForm(request.GET or None, user=request.user)
    params: dict = {}
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        params = {
            "organisation_id": d["organisation"].pk if d["organisation"] else None,
            "content_type_id": int(d["object_type"]) if d["object_type"] else None,
            "date_from": d["date_from"],
            "date_to": d["date_to"],
        }
        qs = selectors.entry_list(user=request.user, **params)
        if d["who"]:
            qs = qs.filter(selectors.who_matches(d["who"]))
    elif form.is_bound:
        qs = selectors.entry_list(user=request.user).none()
    else:
        qs = selectors.entry_list(user=request.user)
    return form, qs


@roles_required(*selectors.AUDIT_ROLES)
def audit_log(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "oversight/audit/log.html",
        {
            "form": form,
            "page": page,
            "rows": [_row(e) for e in page.object_list],
            "query": query.urlencode(),
            "whole_log": selectors.reads_whole_log(request.user),
            "export_max": f"{EXPORT_MAX_ROWS:,}",
        },
    )


def _row(e) -> dict:
    return {
        "entry": e,
        "action": ACTIONS.get(e.action, e.action),
        "reason": shown(e.reason),
        "type": e.content_type.model_class()._meta.verbose_name
        if e.content_type.model_class()
        else e.content_type.model,
    }


EXPORT_COLUMNS = (
    ("时间", 18),
    ("操作人", 16),
    ("用户名", 16),
    ("单位", 30),
    ("对象类型", 18),
    ("对象编号", 10),
    ("对象", 40),
    ("操作", 8),
    ("说明", 40),
)


@roles_required(*selectors.AUDIT_ROLES)
def audit_log_export(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    wb = Workbook(write_only=True)
    ws = export_sheet(wb, "操作日志", EXPORT_COLUMNS)
    with translation.override("zh-hans"):
        actions = {k: str(v) for k, v in ACTIONS.items()}
        names: dict[int, str] = {}
        rows = 0
        tz = timezone.get_current_timezone()
        fields = ("at", "user_id", "user__full_name", "user__username", "organisation__name", "content_type_id")
        fields += ("object_id", "object_repr", "action", "reason")
        for at, uid, full_name, username, org, ct_id, object_id, text, action, reason in (
            qs[:EXPORT_MAX_ROWS].values_list(*fields).iterator(chunk_size=5000)
        ):
            if ct_id not in names:
                model = ContentType.objects.get_for_id(ct_id).model_class()
                names[ct_id] = str(model._meta.verbose_name) if model else str(ct_id)
            ws.append(
                [
                    at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                    (full_name or username) if uid else "系统",
                    username or "",
                    org or "",
                    names[ct_id],
                    object_id,
                    text,
                    actions.get(action, action),
                    shown(reason) if reason else "",
                ]
            )
            rows += 1
        notes = wb.create_sheet("导出说明")
        notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
        notes.append(["导出人", str(request.user)])
        notes.append(["条数", str(rows)])
        if rows >= EXPORT_MAX_ROWS:
            notes.append(["提示", f"最多导出 {EXPORT_MAX_ROWS} 条，请缩小日期范围后分次导出。"])
        for field in form:
            value = form.data.get(field.name) if form.is_bound else ""
            if value:
                notes.append([str(field.label), str(value)])
    return xlsx_response(wb, f"操作日志-{dt.date.today():%Y%m%d}.xlsx")


@roles_required(*selectors.AUDIT_ROLES)
def audit_object(request: HttpRequest, ct: int, object_id: str) -> HttpResponse:
    content_type, entries = selectors.object_history(user=request.user, content_type_id=ct, object_id=object_id)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    model = content_type.model_class()
    current = None
    if model is not None:
        current = model._default_manager.filter(pk=object_id).first() if object_id.isdigit() else None
    return render(
        request,
        "oversight/audit/object.html",
        {
            "type_name": model._meta.verbose_name if model else content_type.model,
            "object_id": object_id,
            "current": current,
            "page": page,
            "rows": [_row(e) for e in page.object_list],
        },
    )


urlpatterns = [
    path("audit/", audit_log, name="audit_log"),
    path("audit/export/", audit_log_export, name="audit_log_export"),
    path("audit/<int:ct>/<str:object_id>/", audit_object, name="audit_object"),
]


def ready() -> None:
    """Connect the log's writer; the menu entry for the log's readers."""
    from portal.navigation import register_menu

    service.connect()
    register_menu(_("操作日志"), "oversight:audit_log", selectors.AUDIT_ROLES)
