"""Coverage pages and services: scope (a district bureau sees only its district, export included;
school staff only their school), recording and withdrawing evaluations, the refresh job, the charts,
and a constant number of queries as the city grows."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from oversight.models import CoverageChannel, ExternalEvaluation, MajorCoverage
from oversight.selectors.coverage import coverage_scope_for, current_school_year
from oversight.services import coverage as service
from portal.models import District, Job, Role
from tests import factories
from tests.conftest import client_for
from tests.oversight import test_coverage_world as w

pytestmark = pytest.mark.django_db

PUDONG, MINHANG = "310115", "310112"


@pytest.fixture
def world():
    built = w.build()
    service.refresh_coverage(w.CURRENT, today=w.TODAY)
    service.refresh_coverage(w.ENDED, today=w.TODAY)
    return built


def bureau(code: str):
    org = factories.organisation("district_hr", district_code=code)
    return factories.user(Role.DISTRICT_HR_OFFICER, organisation=org)


def page(user, **params):
    query = {"year": w.CURRENT, **params}
    return client_for(user).get(reverse("oversight:coverage"), query)


def export(user, **params):
    response = client_for(user).get(reverse("oversight:coverage_export"), {"year": w.CURRENT, **params})
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


# --- Scope -------------------------------------------------------------------------------


def test_the_scope_follows_the_role(world):
    assert coverage_scope_for(factories.user(Role.COMMISSION_OFFICER)).level == "city"
    assert coverage_scope_for(factories.user(Role.MUNICIPAL_HR_OFFICER)).level == "city"
    assert coverage_scope_for(factories.user(Role.CENTRE_REVIEWER)).level == "city"
    scope = coverage_scope_for(bureau(PUDONG))
    assert scope.level == "district" and scope.district.code == PUDONG
    staff = factories.user(Role.SCHOOL_STAFF, organisation=world.c.organisation)
    assert coverage_scope_for(staff).school == world.c
    assert coverage_scope_for(factories.user(Role.EXPERT)) is None


def test_a_district_bureau_sees_its_own_district_by_default_and_never_another(world):
    officer = bureau(MINHANG)
    response = page(officer)
    assert response.status_code == 200
    assert response.context["district"].code == MINHANG
    assert response.context["figures"].total == 2
    pudong = District.objects.get(code=PUDONG)
    assert page(officer, district=pudong.pk).status_code == 404
    assert page(officer, school=world.a.pk).status_code == 404
    assert page(officer, school=world.c.pk).status_code == 200


def test_a_district_bureaus_export_holds_only_its_district(world):
    book = export(bureau(MINHANG))
    schools = {row[1] for row in book["专业明细"].iter_rows(min_row=2, values_only=True)}
    assert schools == {"丙职业学院"}
    summary = list(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert summary[0][0] == "闵行区" and summary[0][2:4] == (2, 1)
    assert {r[0] for r in summary[1:]} == {"丙职业学院"}
    client = client_for(bureau(MINHANG))
    pudong = District.objects.get(code=PUDONG)
    assert client.get(reverse("oversight:coverage_export"), {"district": pudong.pk}).status_code == 404
    assert client.get(reverse("oversight:coverage_export"), {"school": world.a.pk}).status_code == 404


def test_school_staff_see_only_their_own_school(world):
    staff = factories.user(Role.SCHOOL_STAFF, organisation=world.b.organisation)
    response = page(staff)
    assert response.status_code == 200 and response.context["school"] == world.b
    assert [m.major.name for m in response.context["majors"]] == ["专业B1", "专业B3"]
    assert page(staff, school=world.a.pk).status_code == 404
    assert page(staff, district=District.objects.get(code=MINHANG).pk).status_code == 404
    book = export(staff)
    assert {row[1] for row in book["专业明细"].iter_rows(min_row=2, values_only=True)} == {"乙职业学院"}


def test_the_city_page_drills_down_to_districts_schools_and_uncovered_majors_with_reasons(world):
    officer = factories.user(Role.COMMISSION_OFFICER)
    city = page(officer)
    assert city.status_code == 200 and city.context["level"] == "city"
    assert city.context["figures"].covered == 5
    html = city.content.decode()
    pudong = District.objects.get(code=PUDONG)
    assert f"district={pudong.pk}" in html
    district = page(officer, district=pudong.pk)
    assert [r.name for r in district.context["rows"]] == ["乙职业学院", "甲职业学院"]
    assert {m.major.name for m in district.context["shown_majors"]} == {"专业A2", "专业A3", "专业A5"}
    text = district.content.decode()
    assert "备案已过期" in text and "备案已暂停或移出目录" in text and "未备案对应职业（工种）" in text
    school = page(officer, school=world.a.pk)
    assert school.context["level"] == "school"
    assert "社会培训评价组织" in school.content.decode()


def test_the_page_states_its_as_of_time(world):
    response = page(factories.user(Role.CENTRE_REVIEWER))
    assert "统计时间" in response.content.decode()
    MajorCoverage.objects.all().delete()
    assert "尚未统计" in page(factories.user(Role.CENTRE_REVIEWER)).content.decode()


def test_charts_are_inline_svg_without_script_with_a_cjk_font_and_a_table_after_each(world):
    html = page(factories.user(Role.COMMISSION_OFFICER)).content.decode()
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        assert "<script" not in svg
        assert "WenQuanYi Micro Hei" in svg
    for caption in ("rows-table-caption", "trend-table-caption"):
        figure = html.index(f'aria-describedby="{caption}"')
        assert html.index(f'id="{caption}"') > figure  # the data table follows its chart


def test_the_menu_offers_coverage_to_the_roles_that_see_it(world):
    html = client_for(factories.user(Role.MUNICIPAL_HR_OFFICER)).get(reverse("home")).content.decode()
    assert reverse("oversight:coverage") in html
    html = client_for(factories.user(Role.EXPERT)).get(reverse("home")).content.decode()
    assert reverse("oversight:coverage") not in html


def _page_queries(user, **params) -> int:
    client = client_for(user)
    client.get(reverse("oversight:coverage"), {"year": w.CURRENT, **params})  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("oversight:coverage"), {"year": w.CURRENT, **params})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_coverage_page_takes_the_same_number_of_queries_at_two_sizes(world):
    officer = factories.user(Role.COMMISSION_OFFICER)
    pudong = District.objects.get(code=PUDONG)
    small = (
        _page_queries(officer),
        _page_queries(officer, district=pudong.pk),
        _page_queries(officer, school=world.a.pk),
    )
    w.grow(30)
    service.refresh_coverage(w.CURRENT, today=w.TODAY)
    large = (
        _page_queries(officer),
        _page_queries(officer, district=pudong.pk),
        _page_queries(officer, school=world.a.pk),
    )
    assert small == large, (small, large)


# --- Recording and withdrawing other channels -------------------------------------------------


def test_school_staff_record_an_evaluation_for_their_own_school_only(world):
    staff = factories.user(Role.SCHOOL_STAFF, organisation=world.c.organisation)
    row = service.external_evaluation_record(
        actor=staff,
        major=world.majors["C2"],
        school_year=w.CURRENT,
        channel=CoverageChannel.EMPLOYER,
        provider="某用人单位",
        evidence=w.pdf(),
        today=w.TODAY,
    )
    assert row.evidence_type == "application/pdf" and row.recorded_by == staff
    with pytest.raises(PermissionDenied):
        service.external_evaluation_record(
            actor=staff,
            major=world.majors["A5"],
            school_year=w.CURRENT,
            channel=CoverageChannel.EMPLOYER,
            provider="某用人单位",
            evidence=w.pdf(),
            today=w.TODAY,
        )


def test_the_evidence_is_judged_by_its_content_not_its_name(world):
    fake = SimpleUploadedFile("证明.pdf", b"just text, not a PDF", content_type="application/pdf")
    with pytest.raises(ValidationError) as caught:
        service.external_evaluation_record(
            actor=world.centre,
            major=world.majors["C2"],
            school_year=w.CURRENT,
            channel=CoverageChannel.SOCIAL_ORG,
            provider="某评价组织",
            evidence=fake,
            today=w.TODAY,
        )
    assert "证明.pdf" in str(caught.value.message_dict["evidence"])
    assert not ExternalEvaluation.objects.filter(major=world.majors["C2"]).exists()


def test_a_future_school_year_cannot_be_recorded(world):
    with pytest.raises(ValidationError) as caught:
        service.external_evaluation_record(
            actor=world.centre,
            major=world.majors["C2"],
            school_year=w.CURRENT + 1,
            channel=CoverageChannel.SOCIAL_ORG,
            provider="某评价组织",
            evidence=w.pdf(),
            today=w.TODAY,
        )
    assert "school_year" in caught.value.message_dict


def test_recording_and_withdrawing_refresh_the_years_coverage(world, django_capture_on_commit_callbacks):
    """After commit the year is counted again (eager Celery runs the task in-process)."""
    year = current_school_year()
    major = world.majors["C2"]
    factories.student(major, graduation=dt.date(year + 1, 6, 30))
    with django_capture_on_commit_callbacks(execute=True):
        row = service.external_evaluation_record(
            actor=world.centre,
            major=major,
            school_year=year,
            channel=CoverageChannel.SOCIAL_ORG,
            provider="某评价组织",
            evidence=w.pdf(),
        )
    assert MajorCoverage.objects.get(major=major, school_year=year).covered
    with django_capture_on_commit_callbacks(execute=True):
        service.external_evaluation_withdraw(evaluation=row, actor=world.centre, reason="登记有误")
    assert not MajorCoverage.objects.get(major=major, school_year=year).covered
    row.refresh_from_db()
    assert row.withdrawn_by == world.centre and row.withdraw_reason == "登记有误"  # kept, never deleted


def test_an_evaluation_is_withdrawn_once(world):
    row = ExternalEvaluation.objects.get(major=world.majors["A4"])
    service.external_evaluation_withdraw(evaluation=row, actor=world.centre, reason="有误")
    with pytest.raises(ValidationError):
        service.external_evaluation_withdraw(evaluation=row, actor=world.centre, reason="再次")


def test_the_create_page_records_with_a_file_and_shows_errors_on_the_form(world):
    staff = factories.user(Role.SCHOOL_STAFF, organisation=world.c.organisation)
    client = client_for(staff)
    url = reverse("oversight:external_evaluation_create")
    body = {
        "major": world.majors["C2"].pk,
        "school_year": current_school_year(),
        "channel": CoverageChannel.COMPETITION,
        "provider": "全国职业院校技能大赛",
    }
    response = client.post(url, {**body, "evidence": SimpleUploadedFile("x.pdf", b"not a pdf")})
    assert response.status_code == 200
    assert "不是 PDF、JPEG 或 PNG" in response.content.decode()
    response = client.post(url, {**body, "evidence": w.pdf()})
    assert response.status_code == 302
    assert ExternalEvaluation.objects.filter(major=world.majors["C2"], withdrawn_at__isnull=True).count() == 1


def test_the_evaluation_list_is_scoped_like_the_page(world):
    officer = bureau(MINHANG)
    listed = client_for(officer).get(reverse("oversight:external_evaluation_list")).context["page"].object_list
    assert {e.school for e in listed} == {world.c}
    other = ExternalEvaluation.objects.get(major=world.majors["A4"])
    url = reverse("oversight:external_evaluation_evidence", args=[other.pk])
    assert client_for(officer).get(url).status_code == 404
    assert client_for(bureau(PUDONG)).get(url).status_code == 200


# --- Refresh --------------------------------------------------------------------------------


def test_the_refresh_button_runs_a_job_that_rebuilds_the_year(world, django_capture_on_commit_callbacks):
    MajorCoverage.objects.all().delete()
    centre = factories.user(Role.CENTRE_REVIEWER)
    year = current_school_year()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(centre).post(reverse("oversight:coverage_refresh"), {"year": year})
    job = Job.objects.get(kind="oversight_coverage_refresh")
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", (job.status, job.errors)
    assert job.params == {"school_year": year}


def test_only_the_centre_and_the_commission_may_refresh(world):
    for role in (Role.DISTRICT_HR_OFFICER, Role.SCHOOL_STAFF, Role.MUNICIPAL_HR_OFFICER):
        user = factories.user(role, organisation=world.a.organisation if role == Role.SCHOOL_STAFF else None)
        assert client_for(user).post(reverse("oversight:coverage_refresh"), {"year": w.CURRENT}).status_code == 403
    assert not Job.objects.exists()
