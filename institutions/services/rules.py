"""Rules checked when a school submits its application (notice annex §1)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from institutions.models import (
    OPEN_STATUSES,
    ApplicationKind,
    EvaluationBasis,
    FilingApplication,
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
    if app.kind == ApplicationKind.ADD_OCCUPATION and (
        app.institution is None or app.institution.status != InstitutionStatus.ACTIVE
    ):
        problems.append(_("只有目录中有效的评价机构才能申请增加职业（工种）。"))
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
    if app.institution_id:
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
