"""seed_demo: complaints (through the services).

Two complaints from the public form: one waiting for the centre's triage, one the centre answered
and closed, so the list, the home panel and the public status lookup have something to show.
Run twice, it adds nothing the second time.
"""

from institutions.models import Institution
from oversight.models import Complaint
from oversight.services.complaints import complaint_close, complaint_submit


def build(ctx) -> None:
    """Add this part's demo rows; ctx is portal.demo.DemoContext."""
    centre = ctx.users.get("centre-reviewer")
    institution = Institution.objects.select_related("school__organisation").order_by("pk").first()
    if centre is None or institution is None or Complaint.objects.exists():
        return
    complaint_submit(
        complainant_kind="parent",
        name="刘女士",
        contact="13800138000",
        institution=institution,
        about="本学期焊工四级评价",
        body="孩子反映理论考试时考场内有人使用手机，监考老师没有制止，希望核查。",
    )
    answered = complaint_submit(
        complainant_kind="student",
        contact="student@example.com",
        institution=institution,
        about="证书发放时间",
        body="评价结果公布已一个月，还没有收到证书，想了解发放进度。",
    )
    complaint_close(
        complaint=answered,
        actor=centre,
        answer="经核查，该批次证书已于本周制作完成，学校将统一发放。如有疑问可联系学校评价工作人员。",
    )
