import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portal.models import Role
from schools.models import Student, ThroughStage
from schools.services import school_update
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_school_update_records_the_acting_user_and_reason_in_history(school, people):
    staff = people[Role.SCHOOL_STAFF]
    school_update(school=school, actor=staff, data={"contact_phone": "021-12345678"}, reason="联系人电话变更")
    latest = school.history.latest()
    assert latest.history_user == staff
    assert latest.history_change_reason == "联系人电话变更"
    assert latest.contact_phone == "021-12345678"


def test_the_school_page_shows_who_changed_what_and_why(school, people):
    staff = people[Role.SCHOOL_STAFF]
    client = client_for(staff)
    response = client.post(
        reverse("schools:school_edit", args=[school.pk]),
        {
            "address": "上海市浦东新区测试路1号",
            "contact_name": "王老师",
            "contact_phone": "021-1",
            "reason": "更新地址",
        },
    )
    assert response.status_code == 302
    page = client_for(people[Role.CENTRE_REVIEWER]).get(reverse("schools:school_detail", args=[school.pk]))
    html = page.content.decode()
    assert "更新地址" in html and str(staff) in html
    assert "上海市浦东新区测试路1号" in html and "<strong>地址</strong>" in html


def test_another_schools_staff_cannot_update_this_school(school, other_school):
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=other_school.organisation)
    with pytest.raises(PermissionDenied):
        school_update(school=school, actor=outsider, data={"address": "x"})
    assert school.history.count() == 1


def test_a_student_id_number_must_pass_gb11643(school):
    major = factories.major(school)
    s = Student(
        school=school,
        major=major,
        student_number="1",
        name="甲",
        id_number="110105194912310021",
        enrolment_year=2024,
        expected_graduation=dt.date(2027, 6, 30),
    )
    with pytest.raises(ValidationError) as exc:
        s.full_clean()
    assert "身份证号码校验位错误。" in exc.value.message_dict["id_number"]


def test_a_through_programme_stage_needs_a_through_programme_major(school):
    major = factories.major(school, through=False)
    s = Student(
        school=school,
        major=major,
        student_number="1",
        name="甲",
        id_number=factories.id_number(1),
        enrolment_year=2024,
        expected_graduation=dt.date(2027, 6, 30),
        through_stage=ThroughStage.SECONDARY,
    )
    with pytest.raises(ValidationError) as exc:
        s.full_clean()
    assert "through_stage" in exc.value.message_dict


def test_graduating_year_runs_from_september_to_august():
    major_school = None  # noqa: F841 - no database needed
    s = Student(expected_graduation=dt.date(2027, 6, 30))
    assert s.is_graduating_year(dt.date(2026, 11, 25))
    assert s.is_graduating_year(dt.date(2027, 8, 31))
    assert not s.is_graduating_year(dt.date(2026, 8, 31))
    assert not s.is_graduating_year(dt.date(2027, 9, 1))


def test_the_district_officer_sees_only_schools_of_their_district(school, other_school, people):
    page = client_for(people[Role.DISTRICT_HR_OFFICER]).get(reverse("schools:school_list")).content.decode()
    assert school.name in page and other_school.name not in page


def test_the_student_list_keeps_a_constant_number_of_queries(school, people, django_assert_max_num_queries):
    major = factories.major(school)
    client = client_for(people[Role.CENTRE_REVIEWER])
    url = reverse("schools:student_list", args=[school.pk])
    for n in range(3):
        factories.student(major, n=n)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for n in range(3, 60):
        factories.student(major, n=n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    # The same page with its 60 students, not a refusal or an empty list that costs nothing.
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 60


def test_the_school_list_keeps_a_constant_number_of_queries(people, django_assert_max_num_queries):
    client = client_for(people[Role.CENTRE_REVIEWER])
    factories.school()
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("schools:school_list"))
    for _ in range(15):
        s = factories.school()
        factories.student(factories.major(s))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("schools:school_list"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 17  # ``people``'s school, the first one and 15 more
    assert s.name in response.content.decode()
