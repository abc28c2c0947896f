"""Home panel of the filing workflow: what waits for each role (a few queries whatever the numbers)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from institutions import selectors, services
from institutions.models import OPEN_STATUSES, ApplicationStatus, Condition, PanelMember
from portal.home import HomeItem, HomePanel
from portal.models import Role

S = ApplicationStatus
LIMIT = 6
CONDITIONS = len(Condition.values)


def _detail(app) -> str:
    return reverse("institutions:application_detail", args=[app.pk])


def _school_items(user) -> list[HomeItem]:
    apps = selectors.application_list(user=user).filter(
        school__organisation_id=user.organisation_id, status__in=OPEN_STATUSES
    )
    app = apps.first()
    if app is None:
        return [HomeItem(_("本校暂无进行中的备案申请"), reverse("institutions:application_list"), meta=_("可新建"))]
    items = [HomeItem(f"{app.get_kind_display()} #{app.pk}", _detail(app), badge=app.get_status_display())]
    if app.is_editable:
        full = selectors.application_detail(user=user, pk=app.pk)
        problems = services.submission_problems(full)
        if app.status == S.RETURNED:
            returned = next((e for e in reversed(list(full.events.all())) if e.action == "return"), None)
            items.append(
                HomeItem(
                    _("被退回修改：请按退回意见修改后重新提交"),
                    _detail(app),
                    meta=(returned.comment[:40] if returned else ""),
                )
            )
        if problems:
            items.append(HomeItem(_("提交前还有待完善的事项"), _detail(app), badge=str(len(problems))))
        else:
            items.append(HomeItem(_("材料齐全，可以提交"), _detail(app)))
    return items


def _queue(qs, badge: str, url_name: str = "institutions:application_detail") -> list[HomeItem]:
    """One line per application waiting for the user: the school, the kind of filing, the step."""
    return [
        HomeItem(a.school.name, reverse(url_name, args=[a.pk]), meta=a.get_kind_display(), badge=badge)
        for a in qs[:LIMIT]
    ]


def filing_panel(user) -> HomePanel | None:
    if not user.is_authenticated:
        return None
    roles = {Role.SCHOOL_STAFF, Role.COMMISSION_DEPT_OFFICER, Role.CENTRE_REVIEWER, Role.EXPERT}
    body = services.consent_body_of(user)
    if not (user.has_role(*roles) or body):
        return None
    apps = selectors.application_list(user=user)
    items: list[HomeItem] = []
    if user.has_role(Role.SCHOOL_STAFF):
        items += _school_items(user)
    if user.has_role(Role.COMMISSION_DEPT_OFFICER):
        items += _queue(apps.filter(status=S.SUBMITTED).order_by("submitted_at"), _("待受理"))
        proposed = apps.filter(status=S.UNDER_EVALUATION, panel__isnull=False, panel__agreed_at__isnull=True)
        items += _queue(proposed.order_by("pk"), _("待会同确认评估专家组"), "institutions:application_detail")
    if user.has_role(Role.CENTRE_REVIEWER):
        needing_panel = apps.filter(status=S.UNDER_EVALUATION, panel__isnull=True).order_by("pk")
        items += _queue(needing_panel, _("待组建评估专家组"), "institutions:panel_form")
        items += _queue(
            apps.filter(status=S.CONSENTED).order_by("pk"), _("待报部备案并出具回执"), "institutions:confirm"
        )
    if body:
        awaiting = apps.filter(status=S.AWAITING_CONSENT).exclude(consents__body=body).order_by("pk")
        items += _queue(awaiting, _("待出具备案确认意见"), "institutions:application_detail")
    if user.has_role(Role.EXPERT):
        seats = PanelMember.objects.filter(panel__application=OuterRef("pk"), expert=user, excluded=False)
        mine = (
            apps.filter(Exists(seats), status=S.UNDER_EVALUATION, panel__agreed_at__isnull=False)
            .annotate(
                done=Count("panel__findings", filter=Q(panel__findings__expert=user), distinct=True),
                judged=Count("panel__findings__condition", distinct=True),
                lead=Exists(seats.filter(is_lead=True)),
            )
            .order_by("pk")
        )
        for a in mine[:LIMIT]:
            if a.lead and a.judged >= CONDITIONS:  # every condition judged by the panel
                url, badge = reverse("institutions:conclude", args=[a.pk]), _("签署评估结论")
            elif a.done < CONDITIONS:
                url, badge = reverse("institutions:findings", args=[a.pk]), _("记录评估发现")
                badge = f"{badge} {a.done}/{CONDITIONS}"
            else:
                url, badge = _detail(a), _("评估发现已齐全，待组长签署")
            items.append(HomeItem(a.school.name, url, meta=a.get_kind_display(), badge=badge))
    return HomePanel(
        _("备案申请待办"),
        items,
        empty_text=_("暂无待办的备案申请。"),
        more_url=reverse("institutions:application_list"),
        order=10,
    )
