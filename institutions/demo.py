"""Demo filing applications at every stage and a populated directory, made through the services.

Only one step is not a service call: the near-expiry institution's dates are moved back three
years (recorded in its history as demo data), since a newcomer cannot wait three years.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from institutions import services
from institutions.models import (
    Condition,
    EvaluationMethod,
    FilingApplication,
    Institution,
)
from portal.demo import DemoContext
from portal.models import Notification, Occupation
from portal.selectors import major_corresponds
from portal.services import record
from schools.models import Level, Major, School

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STATEMENTS = {
    1: "学校为本市经批准正式设立、依法登记、具有招生资质的职业学校。",
    2: "学校财务和管理制度健全，近三年无违法违规及失信记录，生源稳定。",
    3: "学校近三年组织学生参加职业技能评价累计逾千人次，需求量大。",
    4: "学校设有学生技能评价服务中心，配备专职人员和专家团队，考核站点配有音视频监控。",
    5: "学校制定了认定工作管理办法、考务规程和质量督导制度，自愿接受监督检查。",
    6: "学校坚持公益属性，认定活动不以营利为目的。",
}

# school slug -> (target stage, [(occupation code, work type, highest level, basis, spec ref)])
PLAN = {
    "mingde": (
        "filed",
        [
            ("6-31-01-03", "", Level.LEVEL_3, "national_standard", ""),
            ("4-04-05-05", "", Level.LEVEL_3, "national_standard", ""),
        ],
    ),
    "huichuan": (
        "near_expiry",
        [
            ("6-31-01-03", "", Level.LEVEL_3, "national_standard", ""),
            ("6-18-01-01", "", Level.LEVEL_3, "national_standard", ""),
        ],
    ),
    "shenyuan": ("suspended", [("4-01-06-02", "直播销售员", Level.LEVEL_3, "national_standard", "")]),
    "huguang": ("consented", [("6-18-01-02", "", Level.LEVEL_3, "specification", "沪人社职评规备〔2026〕7号")]),
    "binjiang": ("awaiting_consent", [("4-10-03-01", "皮肤管理师", Level.LEVEL_3, "national_standard", "")]),
    "qinghe": ("under_evaluation", [("4-03-02-02", "", Level.LEVEL_4, "national_standard", "")]),
    "songyun": ("submitted", [("6-31-01-03", "", Level.LEVEL_4, "national_standard", "")]),
    "jiahe": ("returned", [("4-01-06-02", "直播销售员", Level.LEVEL_4, "national_standard", "")]),
    "baolin": ("draft", [("6-18-02-04", "", Level.LEVEL_4, "national_standard", "")]),
}


DEMO_METHODS = [
    [EvaluationMethod.DOCUMENT_REVIEW, EvaluationMethod.MATERIAL_VERIFICATION],
    [EvaluationMethod.DOCUMENT_REVIEW, EvaluationMethod.QUESTIONING],
    [EvaluationMethod.SITE_INSPECTION, EvaluationMethod.MATERIAL_VERIFICATION],
    [EvaluationMethod.EXPERT_ARGUMENT],
]
FINDING_REMARKS = {
    1: "学校类型及办学资质材料齐全，符合条件。",
    2: "财务、管理制度健全，信用记录良好，生源稳定。",
    3: "近三年组织学生技能评价经验丰富，需求量较大。",
    4: "评价服务管理部门、考核站点及音视频监控经现场核验，符合要求。",
    5: "认定工作制度和质量管控措施完善，承诺接受监督检查。",
    6: "学校承诺认定活动不以营利为目的。",
}


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def _draft(ctx: DemoContext, school: School, staff, occupations) -> FilingApplication:
    app = services.application_create(school=school, actor=staff)
    for condition in Condition.values:
        services.condition_answer_save(
            application=app, actor=staff, condition=condition, statement=STATEMENTS[condition]
        )
        services.evidence_add(
            application=app, actor=staff, condition=condition, upload=_pdf(f"条件{condition}佐证材料.pdf")
        )
    services.work_plan_upload(application=app, actor=staff, upload=_pdf(f"{school.name}职业技能等级认定工作方案.pdf"))
    site = services.site_add(
        application=app, actor=staff, name="校本部考核站点", address=school.address or f"{school.name}实训楼"
    )
    for room, capacity in (("实训楼201（理论）", 40), ("实训车间A（实操）", 20)):
        services.room_add(site=site, actor=staff, name=room, capacity=capacity, av_monitoring=True)
    school_majors = list(Major.objects.filter(school=school, is_active=True))
    for code, work_type, level, basis, ref in occupations:
        occupation = Occupation.objects.get(code=code, work_type=work_type)
        # Only the majors that correspond to the occupation (annex §1.3), never any active major.
        majors = [m for m in school_majors if major_corresponds(m.code, occupation)]
        services.occupation_add(
            application=app,
            actor=staff,
            occupation=occupation,
            highest_level=level,
            basis=basis,
            specification_ref=ref,
            majors=majors,
        )
    return app


def build(ctx: DemoContext) -> None:
    if FilingApplication.objects.exists():
        return  # already built; seed_demo may run again
    users = ctx.users
    dept, centre = users["commission-dept"], users["centre-reviewer"]
    hr, commission = users["hr-bureau"], users["commission"]
    experts = [users[f"expert-{n}"] for n in (1, 2, 3)]
    for slug, (stage, occupations) in PLAN.items():
        school = School.objects.get(organisation=ctx.organisations[f"school_{slug}"])
        staff = users[f"school-{slug}"]
        app = _draft(ctx, school, staff, occupations)
        if stage == "draft":
            continue
        app = services.application_submit(application=app, actor=staff, declared=True)
        if stage == "submitted":
            continue
        if stage == "returned":
            services.application_return(
                application=app, actor=dept, comment="条件4请补充考核站点音视频监控设备清单及照片。"
            )
            continue
        app = services.application_accept(application=app, actor=dept, comment="材料齐全，予以受理。")
        services.panel_form(application=app, actor=centre, experts=experts, lead=experts[0])
        services.panel_agree(application=app, actor=dept, comment="同意专家组组成。")
        # Each expert records their own findings; under evaluation, the third has not yet.
        for n, expert in enumerate(experts):
            if stage == "under_evaluation" and n == 2:
                break
            services.findings_record(
                application=app,
                actor=expert,
                conditions=[
                    (condition, DEMO_METHODS[(condition + n) % len(DEMO_METHODS)], True, FINDING_REMARKS[condition])
                    for condition in Condition.values
                ],
                occupations=[(applied.pk, True, "") for applied in app.occupations.all()],
            )
        if stage == "under_evaluation":
            continue
        services.panel_conclude(
            application=app, actor=experts[0], passed=True, opinion="专家组一致认为该校具备评价机构条件。"
        )
        if stage == "awaiting_consent":
            continue
        services.consent_record(application=app, actor=hr, agreed=True, comment="同意备案。")
        services.consent_record(application=app, actor=commission, agreed=True, comment="同意备案。")
        if stage == "consented":
            continue
        services.filing_confirm(
            application=app,
            actor=centre,
            ministry_report_ref=f"人社鉴备〔{timezone.localdate().year}〕{app.pk:02d}号",
            ministry_reported_on=timezone.localdate(),
            # As the Shanghai HR authority would allot them (invented for the demo).
            site_sequence=f"{310101 + list(PLAN).index(slug):06d}",
        )
        institution = Institution.objects.get(school=school)
        if stage == "suspended":
            services.institution_suspend(
                institution=institution, actor=centre, reason="外部质量督导发现考场监控缺失，暂停评价，限期整改。"
            )
        if stage == "near_expiry":
            _move_back(institution, days_left=45)
    # The steps above are history for everyone but the next actor, whose home page lists them:
    # leave only what the daily beat job sends today unread.
    Notification.objects.filter(read_at__isnull=True).update(read_at=timezone.now())
    services.expiry_run(today=timezone.localdate())


def _move_back(institution: Institution, *, days_left: int) -> None:
    end = timezone.localdate() + dt.timedelta(days=days_left)
    start = services.add_years(end + dt.timedelta(days=1), -3)
    institution.confirmed_on, institution.valid_until = start, end
    record(institution, actor=None, reason="演示数据：模拟三年前备案、即将到期")
    institution.save(update_fields=["confirmed_on", "valid_until"])
    for row in institution.occupations.all():
        row.confirmed_on, row.valid_until = start, end
        record(row, actor=None, reason="演示数据：模拟三年前备案、即将到期")
        row.save(update_fields=["confirmed_on", "valid_until"])
