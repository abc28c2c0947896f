"""Oversight rows for ``seed_scale`` (issue 10 §8): violation cases with sanctions, complaints, this
year's graduating-student roster, the audit entries of the seeded certificates, then the coverage
and statistics summaries computed as beat computes them.

- Cases: one per eighth revoked certificate (a candidate's case, decided, the certificate revoked and the
  result voided — the candidate's outcome reads voided — and the person barred for a year), and
  one in three of them paired with a staff case (an examiner of that batch barred from duties);
  one institution case in ten is left open (investigation under way). A few hundred in all.
- Complaints: received, triaged into a case, or closed with an answer.
- Roster: the commission's import of this school year's graduating students of the seeded
  schools, with the mismatches reconciliation looks for (a name or major differing in one row in
  a hundred; students missing from it; people in it the schools never registered).
- Audit: one entry per certificate issued, as the issuing service's history record would leave.
- Coverage through other channels: two majors a school a year evaluated by a social evaluation
  organisation, an employer or a competition.

Numbers come from the shared counters (``portal.numbering.next_number``), so later cases and
complaints continue the sequences.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from assessments.models import BarredKind, Barring, Candidate, Outcome
from assessments.scale import copy_rows, next_id
from certificates.models import Certificate
from oversight.models import (
    AuditEntry,
    CaseSource,
    CaseStatus,
    ComplainantKind,
    Complaint,
    ComplaintStatus,
    CoverageChannel,
    DecidingBody,
    ExternalEvaluation,
    RosterEntry,
    RosterImport,
    Sanction,
    SanctionKind,
    SubjectKind,
    ViolationCase,
)
from portal.i18n import stored
from portal.models import Role
from portal.numbering import next_number
from portal.scale import ScaleContext
from schools.models import Student

COMPLAINTS = 300
CASE_EVERY = 8


def _aware(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _case_number(year: int) -> str:
    return f"WG{year}{next_number(f'case:{year}'):06d}"


def _complaint_number(year: int) -> str:
    return f"TS{year}-{next_number(f'complaint:{year}'):06d}"


def build(ctx: ScaleContext) -> None:
    sample = ctx.built.get("certificate_sample")
    plan_info = ctx.built.get("plan_info")
    if not plan_info:
        return
    centre = ctx.actor(Role.CENTRE_REVIEWER)
    teachers = ctx.built["teachers"]
    _cases_and_sanctions(ctx, sample or [], plan_info, teachers, centre)
    _complaints(ctx, plan_info, centre)
    _roster(ctx)
    _audit(ctx)
    _external_evaluations(ctx)
    _summaries(ctx)


def _cases_and_sanctions(ctx, sample, plan_info, teachers, centre) -> None:
    # A case for one revoked certificate in CASE_EVERY (the others were revoked at the school's request).
    revoked = [row for row in sample if row[3] == "revoked"][::CASE_EVERY]
    certs = {
        c.pk: c
        for c in Certificate.objects.filter(pk__in=[row[0] for row in revoked]).only(
            "pk", "candidate_id", "name", "id_number", "status_changed_at", "status_reason"
        )
    }
    cases, sanctions, barrings, voided = [], [], [], []
    barring_id = next_id(Barring)
    for k, (cert_pk, candidate_pk, n, _status) in enumerate(revoked):
        cert = certs[cert_pk]
        info = plan_info[n]
        inst = info["institution"]
        decided = cert.status_changed_at or _aware(info["day"] + dt.timedelta(days=120), 10)
        opened = decided - dt.timedelta(days=30)
        case = ViolationCase(
            number=_case_number(opened.year),
            subject_kind=SubjectKind.CANDIDATE,
            candidate_id=candidate_pk,
            subject_name=cert.name,
            subject_id_number=cert.id_number,
            institution=inst,
            occupation=info["occupation"],
            plan_id=n,
            source=(CaseSource.ANOMALY, CaseSource.COMPLAINT, CaseSource.SUPERVISION, CaseSource.DIRECT)[k % 4],
            title="考生身份信息不实及替考嫌疑",
            facts=cert.status_reason or "核查发现考生信息与实际不符。",
            status=CaseStatus.DECIDED,
            opened_by=centre,
            opened_at=opened,
            deciding_body=DecidingBody.CENTRE,
            decision="撤销证书，评价结果无效，一年内不得参加职业技能等级认定。",
            decided_by=centre,
            decided_at=decided,
        )
        cases.append(case)
        bar_end = decided.date() + dt.timedelta(days=365)
        barrings.append(
            Barring(
                id=barring_id,
                kind=BarredKind.CANDIDATE,
                id_number=cert.id_number,
                starts_on=decided.date(),
                ends_on=bar_end,
                reason=case.decision,
                decided_by=centre,
            )
        )
        sanctions.append((case, SanctionKind.REVOKE_CERTIFICATE, {"certificate_id": cert_pk}, decided))
        sanctions.append((case, SanctionKind.VOID_RESULT, {"candidate_id": candidate_pk}, decided))
        sanctions.append(
            (case, SanctionKind.BAR_CANDIDATE, {"barring_id": barring_id}, decided, decided.date(), bar_end)
        )
        voided.append(candidate_pk)
        barring_id += 1
        if k % 3 == 0:
            examiner = teachers[inst.school_id][(n * 3 + 2) % len(teachers[inst.school_id])]
            staff_case = ViolationCase(
                number=_case_number(opened.year),
                subject_kind=SubjectKind.STAFF,
                person=examiner,
                subject_name=examiner.full_name,
                institution=inst,
                occupation=info["occupation"],
                plan_id=n,
                source=CaseSource.SUPERVISION,
                title="考评人员未按规定核验考生身份",
                facts="督导报告指出实操考场未逐一核验考生证件。",
                status=CaseStatus.DECIDED,
                opened_by=centre,
                opened_at=opened,
                deciding_body=DecidingBody.CENTRE,
                decision="两年内不得从事考务工作。",
                decided_by=centre,
                decided_at=decided,
            )
            cases.append(staff_case)
            staff_end = decided.date() + dt.timedelta(days=730)
            barrings.append(
                Barring(
                    id=barring_id,
                    kind=BarredKind.STAFF,
                    person=examiner,
                    starts_on=decided.date(),
                    ends_on=staff_end,
                    reason=staff_case.decision,
                    decided_by=centre,
                )
            )
            sanctions.append(
                (staff_case, SanctionKind.BAR_STAFF, {"barring_id": barring_id}, decided, decided.date(), staff_end)
            )
            barring_id += 1
        if k % 10 == 0:
            cases.append(
                ViolationCase(
                    number=_case_number(ctx.today.year),
                    subject_kind=SubjectKind.INSTITUTION,
                    subject_name=inst.school.organisation.name,
                    institution=inst,
                    source=CaseSource.DIRECT,
                    title="考务管理不规范",
                    facts="抽查发现考场视频监控记录不完整。",
                    status=CaseStatus.OPEN,
                    opened_by=centre,
                    opened_at=_aware(ctx.today - dt.timedelta(days=k % 60 + 1), 9),
                )
            )
    opened = [c.opened_at for c in cases]
    ViolationCase.objects.bulk_create(cases, batch_size=1000)
    _set_times(ViolationCase, "opened_at", [(c.pk, at) for c, at in zip(cases, opened, strict=True)])
    Barring.objects.bulk_create(barrings, batch_size=1000)
    rows = []
    sanction_id = next_id(Sanction)
    for entry in sanctions:
        case, kind, link, at = entry[:4]
        starts, ends = (entry[4], entry[5]) if len(entry) > 4 else (None, None)
        rows.append(
            (
                sanction_id,
                case.pk,
                kind,
                link.get("candidate_id"),
                link.get("certificate_id"),
                link.get("barring_id"),
                None,
                None,
                starts,
                ends,
                centre.pk,
                at,
            )
        )
        sanction_id += 1
    copy_rows(
        Sanction,
        (
            "id",
            "case_id",
            "kind",
            "candidate_id",
            "certificate_id",
            "barring_id",
            "institution_id",
            "occupation_id",
            "starts_on",
            "ends_on",
            "applied_by_id",
            "applied_at",
        ),
        rows,
    )
    Candidate.objects.filter(pk__in=voided).update(outcome=Outcome.VOIDED)
    ctx.note("violation cases", len(cases))
    ctx.note("sanctions", len(rows))
    ctx.note("barrings", len(barrings))


def _complaints(ctx, plan_info, centre) -> None:
    institutions = list({info["institution"].pk: info["institution"] for info in plan_info.values()}.values())
    if not institutions:
        return
    complaints = []
    count = max(10, round(COMPLAINTS * min(1.0, len(institutions) / 120)))
    for k in range(count):
        inst = institutions[k % len(institutions)]
        submitted = _aware(ctx.today - dt.timedelta(days=(k * 37) % 1500 + 1), 8 + k % 10)
        status = (
            ComplaintStatus.CLOSED,
            ComplaintStatus.CLOSED,
            ComplaintStatus.CASE_OPENED,
            ComplaintStatus.RECEIVED,
        )[k % 4]
        if status == ComplaintStatus.RECEIVED:
            submitted = _aware(ctx.today - dt.timedelta(days=k % 20), 9)
        complaints.append(
            Complaint(
                number=_complaint_number(submitted.year),
                complainant_kind=(ComplainantKind.STUDENT, ComplainantKind.PARENT, ComplainantKind.PUBLIC)[k % 3],
                name=ctx.person_name() if k % 2 else "",
                contact=f"139{k:08d}",
                institution=inst,
                about=f"{inst.school.organisation.name}的评价批次",
                body="反映考场纪律松散、监考人员离场等问题，请核查。",
                status=status,
                answer="经核查，已责成评价机构整改。" if status == ComplaintStatus.CLOSED else "",
                answered_by=centre if status == ComplaintStatus.CLOSED else None,
                answered_at=submitted + dt.timedelta(days=10) if status == ComplaintStatus.CLOSED else None,
                client_hash="0" * 64,
                language="zh-hans",
            )
        )
        complaints[-1]._submitted = submitted
    Complaint.objects.bulk_create(complaints, batch_size=1000)
    _set_times(Complaint, "submitted_at", [(c.pk, c._submitted) for c in complaints])
    ctx.note("complaints", len(complaints))


def _set_times(model, column: str, pairs: list[tuple[int, dt.datetime]]) -> None:
    """bulk_create stamps auto_now_add fields with "now": give the rows the seed's times."""
    if not pairs:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", [(t, pk) for pk, t in pairs])  # noqa: S608


def _roster(ctx) -> None:
    schools = ctx.built.get("schools") or []
    first_year, current = ctx.built["decade"]
    graduation = dt.date(current + 1, 6, 30)
    commission = ctx.actor(Role.COMMISSION_OFFICER)
    roster = RosterImport.objects.create(
        school_year=current,
        original_name=f"{current}届毕业学年学生名册（测量数据第{ctx.batch}批）.xlsx",
        uploaded_by=commission,
    )
    names = {s.pk: s.organisation.name for s in schools}
    students = (
        Student.objects.filter(school__in=schools, expected_graduation=graduation)
        .order_by("pk")
        .values_list("pk", "school_id", "name", "id_number", "major__name", "major__code")
    )
    entry_id = next_id(RosterEntry)

    def rows():
        nonlocal entry_id
        row_number = 1
        for k, (pk, school_id, name, id_number, major, code) in enumerate(students.iterator(chunk_size=20000)):
            if k % 97 == 5:
                continue  # a student the commission's roster misses
            if k % 100 == 3:
                name = name[:-1] + ("明" if name[-1] != "明" else "华")  # a name that differs
            if k % 100 == 41:
                major = major + "（方向）"  # a major that differs
            row_number += 1
            yield (entry_id, roster.pk, row_number, id_number, name, names[school_id], major, code, school_id, pk)
            entry_id += 1
        for k in range(max(3, len(schools) * 5)):  # people the schools never registered
            school = schools[k % len(schools)]
            row_number += 1
            yield (
                entry_id,
                roster.pk,
                row_number,
                f"31011520080101{k % 1000:03d}X",
                ctx.person_name(),
                school.organisation.name,
                "数控技术",
                "",
                school.pk,
                None,
            )
            entry_id += 1

    count = copy_rows(
        RosterEntry,
        (
            "id",
            "roster_id",
            "row_number",
            "id_number",
            "name",
            "school_name",
            "major_name",
            "major_code",
            "school_id",
            "student_id",
        ),
        rows(),
    )
    RosterImport.objects.filter(pk=roster.pk).update(row_count=count)
    ctx.note("roster rows", count)


def _audit(ctx) -> None:
    ids = ctx.built.get("certificate_ids")
    if not ids or ids[1] < ids[0]:
        return
    content_type = ContentType.objects.get_for_model(Certificate)
    reason = stored(gettext_lazy("颁发证书"))
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    users = connection.ops.quote_name(Certificate._meta.get_field("issued_by").related_model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (at, user_id, organisation_id, content_type_id, object_id, object_repr,"  # noqa: S608
            " action, reason, history_id)"
            f" SELECT c.created_at, c.issued_by_id, u.organisation_id, %s, CAST(c.id AS VARCHAR(40)),"
            " c.number || ' ' || c.name, '+', %s, c.id"
            f" FROM certificates_certificate c JOIN {users} u ON u.id = c.issued_by_id"
            " WHERE c.id BETWEEN %s AND %s",
            [content_type.pk, reason, ids[0], ids[1]],
        )
        ctx.note("audit entries", cursor.rowcount)


def _external_evaluations(ctx) -> None:
    """Majors covered through another channel: two majors a school a year (a social evaluation
    organisation, an employer or a competition, with the name of its evidence file)."""
    schools = ctx.built.get("schools") or []
    majors_by_school = ctx.built["majors_by_school"]
    first_year, current = ctx.built["decade"]
    commission = ctx.actor(Role.COMMISSION_OFFICER)
    channels = (
        (CoverageChannel.SOCIAL_ORG, "上海市职业技能培训评价组织（社会培训评价组织）"),
        (CoverageChannel.EMPLOYER, "上海电气集团股份有限公司（用人单位自主评价）"),
        (CoverageChannel.COMPETITION, "上海市职业技能大赛"),
    )
    rows = []
    for i, school in enumerate(schools):
        majors = majors_by_school[school.pk]
        for year in range(first_year, current + 1):
            for k in (0, 1):
                major = majors[-1 - ((i + year + k * 5) % max(1, len(majors) // 2))]
                channel, provider = channels[(i + year + k) % len(channels)]
                rows.append(
                    ExternalEvaluation(
                        school=school,
                        major=major,
                        school_year=year,
                        channel=channel,
                        provider=provider,
                        note="测量数据",
                        evidence=f"coverage/{year}/scale-{ctx.batch}-{school.pk}-{k}.pdf",
                        evidence_name="评价证明.pdf",
                        evidence_type="application/pdf",
                        evidence_size=120_000,
                        recorded_by=commission,
                    )
                )
    ExternalEvaluation.objects.bulk_create(rows, batch_size=2000)
    ctx.note("external evaluations", len(rows))


def _summaries(ctx) -> None:
    """Coverage of every seeded school year and the statistics figures, as the beat tasks compute them."""
    first_year, current = ctx.built["decade"]
    try:
        from oversight.services.coverage import refresh_coverage
    except ImportError:
        refresh_coverage = None
    if refresh_coverage is not None:
        for year in range(first_year, current + 1):
            result = refresh_coverage(year, today=ctx.today)
            ctx.note(f"coverage {year}", int(result.get("majors", 0)) if isinstance(result, dict) else 0)
    try:
        from oversight.services.statistics import figures_refresh
    except ImportError:
        return
    figures_refresh()
    ctx.note("statistics figures", 1)
