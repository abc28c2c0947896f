"""Violation cases (违规违纪, notice 二(四)3, 人社职司便函〔2021〕57号), their sanctions, and complaints.

A case names its subject (a candidate, a staff member or an institution), where it came from
(a supervision report, a result anomaly, a complaint, or opened directly), its evidence, and
traces back to the plan, staff, attendance, scores and certificates involved (问题回溯). It is
decided by the institution or its supervising authority; each sanction acts on the data through
the owning app's service and is recorded here with who and why. Nothing is deleted.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.workflow import WorkflowEventBase


class SubjectKind(models.TextChoices):
    CANDIDATE = "candidate", _("参评人员")
    STAFF = "staff", _("工作人员")
    INSTITUTION = "institution", _("评价机构")


class CaseSource(models.TextChoices):
    SUPERVISION = "supervision", _("督导报告")
    ANOMALY = "anomaly", _("结果异常")
    COMPLAINT = "complaint", _("投诉举报")
    DIRECT = "direct", _("直接立案")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("调查中")
    DECIDED = "decided", _("已作出处理决定")
    DISMISSED = "dismissed", _("不予处理")


class DecidingBody(models.TextChoices):
    INSTITUTION = "institution", _("评价机构")
    CENTRE = "centre", _("市职鉴中心")
    MUNICIPAL_HR = "municipal_hr", _("市人社局")
    DISTRICT_HR = "district_hr", _("区人社局")


class ViolationCase(models.Model):
    number = models.CharField(_("案件编号"), max_length=20, unique=True)  # from the shared counter
    subject_kind = models.CharField(_("当事人类型"), max_length=20, choices=SubjectKind.choices)
    # The subject: one of these, by kind. A candidate case keeps the ID number and name as they were.
    candidate = models.ForeignKey(
        "assessments.Candidate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("考生"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violation_cases",
        verbose_name=_("工作人员"),
    )
    subject_name = models.CharField(_("当事人名称"), max_length=200)
    subject_id_number = models.CharField(_("证件号码"), max_length=30, blank=True)
    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, related_name="violation_cases", verbose_name=_("评价机构")
    )
    occupation = models.ForeignKey(
        "institutions.InstitutionOccupation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("评价职业（工种）"),
    )
    plan = models.ForeignKey(
        "assessments.EvaluationPlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violation_cases",
        verbose_name=_("评价批次"),
    )
    source = models.CharField(_("案件来源"), max_length=20, choices=CaseSource.choices)
    supervision = models.ForeignKey(
        "assessments.SupervisionAssignment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    complaint = models.ForeignKey("Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField(_("案由"), max_length=200)
    facts = models.TextField(_("基本事实"))
    status = models.CharField(_("状态"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("立案时间"), auto_now_add=True)
    deciding_body = models.CharField(_("处理单位"), max_length=20, choices=DecidingBody.choices, blank=True)
    decision = models.TextField(_("处理决定"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("违规违纪案件")
        verbose_name_plural = _("违规违纪案件")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["status", "opened_at"], name="case_status_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CaseEvent(WorkflowEventBase):
    case = models.ForeignKey(ViolationCase, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("原状态"), max_length=20, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=CaseStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta(WorkflowEventBase.Meta):
        verbose_name = _("案件办理记录")
        verbose_name_plural = _("案件办理记录")

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class CaseEvidence(models.Model):
    case = models.ForeignKey(ViolationCase, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("证据文件"), upload_to="cases/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    description = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("案件证据")
        verbose_name_plural = _("案件证据")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class SanctionKind(models.TextChoices):
    VOID_RESULT = "void_result", _("评价结果无效")
    REVOKE_CERTIFICATE = "revoke_certificate", _("撤销证书")
    BAR_CANDIDATE = "bar_candidate", _("禁止参加评价")
    BAR_STAFF = "bar_staff", _("禁止从事考务工作")
    SUSPEND_INSTITUTION = "suspend_institution", _("暂停评价机构")
    SUSPEND_OCCUPATION = "suspend_occupation", _("暂停评价职业（工种）")
    REMOVE_INSTITUTION = "remove_institution", _("评价机构移出目录")
    REMOVE_OCCUPATION = "remove_occupation", _("评价职业（工种）移出目录")


class Sanction(models.Model):
    """One act of a decision, applied through the owning service; what it touched is linked."""

    case = models.ForeignKey(ViolationCase, on_delete=models.PROTECT, related_name="sanctions")
    kind = models.CharField(_("处理措施"), max_length=30, choices=SanctionKind.choices)
    candidate = models.ForeignKey(
        "assessments.Candidate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    barring = models.ForeignKey(
        "assessments.Barring", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    occupation = models.ForeignKey(
        "institutions.InstitutionOccupation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField(_("起始日期"), null=True, blank=True)
    ends_on = models.DateField(_("截止日期"), null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("处理措施")
        verbose_name_plural = _("处理措施")
        ordering = ["applied_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()}"


class ComplainantKind(models.TextChoices):
    STUDENT = "student", _("学生")
    PARENT = "parent", _("家长")
    SCHOOL = "school", _("学校")
    PUBLIC = "public", _("社会公众")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("待处理")
    CASE_OPENED = "case_opened", _("已立案")
    CLOSED = "closed", _("已答复办结")


class Complaint(models.Model):
    """A report from the public form (no login). The centre opens a case from it or answers it."""

    number = models.CharField(_("受理编号"), max_length=20, unique=True)  # from the shared counter
    complainant_kind = models.CharField(_("身份"), max_length=20, choices=ComplainantKind.choices)
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    contact = models.CharField(_("联系方式"), max_length=100)
    institution = models.ForeignKey(
        "institutions.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("评价机构"),
    )
    about = models.CharField(_("涉及批次或事项"), max_length=200, blank=True)
    body = models.TextField(_("反映内容"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    client_hash = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=10, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("投诉举报")
        verbose_name_plural = _("投诉举报")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ComplaintEvent(WorkflowEventBase):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("原状态"), max_length=20, choices=ComplaintStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=ComplaintStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta(WorkflowEventBase.Meta):
        verbose_name = _("投诉办理记录")
        verbose_name_plural = _("投诉办理记录")

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.action}"
