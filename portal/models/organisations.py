"""Organisations, people and their roles.

A user belongs to one organisation and holds one or more roles there. Which roles an
organisation may hand out follows from its kind (ROLES_BY_KIND); scoping of every query
starts from the user's organisation and roles (portal.access).
"""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class District(models.Model):
    """One of Shanghai's 16 districts (GB/T 2260 code)."""

    code = models.CharField(_("区划代码"), max_length=6, unique=True)
    name = models.CharField(_("区名"), max_length=20, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("区")
        verbose_name_plural = _("区")

    def __str__(self) -> str:
        return self.name


class OrganisationKind(models.TextChoices):
    CENTRE = "centre", _("市职业技能鉴定中心")
    COMMISSION = "commission", _("市教育委员会")
    COMMISSION_DEPT = "commission_dept", _("市教委受委托职能部门")
    MUNICIPAL_HR = "municipal_hr", _("市人力资源和社会保障局")
    DISTRICT_HR = "district_hr", _("区人力资源和社会保障局")
    SCHOOL = "school", _("职业学校")
    EXPERT_POOL = "expert_pool", _("评估专家库")


class Role(models.TextChoices):
    SCHOOL_STAFF = "school_staff", _("学校评价工作人员")
    CENTRE_REVIEWER = "centre_reviewer", _("市职鉴中心审核员")
    COMMISSION_OFFICER = "commission_officer", _("市教委经办人")
    COMMISSION_DEPT_OFFICER = "commission_dept_officer", _("市教委职能部门经办人")
    MUNICIPAL_HR_OFFICER = "municipal_hr_officer", _("市人社局经办人")
    DISTRICT_HR_OFFICER = "district_hr_officer", _("区人社局监管员")
    EXPERT = "expert", _("评估专家")
    QUALITY_SUPERVISOR = "quality_supervisor", _("质量督导员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")


ROLES_BY_KIND: dict[str, set[str]] = {
    OrganisationKind.CENTRE: {Role.CENTRE_REVIEWER, Role.SYSTEM_ADMIN},
    OrganisationKind.COMMISSION: {Role.COMMISSION_OFFICER},
    OrganisationKind.COMMISSION_DEPT: {Role.COMMISSION_DEPT_OFFICER},
    OrganisationKind.MUNICIPAL_HR: {Role.MUNICIPAL_HR_OFFICER, Role.QUALITY_SUPERVISOR},
    OrganisationKind.DISTRICT_HR: {Role.DISTRICT_HR_OFFICER, Role.QUALITY_SUPERVISOR},
    OrganisationKind.SCHOOL: {Role.SCHOOL_STAFF},
    OrganisationKind.EXPERT_POOL: {Role.EXPERT, Role.QUALITY_SUPERVISOR},
}


class Organisation(models.Model):
    kind = models.CharField(_("类型"), max_length=20, choices=OrganisationKind.choices)
    name = models.CharField(_("名称"), max_length=120, unique=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    district = models.ForeignKey(District, verbose_name=_("所在区"), on_delete=models.PROTECT, null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="district_hr") | models.Q(district__isnull=False),
                name="district_bureau_has_district",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind in {OrganisationKind.DISTRICT_HR, OrganisationKind.SCHOOL} and not self.district_id:
            raise ValidationError({"district": _("区人社局和学校必须填写所在区。")})


class User(AbstractUser):
    """A person who logs in. Belongs to one organisation (superusers may have none)."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # The language this person reads the portal in: e-mails to them are written in it. Set by the
    # language switch; a preference, so not part of the audit history.
    language = models.CharField(
        _("界面语言"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login", "language"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @cached_property
    def role_set(self) -> frozenset[str]:
        if not self.pk:
            return frozenset()
        return frozenset(self.roles.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in sorted(self.role_set)]


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    def clean(self) -> None:
        org = self.user.organisation if self.user_id else None
        if org is None:
            raise ValidationError(_("用户尚未归属机构，不能分配角色。"))
        if self.role not in ROLES_BY_KIND.get(org.kind, set()):
            raise ValidationError(
                _("%(kind)s不能分配“%(role)s”角色。")
                % {"kind": org.get_kind_display(), "role": self.get_role_display()}
            )
