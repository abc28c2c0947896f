"""职业技能等级证书 (notice annex §4.4; DOMAIN.md "Certificate number"): issued by the school from
accepted results, numbered under the national coding rule, verified by anyone, never deleted.

Only ``certificates.services`` writes these rows and assigns statuses.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.workflow import WorkflowEventBase
from schools.models import IdType, Level


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVOKED = "revoked", _("已撤销")
    SUPERSEDED = "superseded", _("已更正（由新证书替代）")


class Certificate(models.Model):
    # 22 characters: institution code (13) + year of issue (2) + level digit (1) + serial (6).
    number = models.CharField(_("证书编号"), max_length=22, unique=True)
    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, related_name="certificates", verbose_name=_("评价机构")
    )
    candidate = models.ForeignKey(
        "assessments.Candidate", on_delete=models.PROTECT, related_name="certificates", verbose_name=_("考生")
    )
    plan = models.ForeignKey("assessments.EvaluationPlan", on_delete=models.PROTECT, related_name="certificates")
    # What the certificate says, frozen at issuance (a correction is a new certificate).
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=30, db_index=True)
    occupation = models.ForeignKey("portal.Occupation", on_delete=models.PROTECT, related_name="+")
    occupation_name = models.CharField(_("职业名称"), max_length=80)
    work_type = models.CharField(_("工种/职业方向"), max_length=80, blank=True)
    level = models.PositiveSmallIntegerField(_("等级"), choices=Level.choices)
    institution_name = models.CharField(_("评价机构名称"), max_length=200)
    issued_on = models.DateField(_("发证日期"))
    # The QR code's link: unguessable, never derived from the number.
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=CertificateStatus.choices, default=CertificateStatus.VALID, db_index=True
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    status_reason = models.TextField(_("状态说明"), blank=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("更正前证书"),
    )
    photo = models.FileField(_("照片"), upload_to="certificates/photos/%Y/", blank=True)
    pdf = models.FileField(_("证书PDF"), upload_to="certificates/pdf/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Reporting: to the centre per batch, then by the centre to the national lookup system.
    report = models.ForeignKey(
        "certificates.CertificateReport", on_delete=models.PROTECT, null=True, blank=True, related_name="certificates"
    )
    national_export = models.ForeignKey(
        "certificates.NationalExport", on_delete=models.PROTECT, null=True, blank=True, related_name="certificates"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued_on", "number"]
        verbose_name = _("职业技能等级证书")
        verbose_name_plural = _("职业技能等级证书")
        constraints = [
            # One certificate per candidate (one occupation and level per batch): re-running an issue
            # job never duplicates; a correction is the only second certificate, and it supersedes.
            models.UniqueConstraint(
                fields=["candidate"],
                condition=Q(supersedes__isnull=True),
                name="one_original_certificate_per_candidate",
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="certificate_level_is_a_level"),
        ]
        indexes = [
            models.Index(fields=["institution", "issued_on"], name="certificate_institution_idx"),
            # The centre's list, newest first: an index scan instead of sorting a million rows.
            models.Index(fields=["-issued_on", "number"], name="certificate_listing_idx"),
            # Certificates not yet reported to the centre (a few among a million): the overdue list.
            models.Index(
                fields=["issued_on", "number"], condition=Q(report__isnull=True), name="certificate_unreported_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def masked_id_number(self) -> str:
        n = self.id_number
        return n[:4] + "*" * (len(n) - 8) + n[-4:] if len(n) > 8 else n


class CandidatePhoto(models.Model):
    """1-inch colour photo on white (人社鉴发〔2021〕1号), checked by content, required before issuance."""

    student = models.OneToOneField("schools.Student", on_delete=models.CASCADE, related_name="photo")
    file = models.FileField(_("照片"), upload_to="photos/%Y/")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("考生照片")
        verbose_name_plural = _("考生照片")

    def __str__(self) -> str:
        return f"photo {self.student_id}"


class RequestKind(models.TextChoices):
    REVOKE = "revoke", _("撤销证书")
    CORRECT = "correct", _("更正证书")


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("待市职鉴中心审核")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("不予批准")
    WITHDRAWN = "withdrawn", _("已撤回")


class StatusRequest(models.Model):
    """The school asks to revoke or correct a certificate; the centre approves or refuses."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(_("申请类型"), max_length=20, choices=RequestKind.choices)
    reason = models.TextField(_("理由"))
    corrections = models.JSONField(_("更正内容"), default=dict, blank=True)  # e.g. {"name": "…"}
    status = models.CharField(
        _("状态"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED, db_index=True
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    replacement = models.OneToOneField(
        Certificate, on_delete=models.PROTECT, null=True, blank=True, related_name="correction_request"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("证书撤销／更正申请")
        verbose_name_plural = _("证书撤销／更正申请")
        constraints = [
            models.UniqueConstraint(
                fields=["certificate"], condition=Q(status="requested"), name="one_open_request_per_certificate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.certificate_id}"


class StatusRequestEvent(WorkflowEventBase):
    request = models.ForeignKey(StatusRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(WorkflowEventBase.Meta):
        verbose_name = _("证书申请办理记录")
        verbose_name_plural = _("证书申请办理记录")

    def __str__(self) -> str:
        return f"{self.request_id} {self.action}"


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已报送，待市职鉴中心确认")
    RECEIVED = "received", _("市职鉴中心已接收")


class CertificateReport(models.Model):
    """A batch's certificate data reported by the school to the centre (annex §4.4 及时报送)."""

    plan = models.ForeignKey("assessments.EvaluationPlan", on_delete=models.PROTECT, related_name="certificate_reports")
    status = models.CharField(_("状态"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("证书信息报送")
        verbose_name_plural = _("证书信息报送")

    def __str__(self) -> str:
        return f"report {self.plan_id} {self.submitted_at:%Y-%m-%d}"


class NationalExport(models.Model):
    """One export by the centre for upload to the national lookup system; re-exportable by period."""

    period_from = models.DateField(_("发证日期自"))
    period_to = models.DateField(_("发证日期至"))
    file = models.FileField(upload_to="certificates/national/%Y/")
    rows = models.PositiveIntegerField(_("条数"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("全国系统上报导出")
        verbose_name_plural = _("全国系统上报导出")

    def __str__(self) -> str:
        return f"{self.period_from}–{self.period_to} ({self.rows})"


class Channel(models.TextChoices):
    PAGE = "page", _("查询页面")
    QR = "qr", _("二维码")
    UPLOAD = "upload", _("上传PDF")
    API = "api", _("接口")


class VerificationLog(models.Model):
    """Every public lookup: what was asked (the name is kept hashed), the answer, when, a hashed client."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    asked = models.CharField(max_length=120)  # e.g. "number:Y00003131…", "id:3101**…", "token", "pdf:<sha256>"
    answer = models.CharField(max_length=20)  # valid / revoked / superseded / not_found / altered / limited
    certificate = models.ForeignKey(Certificate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    client_hash = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("证书查询记录")
        verbose_name_plural = _("证书查询记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.channel} {self.answer}"
