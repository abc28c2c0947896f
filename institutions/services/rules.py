"""Rules checked when a school submits its application (notice annex §1)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.models import (
    OPEN_STATUSES,
    ApplicationKind,
    EvaluationBasis,
    FilingApplication,
    Institution,
    InstitutionStatus,
)
from portal.models import OccupationKind
from portal.selectors import major_codes_not_corresponding
from portal.workflow import TransitionError
from schools.models import Level, School, SchoolType


def refuse_second_open_application(school: School, *, exclude: int | None = None) -> None:
    others = FilingApplication.objects.filter(school=school, status__in=OPEN_STATUSES)
    if exclude:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise TransitionError(_("本校已有一份未办结的备案申请，同一时间只能有一份申请。"))


def renewal_opens(valid_until: dt.date) -> dt.date:
    """Renewal may be applied for from this day (``PORTAL_RENEWAL_WINDOW_DAYS`` before expiry)."""
    return valid_until - dt.timedelta(days=int(getattr(settings, "PORTAL_RENEWAL_WINDOW_DAYS", 180)))


def kind_problem(kind: str, institution, today: dt.date) -> str | None:
    """Why a school with this directory entry (or none) cannot file an application of ``kind`` now.

    Annex §3.3: an institution and its occupations are valid for 3 years and the directory is
    adjusted dynamically. A first filing needs no entry, or one that expired or was removed; an
    added occupation needs an entry in force; a renewal is opened a configurable time before the
    end date and stays open once the entry has expired.
    """
    status = institution.status if institution is not None else None
    if status == InstitutionStatus.SUSPENDED:
        return _("评价机构处于暂停状态，暂停期间不能提出备案申请。请按暂停原因整改，由市职鉴中心恢复后再申请。")
    if kind == ApplicationKind.INITIAL:
        if status in (None, InstitutionStatus.EXPIRED, InstitutionStatus.REMOVED):
            return None
        return _("学校的评价机构备案在有效期内（至%(d)s）；如需增加职业（工种），请选择“增加职业（工种）”。") % {
            "d": institution.valid_until.isoformat()
        }
    if kind == ApplicationKind.ADD_OCCUPATION:
        if status == InstitutionStatus.ACTIVE and institution.valid_until >= today:
            return None
        return _("只有目录中有效的评价机构才能申请增加职业（工种）；备案已过期或被移出目录的，请申请延续或重新备案。")
    if kind == ApplicationKind.RENEWAL:
        if status == InstitutionStatus.EXPIRED or (
            status == InstitutionStatus.ACTIVE and today >= renewal_opens(institution.valid_until)
        ):
            return None
        if status == InstitutionStatus.ACTIVE:
            return _("备案有效期至%(d)s，自%(o)s起可申请延续。") % {
                "d": institution.valid_until.isoformat(),
                "o": renewal_opens(institution.valid_until).isoformat(),
            }
        return _("只有已备案（有效或已过期）的评价机构才能申请延续；被移出目录的，请重新申请备案。")
    return _("申请类型无效。")


def submission_problems(app: FilingApplication) -> list[str]:
    """Everything that stops ``app`` from being submitted, each as a message for the school."""
    problems: list[str] = []
    school = app.school
    cap = school.level_cap
    type_label = school.get_school_type_display()
    if school.school_type == SchoolType.SECONDARY and not school.has_through_programme:
        problems.append(_("中等职业学校须开设贯通培养专业才能申请备案（附件第一条第（一）项第1目）。"))
    try:
        refuse_second_open_application(school, exclude=app.pk)
    except TransitionError as exc:
        problems.extend(exc.messages)
    institution = app.institution or Institution.objects.filter(school=school).first()
    wrong_kind = kind_problem(app.kind, institution, timezone.localdate())
    if wrong_kind:
        problems.append(wrong_kind)
    if not app.work_plan:
        problems.append(
            _("请上传学校的职业技能等级认定工作方案（PDF）：评价须按照经备案的工作方案实施（附件第四条第（二）项）。")
        )
    if app.kind != ApplicationKind.ADD_OCCUPATION:
        sites = list(app.sites.all())
        if not sites:
            problems.append(_("请至少填报一个考核站点及其考场（附件第一条第（一）项第4目）。"))
        for site in sites:
            rooms = list(site.rooms.all())
            if not rooms:
                problems.append(_("考核站点「%(s)s」尚未填报考场。") % {"s": site.name})
            for room in rooms:
                if not room.av_monitoring:
                    problems.append(
                        _("考核站点「%(s)s」的考场「%(r)s」未配备音视频监控设备（附件第一条第（一）项第4目）。")
                        % {"s": site.name, "r": room.name}
                    )
    for answer in app.answers.all():
        label = _("条件%(n)s") % {"n": answer.condition}
        if not answer.statement:
            problems.append(_("%(c)s：请填写情况说明。") % {"c": label})
        if not answer.evidence.all():
            problems.append(_("%(c)s：请上传至少一份佐证材料。") % {"c": label})
    applied = list(app.occupations.all())
    if not applied:
        problems.append(_("请至少申报一个职业（工种）。"))
    filed = set()
    if app.institution_id and app.kind == ApplicationKind.ADD_OCCUPATION:
        filed = set(
            app.institution.occupations.exclude(status=InstitutionStatus.REMOVED).values_list(
                "occupation_id", flat=True
            )
        )
    for item in applied:
        occ, name = item.occupation, f"「{item.occupation}」"
        if occ.is_access_type:
            problems.append(_("%(o)s属于准入类职业资格，不能列入评价范围。") % {"o": name})
        elif occ.kind != OccupationKind.SKILL or not occ.is_active:
            problems.append(_("%(o)s不是技能类职业（工种），不能列入评价范围。") % {"o": name})
        majors = [m for m in item.majors.all() if m.is_active and m.school_id == school.pk]
        if item.highest_level < cap:
            problems.append(
                _("%(o)s最高等级%(level)s超出%(type)s可评价的最高等级（%(cap)s）。")
                % {"o": name, "level": Level(item.highest_level).label, "type": type_label, "cap": Level(cap).label}
            )
        elif majors and item.highest_level < min(m.level_cap for m in majors):
            # Annex §1.3: the cap follows the majors' approved training level (按照…批准的专业培养层次).
            best = min(majors, key=lambda m: m.level_cap)
            problems.append(
                _(
                    "%(o)s最高等级%(level)s超出对应专业培养层次可评价的最高等级：%(major)s为%(training)s专业，"
                    "最高可评价%(cap)s（附件第一条第（三）项）。"
                )
                % {
                    "o": name,
                    "level": Level(item.highest_level).label,
                    "major": best,
                    "training": best.get_training_level_display(),
                    "cap": Level(best.level_cap).label,
                }
            )
        if not majors:
            problems.append(_("%(o)s没有对应的在办专业。") % {"o": name})
        elif not (occ.is_access_type or occ.kind != OccupationKind.SKILL):
            # Annex §1.3 院校设有与评价项目相对应的专业: checked against the major–occupation table.
            unmatched = major_codes_not_corresponding(major_codes=[m.code for m in majors], occupation=occ)
            if unmatched:
                listed = "、".join(str(m) for m in majors if m.code in unmatched)
                problems.append(
                    _(
                        "%(o)s与专业%(majors)s不对应（依据专业与职业对应表）。请改选与该职业（工种）对应的专业；"
                        "如认为对应表有误，请联系市职鉴中心系统管理员核对。"
                    )
                    % {"o": name, "majors": listed}
                )
        if item.basis == EvaluationBasis.NATIONAL_STANDARD and not occ.has_national_standard:
            problems.append(_("%(o)s尚未颁布国家职业技能标准，应选择已备案的评价规范作为评价依据。") % {"o": name})
        if item.basis == EvaluationBasis.SPECIFICATION and occ.has_national_standard:
            # Annex §2.1: 已颁布国家职业技能标准的，应按照国家职业技能标准执行.
            problems.append(
                _(
                    "%(o)s已颁布国家职业技能标准（%(standard)s），应按照国家职业技能标准执行，不能使用自主开发的评价规范。"
                )
                % {"o": name, "standard": occ.national_standard}
            )
        if item.basis == EvaluationBasis.SPECIFICATION and not item.specification_ref:
            problems.append(_("%(o)s以评价规范为依据的，须填写评价规范的备案文号。") % {"o": name})
        if occ.pk in filed:
            problems.append(_("%(o)s已在本机构的备案目录中。") % {"o": name})
    return problems
