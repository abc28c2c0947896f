"""A school records its own through-programme majors with the approval document (issue 7, item 14).

``School.has_through_programme`` follows the recorded majors, so the submit rule in institutions
(a secondary school needs a through-programme) reads what the school recorded. A blocked school
is told what to do and who does it.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions import services as filing
from institutions.models import ApplicationStatus
from portal.models import Role
from schools.models import Major, SchoolType, ThroughKind, ThroughProgramme, ThroughStage, TrainingLevel
from schools.services import through_programme_record, through_programme_withdraw
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast, pdf

pytestmark = pytest.mark.django_db

APPROVAL = {
    "kind": ThroughKind.SECONDARY_HIGHER,
    "partner": "上海某高等职业技术学院",
    "approval_ref": "沪教委职〔2025〕8号",
}


@pytest.fixture
def school():
    return factories.school(school_type=SchoolType.SECONDARY)


@pytest.fixture
def staff(school):
    return factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)


@pytest.fixture
def major(school):
    return factories.major(school, code="660103", name="数控技术应用", level=TrainingLevel.SECONDARY)


def test_a_school_without_a_recorded_through_major_has_no_through_programme(school, major):
    assert school.has_through_programme is False


def test_recording_a_major_sets_the_flag_keeps_the_document_and_writes_history(school, staff, major):
    programme = through_programme_record(major=major, actor=staff, upload=pdf("批准文件.pdf"), **APPROVAL)
    major.refresh_from_db()
    assert major.is_through_programme is True
    assert school.has_through_programme is True
    assert programme.original_name == "批准文件.pdf" and programme.content_type == "application/pdf"
    assert programme.file.read().startswith(b"%PDF")
    created = programme.history.get()
    assert created.history_user == staff and "沪教委职〔2025〕8号" in created.history_change_reason
    assert major.history.latest().history_user == staff


def test_the_submit_rule_reads_the_recorded_majors():
    cast = Cast(factories.school(school_type=SchoolType.SECONDARY))
    # 660104 焊接技术应用 corresponds to the draft's occupation (6-18-02-04 焊工) in the reference data.
    major = factories.major(cast.school, code="660104", name="焊接技术应用", level=TrainingLevel.SECONDARY)
    app = cast.draft(level=4, major=major)
    with pytest.raises(filing.TransitionError) as refused:
        filing.application_submit(application=app, actor=cast.staff, declared=True)
    assert any("中等职业学校须开设贯通培养专业" in m for m in refused.value.messages)
    through_programme_record(major=major, actor=cast.staff, upload=pdf(), **APPROVAL)
    app.refresh_from_db()
    filing.application_submit(application=app, actor=cast.staff, declared=True)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED


def test_staff_of_another_school_may_not_record(major):
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    with pytest.raises(PermissionDenied):
        through_programme_record(major=major, actor=outsider, upload=pdf(), **APPROVAL)
    assert not ThroughProgramme.objects.exists()


def test_a_document_that_is_not_pdf_or_image_is_refused_on_the_file(staff, major):
    fake = SimpleUploadedFile("批准文件.pdf", "文本".encode(), content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        through_programme_record(major=major, actor=staff, upload=fake, **APPROVAL)
    assert "file" in refused.value.message_dict
    major.refresh_from_db()
    assert major.is_through_programme is False


def test_a_kind_that_does_not_fit_the_major_s_level_is_refused(staff, major):
    with pytest.raises(ValidationError) as refused:
        through_programme_record(
            major=major, actor=staff, upload=pdf(), **{**APPROVAL, "kind": ThroughKind.HIGHER_UNDERGRADUATE}
        )
    assert refused.value.message_dict["kind"] == ["中职专业不能登记为“高本贯通”。"]


def test_a_major_is_recorded_once(staff, major):
    through_programme_record(major=major, actor=staff, upload=pdf(), **APPROVAL)
    with pytest.raises(ValidationError):
        through_programme_record(major=major, actor=staff, upload=pdf(), **APPROVAL)
    assert ThroughProgramme.objects.count() == 1


def test_withdrawing_clears_the_flag_and_keeps_the_record_in_history(school, staff, major):
    programme = through_programme_record(major=major, actor=staff, upload=pdf(), **APPROVAL)
    through_programme_withdraw(programme=programme, actor=staff, reason="试点结束")
    major.refresh_from_db()
    assert major.is_through_programme is False and school.has_through_programme is False
    assert [h.history_type for h in ThroughProgramme.history.order_by("history_id")] == ["+", "-"]
    assert "试点结束" in ThroughProgramme.history.latest().history_change_reason


def test_withdrawing_is_refused_while_students_are_at_a_through_stage(staff, major):
    programme = through_programme_record(major=major, actor=staff, upload=pdf(), **APPROVAL)
    student = factories.student(Major.objects.get(pk=major.pk))
    type(student).objects.filter(pk=student.pk).update(through_stage=ThroughStage.SECONDARY)
    with pytest.raises(ValidationError) as refused:
        through_programme_withdraw(programme=programme, actor=staff, reason="试点结束")
    assert "有1名学生登记了贯通培养阶段" in refused.value.messages[0]
    assert ThroughProgramme.objects.filter(pk=programme.pk).exists()


# --- Pages ---------------------------------------------------------------------------------


def test_a_blocked_school_is_told_what_to_do_and_who_does_it(school, staff, major):
    html = client_for(staff).get(reverse("schools:school_detail", args=[school.pk])).content.decode()
    assert "本校暂不能申请备案为评价机构" in html
    assert "本校评价工作人员（学校账号）登记" in html
    assert reverse("schools:through_programmes", args=[school.pk]) in html
    home = client_for(staff).get("/").content.decode()
    assert "须先登记贯通培养专业才能申请备案" in home


def test_the_school_records_a_major_through_the_page_and_sees_it_listed(school, staff, major):
    url = reverse("schools:through_programmes", args=[school.pk])
    client = client_for(staff)
    response = client.post(url, {**APPROVAL, "major": major.pk, "file": pdf("批准文件.pdf")}, follow=True)
    html = response.content.decode()
    assert "已登记贯通培养专业" in html and "批准文件.pdf" in html and "沪教委职〔2025〕8号" in html
    assert "本校暂不能申请备案为评价机构" not in html
    programme = ThroughProgramme.objects.get()
    document = client.get(reverse("schools:through_programme_document", args=[programme.pk]))
    assert document.status_code == 200 and b"".join(document.streaming_content).startswith(b"%PDF")


def test_a_refused_document_is_shown_on_the_form(school, staff, major):
    fake = SimpleUploadedFile("批准文件.pdf", "文本".encode(), content_type="application/pdf")
    url = reverse("schools:through_programmes", args=[school.pk])
    response = client_for(staff).post(url, {**APPROVAL, "major": major.pk, "file": fake})
    assert response.status_code == 200
    assert "不是 PDF、JPEG 或 PNG" in response.content.decode()


def test_the_centre_reads_the_page_but_may_not_record(school, major, people):
    url = reverse("schools:through_programmes", args=[school.pk])
    centre = client_for(people[Role.CENTRE_REVIEWER])
    assert centre.get(url).status_code == 200
    assert centre.post(url, {**APPROVAL, "major": major.pk, "file": pdf()}).status_code == 403


def test_excel_cannot_turn_a_major_into_a_through_programme(school, staff):
    from schools.excel import parse_majors
    from tests.schools.test_excel_import import MAJOR_HEADERS, xlsx

    rows, errors = parse_majors(xlsx([["660103", "数控技术应用", "中职", "是"]], headers=MAJOR_HEADERS), school)
    assert rows[0]["is_through_programme"] is False
    assert errors == [
        "第2行「是否贯通培养」："
        "贯通培养专业须在“贯通培养专业”页面登记并上传批准文件，不能通过 Excel 设置。请先填“否”导入。"
    ]
