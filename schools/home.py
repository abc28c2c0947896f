from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.access import SCHOOL_VIEWER_ROLES
from portal.home import HomeItem, HomePanel
from portal.models import JobStatus, Role
from schools import selectors
from schools.models import SchoolType


def school_overview_panel(user) -> HomePanel | None:
    """School staff: their school's records and unfinished imports. Others: schools in scope."""
    if not (user.is_superuser or user.has_role(*SCHOOL_VIEWER_ROLES)):
        return None
    today = timezone.localdate()
    if user.has_role(Role.SCHOOL_STAFF):
        school = selectors.school_of(user)
        if school is None:
            return None
        counted = selectors.school_list_with_counts(user=user, on=today).get(pk=school.pk)
        items = [
            HomeItem(_("专业"), reverse("schools:major_list", args=[school.pk]), badge=str(counted.major_count)),
            HomeItem(
                _("学籍学生"), reverse("schools:student_list", args=[school.pk]), badge=str(counted.student_count)
            ),
            HomeItem(
                _("本学年毕业学生"),
                reverse("schools:student_list", args=[school.pk]) + "?graduating=on",
                badge=str(counted.graduating_count),
            ),
        ]
        if counted.school_type == SchoolType.SECONDARY and not counted.has_through_programme:
            # Blocked from filing (annex §1.1): say what to do, on the page where the school does it.
            items.insert(
                0,
                HomeItem(
                    _("须先登记贯通培养专业才能申请备案"),
                    reverse("schools:through_programmes", args=[school.pk]),
                    badge=_("待办"),
                ),
            )
        failed = user.jobs.filter(status=JobStatus.FAILED, finished_at__date=today)
        for job in failed[:3]:
            items.append(
                HomeItem(_("导入失败，待修改后重新上传"), reverse("job_detail", args=[job.pk]), meta=job.input_name)
            )
        return HomePanel(_("本校学籍"), items, more_url=reverse("schools:school_detail", args=[school.pk]), order=20)
    schools = selectors.school_list_with_counts(user=user, on=today, graduating_only=True)
    items = [
        HomeItem(
            str(s),
            reverse("schools:school_detail", args=[s.pk]),
            meta=str(s.organisation.district or ""),
            badge=str(s.graduating_count),
        )
        for s in schools[:8]
    ]
    return HomePanel(
        _("辖区学校（毕业学年学生数）") if user.has_role(Role.DISTRICT_HR_OFFICER) else _("全市学校（毕业学年学生数）"),
        items,
        empty_text=_("暂无学校。"),
        more_url=reverse("schools:school_list"),
        order=50,
    )
