"""City-scale filing applications in every state, with events, panels, findings and consents, and
the institutions they filed (``seed_scale``; bulk insert, no history, no notifications).

Each seeded school has five applications: three closed first attempts (withdrawn, evaluation
failed, refused), the initial filing that made it an institution, and one open application to add
occupations, its state cycling through the six open states. At 120 schools that is 600
applications, at least 20 in each of the ten states, and 120 institutions of about 10 occupations.
A few institutions are suspended, removed or expired, as in a real directory.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max

from institutions.directory_cache import directory_changed
from institutions.models import (
    VALIDITY_YEARS,
    ApplicationEvent,
    ApplicationKind,
    ApplicationStatus,
    AppliedOccupation,
    Condition,
    ConditionAnswer,
    Consent,
    ConsentBody,
    EvaluationBasis,
    EvaluationMethod,
    ExpertPanel,
    FilingApplication,
    Finding,
    Institution,
    InstitutionOccupation,
    InstitutionStatus,
    PanelMember,
)
from portal.models import Occupation, OccupationKind, Role
from portal.scale import ScaleContext, given_timestamps
from schools.models import LEVEL_CAP_BY_SCHOOL_TYPE, Level

S = ApplicationStatus
OPEN_CYCLE = (S.DRAFT, S.SUBMITTED, S.RETURNED, S.UNDER_EVALUATION, S.AWAITING_CONSENT, S.CONSENTED)
CLOSED = (S.WITHDRAWN, S.EVALUATION_FAILED, S.REFUSED)
WITH_PANEL = {S.UNDER_EVALUATION, S.EVALUATION_FAILED, S.AWAITING_CONSENT, S.REFUSED, S.CONSENTED, S.FILED}
CONCLUDED = WITH_PANEL - {S.UNDER_EVALUATION}
FINDINGS = list(Condition.values)  # each member judges the conditions in turn
METHODS = [
    [EvaluationMethod.DOCUMENT_REVIEW, EvaluationMethod.MATERIAL_VERIFICATION],
    [EvaluationMethod.EXPERT_ARGUMENT, EvaluationMethod.QUESTIONING],
    [EvaluationMethod.SITE_INSPECTION],
]
STATEMENT = "学校按照通知附件第一条逐项说明：{}（测量数据）"


def _end_of_validity(start: dt.date) -> dt.date:
    try:
        third = start.replace(year=start.year + VALIDITY_YEARS)
    except ValueError:  # 29 February
        third = start.replace(year=start.year + VALIDITY_YEARS, day=28)
    return third - dt.timedelta(days=1)


def _fields(model) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def _event(app: FilingApplication, day: dt.date, ctx: ScaleContext, **kwargs) -> ApplicationEvent:
    """An event with the fields ApplicationEvent has today (the model may grow; defaults fill the rest)."""
    known = _fields(ApplicationEvent)
    data = {"application": app, "round": app.round, "created_at": ctx.moment(day), "comment": "", **kwargs}
    return ApplicationEvent(**{k: v for k, v in data.items() if k in known})


def build(ctx: ScaleContext) -> None:
    schools = ctx.built.get("schools") or []
    if not schools:
        return
    majors_by_school = ctx.built["majors_by_school"]
    staff_by_org = ctx.built["school_staff"]
    experts = ctx.built["experts"]
    centre = ctx.actor(Role.CENTRE_REVIEWER)
    dept = ctx.actor(Role.COMMISSION_DEPT_OFFICER)
    hr = ctx.actor(Role.MUNICIPAL_HR_OFFICER)
    commission = ctx.actor(Role.COMMISSION_OFFICER)
    occupations = list(
        Occupation.objects.filter(kind=OccupationKind.SKILL, is_access_type=False, is_active=True).order_by("pk")
    )
    per_institution = min(ctx.size.occupations_per_institution, max(1, len(occupations) - 3))
    today = ctx.today

    # --- Institutions (the directory) ---------------------------------------------------
    top = Institution.objects.filter(category_letter="S").aggregate(m=Max("site_sequence"))["m"]
    sequence = int(top or 0)
    institutions = []
    plans = []
    for i, school in enumerate(schools):
        if i % 30 == 0:  # past its three years: expired
            confirmed = today - dt.timedelta(days=365 * VALIDITY_YEARS + 20 + i % 60)
        else:
            confirmed = today - dt.timedelta(days=30 + (i * 389) % 1000)
        status, reason = InstitutionStatus.ACTIVE, ""
        if i % 30 == 0:
            status, reason = InstitutionStatus.EXPIRED, "有效期届满"
        elif i % 20 == 7:
            status, reason = InstitutionStatus.SUSPENDED, "督导检查发现考务管理不规范，暂停认定并限期整改。"
        elif i % 40 == 13:
            status, reason = InstitutionStatus.REMOVED, "学校申请退出，移出目录。"
        sequence += 1
        institutions.append(
            Institution(
                school=school,
                category_letter="S",
                ministry_code="0000",
                province_code="31",
                site_sequence=f"{sequence:06d}",
                status=status,
                status_reason=reason,
                confirmed_on=confirmed,
                valid_until=_end_of_validity(confirmed),
            )
        )
        chosen = ctx.rng.sample(occupations, per_institution + 2)
        plans.append((confirmed, chosen[:per_institution], chosen[per_institution:]))
    Institution.objects.bulk_create(institutions)
    institutions = {
        inst.school_id: inst for inst in Institution.objects.filter(school__in=schools).select_related("school")
    }
    ctx.note("institutions", len(institutions))

    # --- Applications ---------------------------------------------------------------------
    apps: list[FilingApplication] = []
    specs: list[tuple[FilingApplication, str, dt.date, list[Occupation], int]] = []
    for i, school in enumerate(schools):
        confirmed, filed_occupations, extra = plans[i]
        inst = institutions[school.pk]
        staff = staff_by_org[school.organisation_id]
        timeline = [
            (S.WITHDRAWN, ApplicationKind.INITIAL, confirmed - dt.timedelta(days=400), filed_occupations[:3]),
            (S.EVALUATION_FAILED, ApplicationKind.INITIAL, confirmed - dt.timedelta(days=300), filed_occupations[:3]),
            (S.REFUSED, ApplicationKind.INITIAL, confirmed - dt.timedelta(days=180), filed_occupations[:3]),
            (S.FILED, ApplicationKind.INITIAL, confirmed - dt.timedelta(days=40), filed_occupations),
            (OPEN_CYCLE[i % len(OPEN_CYCLE)], ApplicationKind.ADD_OCCUPATION, today - dt.timedelta(days=45), extra),
        ]
        for status, kind, created, chosen in timeline:
            submitted = status != S.DRAFT
            app = FilingApplication(
                school=school,
                kind=kind,
                institution=inst if (status == S.FILED or kind == ApplicationKind.ADD_OCCUPATION) else None,
                status=status,
                round=1 if submitted else 0,
                contact_name=staff.full_name,
                contact_phone=school.contact_phone,
                created_by=staff,
                created_at=ctx.moment(created, 9),
                submitted_at=ctx.moment(created + dt.timedelta(days=5)) if submitted else None,
            )
            if status == S.FILED:
                app.ministry_report_ref = f"人社鉴备〔{confirmed.year}〕{i + 1:03d}号"
                app.ministry_reported_on = confirmed
                app.filed_at = ctx.moment(confirmed, 16)
            apps.append(app)
            specs.append((app, status, created, chosen, i))
    with given_timestamps(FilingApplication):
        FilingApplication.objects.bulk_create(apps, batch_size=1000)
    ctx.note("applications", len(apps))

    # --- What each application holds: conditions, occupations, majors ---------------------
    answers = [
        ConditionAnswer(application=app, condition=c, statement=STATEMENT.format(Condition(c).label))
        for app in apps
        for c in Condition.values
    ]
    ConditionAnswer.objects.bulk_create(answers, batch_size=2000)
    applied = []
    for app, _status, _created, chosen, _i in specs:
        cap = LEVEL_CAP_BY_SCHOOL_TYPE[app.school.school_type]
        for occupation in chosen:
            row = AppliedOccupation(
                application=app,
                occupation=occupation,
                lowest_level=Level.LEVEL_5,
                highest_level=cap,
                basis=EvaluationBasis.NATIONAL_STANDARD
                if occupation.national_standard
                else EvaluationBasis.SPECIFICATION,
                specification_ref="" if occupation.national_standard else "沪人社职评规备〔2025〕18号",
            )
            applied.append(row)
    AppliedOccupation.objects.bulk_create(applied, batch_size=2000)
    through = AppliedOccupation.majors.through
    links = []
    for n, row in enumerate(applied):
        school_majors = majors_by_school[row.application.school_id]
        links.append(through(appliedoccupation_id=row.pk, major_id=school_majors[n % len(school_majors)].pk))
    through.objects.bulk_create(links, batch_size=2000)
    ctx.note("applied occupations", len(applied))

    # --- The directory rows of the filed applications -------------------------------------
    rows = []
    for app, status, _created, chosen, _i in specs:
        if status != S.FILED:
            continue
        inst = institutions[app.school_id]
        confirmed = inst.confirmed_on
        row_status = InstitutionStatus.EXPIRED if inst.status == InstitutionStatus.EXPIRED else InstitutionStatus.ACTIVE
        cap = LEVEL_CAP_BY_SCHOOL_TYPE[app.school.school_type]
        for occupation in chosen:
            rows.append(
                InstitutionOccupation(
                    institution=inst,
                    occupation=occupation,
                    lowest_level=Level.LEVEL_5,
                    highest_level=cap,
                    basis=(
                        EvaluationBasis.NATIONAL_STANDARD
                        if occupation.national_standard
                        else EvaluationBasis.SPECIFICATION
                    ),
                    specification_ref="" if occupation.national_standard else "沪人社职评规备〔2025〕18号",
                    status=row_status,
                    confirmed_on=confirmed,
                    valid_until=_end_of_validity(confirmed),
                    application=app,
                )
            )
    InstitutionOccupation.objects.bulk_create(rows, batch_size=2000)
    ctx.note("directory occupations", len(rows))

    # --- Events, panels, findings, consents ------------------------------------------------
    events: list[ApplicationEvent] = []
    panels: list[ExpertPanel] = []
    panel_plans: list[tuple[ExpertPanel, list, int]] = []
    consents: list[Consent] = []
    for app, status, created, _chosen, i in specs:
        staff = app.created_by
        day = created + dt.timedelta(days=5)
        if status == S.DRAFT:
            continue
        events.append(_event(app, day, ctx, action="submit", from_status=S.DRAFT, to_status=S.SUBMITTED, actor=staff))
        if status == S.SUBMITTED:
            continue
        if status == S.RETURNED:
            events.append(
                _event(
                    app,
                    day + dt.timedelta(days=4),
                    ctx,
                    action="return",
                    from_status=S.SUBMITTED,
                    to_status=S.RETURNED,
                    actor=dept,
                    comment="条件4的佐证材料不完整，请补充考核站点音视频监控的说明。",
                )
            )
            continue
        if status == S.WITHDRAWN:
            events.append(
                _event(
                    app,
                    day + dt.timedelta(days=3),
                    ctx,
                    action="withdraw",
                    from_status=S.SUBMITTED,
                    to_status=S.WITHDRAWN,
                    actor=staff,
                    comment="学校调整申报职业，撤回后重新申请。",
                )
            )
            continue
        events.append(
            _event(
                app,
                day + dt.timedelta(days=5),
                ctx,
                action="accept",
                from_status=S.SUBMITTED,
                to_status=S.UNDER_EVALUATION,
                actor=dept,
            )
        )
        formed = day + dt.timedelta(days=7)
        size = 5 if i % 4 == 0 else 3
        members = [experts[(i * 3 + k) % len(experts)] for k in range(size)]
        panel = ExpertPanel(application=app, formed_by=centre, formed_at=ctx.moment(formed))
        if status in CONCLUDED or i % 3:  # the commission's department agreed (annex §3.2)
            panel.agreed_by, panel.agreed_at = dept, ctx.moment(formed + dt.timedelta(days=1))
        events.append(
            _event(
                app,
                formed,
                ctx,
                action="form_panel",
                from_status=S.UNDER_EVALUATION,
                to_status=S.UNDER_EVALUATION,
                actor=centre,
                comment="、".join(m.full_name for m in members),
            )
        )
        concluded_on = formed + dt.timedelta(days=14)
        if status in CONCLUDED:
            passed = status != S.EVALUATION_FAILED
            panel.conclusion = "pass" if passed else "fail"
            panel.opinion = "经文件审核、资料核验、专家论证、质询答辩和现场考察，" + (
                "学校符合备案条件。" if passed else "学校考核站点和专职人员尚不满足条件4，不予通过。"
            )
            panel.signed_by = members[0]
            panel.signed_at = ctx.moment(concluded_on, 15)
            events.append(
                _event(
                    app,
                    concluded_on,
                    ctx,
                    action="conclude",
                    from_status=S.UNDER_EVALUATION,
                    to_status=S.AWAITING_CONSENT if passed else S.EVALUATION_FAILED,
                    actor=members[0],
                    comment=panel.opinion,
                )
            )
        findings_count = len(FINDINGS) if status in CONCLUDED else (i * 7) % len(FINDINGS)
        panels.append(panel)
        panel_plans.append((panel, members, findings_count, status, concluded_on))
        if status in {S.AWAITING_CONSENT, S.REFUSED, S.CONSENTED, S.FILED} and not (
            status == S.AWAITING_CONSENT and i % 2
        ):
            first_day = concluded_on + dt.timedelta(days=5)
            consents.append(
                Consent(
                    application=app,
                    body=ConsentBody.MUNICIPAL_HR,
                    agreed=True,
                    comment="同意备案。",
                    decided_by=hr,
                    decided_at=ctx.moment(first_day),
                )
            )
            events.append(
                _event(
                    app,
                    first_day,
                    ctx,
                    action="consent",
                    from_status=S.AWAITING_CONSENT,
                    to_status=S.AWAITING_CONSENT,
                    actor=hr,
                    comment="同意备案。",
                )
            )
        if status in {S.REFUSED, S.CONSENTED, S.FILED}:
            second_day = concluded_on + dt.timedelta(days=9)
            agreed = status != S.REFUSED
            comment = "同意备案。" if agreed else "学校生源不稳定，暂不同意备案。"
            consents.append(
                Consent(
                    application=app,
                    body=ConsentBody.COMMISSION,
                    agreed=agreed,
                    comment=comment,
                    decided_by=commission,
                    decided_at=ctx.moment(second_day),
                )
            )
            events.append(
                _event(
                    app,
                    second_day,
                    ctx,
                    action="consent",
                    from_status=S.AWAITING_CONSENT,
                    to_status=S.CONSENTED if agreed else S.REFUSED,
                    actor=commission,
                    comment=comment,
                )
            )
        if status == S.FILED:
            events.append(
                _event(
                    app,
                    app.ministry_reported_on,
                    ctx,
                    action="confirm",
                    from_status=S.CONSENTED,
                    to_status=S.FILED,
                    actor=centre,
                    comment=app.ministry_report_ref,
                )
            )
    with given_timestamps(ExpertPanel, Consent, ApplicationEvent, Finding):
        ExpertPanel.objects.bulk_create(panels, batch_size=1000)
        Consent.objects.bulk_create(consents, batch_size=1000)
        ApplicationEvent.objects.bulk_create(events, batch_size=2000)
        seats, findings = [], []
        for panel, members, findings_count, status, concluded_on in panel_plans:
            for k, expert in enumerate(members):
                seats.append(PanelMember(panel=panel, expert=expert, is_lead=k == 0))
            if panel.agreed_at is None:
                continue
            for k, expert in enumerate(members):
                for condition in FINDINGS[: findings_count if k else len(FINDINGS)]:
                    met = not (status == S.EVALUATION_FAILED and condition == Condition.CAPACITY)
                    findings.append(
                        Finding(
                            panel=panel,
                            expert=expert,
                            condition=condition,
                            methods=METHODS[(condition + k) % len(METHODS)],
                            met=met,
                            remarks="符合要求，材料与现场一致。" if met else "考核站点未配备音视频监控，专职人员不足。",
                            recorded_at=ctx.moment(concluded_on - dt.timedelta(days=3)),
                        )
                    )
        PanelMember.objects.bulk_create(seats, batch_size=2000)
        Finding.objects.bulk_create(findings, batch_size=2000)
    ctx.note("events", len(events))
    ctx.note("panels", len(panels))
    ctx.note("findings", len(findings))
    ctx.note("consents", len(consents))
    _grant_panels(seats)
    directory_changed()  # bulk inserts send no signals


def _grant_panels(seats: list[PanelMember]) -> None:
    """Experts see the applications of their panels (the object grant ``panel_form`` gives)."""
    from guardian.models import UserObjectPermission

    content_type = ContentType.objects.get_for_model(FilingApplication)
    permission = Permission.objects.get(content_type=content_type, codename="evaluate_filingapplication")
    UserObjectPermission.objects.bulk_create(
        [
            UserObjectPermission(
                user=seat.expert,
                permission=permission,
                content_type=content_type,
                object_pk=str(seat.panel.application_id),
            )
            for seat in seats
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
