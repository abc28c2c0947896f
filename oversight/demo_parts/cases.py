"""seed_demo: violation cases (through the services).

- An open case from the filed supervision report of the demo's accepted batch, against one of its
  examiners (the scoring sheets were not signed page by page), opened by the centre.
- A decided case: the candidate whose certificate the school asked to revoke (certificates.demo:
  someone else sat the practical exam) — the centre voids the result. The certificates stay as the
  certificates demo left them (one valid set, one revoked, one superseded), so
  ``list_demo_certificates`` prints the same.

Run twice, it adds nothing the second time.
"""

from __future__ import annotations

from assessments.models import BatchStaff, Duty, Outcome, SupervisionAssignment
from certificates.models import Certificate, CertificateStatus
from oversight.models import CaseSource, SanctionKind, SubjectKind, ViolationCase
from oversight.services.cases import SanctionSpec, case_decide, case_open


def build(ctx) -> None:
    """Add this part's demo rows; ctx is portal.demo.DemoContext."""
    centre = ctx.users.get("centre-reviewer")
    if centre is None or ViolationCase.objects.exists():
        return
    report = (
        SupervisionAssignment.objects.filter(report_filed_at__isnull=False, plan__results__status="accepted")
        .select_related("plan__institution__school__organisation")
        .order_by("pk")
        .first()
    )
    if report is not None:
        examiner = (
            BatchStaff.objects.filter(plan=report.plan, duty=Duty.EXAMINER)
            .select_related("person")
            .order_by("pk")
            .first()
        )
        if examiner is not None:
            case_open(
                actor=centre,
                subject_kind=SubjectKind.STAFF,
                institution=report.plan.institution,
                title="实操考场评分记录表未逐页签名",
                facts="外部质量督导发现实操考场评分记录表未由考评人员逐页签名，学校已补签；"
                "需核实评分过程是否规范、是否存在事后补记成绩的情况。",
                source=CaseSource.SUPERVISION,
                person=examiner.person,
                supervision=report,
            )
    revoked = (
        Certificate.objects.filter(status=CertificateStatus.REVOKED, candidate__outcome=Outcome.PASSED)
        .select_related("candidate__student", "candidate__plan__institution__school__organisation")
        .order_by("pk")
        .first()
    )
    if revoked is None:
        return
    candidate = revoked.candidate
    case = case_open(
        actor=centre,
        subject_kind=SubjectKind.CANDIDATE,
        institution=candidate.plan.institution,
        title="实操考核他人代考",
        facts=f"学校核查发现该考生实操考核由他人代考，已申请撤销其证书（证书{revoked.number}）。",
        source=CaseSource.DIRECT,
        candidate=candidate,
    )
    case_decide(
        case=case,
        actor=centre,
        decision="经查，该考生实操考核由他人代考，事实清楚。其证书已依学校申请撤销；宣布其本次评价结果无效。",
        sanctions=[SanctionSpec(SanctionKind.VOID_RESULT)],
    )
