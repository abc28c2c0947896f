"""Annex §1 rules checked when a school submits its filing application."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from institutions import services
from institutions.models import ApplicationEvent, ApplicationStatus, EvaluationBasis
from institutions.services import TransitionError
from portal.models import Occupation
from schools.models import Level, SchoolType
from tests import factories
from tests.institutions.builders import Cast, pdf

pytestmark = pytest.mark.django_db


def refused(cast: Cast, app) -> list[str]:
    with pytest.raises(TransitionError) as exc:
        services.application_submit(application=app, actor=cast.staff)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT and app.round == 0
    assert not ApplicationEvent.objects.filter(application=app).exists()
    return exc.value.messages


def test_a_complete_application_from_a_higher_vocational_college_up_to_level_3_is_accepted():
    cast = Cast(factories.school(school_type=SchoolType.INDEPENDENT_HIGHER))
    app = cast.submitted(level=Level.LEVEL_3)
    assert app.status == ApplicationStatus.SUBMITTED and app.round == 1


def test_rule_level_cap_higher_vocational_may_not_ask_for_level_2():
    cast = Cast(factories.school(school_type=SchoolType.VOCATIONAL_UNDERGRADUATE))
    messages = refused(cast, cast.draft(level=Level.LEVEL_2))
    assert any("二级/技师超出职业本科可评价的最高等级（三级/高级工）" in m for m in messages)


def test_rule_level_cap_secondary_school_may_not_ask_for_level_3():
    cast = Cast(factories.school(school_type=SchoolType.SECONDARY, through=True))
    major = factories.major(cast.school, level="secondary", through=True)
    messages = refused(cast, cast.draft(level=Level.LEVEL_3, major=major))
    assert any("三级/高级工超出中等职业学校可评价的最高等级（四级/中级工）" in m for m in messages)
    # …and level 4 is fine.
    cast2 = Cast(factories.school(school_type=SchoolType.SECONDARY, through=True))
    assert cast2.submitted(level=Level.LEVEL_4).status == ApplicationStatus.SUBMITTED


def test_rule_only_skill_occupations_may_be_assessed():
    cast = Cast(factories.school())
    professional = Occupation.objects.filter(kind="professional").first()
    messages = refused(
        cast, cast.draft(occupation=professional, basis=EvaluationBasis.SPECIFICATION, spec_ref="沪人社规备〔2026〕1号")
    )
    assert any("不是技能类职业（工种）" in m for m in messages)


def test_rule_access_type_qualifications_may_not_be_assessed():
    cast = Cast(factories.school())
    access = Occupation.objects.filter(is_access_type=True).first()
    messages = refused(cast, cast.draft(occupation=access))
    assert any("属于准入类职业资格" in m for m in messages)


def test_rule_each_occupation_needs_a_matching_major():
    cast = Cast(factories.school())
    app = cast.draft()
    applied = app.occupations.get()
    applied.majors.clear()
    messages = refused(cast, app)
    assert any("没有对应的在办专业" in m for m in messages)


def test_rule_a_secondary_school_needs_a_through_programme():
    cast = Cast(factories.school(school_type=SchoolType.SECONDARY, through=False))
    messages = refused(cast, cast.draft(level=Level.LEVEL_4))
    assert any("中等职业学校须开设贯通培养专业" in m for m in messages)


def test_rule_one_open_application_per_school():
    cast = Cast(factories.school())
    cast.submitted()
    with pytest.raises(TransitionError) as exc:
        services.application_create(school=cast.school, actor=cast.staff)
    assert "同一时间只能有一份申请" in exc.value.messages[0]


def test_rule_a_second_open_application_is_refused_by_the_database_too():
    cast = Cast(factories.school())
    first = cast.draft()
    services.application_withdraw(application=first, actor=cast.staff)
    cast.draft()
    # Someone reopens the first one behind the service's back (e.g. a data repair): the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        type(first).objects.filter(pk=first.pk).update(status=ApplicationStatus.SUBMITTED)
    first.refresh_from_db()
    assert first.status == ApplicationStatus.WITHDRAWN


def test_rule_national_standard_basis_needs_a_published_standard():
    cast = Cast(factories.school())
    no_standard = Occupation.objects.filter(kind="skill", is_access_type=False, national_standard="").first()
    messages = refused(cast, cast.draft(occupation=no_standard))
    assert any("尚未颁布国家职业技能标准" in m for m in messages)


def test_rule_a_self_developed_specification_needs_its_hr_filing_reference():
    cast = Cast(factories.school())
    messages = refused(cast, cast.draft(basis=EvaluationBasis.SPECIFICATION, spec_ref=""))
    assert any("须填写评价规范的备案文号" in m for m in messages)


def test_rule_every_condition_needs_a_statement_and_evidence():
    cast = Cast(factories.school())
    app = cast.draft()
    services.condition_answer_save(application=app, actor=cast.staff, condition=3, statement="")
    answer = app.answers.get(condition=5)
    services.evidence_remove(evidence=answer.evidence.get(), actor=cast.staff)
    messages = refused(cast, app)
    assert "条件3：请填写情况说明。" in messages and "条件5：请上传至少一份佐证材料。" in messages


def test_rule_at_least_one_occupation():
    cast = Cast(factories.school())
    app = cast.draft()
    services.occupation_remove(applied=app.occupations.get(), actor=cast.staff)
    assert "请至少申报一个职业（工种）。" in refused(cast, app)


def test_evidence_is_checked_by_content_not_by_name():
    cast = Cast(factories.school())
    app = services.application_create(school=cast.school, actor=cast.staff)
    fake = pdf("伪装.pdf")
    fake.file.write(b"")  # keep object; replace content below
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("伪装.pdf", b"just some text, not a PDF", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        services.evidence_add(application=app, actor=cast.staff, condition=1, upload=fake)
    assert "按文件内容判断" in exc.value.messages[0]
    assert not app.answers.get(condition=1).evidence.exists()


def test_evidence_larger_than_10_mb_is_refused():
    from django.core.files.uploadedfile import SimpleUploadedFile

    cast = Cast(factories.school())
    app = services.application_create(school=cast.school, actor=cast.staff)
    big = SimpleUploadedFile("大文件.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1))
    with pytest.raises(ValidationError):
        services.evidence_add(application=app, actor=cast.staff, condition=1, upload=big)


def test_majors_of_another_school_cannot_be_attached():
    from django.core.exceptions import PermissionDenied

    cast = Cast(factories.school())
    app = services.application_create(school=cast.school, actor=cast.staff)
    foreign = factories.major(factories.school())
    with pytest.raises(PermissionDenied):
        services.occupation_add(
            application=app,
            actor=cast.staff,
            occupation=Occupation.objects.get(code="6-31-01-03"),
            highest_level=Level.LEVEL_3,
            basis=EvaluationBasis.NATIONAL_STANDARD,
            majors=[foreign],
        )


def test_rule_level_cap_follows_the_majors_approved_training_level():
    """Annex §1.3 按照教育行政部门批准的专业培养层次: a 中职 major in a higher-vocational school stops at 四级."""
    cast = Cast(factories.school(school_type=SchoolType.INDEPENDENT_HIGHER))
    secondary_major = factories.major(cast.school, code="660104", level="secondary", name="焊接技术应用")
    messages = refused(cast, cast.draft(level=Level.LEVEL_3, major=secondary_major))
    assert any("为中职专业，最高可评价四级/中级工" in m for m in messages)
    # The same school with the same 中职 major may ask for 四级 …
    cast2 = Cast(factories.school(school_type=SchoolType.INDEPENDENT_HIGHER))
    major2 = factories.major(cast2.school, code="660104", level="secondary", name="焊接技术应用")
    assert cast2.submitted(level=Level.LEVEL_4, major=major2).status == ApplicationStatus.SUBMITTED
    # … and with a 高职 major, 三级.
    assert Cast(factories.school()).submitted(level=Level.LEVEL_3).status == ApplicationStatus.SUBMITTED


def test_rule_a_published_national_standard_must_be_used():
    """Annex §2.1 已颁布国家职业技能标准的，应按照国家职业技能标准执行: no self-developed specification then."""
    cast = Cast(factories.school())
    electrician = Occupation.objects.filter(name="电工", kind="skill").exclude(national_standard="").first()
    assert electrician is not None, "the catalogue lists 电工 with its published standard"
    messages = refused(
        cast, cast.draft(occupation=electrician, basis=EvaluationBasis.SPECIFICATION, spec_ref="沪人社职规〔2025〕7号")
    )
    assert any("已颁布国家职业技能标准" in m and "不能使用自主开发的评价规范" in m for m in messages)


def test_rule_the_major_must_correspond_to_the_occupation():
    """Annex §1.3 院校设有与评价项目相对应的专业: checked against the major–occupation table."""
    cast = Cast(factories.school())
    unrelated = factories.major(cast.school, code="530701", name="电子商务")
    messages = refused(cast, cast.draft(major=unrelated))
    assert any("与专业530701 电子商务不对应" in m for m in messages)
    welding = factories.major(Cast(factories.school()).school, code="460110", name="智能焊接技术")
    cast2 = Cast(welding.school)
    assert cast2.submitted(major=welding).status == ApplicationStatus.SUBMITTED


def test_rule_an_occupation_whose_standard_is_published_is_never_refused_for_lacking_one():
    """Annex §2.1: 茶艺师 has its 2018 national standard; the national-standard basis is accepted."""
    tea = Occupation.objects.get(code="4-03-02-07", work_type="")
    assert tea.has_national_standard and tea.standard_year == 2018
    cast = Cast(factories.school())
    app = cast.draft(occupation=tea, basis=EvaluationBasis.NATIONAL_STANDARD)
    assert not any("尚未颁布国家职业技能标准" in m for m in services.submission_problems(app))
