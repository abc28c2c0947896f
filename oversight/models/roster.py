"""The education commission's graduating-student roster (信息共享, notice 二(四)2:
"人力资源社会保障部门和教育部门要及时共享职业学校毕业学年学生信息和获证信息，加强信息审核校验").

Each import keeps its rows as given; reconciliation against candidates and certificates is a
selector over them. A newer import of the same school year supersedes the older one for reports.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RosterImport(models.Model):
    school_year = models.PositiveSmallIntegerField(_("学年（起始年份）"))
    original_name = models.CharField(_("文件名"), max_length=200)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    job = models.ForeignKey("portal.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("毕业学年学生名册")
        verbose_name_plural = _("毕业学年学生名册")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.school_year} {self.original_name}"


class RosterEntry(models.Model):
    roster = models.ForeignKey(RosterImport, on_delete=models.CASCADE, related_name="entries")
    row_number = models.PositiveIntegerField(_("行号"))
    id_number = models.CharField(_("证件号码"), max_length=30)
    name = models.CharField(_("姓名"), max_length=60)
    school_name = models.CharField(_("学校"), max_length=120)
    major_name = models.CharField(_("专业"), max_length=120)
    major_code = models.CharField(_("专业代码"), max_length=20, blank=True)
    # Matched at import when the school (by name) and the student (by ID number) are known.
    school = models.ForeignKey("schools.School", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    student = models.ForeignKey("schools.Student", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("名册学生")
        verbose_name_plural = _("名册学生")
        ordering = ["roster_id", "row_number"]
        constraints = [models.UniqueConstraint(fields=["roster", "id_number"], name="one_roster_row_per_person")]
        indexes = [models.Index(fields=["id_number"], name="roster_id_number_idx")]

    def __str__(self) -> str:
        return f"{self.roster_id}:{self.row_number} {self.name}"
