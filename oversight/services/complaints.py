"""Complaints and reports from the public (投诉举报; notice main text 二(四)1: 接受学生、家长、学校、
社会的监督评价; issue 10 item 4).

Anyone may write in through the public form (no login, rate-limited per client, a honeypot field
for bots); each complaint gets a number from the shared counter and the centre's reviewers are
told. The centre triages it on the workflow core: it opens a violation case from it (立案, through
``oversight.services.cases.case_open``) or answers it and closes it (答复办结). The complainant
looks the status and the answer up with the number and the contact given.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oversight.models import CaseSource, ComplainantKind, Complaint, ComplaintEvent, ComplaintStatus, SubjectKind
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.numbering import next_number, peek_number
from portal.services import notify, record
from portal.workflow import Transition, Workflow, has_role

S = ComplaintStatus
NUMBER_FORMAT = "TS{year}-{serial:06d}"
# Who triages: the centre's reviewers (read also by the municipal bureau and the district bureau
# of the institution's district, see ``oversight.selectors.complaints``).
TRIAGE_ROLES = (Role.CENTRE_REVIEWER,)
may_triage = has_role(*TRIAGE_ROLES)


def number_key(year: int) -> str:
    return f"complaint:{year}"


def format_number(year: int, serial: int) -> str:
    return NUMBER_FORMAT.format(year=year, serial=serial)


def normalise_number(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "").replace("－", "-")


def normalise_contact(value: str) -> str:
    """A contact compared loosely: spaces, dashes and case do not matter (021-1234 5678 = 02112345678)."""
    return "".join(ch for ch in (value or "").lower() if ch not in " -－()（）")


WORKFLOW = Workflow(
    name="complaint",
    model=Complaint,
    event_model=ComplaintEvent,
    event_fields=lambda c: {"complaint": c},
    transitions=[
        Transition(
            "open_case",
            gettext_lazy("立案"),
            frozenset({S.RECEIVED}),
            may_triage,
            target=S.CASE_OPENED,
            hint=gettext_lazy("转为违规违纪案件调查处理。"),
        ),
        Transition(
            "close",
            gettext_lazy("答复办结"),
            frozenset({S.RECEIVED}),
            may_triage,
            target=S.CLOSED,
            needs_comment=True,
            style="outline-primary",
            hint=gettext_lazy("不需立案的，写明答复意见后办结；反映人凭受理编号和联系方式可查看答复。"),
        ),
    ],
)

EVENT_LABELS = {
    "submit": gettext_lazy("提交"),
    "open_case": gettext_lazy("立案"),
    "close": gettext_lazy("答复办结"),
}


def _tell_centre(complaint: Complaint) -> None:
    notify(
        recipients=list(users_with_roles(TRIAGE_ROLES)),
        title=stored(gettext_lazy("收到投诉举报 %(number)s，请处理"), number=complaint.number),
        body=stored(
            gettext_lazy("反映人身份：%(kind)s；涉及：%(about)s"),
            kind=ComplainantKind(complaint.complainant_kind).label,
            about=complaint.institution.name if complaint.institution_id else (complaint.about or "-"),
        ),
        link=reverse("oversight:complaint_detail", args=[complaint.pk]),
    )


def complaint_submit(
    *,
    complainant_kind: str,
    contact: str,
    body: str,
    name: str = "",
    institution=None,
    about: str = "",
    client_hash: str = "",
    language: str = "",
) -> Complaint:
    """A complaint from the public form: numbered, recorded, the centre told (all in one transaction)."""
    contact, body, name, about = (
        (contact or "").strip(),
        (body or "").strip(),
        (name or "").strip(),
        (about or "").strip(),
    )
    problems = {}
    if complainant_kind not in ComplainantKind.values:
        problems["complainant_kind"] = _("请选择您的身份。")
    if not contact:
        problems["contact"] = _("请填写联系方式（电话或电子邮箱），以便查询办理结果。")
    if not body:
        problems["body"] = _("请填写反映内容。")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        year = timezone.localdate().year
        complaint = Complaint(
            number=format_number(year, next_number(number_key(year))),
            complainant_kind=complainant_kind,
            name=name[:60],
            contact=contact[:100],
            institution=institution,
            about=about[:200],
            body=body,
            client_hash=client_hash,
            language=language[:10],
        )
        record(complaint, actor=None, reason=stored(gettext_lazy("收到投诉举报")))
        complaint.save()
        ComplaintEvent.objects.create(
            complaint=complaint, action="submit", from_status="", to_status=S.RECEIVED, actor=None
        )
        _tell_centre(complaint)
    return complaint


def decoy_number() -> str:
    """What the honeypot answers with: a number shaped like the next one, taken from no counter."""
    year = timezone.localdate().year
    return format_number(year, peek_number(number_key(year)) + 1)


def complaint_open_case(
    *,
    complaint: Complaint,
    actor: User,
    institution,
    title: str,
    facts: str,
    subject_kind: str = SubjectKind.INSTITUTION,
):
    """立案: a violation case opened from the complaint (by the cases service); the complaint says so."""
    from oversight.services import cases

    title, facts = (title or "").strip(), (facts or "").strip()
    problems = {}
    if institution is None:
        problems["institution"] = _("请选择被反映的评价机构。")
    if not title:
        problems["title"] = _("请填写案由。")
    if not facts:
        problems["facts"] = _("请填写基本事实。")
    if problems:
        raise ValidationError(problems)
    with WORKFLOW.step("open_case", complaint, actor) as locked:
        case = cases.case_open(
            actor=actor,
            subject_kind=subject_kind,
            institution=institution,
            title=title,
            facts=facts,
            source=CaseSource.COMPLAINT,
            complaint=locked,
        )
        WORKFLOW.move(locked, "open_case", actor=actor, comment=case.number)
    return case


def complaint_close(*, complaint: Complaint, actor: User, answer: str) -> Complaint:
    """答复办结: the centre's answer, which the complainant reads with the number and contact."""
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("请填写答复意见。")})
    with WORKFLOW.step("close", complaint, actor) as locked:
        locked.answer = answer
        locked.answered_by = actor
        locked.answered_at = timezone.now()
        WORKFLOW.move(locked, "close", actor=actor, fields=("answer", "answered_by", "answered_at"))
    return locked


def complaint_lookup(*, number: str, contact: str) -> Complaint | None:
    """The complaint with this number if the contact matches; None otherwise (unknown and wrong alike)."""
    complaint = Complaint.objects.filter(number=normalise_number(number)).first()
    if complaint is None or normalise_contact(complaint.contact) != normalise_contact(contact):
        return None
    return complaint
