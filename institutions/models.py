"""Filing of a school as a skill-level assessment institution (评价机构备案), and the directory.

Lifecycle (notice annex §3): application → intake → technical evaluation by an expert panel →
consent of the municipal HR bureau and of the education commission → report to the ministry,
codes and filing receipt → directory entry valid 3 years. Only ``institutions.services``
assigns a status.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from portal.workflow import WorkflowEventBase
from schools.models import Level

VALIDITY_YEARS = 3


class ApplicationKind(models.TextChoices):
    INITIAL = "initial", _("首次备案")
    ADD_OCCUPATION = "add_occupation", _("增加职业（工种）")
    RENEWAL = "renewal", _("延续备案")


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交，待受理")
    RETURNED = "returned", _("退回修改")
    UNDER_EVALUATION = "under_evaluation", _("技术评估中")
    EVALUATION_FAILED = "evaluation_failed", _("技术评估未通过")
    AWAITING_CONSENT = "awaiting_consent", _("待备案确认")
    REFUSED = "refused", _("备案未获同意")
    CONSENTED = "consented", _("已获同意，待报备出具回执")
    FILED = "filed", _("已备案")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_STATUSES = frozenset(
    {
        ApplicationStatus.DRAFT,
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.RETURNED,
        ApplicationStatus.UNDER_EVALUATION,
        ApplicationStatus.AWAITING_CONSENT,
        ApplicationStatus.CONSENTED,
    }
)


class ApplicationAction(models.TextChoices):
    """The steps of the filing workflow, as recorded in its events."""

    SUBMIT = "submit", _("提交申请")
    WITHDRAW = "withdraw", _("撤回申请")
    RETURN = "return", pgettext_lazy("action", "退回修改")
    ACCEPT = "accept", _("受理，进入技术评估")
    FORM_PANEL = "form_panel", _("组建或调整评估专家组")
    AGREE_PANEL = "agree_panel", _("会同确认评估专家组")
    RECORD_FINDINGS = "record_findings", _("记录评估发现")
    DECLARE_CONFLICT = "declare_conflict", _("申报利益冲突并回避")
    CONCLUDE = "conclude", _("签署评估结论")
    CONSENT = "consent", _("备案确认意见")
    CONFIRM = "confirm", _("报部备案并出具回执")


class PanelConclusion(models.TextChoices):
    PASS = "pass", _("通过")
    FAIL = "fail", _("不通过")


class Condition(models.IntegerChoices):
    """The six filing conditions of annex §1.1."""

    SCHOOL_TYPE = 1, _("学校类型：大专以上职业学校，或开设贯通培养专业的中等职业学校")
    MANAGEMENT = 2, _("财务和管理制度规范，社会信用良好，无违法违规记录，生源稳定")
    EXPERIENCE = 3, _("具有相关培训评价经验，且培训评价需求量较大")
    CAPACITY = 4, _("设有评价服务管理部门、考核站点、专职人员、专家团队及场地设备（含音视频监控）")
    QUALITY = 5, _("具有完善的认定工作制度和质量管控措施，自愿接受监督检查")
    NON_PROFIT = 6, _("坚持社会效益优先，认定活动不以营利为目的")


# Annex §1.1, items 1–6, word for word: shown to the school and to the panel, and stored with
# each answer so a filed application keeps the wording it was filed under.
CONDITION_TEXT: dict[int, str] = {
    1: "评价机构以大专以上职业学校(包括独立设置的高职学校、本科高职学院、职业本科)为主，重点发挥承担新型技师学院功能的"
    "高等职业学校的引领带动作用。开设贯通培养专业的中等职业学校，也可结合实际情况申报备案。",
    2: "具有规范的财务制度和管理制度，社会信用良好，无违法违规、失信等不良行为记录，且学校生源稳定。",
    3: "具有相关培训评价经验，且培训评价需求量较大。",
    4: "设有负责职业技能等级认定工作的学生技能评价服务管理部门、符合相关评价项目要求的考核站点，配备与评价工作相适应的"
    "专职工作人员、专家团队及相应的考核场地、设施设备（含音视频监控设备）等。",
    5: "具有完善的职业技能等级认定工作制度和质量管控措施，自愿接受人力资源社会保障部门、教育部门的监督检查。",
    6: "坚持把社会效益放在首位，职业技能等级认定活动不以营利为目的。",
}
# Annex §3.1: 学校对材料的真实性、有效性、合法性负责 — the school declares it on submit.
DECLARATION_TEXT = "本校对所提交申请材料的真实性、有效性、合法性负责。"


class EvaluationMethod(models.TextChoices):
    """The five methods of technical evaluation (annex §3.2)."""

    DOCUMENT_REVIEW = "document_review", _("文件审核")
    MATERIAL_VERIFICATION = "material_verification", _("资料核验")
    EXPERT_ARGUMENT = "expert_argument", _("专家论证")
    QUESTIONING = "questioning", _("质询答辩")
    SITE_INSPECTION = "site_inspection", _("现场考察")


class EvaluationBasis(models.TextChoices):
    NATIONAL_STANDARD = "national_standard", _("国家职业技能标准")
    SPECIFICATION = "specification", _("评价规范（已报人社部门备案）")


class FilingApplication(models.Model):
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="filing_applications", verbose_name=_("学校")
    )
    kind = models.CharField(
        _("申请类型"), max_length=20, choices=ApplicationKind.choices, default=ApplicationKind.INITIAL
    )
    institution = models.ForeignKey(
        "Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("评价机构"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT, db_index=True
    )
    round = models.PositiveSmallIntegerField(_("提交轮次"), default=0)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    # Filing confirmation (annex §3.3): the centre's report to the ministry's appraisal centre.
    # Annex §4.2 按照经备案的相关工作方案: the school's work plan (工作方案), filed with the application.
    work_plan = models.FileField(_("工作方案"), upload_to="work_plans/%Y/", blank=True)
    work_plan_name = models.CharField(_("工作方案文件名"), max_length=200, blank=True)
    # Annex §3.1: who declared, on submitting, that the school answers for its material.
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("真实性声明人"),
    )
    declared_at = models.DateTimeField(_("真实性声明时间"), null=True, blank=True)
    ministry_report_ref = models.CharField(_("报部备案文号"), max_length=60, blank=True)
    ministry_reported_on = models.DateField(_("报部日期"), null=True, blank=True)
    filed_at = models.DateTimeField(_("备案时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("评价机构备案申请")
        verbose_name_plural = _("评价机构备案申请")
        permissions = [("evaluate_filingapplication", _("参与技术评估"))]
        constraints = [
            # Annex §1: one filing application open at a time per school (the services say so first).
            models.UniqueConstraint(
                fields=["school"], condition=Q(status__in=sorted(OPEN_STATUSES)), name="one_open_application_per_school"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} · {self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_editable(self) -> bool:
        return self.status in {ApplicationStatus.DRAFT, ApplicationStatus.RETURNED}


class ApplicationEvent(WorkflowEventBase):
    """One step of the workflow: who did what, when, with what comment (every round is kept)."""

    application = models.ForeignKey(FilingApplication, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=40, choices=ApplicationAction.choices)
    from_status = models.CharField(_("原状态"), max_length=20, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=ApplicationStatus.choices)
    round = models.PositiveSmallIntegerField(_("轮次"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(WorkflowEventBase.Meta):
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self) -> str:
        return f"{self.application_id} {self.action} → {self.to_status}"


class ConditionAnswer(models.Model):
    application = models.ForeignKey(FilingApplication, on_delete=models.CASCADE, related_name="answers")
    condition = models.PositiveSmallIntegerField(_("条件"), choices=Condition.choices)
    condition_text = models.TextField(_("条件原文"), blank=True)  # CONDITION_TEXT as filed
    statement = models.TextField(_("情况说明"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["condition"]
        verbose_name = _("备案条件说明")
        verbose_name_plural = _("备案条件说明")
        constraints = [
            models.UniqueConstraint(fields=["application", "condition"], name="one_answer_per_condition"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} · {self.condition}"


class EvidenceFile(models.Model):
    """Evidence for a condition; stored privately, served only through a scoped view."""

    answer = models.ForeignKey(ConditionAnswer, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to="evidence/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self) -> str:
        return self.original_name


class OccupationScope(models.Model):
    """An occupation with its level range and evaluation basis: as applied for, and as filed."""

    occupation = models.ForeignKey(
        "portal.Occupation", on_delete=models.PROTECT, related_name="+", verbose_name=_("职业（工种）")
    )
    lowest_level = models.PositiveSmallIntegerField(_("最低等级"), choices=Level.choices, default=Level.LEVEL_5)
    highest_level = models.PositiveSmallIntegerField(_("最高等级"), choices=Level.choices)
    basis = models.CharField(_("评价依据"), max_length=20, choices=EvaluationBasis.choices)
    specification_ref = models.CharField(_("评价规范备案文号"), max_length=80, blank=True)

    class Meta:
        abstract = True
        ordering = ["occupation__code"]

    def __str__(self) -> str:
        return str(self.occupation)

    @property
    def level_range(self) -> str:
        return level_range_label(self.lowest_level, self.highest_level)


class AppliedOccupation(OccupationScope):
    """An occupation (工种) applied for, with its level range, evaluation basis and matching majors."""

    application = models.ForeignKey(FilingApplication, on_delete=models.CASCADE, related_name="occupations")
    majors = models.ManyToManyField("schools.Major", related_name="+", verbose_name=_("对应专业"))
    history = HistoricalRecords(m2m_fields=[majors])

    class Meta(OccupationScope.Meta):
        verbose_name = _("申报职业（工种）")
        verbose_name_plural = _("申报职业（工种）")
        constraints = [
            models.UniqueConstraint(fields=["application", "occupation"], name="one_entry_per_occupation"),
            models.CheckConstraint(
                condition=Q(lowest_level__gte=F("highest_level"), highest_level__gte=1, lowest_level__lte=5),
                name="applied_level_range_ordered",
            ),
        ]


def level_range_label(lowest: int, highest: int) -> str:
    if lowest == highest:
        return str(Level(highest).label)
    return f"{Level(lowest).label} — {Level(highest).label}"


class ExpertPanel(models.Model):
    """The panel that evaluates one application (annex §3.2).

    市职鉴中心会同市教委相关职能部门组织技术评估: the centre proposes the panel (``formed_by``) and
    the commission's functional department agrees to it (``agreed_by``); only an agreed panel
    records findings. Re-forming the panel asks for agreement again.
    """

    application = models.OneToOneField(FilingApplication, on_delete=models.CASCADE, related_name="panel")
    formed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("提议人（市职鉴中心）")
    )
    formed_at = models.DateTimeField(_("组建时间"), auto_now_add=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("会同确认人（市教委相关职能部门）"),
    )
    agreed_at = models.DateTimeField(_("会同确认时间"), null=True, blank=True)
    conclusion = models.CharField(_("评估结论"), max_length=10, choices=PanelConclusion.choices, blank=True)
    opinion = models.TextField(_("评估意见"), blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签署人"),
    )
    signed_at = models.DateTimeField(_("签署时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("评估专家组")
        verbose_name_plural = _("评估专家组")

    def __str__(self) -> str:
        return f"{_('评估专家组')} · {self.application}"

    @property
    def is_agreed(self) -> bool:
        return self.agreed_at is not None

    @property
    def passed(self) -> bool:
        return self.conclusion == PanelConclusion.PASS

    @property
    def lead(self):
        member = next((m for m in self.members.all() if m.is_lead and not m.excluded), None)
        return member.expert if member else None


class PanelMember(models.Model):
    panel = models.ForeignKey(ExpertPanel, on_delete=models.CASCADE, related_name="members")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_seats")
    is_lead = models.BooleanField(_("组长"), default=False)
    excluded = models.BooleanField(_("已回避"), default=False)
    conflict_note = models.TextField(_("利益冲突说明"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_lead", "id"]
        verbose_name = _("专家组成员")
        verbose_name_plural = _("专家组成员")
        constraints = [
            models.UniqueConstraint(fields=["panel", "expert"], name="one_seat_per_expert"),
            models.UniqueConstraint(fields=["panel"], condition=Q(is_lead=True), name="one_lead_per_panel"),
            models.CheckConstraint(condition=~Q(is_lead=True, excluded=True), name="excluded_expert_is_not_lead"),
        ]

    def __str__(self) -> str:
        return str(self.expert)


class Finding(models.Model):
    """One expert's judgement of one condition (annex §3.2): the methods used, met or not, remarks.

    The five methods are the means (采取文件审核、资料核验、专家论证、质询答辩、现场考察等方式), not a
    grid to fill: the expert ticks those used. Each expert's findings are their own.
    """

    panel = models.ForeignKey(ExpertPanel, on_delete=models.CASCADE, related_name="findings")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("评估专家")
    )
    condition = models.PositiveSmallIntegerField(_("条件"), choices=Condition.choices)
    methods = models.JSONField(_("评估方式"), default=list)  # EvaluationMethod values
    met = models.BooleanField(_("符合"))
    remarks = models.TextField(_("评估意见"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["condition", "expert_id"]
        verbose_name = _("评估发现")
        verbose_name_plural = _("评估发现")
        constraints = [
            models.UniqueConstraint(fields=["panel", "expert", "condition"], name="one_finding_per_expert_condition"),
        ]

    def __str__(self) -> str:
        return f"{self.get_condition_display()} · {self.expert_id}"

    def method_labels(self) -> list[str]:
        labels = dict(EvaluationMethod.choices)
        return [str(labels[m]) for m in self.methods if m in labels]


class OccupationJudgement(models.Model):
    """One expert's judgement whether an occupation applied for, and its corresponding major, are sound."""

    panel = models.ForeignKey(ExpertPanel, on_delete=models.CASCADE, related_name="occupation_judgements")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("评估专家")
    )
    applied = models.ForeignKey(
        AppliedOccupation, on_delete=models.CASCADE, related_name="judgements", verbose_name=_("申报职业（工种）")
    )
    sound = models.BooleanField(_("职业（工种）与对应专业合理"))
    remarks = models.TextField(_("评估意见"), blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["applied_id", "expert_id"]
        verbose_name = _("职业（工种）评估意见")
        verbose_name_plural = _("职业（工种）评估意见")
        constraints = [
            models.UniqueConstraint(fields=["panel", "expert", "applied"], name="one_judgement_per_expert_occupation"),
        ]

    def __str__(self) -> str:
        return f"{self.applied_id} · {self.expert_id}"


class ConsentBody(models.TextChoices):
    MUNICIPAL_HR = "municipal_hr", _("市人力资源和社会保障局")
    COMMISSION = "commission", _("市教育委员会")


class Consent(models.Model):
    application = models.ForeignKey(FilingApplication, on_delete=models.CASCADE, related_name="consents")
    body = models.CharField(_("审批部门"), max_length=20, choices=ConsentBody.choices)
    agreed = models.BooleanField(_("同意"))
    comment = models.TextField(_("意见"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["decided_at"]
        verbose_name = _("备案确认意见")
        verbose_name_plural = _("备案确认意见")
        constraints = [models.UniqueConstraint(fields=["application", "body"], name="one_decision_per_body")]

    def __str__(self) -> str:
        return f"{self.get_body_display()}：{'同意' if self.agreed else '不同意'}"


class InstitutionStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUSPENDED = "suspended", _("暂停")
    REMOVED = "removed", _("已移出目录")
    EXPIRED = "expired", _("已过期")


class Institution(models.Model):
    """A school filed as an assessment institution: its directory entry and certificate codes."""

    school = models.OneToOneField("schools.School", on_delete=models.PROTECT, related_name="institution")
    # Certificate numbers (人社鉴发〔2019〕2号): category letter, ministry code, province, site sequence.
    category_letter = models.CharField(_("机构类别字母"), max_length=1)
    ministry_code = models.CharField(_("部级机构代码"), max_length=4, default="0000")
    province_code = models.CharField(_("省份代码"), max_length=2, default="31")
    site_sequence = models.CharField(_("机构（站点）序号"), max_length=6)
    status = models.CharField(
        _("状态"), max_length=20, choices=InstitutionStatus.choices, default=InstitutionStatus.ACTIVE
    )
    status_reason = models.TextField(_("状态说明"), blank=True)
    confirmed_on = models.DateField(_("备案确认日期"))
    valid_until = models.DateField(_("有效期至"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["school__organisation__name"]
        verbose_name = _("职业技能等级评价机构")
        verbose_name_plural = _("职业技能等级评价机构")
        constraints = [
            models.UniqueConstraint(
                fields=["category_letter", "ministry_code", "province_code", "site_sequence"],
                name="unique_institution_code",
            ),
        ]
        indexes = [models.Index(fields=["status", "valid_until"], name="institution_expiry_scan_idx")]

    def __str__(self) -> str:
        return self.school.name

    @property
    def name(self) -> str:
        return self.school.name

    @property
    def code(self) -> str:
        """The 13-character institution part of every certificate number it issues."""
        return f"{self.category_letter}{self.ministry_code}{self.province_code}{self.site_sequence}"

    def is_valid_on(self, day: dt.date) -> bool:
        return self.status == InstitutionStatus.ACTIVE and day <= self.valid_until


class InstitutionOccupation(OccupationScope):
    """An occupation an institution may assess, with its level range; valid 3 years from its filing."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="occupations")
    status = models.CharField(
        _("状态"), max_length=20, choices=InstitutionStatus.choices, default=InstitutionStatus.ACTIVE
    )
    # Public, like the institution's: why this occupation was suspended, restored or removed.
    status_reason = models.TextField(_("状态说明"), blank=True)
    confirmed_on = models.DateField(_("备案确认日期"))
    # Never later than the institution's valid_until (services.directory.occupation_valid_until).
    valid_until = models.DateField(_("有效期至"))
    application = models.ForeignKey(FilingApplication, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta(OccupationScope.Meta):
        verbose_name = _("备案职业（工种）")
        verbose_name_plural = _("备案职业（工种）")
        constraints = [
            models.UniqueConstraint(fields=["institution", "occupation"], name="one_directory_row_per_occupation"),
            models.CheckConstraint(
                condition=Q(lowest_level__gte=F("highest_level"), highest_level__gte=1, lowest_level__lte=5),
                name="filed_level_range_ordered",
            ),
        ]
        indexes = [models.Index(fields=["status", "valid_until"], name="occupation_expiry_scan_idx")]

    def is_valid_on(self, day: dt.date) -> bool:
        return self.status == InstitutionStatus.ACTIVE and day <= self.valid_until and self.institution.is_valid_on(day)


class FilingReceipt(models.Model):
    application = models.OneToOneField(FilingApplication, on_delete=models.PROTECT, related_name="receipt")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="receipts")
    number = models.CharField(_("回执编号"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("出具时间"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Rendered after the confirmation commits, by institutions.tasks.render_receipt (idempotent,
    # retried, and swept daily); empty until then and the download page says it is being prepared.
    pdf = models.FileField(_("回执文件"), upload_to="receipts/%Y/", blank=True)
    pdf_attempts = models.PositiveSmallIntegerField(_("生成尝试次数"), default=0)
    history = HistoricalRecords(excluded_fields=["pdf_attempts"])

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("备案回执")
        verbose_name_plural = _("备案回执")

    def __str__(self) -> str:
        return self.number


class InstitutionEvent(WorkflowEventBase):
    """One step of the directory workflow of an institution or one of its occupations."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="events")
    occupation = models.ForeignKey(
        InstitutionOccupation, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    from_status = models.CharField(_("原状态"), max_length=20, choices=InstitutionStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=InstitutionStatus.choices)
    # None: the portal's own job (expiry).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta(WorkflowEventBase.Meta):
        verbose_name = _("目录变更记录")
        verbose_name_plural = _("目录变更记录")

    def __str__(self) -> str:
        return f"{self.institution_id} {self.action} → {self.to_status}"


class AssessmentSite(models.Model):
    """An assessment site (考核站点, annex §1.1 item 4) declared in an application.

    At confirmation the site is listed with the institution (``institution``), so the directory
    shows it and later batch plans choose their rooms from it.
    """

    application = models.ForeignKey(FilingApplication, on_delete=models.CASCADE, related_name="sites")
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="sites"
    )
    name = models.CharField(_("站点名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("考核站点")
        verbose_name_plural = _("考核站点")

    def __str__(self) -> str:
        return self.name

    @property
    def capacity(self) -> int:
        return sum(r.capacity for r in self.rooms.all())


class ExamRoom(models.Model):
    site = models.ForeignKey(AssessmentSite, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("考场名称"), max_length=60)
    capacity = models.PositiveSmallIntegerField(_("容纳人数"))
    av_monitoring = models.BooleanField(_("配备音视频监控"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site_id", "id"]
        verbose_name = _("考场")
        verbose_name_plural = _("考场")
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="one_room_name_per_site"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.site} · {self.name}"


class ExpiryReminder(models.Model):
    """A reminder already sent: keeps the expiry job from notifying anyone twice."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="reminders")
    valid_until = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "valid_until", "days_before"], name="one_reminder_per_threshold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.valid_until} -{self.days_before}d"
