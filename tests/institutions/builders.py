"""Applications at every stage, built through the services as users would."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from institutions import services
from institutions.models import Condition, EvaluationBasis, EvaluationMethod, FilingApplication
from portal.models import Occupation, Role
from schools.models import Level
from tests import factories

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "证明材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def welder() -> Occupation:
    return Occupation.objects.get(code="6-18-02-04", work_type="")


def corresponding_major(school, occupation):
    """A major of ``school`` that the major–occupation table says corresponds to ``occupation``."""
    from portal.models import CatalogueMajor
    from schools.models import Major, SchoolType, TrainingLevel

    secondary = school.school_type == SchoolType.SECONDARY
    candidates = CatalogueMajor.objects.filter(occupations__occupation_code=occupation.code, is_active=True)
    ranked = sorted(candidates, key=lambda m: ((m.level == TrainingLevel.SECONDARY) != secondary, m.code))
    if not ranked:  # e.g. an access-type occupation: no major corresponds
        return factories.major(school)
    chosen = ranked[0]
    major, _created = Major.objects.get_or_create(
        school=school,
        code=chosen.code,
        defaults={"name": chosen.name, "training_level": chosen.level},
    )
    return major


class Cast:
    """One user per part of the lifecycle, for one school."""

    def __init__(self, school, staff=None):
        self.school = school
        self.staff = staff or factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
        self.dept = factories.user(Role.COMMISSION_DEPT_OFFICER)
        self.centre = factories.user(Role.CENTRE_REVIEWER)
        self.experts = [factories.user(Role.EXPERT) for _ in range(3)]
        self.hr = factories.user(Role.MUNICIPAL_HR_OFFICER)
        self.commission = factories.user(Role.COMMISSION_OFFICER)

    @property
    def site_sequence(self) -> str:
        """As the HR authority would allot it: unique per school here."""
        return f"{310000 + self.school.pk:06d}"

    @property
    def lead(self):
        return self.experts[0]

    def draft(
        self,
        *,
        occupation: Occupation | None = None,
        level: int = Level.LEVEL_3,
        kind: str = "initial",
        basis: str = EvaluationBasis.NATIONAL_STANDARD,
        spec_ref: str = "",
        major=None,
    ) -> FilingApplication:
        app = services.application_create(school=self.school, actor=self.staff, kind=kind)
        for condition in Condition.values:
            services.condition_answer_save(
                application=app, actor=self.staff, condition=condition, statement=f"条件{condition}的情况说明"
            )
            services.evidence_add(application=app, actor=self.staff, condition=condition, upload=pdf())
        services.work_plan_upload(application=app, actor=self.staff, upload=pdf("认定工作方案.pdf"))
        if kind != "add_occupation":  # a site whose room has audio/video monitoring
            site = services.site_add(application=app, actor=self.staff, name="实训楼考核站点", address="实训楼3层")
            services.room_add(site=site, actor=self.staff, name="301", capacity=30, av_monitoring=True)
        major = major or corresponding_major(self.school, occupation or welder())
        services.occupation_add(
            application=app,
            actor=self.staff,
            occupation=occupation or welder(),
            highest_level=level,
            basis=basis,
            specification_ref=spec_ref,
            majors=[major],
        )
        return app

    def submitted(self, **kwargs) -> FilingApplication:
        app = self.draft(**kwargs)
        return services.application_submit(application=app, actor=self.staff, declared=True)

    def under_evaluation(self, **kwargs) -> FilingApplication:
        app = self.submitted(**kwargs)
        return services.application_accept(application=app, actor=self.dept)

    def with_panel(self, **kwargs) -> FilingApplication:
        """The centre proposes the panel and the commission's department agrees (annex §3.2)."""
        app = self.under_evaluation(**kwargs)
        services.panel_form(application=app, actor=self.centre, experts=self.experts, lead=self.lead)
        services.panel_agree(application=app, actor=self.dept)
        return app

    def record_all_findings(self, app, satisfied: bool = True, expert=None) -> None:
        """One expert (the second, unless named) judges every condition and occupation."""
        services.findings_record(
            application=app,
            actor=expert or self.experts[1],
            conditions=[
                (
                    condition,
                    [EvaluationMethod.DOCUMENT_REVIEW, EvaluationMethod.SITE_INSPECTION],
                    satisfied,
                    "符合要求" if satisfied else "不符合",
                )
                for condition in Condition.values
            ],
            occupations=[(applied.pk, True, "") for applied in app.occupations.all()],
        )

    def awaiting_consent(self, **kwargs) -> FilingApplication:
        app = self.with_panel(**kwargs)
        self.record_all_findings(app)
        services.panel_conclude(application=app, actor=self.lead, passed=True, opinion="具备评价机构条件")
        app.refresh_from_db()
        return app

    def consented(self, **kwargs) -> FilingApplication:
        app = self.awaiting_consent(**kwargs)
        services.consent_record(application=app, actor=self.hr, agreed=True, comment="同意")
        services.consent_record(application=app, actor=self.commission, agreed=True, comment="同意")
        app.refresh_from_db()
        return app

    def filed(self, **kwargs):
        app = self.consented(**kwargs)
        # The receipt's PDF is rendered once the confirmation commits: run those callbacks here.
        with TestCase.captureOnCommitCallbacks(execute=True):
            receipt = services.filing_confirm(
                application=app,
                actor=self.centre,
                ministry_report_ref="人社鉴备〔2026〕12号",
                ministry_reported_on=dt.date(2026, 11, 20),
                site_sequence=self.site_sequence,
            )
        app.refresh_from_db()
        receipt.refresh_from_db()
        return app, receipt
